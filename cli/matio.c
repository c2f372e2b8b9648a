/* matio.c — matrix sources of `dale diagnose` / `dale transplant` (see matio.h).
 *
 * Everything is converted to float64.  Checks, in order: the file opens;
 * its format parses (the NPY/NPZ readers check magic, header and size);
 * dtype is float32/float64; the array is 2-D (and square when asked); every
 * entry is finite.  Each failure is one message "FILE: problem".
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dale/config.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "internal.h"
#include "matio.h"

int cli_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 4096 ? (int)n : 1;
}

/* OpenBLAS 0.3.21 (x86-64) maps a buffer of this size for each thread that
 * runs a BLAS call needing one, and retries forever when it cannot. */
#define BLAS_BUFFER_BYTES (128.0 * 1048576.0)

/* Bytes of address space left under RLIMIT_AS; -1 when there is no limit
 * (or it cannot be read). */
static double address_space_left(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) || r.rlim_cur == RLIM_INFINITY) return -1;
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    double used = (double)pages * (double)sysconf(_SC_PAGESIZE), left = (double)r.rlim_cur - used;
    return left > 0 ? left : 0;
}

static double thread_stack_bytes(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_STACK, &r) || r.rlim_cur == RLIM_INFINITY || r.rlim_cur > (rlim_t)1 << 30)
        return 8.0 * 1048576.0;
    return (double)r.rlim_cur;
}

int cli_fit_memory(const char *cmd, const char *what, double fixed, double per_thread, int threads,
                   double max_gb)
{
    if (threads < 1) threads = 1;
    double ram = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    double limit = max_gb > 0 ? max_gb * 1e9 : ram;
    if (limit > 0 && fixed + per_thread > limit) {
        DALE_FAIL(DALE_ERR_NOMEM,
                  "%s needs about %.3g GB (%.3g GB kept, %.3g GB scratch per thread), more than %s %.3g GB; "
                  "ask for fewer draws or a smaller n%s",
                  what, (fixed + per_thread) / 1e9, fixed / 1e9, per_thread / 1e9,
                  max_gb > 0 ? "--max-memory-gb" : "this machine's RAM,", limit / 1e9,
                  max_gb >= 0 ? ", or raise --max-memory-gb" : "");
        return 0;
    }
    int fit = threads;
    if (limit > 0 && per_thread > 0) {
        double t = (limit - fixed) / per_thread;
        if (t < fit) fit = (int)t;
    }
    double left = address_space_left();
    if (left >= 0) {
        /* One thread runs in the caller (its stack and arena exist
         * already); two or more are started, each with a stack and its own
         * malloc arena (64 MB reserved). */
        double one = per_thread + BLAS_BUFFER_BYTES,
               each = one + thread_stack_bytes() + 64.0 * 1048576.0;
        /* headroom for what the libraries map besides (stdio, LAPACK work) */
        double avail = left - fixed - 16.0 * 1048576.0;
        if (avail < one) {
            DALE_FAIL(DALE_ERR_NOMEM,
                      "out of memory: %s needs about %.0f MB of address space (%.0f MB kept, %.0f MB of "
                      "scratch, OpenBLAS's 128 MB buffer), but the limit (ulimit -v) leaves %.0f MB; "
                      "raise ulimit -v",
                      what, (fixed + one) / 1048576.0 + 16.0, fixed / 1048576.0, per_thread / 1048576.0,
                      left / 1048576.0);
            return 0;
        }
        double t = avail / each;
        if (t < 2) t = 1;
        if (t < fit) fit = (int)t;
    }
    if (fit < 1) fit = 1;
    if (fit < threads)
        fprintf(stderr, "%s: %d of %d threads fit in the memory limit%s; using %d\n", cmd, fit, threads,
                left >= 0 ? " (ulimit -v; OpenBLAS maps 128 MB per thread)" : "", fit);
    return fit;
}

void cli_matrices_free(cli_matrix *mats, size_t count)
{
    if (!mats) return;
    for (size_t i = 0; i < count; i++) dalei_free(mats[i].data);
    dalei_free(mats);
}

/* Refuse a non-finite entry, naming its position. */
static dale_status check_finite(const cli_matrix *m)
{
    for (size_t i = 0; i < m->rows * m->cols; i++)
        if (!isfinite(m->data[i]))
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: entry [%zu, %zu] is %s (the matrix must be finite)",
                             m->label, i / m->cols, i % m->cols, isnan(m->data[i]) ? "NaN" : "infinite");
    return DALE_OK;
}

/* Turn a NPY array into a matrix (float32/float64, 2-D, square if asked). */
static dale_status from_array(const dale_array *a, const char *label, int square, cli_matrix *m)
{
    snprintf(m->label, sizeof m->label, "%s", label);
    if (a->dtype != DALE_F32 && a->dtype != DALE_F64)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: wrong dtype '%s' (need float32 '<f4' or float64 '<f8')",
                         label, dale_dtype_descr(a->dtype));
    if (a->ndim != 2)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: need a 2-D matrix, got a %d-D array", label, a->ndim);
    if (a->shape[0] == 0 || a->shape[1] == 0)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: empty matrix (%zu x %zu)", label, a->shape[0], a->shape[1]);
    if (square && a->shape[0] != a->shape[1])
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: matrix is %zu x %zu, not square", label, a->shape[0],
                         a->shape[1]);
    m->rows = a->shape[0];
    m->cols = a->shape[1];
    m->data = dalei_alloc(a->count, sizeof(double));
    if (!m->data) return DALE_ERR_NOMEM;
    for (size_t i = 0; i < a->count; i++)
        m->data[i] = a->dtype == DALE_F32 ? (double)((const float *)a->data)[i]
                                          : ((const double *)a->data)[i];
    return check_finite(m);
}

/* Append one matrix slot to *mats (count grows by one); returns it zeroed. */
static cli_matrix *push(cli_matrix **mats, size_t *count)
{
    cli_matrix *g = dalei_realloc(*mats, *count + 1, sizeof **mats);
    if (!g) return NULL;
    *mats = g;
    memset(&g[*count], 0, sizeof g[*count]);
    g[*count].updates = -1;
    g[*count].factors_nonneg = -1;
    return &g[(*count)++];
}

static dale_status load_npy(const char *path, int square, cli_matrix **mats, size_t *count)
{
    dale_array a;
    dale_status st = dale_npy_read(path, &a);
    if (st) return st;
    cli_matrix *m = push(mats, count);
    st = m ? from_array(&a, path, square, m) : DALE_ERR_NOMEM;
    dale_array_free(&a);
    return st;
}

/* "cellK.W_eff" for some K. */
static int is_weff(const char *key)
{
    unsigned k;
    int end = 0;
    return sscanf(key, "cell%u.W_eff%n", &k, &end) == 1 && key[end] == '\0';
}

/* 1 when every entry of member `key` is >= 0 (0 if absent or unreadable). */
static int member_nonneg(dale_npz *z, const char *key)
{
    dale_array a = {0};
    if (!dale_npz_has(z, key) || dale_npz_read(z, key, &a) || a.dtype != DALE_F32) {
        dale_array_free(&a);
        return 0;
    }
    const float *v = a.data;
    int ok = 1;
    for (size_t i = 0; i < a.count && ok; i++) ok = v[i] >= 0;
    dale_array_free(&a);
    return ok;
}

/* What a dale run file says about cell k's W_eff: the model from the
 * parameter names, the updates from the checkpoint state or the run's
 * result.json beside the file, DANN's factor signs. */
static void run_context(dale_npz *z, const char *path, unsigned k, cli_matrix *m)
{
    char key[64];
    m->model[0] = '\0';
    m->updates = -1;
    m->factors_nonneg = -1;
    snprintf(key, sizeof key, "cell%u.W_EE", k);
    if (dale_npz_has(z, key)) {
        snprintf(m->model, sizeof m->model, "dann");
        int ok = 1;
        static const char *const f[3] = {"W_EE", "W_IE", "W_EI"};
        for (int i = 0; i < 3; i++) {
            snprintf(key, sizeof key, "cell%u.%s", k, f[i]);
            ok &= member_nonneg(z, key);
        }
        m->factors_nonneg = ok;
    } else {
        snprintf(key, sizeof key, "cell%u.W_pos", k);
        snprintf(m->model, sizeof m->model, "%s", dale_npz_has(z, key) ? "colei" : "rnn");
    }
    dale_array a = {0};
    if (dale_npz_has(z, "state.counters") && !dale_npz_read(z, "state.counters", &a) && a.dtype == DALE_I64 &&
        a.count == 3) {
        m->updates = (long)((const int64_t *)a.data)[2];
        dale_array_free(&a);
        return;
    }
    dale_array_free(&a);
    char dir[600], rpath[640];
    snprintf(dir, sizeof dir, "%.590s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    snprintf(rpath, sizeof rpath, "%s/result.json", dir);
    char *text = dalei_read_text(rpath, 1 << 20);
    if (!text) return;
    cJSON *r = cJSON_Parse(text);
    dalei_free(text);
    const cJSON *u = r ? cJSON_GetObjectItemCaseSensitive(r, "updates") : NULL;
    if (cJSON_IsNumber(u)) m->updates = (long)u->valuedouble;
    cJSON_Delete(r);
}

static dale_status load_npz(const char *path, const char *key, int square, cli_matrix **mats,
                            size_t *count)
{
    dale_npz *z = NULL;
    dale_array a = {0};
    char label[640];
    dale_status st = dale_npz_open(path, &z);
    if (st) return st;
    if (key) {
        if (!dale_npz_has(z, key)) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: no member '%s' in the archive", path, key);
            goto done;
        }
        snprintf(label, sizeof label, "%.500s:%.130s", path, key);
        if ((st = dale_npz_read(z, key, &a))) goto done;
        cli_matrix *m = push(mats, count);
        st = m ? from_array(&a, label, square, m) : DALE_ERR_NOMEM;
        goto done;
    }
    int weff = 0;
    for (size_t i = 0; i < dale_npz_count(z); i++) weff |= is_weff(dale_npz_key(z, i));
    for (size_t i = 0; i < dale_npz_count(z); i++) {
        const char *k = dale_npz_key(z, i);
        if (weff && !is_weff(k)) continue;
        if ((st = dale_npz_read(z, k, &a))) goto done;
        int fits = (a.dtype == DALE_F32 || a.dtype == DALE_F64) && a.ndim == 2 && a.shape[0] > 0 &&
                   (!square || a.shape[0] == a.shape[1]);
        if (fits || weff) {
            snprintf(label, sizeof label, "%.500s:%.130s", path, k);
            cli_matrix *m = push(mats, count);
            if (!m) { st = DALE_ERR_NOMEM; goto done; }
            if ((st = from_array(&a, label, square, m))) goto done;
            unsigned cell;
            if (weff && sscanf(k, "cell%u.", &cell) == 1) run_context(z, path, cell, m);
        }
        dale_array_free(&a);
    }
    if (*count == 0)
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: no %s2-D float32/float64 member in the archive", path,
                       square ? "square " : "");
done:
    dale_array_free(&a);
    dale_npz_close(z);
    return st;
}

/* Text matrix: numbers separated by commas and/or whitespace. */
static dale_status load_text(const char *path, int square, cli_matrix **mats, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    dale_status st = DALE_OK;
    char *line = NULL;
    size_t cap = 0, lineno = 0, rows = 0, cols = 0, used = 0, alloc = 0;
    double *data = NULL;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
        if (*p == '\0' || *p == '#') continue;
        size_t n = 0;
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == ',' || *p == ';' || *p == '\r' || *p == '\n') p++;
            if (*p == '\0') break;
            char *end;
            errno = 0;
            double v = strtod(p, &end);
            if (end == p) {
                char tok[100];
                size_t t = strcspn(p, " \t,;\r\n");
                dalei_escape_ctl(p, t < 24 ? t : 24, tok, sizeof tok);
                st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu: '%s' is not a number%s", path, lineno, tok,
                               rows == 0 ? " (start a header line with #)" : "");
                goto done;
            }
            if (*end && !strchr(" \t,;\r\n", *end)) {
                char near[84];
                size_t t = strcspn(p, "\r\n");
                dalei_escape_ctl(p, t < 20 ? t : 20, near, sizeof near);
                st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu: bad number near '%s'", path, lineno, near);
                goto done;
            }
            if (used == alloc) {
                size_t na = alloc ? 2 * alloc : 1024;
                double *g = dalei_realloc(data, na, sizeof *g);
                if (!g) { st = DALE_ERR_NOMEM; goto done; }
                data = g;
                alloc = na;
            }
            data[used++] = v;
            n++;
            p = end;
        }
        if (rows == 0) cols = n;
        else if (n != cols) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu: ragged rows: %zu values on this line, %zu on the first",
                           path, lineno, n, cols);
            goto done;
        }
        rows++;
    }
    if (ferror(f)) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: read error", path);
        goto done;
    }
    if (rows == 0) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: no numbers in the file", path);
        goto done;
    }
    if (square && rows != cols) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: matrix is %zu x %zu, not square", path, rows, cols);
        goto done;
    }
    cli_matrix *m = push(mats, count);
    if (!m) { st = DALE_ERR_NOMEM; goto done; }
    snprintf(m->label, sizeof m->label, "%.630s", path);
    m->rows = rows;
    m->cols = cols;
    m->data = data;
    data = NULL;
    st = check_finite(m);
done:
    free(line); /* from getline */
    dalei_free(data);
    fclose(f);
    return st;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

dale_status cli_load_matrices(const char *spec, int square, cli_matrix **mats, size_t *count)
{
    *mats = NULL;
    *count = 0;
    char path[1024];
    const char *key = NULL;
    if (strlen(spec) >= sizeof path) return DALE_FAIL(DALE_ERR_IO, "%.60s...: path too long", spec);
    snprintf(path, sizeof path, "%s", spec);
    /* FILE.npz:key — only when FILE.npz is not itself an existing name. */
    char *colon = strstr(path, ".npz:");
    if (colon && access(path, F_OK) != 0) {
        colon[4] = '\0';
        key = colon + 5;
    }
    dale_status st;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    } else if (S_ISDIR(sb.st_mode)) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: is a directory, not a matrix file", path);
    } else if (!S_ISREG(sb.st_mode)) {
        /* a FIFO would block forever, /dev/zero would be read without end */
        st = DALE_FAIL(DALE_ERR_IO, "%s: not a regular file (a %s); give a NPY, NPZ or CSV file", path,
                       S_ISFIFO(sb.st_mode) ? "FIFO or pipe" : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "device"
                       : S_ISSOCK(sb.st_mode) ? "socket" : "special file");
    } else {
        int kind = 0; /* 1 npy, 2 npz, 3 text */
        if (key || ends_with(path, ".npz")) kind = 2;
        else if (ends_with(path, ".npy")) kind = 1;
        else if (ends_with(path, ".csv") || ends_with(path, ".txt") || ends_with(path, ".tsv")) kind = 3;
        else {
            unsigned char magic[6] = {0};
            FILE *f = fopen(path, "rb");
            size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
            if (f) fclose(f);
            kind = got >= 6 && !memcmp(magic, "\x93NUMPY", 6) ? 1
                   : got >= 2 && magic[0] == 'P' && magic[1] == 'K' ? 2
                                                                    : 3;
        }
        st = kind == 1   ? load_npy(path, square, mats, count)
             : kind == 2 ? load_npz(path, key, square, mats, count)
                         : load_text(path, square, mats, count);
    }
    if (st) {
        cli_matrices_free(*mats, *count);
        *mats = NULL;
        *count = 0;
    }
    return st;
}

dale_status cli_net_config(const dale_run_config *c, dale_net_config *nc)
{
    /* The square recurrent W of one cell: one layer, no dense layers, and
     * the input-side options that do not touch W left at their defaults,
     * so draw k of --seed S is the W that `dale train --seed S+k` starts from. */
    dale_status st = dale_config_net(c, 1, 1, 0.0, nc);
    if (st) return st;
    nc->layers = 1;
    nc->ndense = 0;
    nc->rnn_input_he = 0;
    nc->bias_centering = 0;
    return DALE_OK;
}
