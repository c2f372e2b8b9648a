/* spectrum.c — `dale spectrum`: spectra of many initialisations, and the
 * paper's NSE tables (Table 3, Fig. 7B).
 *
 * Single configuration: draws k = 0..inits-1 use seeds seed+k (draw k is the
 * W that `dale train --seed seed+k` with the same model options starts
 * from); writes spectrum.npz, summary.json, svals_hist.csv, eig.csv and the
 * figures eig.{gp,png,svg} and svals_hist.{gp,png,svg} into --out.
 * --table nse: Table 3 (ColEI and DANN at 1/10/50 % inhibitory, RNN) over
 * --sizes x --seeds.  --table grid: NSE over n x p (Fig. 7B, ColEI, no
 * diagonal zeroing) with a heat map.  Work runs on --threads threads with
 * single-threaded BLAS; the output does not depend on the thread count.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "cli.h"
#include "dale/config.h"
#include "dale/npy.h"
#include "dale/report.h"
#include "dale/spectrum.h"
#include "dale/trainer.h"
#include "internal.h"
#include "dale/fileio.h"
#include "matio.h"

/* Init options shared with dale train (parsed by dale_config_set). */
static const char *const init_keys[] = {"model", "hidden", "inhib", "ei-ratio", "rho",
                                        "zero-diag", "colei-dist", "gamma-shape", "numerator",
                                        "dann-wie", "dann-ni-rec", "dynamics", "dt", "tau", "tau-e", "tau-i",
                                        "sparsity", "autapses", "mask-rec", "mask-in", "mask-out",
                                        "colei-init", "colei-init-iters", "colei-init-floor"};
#define NINIT (sizeof init_keys / sizeof init_keys[0])

typedef struct opts {
    dale_run_config c;
    long inits, bins, seeds, eig_draws;
    int threads, json, logy, plot, no_eig, progress;
    double max_gb; /* --max-memory-gb, 0: the RAM */
    double inset;  /* --inset HI: a second histogram panel over [0, HI] (0: none) */
    uint64_t seed;
    char table[16];
    char sizes[256];
    char out[512];
} opts;

static void spectrum_usage(FILE *f)
{
    dale_run_config d;
    dale_config_defaults(&d);
    fputs("usage: dale spectrum [--model M --hidden N --inhib P ...] [--inits K] [--out DIR]\n"
          "       dale spectrum --table nse|grid [--seeds K] [--sizes LIST] [--out DIR]\n\n"
          "Spectra of the recurrent matrix W at initialisation.  Draw k uses seed SEED+k and\n"
          "is exactly the W that `dale train --seed SEED+k` (same model options) starts from.\n"
          "Writes DIR/spectrum.npz (svals, eig_re, eig_im (K, n); nse, smax, rho, frob,\n"
          "rowsum_mean, rowsum_sd, seed (K)), summary.json, svals_hist.csv, eig.csv and the\n"
          "figures eig.png/.svg and svals_hist.png/.svg (gnuplot scripts beside them).\n\n"
          "model options (as in dale train):\n",
          f);
    fputs("  --model M            ", f);
    for (size_t i = 0; i < dale_model_count(); i++) fprintf(f, "%s%s", i ? " | " : "", dale_model_at(i)->name);
    fprintf(f, " (default: %s)\n", d.model);
    fputs("  --hidden N           matrix size n (default: 100)\n", f);
    fputs("  --inhib P            fraction of inhibitory units; sets --ei-ratio 1/P-1 (default: unset)\n", f);
    fprintf(f, "  --ei-ratio R         E:I ratio, nI = ceil(n/(R+1)) (default: %g)\n", d.ei_ratio);
    fprintf(f, "  --rho X              ColEI spectral radius after rescaling (default: %g)\n", d.rho);
    fprintf(f, "  --zero-diag on|off   ColEI: zero the diagonal before rescaling (default: %s)\n", d.zero_diag);
    fprintf(f, "  --colei-dist D       ColEI family: exponential | gamma | uniform (default: %s)\n", d.colei_dist);
    fprintf(f, "  --gamma-shape K      shape of the gamma family (default: %g)\n", d.gamma_shape);
    fprintf(f, "  --colei-init I       ColEI W: standard | balanced | spectral | spectral-balanced\n"
               "                       (default: %s; docs/beyond.md)\n",
            d.colei_init);
    fprintf(f, "  --colei-init-iters K spectral init: projection rounds (default: %ld)\n", d.colei_init_iters);
    fprintf(f, "  --colei-init-floor D spectral init: floor |w| >= D mean|w| (default: %g)\n", d.colei_init_floor);
    fprintf(f, "  --numerator NU       RNN/DANN variance numerator, Var W = NU/n (default: %.6g)\n", d.numerator);
    fprintf(f, "  --dann-wie W         DANN W_IE: mean | random (default: %s)\n", d.dann_wie);
    fprintf(f, "  --dann-ni-rec K      DANN recurrent inhibitory units, 0 = max(n/(R+1),1) (default: %ld)\n",
            d.dann_ni_rec);
    fprintf(f, "  --dynamics D         relu | leaky | leaky-state (default: %s): W and its spectrum are the same;\n"
               "                       with leaky dynamics one more line gives rho of (1-a)I + a W, a = dt/tau per\n"
               "                       unit (the step's Jacobian where every unit is active)\n", d.dynamics);
    fprintf(f, "  --dt MS              time step in ms (default: %g)\n", d.dt);
    fprintf(f, "  --tau MS             time constant in ms of every unit (default: %g)\n", d.tau);
    fprintf(f, "  --tau-e MS           ColEI E units / DANN hidden units (default: %s, the value of --tau)\n", d.tau_e);
    fprintf(f, "  --tau-i MS           ColEI I units (default: %s, the value of --tau)\n", d.tau_i);
    fprintf(f, "  --sparsity P         fraction of W's connections removed, each with probability P,\n"
               "                       before ColEI's rescaling (default: %g)\n", d.sparsity);
    fprintf(f, "  --no-autapses        remove W's diagonal (self-connections) (default: autapses %s)\n", d.autapses);
    fputs("  --mask-rec FILE.npy  W's connectivity mask, (hidden, hidden) 0/1 as for dale train: every draw\n"
          "                       is the masked effective W (ColEI rescaled after masking); combines with\n"
          "                       --sparsity and --no-autapses (default: none)\n"
          "  --mask-in, --mask-out accepted as dale train takes them, so a run's options can be given\n"
          "                       as they are; they do not enter W and are not read\n", f);
    fputs("\nsampling and output:\n"
          "  --inits K            number of draws (default: 1000)\n"
          "  --seed S             seed of draw 0 (default: 0)\n"
          "  --threads N          worker threads, BLAS single-threaded (default: online CPUs;\n"
          "                       fewer when the memory limit holds fewer)\n"
          "  --max-memory-gb G    refuse a sampling estimated above G GB (default 0: the RAM)\n"
          "  --out DIR            output directory (default: spec/<model>-<n>-<seed>, or\n"
          "                       spec/table-nse, spec/nse-grid for the tables)\n"
          "  --bins B             singular-value histogram bins (default: 100)\n"
          "  --eig-draws K        draws in eig.csv and the eigenvalue figure (default: 100)\n"
          "  --log-y              logarithmic y axis for the histogram (default: off)\n"
          "  --inset HI           a blow-up of the histogram over [0, HI] as an inset panel, with its\n"
          "                       own --bins bins (svals_hist_inset.csv; the paper's Figs. 5-6 use 8)\n"
          "                       (default: 0, none)\n"
          "  --no-plot            do not run gnuplot (data and scripts are still written) (default: off)\n"
          "  --progress           a start line and a line per draw on stderr (default: only when the\n"
          "                       sampling is estimated at over 3 s)\n"
          "  --json               print the summary as JSON on stdout (default: off)\n"
          "  --no-eig             skip eigenvalues where they cost a solve (RNN, DANN; ColEI keeps the\n"
          "                       init's): rho is then not reported (default: off)\n"
          "\ntables:\n"
          "  --table nse          paper Table 3: ColEI and DANN at 1/10/50 % inhibitory and the RNN,\n"
          "                       NSE mean +- sd over seeds (reference defaults: ColEI rho 1.5 with\n"
          "                       zero diagonal, DANN mean-row W_IE nu 1/3, RNN PyTorch uniform)\n"
          "  --table grid         Fig. 7B: ColEI NSE over n x p in linspace(0.01, 0.5, 10), rho 1.5,\n"
          "                       no diagonal zeroing, with a heat map\n"
          "  --seeds K            seeds per cell (default: 20 for nse, 1 for grid)\n"
          "  --sizes LIST         comma-separated sizes (default: 100,300,1000 for nse,\n"
          "                       100,200,...,1000 for grid)\n"
          "  --help               this text\n\n"
          "Exit codes: 0 ok, 1 runtime error, 2 usage error.\n",
          f);
}

static int is_init_key(const char *k)
{
    for (size_t i = 0; i < NINIT; i++) {
        const char *a = init_keys[i];
        size_t j = 0;
        while (a[j] && (k[j] == a[j] || (a[j] == '-' && k[j] == '_'))) j++;
        if (!a[j] && !k[j]) return 1;
    }
    return 0;
}

static int parse_long(const char *name, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "dale spectrum: --%s: expected an integer in [%ld, %ld], got '%s'\n", name, lo, hi, v);
        return 0;
    }
    *out = x;
    return 1;
}

/* Parse argv into o; returns -1 to continue, else an exit code. */
static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    dale_config_defaults(&o->c);
    o->c.hidden = 100;
    o->inits = 1000;
    o->bins = 100;
    o->seeds = -1;
    o->eig_draws = 100;
    o->threads = cli_default_threads();
    o->plot = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            spectrum_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) { o->json = 1; continue; }
        if (!strcmp(a, "--log-y")) { o->logy = 1; continue; }
        if (!strcmp(a, "--no-plot")) { o->plot = 0; continue; }
        if (!strcmp(a, "--progress")) { o->progress = 1; continue; }
        if (!strcmp(a, "--no-eig")) { o->no_eig = 1; continue; }
        if (!strcmp(a, "--no-autapses")) { dale_config_set(&o->c, "autapses", "off"); continue; }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "dale spectrum: unexpected argument '%s' (options start with --)\n", a);
            return 2;
        }
        char name[64];
        const char *val, *eq = strchr(a + 2, '=');
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
            if (i + 1 >= argc) {
                fprintf(stderr, "dale spectrum: option '--%s' needs a value\n", name);
                return 2;
            }
            val = argv[++i];
        }
        long x;
        if (!strcmp(name, "inits")) { if (!parse_long(name, val, 1, 100000000, &o->inits)) return 2; }
        else if (!strcmp(name, "bins")) { if (!parse_long(name, val, 1, 1000000, &o->bins)) return 2; }
        else if (!strcmp(name, "seeds")) { if (!parse_long(name, val, 1, 1000000, &o->seeds)) return 2; }
        else if (!strcmp(name, "eig-draws")) { if (!parse_long(name, val, 0, 100000000, &o->eig_draws)) return 2; }
        else if (!strcmp(name, "max-memory-gb")) {
            char *end;
            errno = 0;
            double g = strtod(val, &end);
            if (errno || end == val || *end || !(g >= 0) || g > 1e9) {
                fprintf(stderr, "dale spectrum: --max-memory-gb: expected a number >= 0 (0: the machine's RAM), "
                                "got '%s'\n", val);
                return 2;
            }
            o->max_gb = g;
        } else if (!strcmp(name, "inset")) {
            char *end;
            errno = 0;
            double g = strtod(val, &end);
            if (errno || end == val || *end || !(g >= 0) || g > 1e12) {
                fprintf(stderr, "dale spectrum: --inset: expected the upper end of the inset's range, a number > 0 "
                                "(0: no inset), got '%s'\n", val);
                return 2;
            }
            o->inset = g;
        } else if (!strcmp(name, "threads")) {
            if (!parse_long(name, val, 1, 4096, &x)) return 2;
            o->threads = (int)x;
        } else if (!strcmp(name, "seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(val, &end, 10);
            if (errno || end == val || *end || val[0] == '-') {
                fprintf(stderr, "dale spectrum: --seed: expected a non-negative integer, got '%s'\n", val);
                return 2;
            }
            o->seed = (uint64_t)s;
        } else if (!strcmp(name, "table")) {
            if (strcmp(val, "nse") && strcmp(val, "grid")) {
                fprintf(stderr, "dale spectrum: --table: expected nse or grid, got '%s'\n", val);
                return 2;
            }
            snprintf(o->table, sizeof o->table, "%s", val);
        } else if (!strcmp(name, "sizes")) {
            if (strlen(val) >= sizeof o->sizes) {
                fprintf(stderr, "dale spectrum: --sizes: list too long\n");
                return 2;
            }
            snprintf(o->sizes, sizeof o->sizes, "%s", val);
        } else if (!strcmp(name, "out")) {
            if (strlen(val) >= sizeof o->out) {
                fprintf(stderr, "dale spectrum: --out: path too long\n");
                return 2;
            }
            snprintf(o->out, sizeof o->out, "%s", val);
        } else if (is_init_key(name)) {
            if (dale_config_set(&o->c, name, val)) {
                fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
                return 2;
            }
        } else {
            fprintf(stderr, "dale spectrum: unknown option '--%s' (see dale spectrum --help)\n", name);
            return 2;
        }
    }
    if (o->c.hidden < 2 && !o->table[0]) {
        fprintf(stderr, "dale spectrum: --hidden must be >= 2 (got %ld)\n", o->c.hidden);
        return 2;
    }
    if (dale_config_resolve(&o->c)) { /* validates and folds --inhib into ei_ratio */
        fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
        return 2;
    }
    if (o->c.mask_rec[0]) {
        if (o->table[0]) {
            fprintf(stderr, "dale spectrum: --mask-rec does not combine with --table %s (its matrices have other "
                            "sizes); give it with --hidden N alone\n", o->table);
            return 2;
        }
        /* the shape, dtype and 0/1 checks of dale train, on W's mask only */
        dale_run_config v = o->c;
        v.mask_in[0] = v.mask_out[0] = '\0';
        if (dale_config_check_masks(&v)) {
            fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
            return 2;
        }
    }
    return -1;
}

/* The checked --mask-rec file as (n, n) floats 0/1 into *out (dalei_free). */
static dale_status read_rec_mask(const char *path, size_t n, float **out)
{
    dale_array a;
    *out = NULL;
    dale_status st = dale_npy_read(path, &a);
    if (st) return st;
    float *m = a.ndim == 2 && a.shape[0] == n && a.shape[1] == n ? dalei_alloc(n * n, sizeof *m) : NULL;
    for (size_t k = 0; m && k < n * n; k++) {
        switch (a.dtype) {
        case DALE_F32: m[k] = ((const float *)a.data)[k]; break;
        case DALE_F64: m[k] = (float)((const double *)a.data)[k]; break;
        case DALE_I32: m[k] = (float)((const int32_t *)a.data)[k]; break;
        case DALE_I64: m[k] = (float)((const int64_t *)a.data)[k]; break;
        case DALE_U8: m[k] = ((const uint8_t *)a.data)[k]; break;
        case DALE_I8: m[k] = ((const int8_t *)a.data)[k]; break;
        case DALE_U64: m[k] = (float)((const uint64_t *)a.data)[k]; break;
        default: m[k] = NAN; break;
        }
    }
    dale_array_free(&a);
    if (!m) return DALE_FAIL(DALE_ERR_ARG, "--mask-rec %s: cannot read a (%zu, %zu) mask", path, n, n);
    *out = m;
    return DALE_OK;
}

/* Comma-separated positive sizes into out[max]; returns the count or 0. */
static size_t parse_sizes(const char *s, size_t *out, size_t max)
{
    size_t n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || v < 2 || v > 100000 || (*end && *end != ',') || n == max) return 0;
        out[n++] = (size_t)v;
        p = *end ? end + 1 : end;
    }
    return n;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Progress of long samplings on stderr: a start line with the estimate,
 * then a line per finished draw (redrawn on a terminal, at most every 10 s
 * otherwise).  Only when the estimate is over 3 s, so quick runs stay
 * quiet.  The estimate: singular values 0.21 s and an eigen-solve 0.39 s
 * per n = 1000 draw on one core, scaling with n^3 (docs/spectral.md). */
typedef struct progress_state {
    double t0, last;
    int tty, on;
} progress_state;

static void progress_start(progress_state *ps, const dale_spectrum_job *jobs, size_t nj, int no_eig, int threads,
                           int force)
{
    double est = 0;
    size_t draws = 0;
    for (size_t j = 0; j < nj; j++) {
        double n = (double)jobs[j].cfg->hidden / 1000.0;
        est += (double)jobs[j].inits * n * n * n * (0.21 + (no_eig ? 0.0 : 0.39));
        draws += jobs[j].inits;
    }
    est /= threads > 1 ? threads : 1;
    ps->t0 = ps->last = now_s();
    ps->tty = isatty(2);
    ps->on = force || est > 3.0;
    if (ps->on)
        fprintf(stderr, "dale spectrum: %zu draw%s, about %.0f s on %d thread%s\n", draws, draws == 1 ? "" : "s", est,
                threads > 1 ? threads : 1, threads > 1 ? "s" : "");
}

static void progress_draw(size_t done, size_t total, size_t n, void *user)
{
    progress_state *ps = user;
    if (!ps->on) return;
    double t = now_s();
    if (!ps->tty && done < total && t - ps->last < 10.0) return;
    ps->last = t;
    double el = t - ps->t0, eta = done ? el * (double)(total - done) / (double)done : 0;
    fprintf(stderr, "%sdraw %zu/%zu done (n %zu), %.0f s elapsed, about %.0f s left%s", ps->tty ? "\r" : "", done,
            total, n, el, eta, ps->tty && done < total ? "   " : "\n");
    fflush(stderr);
}

static dale_status sample(const dale_spectrum_job *jobs, const float *const *masks, size_t nj, unsigned flags,
                          int threads, double max_memory_gb, dale_spectrum_set *out, int force_progress)
{
    /* What the sets keep (a summary per draw; with KEEP the singular values
     * and, unless --no-eig, the eigenvalues: n doubles each per draw), and
     * each worker's scratch (W in float and double, the SVD and
     * eigen-solve copies and LAPACK's work: about 8 n^2 doubles). */
    double kept = 0, nmax = 0;
    for (size_t j = 0; j < nj; j++) {
        double n = (double)jobs[j].cfg->hidden, per = (double)sizeof(dale_spectrum_summary);
        if (flags & DALE_SPEC_KEEP) per += 3.0 * 8.0 * n;
        kept += per * (double)jobs[j].inits;
        if (n > nmax) nmax = n;
    }
    char what[96];
    snprintf(what, sizeof what, "sampling %zu job%s (n up to %.0f)", nj, nj == 1 ? "" : "s", nmax);
    threads = cli_fit_memory("dale spectrum", what, kept, 64.0 * nmax * nmax, threads, max_memory_gb);
    if (!threads) return DALE_ERR_NOMEM;
    progress_state ps;
    progress_start(&ps, jobs, nj, (flags & DALE_SPEC_NO_EIG) != 0, threads, force_progress);
    return dale_spectrum_sample_masked(jobs, masks, nj, flags, threads, out, progress_draw, &ps);
}

_Static_assert(sizeof(dale_spectrum_summary) % sizeof(double) == 0,
               "summaries are strided as arrays of doubles");

/* Mean and sd of one field of the summaries of a set. */
#define FIELD_STATS(set, field, mean, sd)                                                    \
    dale_mean_sd(&(set)->sum[0].field, (set)->inits,                                         \
                 sizeof(dale_spectrum_summary) / sizeof(double), mean, sd)

static void add_stats(cJSON *o, const char *name, double mean, double sd)
{
    cJSON *s = cJSON_AddObjectToObject(o, name);
    if (!s) return;
    cJSON_AddNumberToObject(s, "mean", isfinite(mean) ? mean : 0.0);
    cJSON_AddNumberToObject(s, "sd", isfinite(sd) ? sd : 0.0);
    if (!isfinite(mean)) cJSON_AddNullToObject(s, "missing");
}

/* The JSON summary of one configuration. */
static cJSON *set_json(const dale_spectrum_set *s, const char *label)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    double m, sd;
    if (label) cJSON_AddStringToObject(o, "network", label);
    cJSON_AddStringToObject(o, "model", dale_model_name(s->cfg.type));
    cJSON_AddNumberToObject(o, "n", (double)s->n);
    cJSON_AddNumberToObject(o, "nE", (double)s->nE);
    cJSON_AddNumberToObject(o, "nI", (double)s->nI);
    cJSON_AddNumberToObject(o, "ei_ratio", s->cfg.ei_ratio);
    cJSON_AddNumberToObject(o, "inits", (double)s->inits);
    cJSON_AddNumberToObject(o, "seed0", (double)s->seed0);
    FIELD_STATS(s, nse, &m, &sd);
    add_stats(o, "nse", m, sd);
    FIELD_STATS(s, sigma_max, &m, &sd);
    add_stats(o, "sigma_max", m, sd);
    FIELD_STATS(s, rho, &m, &sd);
    add_stats(o, "rho", m, sd);
    FIELD_STATS(s, frob, &m, &sd);
    add_stats(o, "frobenius", m, sd);
    FIELD_STATS(s, rowsum_mean, &m, &sd);
    add_stats(o, "rowsum_mean", m, sd);
    FIELD_STATS(s, rowsum_sd, &m, &sd);
    add_stats(o, "rowsum_sd", m, sd);
    return o;
}

static dale_status write_json(cJSON *o, const char *path)
{
    char *text = cJSON_Print(o);
    if (!text) return DALE_FAIL(DALE_ERR_NOMEM, "cannot print JSON");
    size_t len = strlen(text);
    text[len] = '\n';
    dale_status st = dalei_write_file_atomic(path, text, len + 1);
    text[len] = '\0';
    cJSON_free(text);
    return st;
}

static void print_json(cJSON *o)
{
    char *text = cJSON_Print(o);
    if (text) printf("%s\n", text);
    cJSON_free(text);
}

/* Text of a growing buffer (CSV files are built in memory, then written
 * atomically). */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) DALEI_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->oom = 1; return; }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t nc = b->cap ? 2 * b->cap : 65536;
        while (nc < b->len + (size_t)n + 1) nc *= 2;
        char *g = dalei_realloc(b->p, nc, 1);
        if (!g) { b->oom = 1; return; }
        b->p = g;
        b->cap = nc;
    }
}

static dale_status sb_write(sbuf *b, const char *path)
{
    dale_status st = b->oom ? DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory building the file", path)
                            : dalei_write_file_atomic(path, b->p ? b->p : "", b->len);
    dalei_free(b->p);
    memset(b, 0, sizeof *b);
    return st;
}

static void plot_note(int plotted, int want, const char *dir, const char *name, int *warned)
{
    if (want && !plotted && !*warned) {
        fprintf(stderr, "dale spectrum: gnuplot not found: wrote %s/%s.gp and its data; "
                        "install gnuplot and run it there to get the images\n", dir, name);
        *warned = 1;
    }
}

/* ----------------------------------------------------- one configuration */

static int run_single(opts *o)
{
    dale_net_config nc;
    dale_spectrum_set set;
    memset(&set, 0, sizeof set);
    int rc = 1, warned = 0, plotted = 0;
    cJSON *sum = NULL;
    double *hist = NULL;
    sbuf b = {0};
    char path[1200];
    if (cli_net_config(&o->c, &nc)) {
        fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
        return 2;
    }
    if (!o->out[0])
        snprintf(o->out, sizeof o->out, "spec/%s-%zu-%llu", dale_model_name(nc.type), nc.hidden,
                 (unsigned long long)o->seed);
    dale_spectrum_job job = {&nc, o->seed, (size_t)o->inits};
    float *wmask = NULL; /* --mask-rec */
    size_t wkept = 0;
    if (o->c.mask_rec[0]) {
        if (read_rec_mask(o->c.mask_rec, nc.hidden, &wmask)) {
            fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
            return 1;
        }
        for (size_t q = 0; q < nc.hidden * nc.hidden; q++) wkept += wmask[q] != 0.0f;
    }
    const float *const masks[1] = {wmask};
    double t0 = now_s();
    if (sample(&job, wmask ? masks : NULL, 1, DALE_SPEC_KEEP | (o->no_eig ? DALE_SPEC_NO_EIG : 0u), o->threads,
               o->max_gb, &set, o->progress)) {
        fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
        dalei_free(wmask);
        return 1;
    }
    double secs = now_s() - t0;
    size_t n = set.n, k = set.inits;
    if (dale_mkdirs(o->out)) goto fail;

    /* spectrum.npz */
    {
        dale_npz_writer *w = NULL;
        snprintf(path, sizeof path, "%s/spectrum.npz", o->out);
        size_t shp2[2] = {k, n}, shp1[1] = {k};
        double *col = dalei_alloc(k, sizeof *col);
        int64_t *seeds = dalei_alloc(k, sizeof *seeds);
        dale_status st = col && seeds ? dale_npz_writer_create(path, &w) : DALE_ERR_NOMEM;
        if (!st) st = dale_npz_add(w, "svals", DALE_F64, 2, shp2, set.svals);
        if (!st && set.eig_re) st = dale_npz_add(w, "eig_re", DALE_F64, 2, shp2, set.eig_re);
        if (!st && set.eig_im) st = dale_npz_add(w, "eig_im", DALE_F64, 2, shp2, set.eig_im);
        const struct { const char *key; size_t off; } f[] = {
            {"nse", offsetof(dale_spectrum_summary, nse)},
            {"smax", offsetof(dale_spectrum_summary, sigma_max)},
            {"rho", offsetof(dale_spectrum_summary, rho)},
            {"frob", offsetof(dale_spectrum_summary, frob)},
            {"rowsum_mean", offsetof(dale_spectrum_summary, rowsum_mean)},
            {"rowsum_sd", offsetof(dale_spectrum_summary, rowsum_sd)},
        };
        for (size_t q = 0; !st && q < sizeof f / sizeof f[0]; q++) {
            for (size_t d = 0; d < k; d++) memcpy(&col[d], (const char *)&set.sum[d] + f[q].off, sizeof(double));
            st = dale_npz_add(w, f[q].key, DALE_F64, 1, shp1, col);
        }
        for (size_t d = 0; d < k; d++) seeds[d] = (int64_t)(o->seed + d);
        if (!st) st = dale_npz_add(w, "seed", DALE_I64, 1, shp1, seeds);
        if (!st) {
            st = dale_npz_writer_commit(w);
            w = NULL;
        }
        dale_npz_writer_free(w);
        dalei_free(col);
        dalei_free(seeds);
        if (st) goto fail;
    }

    /* svals_hist.csv over [0, max σ] */
    double smax = 0;
    for (size_t i = 0; i < k; i++) smax = fmax(smax, set.sum[i].sigma_max);
    double hi = smax > 0 ? smax * 1.0000001 : 1.0;
    hist = dalei_alloc((size_t)o->bins, sizeof *hist);
    if (!hist) goto fail;
    if (dale_histogram(set.svals, k * n, 0.0, hi, (size_t)o->bins, hist, NULL)) goto fail;
    sb_printf(&b, "lo,hi,density\n");
    for (long i = 0; i < o->bins; i++)
        sb_printf(&b, "%.10g,%.10g,%.10g\n", hi * (double)i / (double)o->bins,
                  hi * (double)(i + 1) / (double)o->bins, hist[i]);
    snprintf(path, sizeof path, "%s/svals_hist.csv", o->out);
    if (sb_write(&b, path)) goto fail;
    /* svals_hist_inset.csv over [0, --inset]: the density of the values in
     * that range (so the bulk's shape shows beside a few large ones) */
    if (o->inset > 0) {
        if (dale_histogram(set.svals, k * n, 0.0, o->inset, (size_t)o->bins, hist, NULL)) goto fail;
        sb_printf(&b, "lo,hi,density\n");
        for (long i = 0; i < o->bins; i++)
            sb_printf(&b, "%.10g,%.10g,%.10g\n", o->inset * (double)i / (double)o->bins,
                      o->inset * (double)(i + 1) / (double)o->bins, hist[i]);
        snprintf(path, sizeof path, "%s/svals_hist_inset.csv", o->out);
        if (sb_write(&b, path)) goto fail;
    }

    /* eig.csv: the first eig_draws draws */
    size_t ke = (size_t)o->eig_draws < k ? (size_t)o->eig_draws : k;
    sb_printf(&b, "draw,re,im\n");
    for (size_t d = 0; set.eig_re && d < ke; d++)
        for (size_t i = 0; i < n; i++)
            sb_printf(&b, "%zu,%.10g,%.10g\n", d, set.eig_re[d * n + i], set.eig_im[d * n + i]);
    snprintf(path, sizeof path, "%s/eig.csv", o->out);
    if (sb_write(&b, path)) goto fail;

    /* summary.json */
    sum = set_json(&set, NULL);
    if (!sum) goto fail;
    cJSON_AddNumberToObject(sum, "rho_target", dale_model_init_radius(&nc));
    cJSON_AddStringToObject(sum, "zero_diag", o->c.zero_diag);
    cJSON_AddStringToObject(sum, "colei_dist", o->c.colei_dist);
    if (strcmp(o->c.colei_init, "standard")) cJSON_AddStringToObject(sum, "colei_init", o->c.colei_init);
    cJSON_AddNumberToObject(sum, "numerator", nc.numerator);
    cJSON_AddStringToObject(sum, "dann_wie", o->c.dann_wie);
    cJSON_AddNumberToObject(sum, "hist_bins", (double)o->bins);
    cJSON_AddNumberToObject(sum, "hist_hi", hi);
    cJSON_AddNumberToObject(sum, "seconds", secs);
    if (wmask) {
        cJSON_AddStringToObject(sum, "mask_rec", o->c.mask_rec);
        cJSON_AddNumberToObject(sum, "mask_rec_kept", (double)wkept);
    }
    /* Leaky dynamics: rho of the linearised step (1-a)I + a W (every unit
     * active), a = dt/tau per unit, over the first draws (an eigen-solve each). */
    double lk_m = 0, lk_sd = 0;
    size_t lk_k = 0;
    if (nc.dynamics != DALE_DYN_RELU) {
        lk_k = k < 20 ? k : 20;
        double *Wd = dalei_alloc(n * n, sizeof(double)), *rl = dalei_alloc(lk_k, sizeof(double));
        if (!Wd || !rl) {
            dalei_free(Wd);
            dalei_free(rl);
            goto fail;
        }
        dale_status lst = DALE_OK;
        for (size_t dr = 0; dr < lk_k && !lst; dr++) {
            if ((lst = dale_spectrum_draw_masked(&nc, wmask, o->seed + dr, Wd, NULL, NULL))) break;
            for (size_t i = 0; i < n; i++) {
                double a = i >= set.nE && nc.alpha_i > 0 ? nc.alpha_i : nc.alpha;
                for (size_t j = 0; j < n; j++) Wd[i * n + j] = a * Wd[i * n + j] + (i == j ? 1.0 - a : 0.0);
            }
            lst = dale_spectral_radius(Wd, n, &rl[dr]);
        }
        if (!lst) {
            dale_mean_sd(rl, lk_k, 1, &lk_m, &lk_sd);
            cJSON_AddStringToObject(sum, "dynamics", o->c.dynamics);
            cJSON_AddNumberToObject(sum, "rho_leaky", lk_m);
            cJSON_AddNumberToObject(sum, "rho_leaky_sd", lk_sd);
            cJSON_AddNumberToObject(sum, "rho_leaky_draws", (double)lk_k);
        }
        dalei_free(Wd);
        dalei_free(rl);
        if (lst) goto fail;
    }
    snprintf(path, sizeof path, "%s/summary.json", o->out);
    if (write_json(sum, path)) goto fail;

    /* figures */
    {
        char title[256], lab[64];
        double r = dale_model_init_radius(&nc);
        snprintf(lab, sizeof lab, "radius %.3g", r);
        snprintf(title, sizeof title, "%s n = %zu (%zu E / %zu I): eigenvalues of %zu draws",
                 dale_model_name(nc.type), n, set.nE, set.nI, ke);
        if (dale_plot_eigs(o->out, "eig", "eig.csv", (long)ke, r, lab, title, o->plot, &plotted)) goto fail;
        plot_note(plotted, o->plot, o->out, "eig", &warned);
        snprintf(title, sizeof title, "%s n = %zu (%zu E / %zu I): singular values of %zu draws",
                 dale_model_name(nc.type), n, set.nE, set.nI, k);
        if (dale_plot_hist_inset(o->out, "svals_hist", "svals_hist.csv", o->inset > 0 ? "svals_hist_inset.csv" : NULL,
                                 o->inset, o->logy, title, "singular value", o->plot, &plotted))
            goto fail;
        plot_note(plotted, o->plot, o->out, "svals_hist", &warned);
    }

    if (o->json) print_json(sum);
    else {
        double m, sd;
        printf("%s n = %zu (%zu E, %zu I), %zu draws (seeds %llu..%llu), %.2f s:\n",
               dale_model_name(nc.type), n, set.nE, set.nI, k, (unsigned long long)o->seed,
               (unsigned long long)(o->seed + k - 1), secs);
        FIELD_STATS(&set, nse, &m, &sd);
        printf("  NSE        %.4f +- %.4f\n", m, sd);
        FIELD_STATS(&set, sigma_max, &m, &sd);
        printf("  sigma_max  %.4g +- %.4g\n", m, sd);
        FIELD_STATS(&set, rho, &m, &sd);
        printf("  rho        %.4g +- %.4g\n", m, sd);
        FIELD_STATS(&set, rowsum_mean, &m, &sd);
        printf("  row sums   mean %.4g (sd over draws %.4g)\n", m, sd);
        if (wmask)
            printf("  W masked by %s: %zu of %zu connections kept%s\n", o->c.mask_rec, wkept, n * n,
                   nc.sparsity > 0 || nc.no_autapses ? " (before --sparsity / --no-autapses)" : "");
        if (lk_k)
            printf("  rho of (1-a)I + a W  %.4g +- %.4g (%s, a = dt/tau per unit, first %zu draws)\n", lk_m, lk_sd,
                   o->c.dynamics, lk_k);
        printf("  wrote %s/{spectrum.npz,summary.json,svals_hist.csv,eig.csv%s}\n", o->out,
               o->plot && plotted ? ",eig.png,svals_hist.png" : "");
    }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
    dalei_free(b.p);
    dalei_free(hist);
    cJSON_Delete(sum);
    dale_spectrum_set_free(&set);
    dalei_free(wmask);
    return rc;
}

/* ------------------------------------------------------------ Table 3 */

/* The released code's recipe (docs/reference-behaviour.md, NSE table recipe) and the
 * printed paper's Table 3, n = 100/300/1000. */
typedef struct table_row {
    const char *label;
    dale_model_type type;
    double inhib; /* fraction inhibitory; ratio = 1/p - 1 */
    double ref[3], paper[3];
} table_row;

static const table_row rows3[] = {
    {"ColEI 1 %", DALE_MODEL_COLEI, 0.01, {0.509, 0.603, 0.681}, {0.413, 0.604, 0.679}},
    {"ColEI 10 %", DALE_MODEL_COLEI, 0.10, {0.798, 0.841, 0.875}, {0.643, 0.841, 0.875}},
    {"ColEI 50 %", DALE_MODEL_COLEI, 0.50, {0.921, 0.941, 0.956}, {0.921, 0.941, 0.956}},
    {"DANN 1 %", DALE_MODEL_DANN, 0.01, {0.949, 0.961, 0.968}, {0.950, 0.961, 0.968}},
    {"DANN 10 %", DALE_MODEL_DANN, 0.10, {0.949, 0.961, 0.968}, {0.950, 0.961, 0.968}},
    {"DANN 50 %", DALE_MODEL_DANN, 0.50, {0.949, 0.961, 0.968}, {0.950, 0.961, 0.968}},
    {"RNN", DALE_MODEL_RNN, 0.10, {0.954, 0.962, 0.969}, {0.952, 0.962, 0.969}},
};
#define NROWS3 (sizeof rows3 / sizeof rows3[0])

static int ref_index(size_t n) { return n == 100 ? 0 : n == 300 ? 1 : n == 1000 ? 2 : -1; }

/* The --sizes of a table run (its default when not given); 0 after an
 * error message. */
static size_t table_sizes(const opts *o, const char *def, size_t sizes[32])
{
    size_t ns = parse_sizes(o->sizes[0] ? o->sizes : def, sizes, 32);
    if (!ns)
        fprintf(stderr, "dale spectrum: --sizes: expected up to 32 comma-separated sizes >= 2, got '%s'\n", o->sizes);
    return ns;
}

/* Sample a table's jobs into sets; the seconds it took in *secs.  1 after
 * an error message. */
static int table_sample(const opts *o, const dale_spectrum_job *jobs, size_t nj, dale_spectrum_set *sets, double *secs)
{
    double t0 = now_s();
    if (sample(jobs, NULL, nj, o->no_eig ? DALE_SPEC_NO_EIG : 0u, o->threads, o->max_gb, sets, o->progress)) {
        fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
        return 1;
    }
    *secs = now_s() - t0;
    return 0;
}

static int run_table_nse(opts *o)
{
    size_t sizes[32];
    size_t ns = table_sizes(o, "100,300,1000", sizes);
    if (!ns) return 2;
    size_t seeds = o->seeds > 0 ? (size_t)o->seeds : 20, nj = NROWS3 * ns;
    dale_net_config cfgs[NROWS3 * 32];
    dale_spectrum_job jobs[NROWS3 * 32];
    dale_spectrum_set sets[NROWS3 * 32];
    for (size_t r = 0; r < NROWS3; r++)
        for (size_t s = 0; s < ns; s++) {
            dale_net_config *c = &cfgs[r * ns + s];
            dale_net_config_defaults(c); /* ρ 1.5, zero diagonal, ν 1/3, mean-row W_IE */
            c->type = rows3[r].type;
            c->hidden = sizes[s];
            c->ei_ratio = 1.0 / rows3[r].inhib - 1.0;
            c->input = c->output = 1;
            jobs[r * ns + s] = (dale_spectrum_job){c, o->seed, seeds};
        }
    double secs;
    if (table_sample(o, jobs, nj, sets, &secs)) return 1;
    int rc = 1;
    cJSON *arr = cJSON_CreateArray();
    sbuf b = {0};
    char path[1200];
    if (!o->out[0]) snprintf(o->out, sizeof o->out, "spec/table-nse");
    sb_printf(&b, "network,model,inhib,n,nE,nI,seeds,nse_mean,nse_sd,smax_mean,smax_sd,rho_mean,rho_sd,"
                  "nse_ref_code,nse_paper\n");
    for (size_t r = 0; r < NROWS3; r++)
        for (size_t s = 0; s < ns; s++) {
            const dale_spectrum_set *st = &sets[r * ns + s];
            double nm, nsd, sm, ssd, rm, rsd;
            FIELD_STATS(st, nse, &nm, &nsd);
            FIELD_STATS(st, sigma_max, &sm, &ssd);
            FIELD_STATS(st, rho, &rm, &rsd);
            int ri = ref_index(sizes[s]);
            cJSON *j = set_json(st, rows3[r].label);
            if (j && ri >= 0) {
                cJSON_AddNumberToObject(j, "nse_ref_code", rows3[r].ref[ri]);
                cJSON_AddNumberToObject(j, "nse_paper", rows3[r].paper[ri]);
            }
            if (j) cJSON_AddItemToArray(arr, j);
            sb_printf(&b, "%s,%s,%g,%zu,%zu,%zu,%zu,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,", rows3[r].label,
                      dale_model_name(rows3[r].type), rows3[r].inhib, st->n, st->nE, st->nI, seeds, nm,
                      nsd, sm, ssd, rm, rsd);
            if (ri >= 0) sb_printf(&b, "%.3f,%.3f\n", rows3[r].ref[ri], rows3[r].paper[ri]);
            else sb_printf(&b, ",\n");
        }
    if (dale_mkdirs(o->out)) goto fail;
    snprintf(path, sizeof path, "%s/table3.csv", o->out);
    if (sb_write(&b, path)) goto fail;
    snprintf(path, sizeof path, "%s/table3.json", o->out);
    if (!arr || write_json(arr, path)) goto fail;
    if (o->json) print_json(arr);
    else {
        printf("Table 3: NSE of the recurrent W at init, mean +- sd over %zu seeds (%llu..%llu), %.1f s on %d threads\n\n",
               seeds, (unsigned long long)o->seed, (unsigned long long)(o->seed + seeds - 1), secs, o->threads);
        printf("%-12s", "network");
        for (size_t s = 0; s < ns; s++) {
            char h[32];
            snprintf(h, sizeof h, "n = %zu", sizes[s]);
            printf("  %-16s", h);
        }
        printf("\n");
        for (size_t r = 0; r < NROWS3; r++) {
            printf("%-12s", rows3[r].label);
            for (size_t s = 0; s < ns; s++) {
                double m, sd;
                FIELD_STATS(&sets[r * ns + s], nse, &m, &sd);
                char cell[32];
                snprintf(cell, sizeof cell, "%.3f +- %.3f", m, sd);
                printf("  %-16s", cell);
            }
            printf("\n");
        }
        printf("\nreleased code's recipe (docs/reference-behaviour.md) / printed paper:\n");
        for (size_t r = 0; r < NROWS3; r++) {
            printf("%-12s", rows3[r].label);
            for (size_t s = 0; s < ns; s++) {
                int ri = ref_index(sizes[s]);
                char cell[32];
                if (ri >= 0) snprintf(cell, sizeof cell, "%.3f / %.3f", rows3[r].ref[ri], rows3[r].paper[ri]);
                else snprintf(cell, sizeof cell, "-");
                printf("  %-16s", cell);
            }
            printf("\n");
        }
        printf("\nwrote %s/table3.csv and table3.json\n", o->out);
    }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
    dalei_free(b.p);
    cJSON_Delete(arr);
    for (size_t j = 0; j < nj; j++) dale_spectrum_set_free(&sets[j]);
    return rc;
}

/* ------------------------------------------------------------ Fig. 7B */

#define GRID_P 10

static int run_table_grid(opts *o)
{
    size_t sizes[32];
    size_t ns = table_sizes(o, "100,200,300,400,500,600,700,800,900,1000", sizes);
    if (!ns) return 2;
    size_t seeds = o->seeds > 0 ? (size_t)o->seeds : 1, nj = ns * GRID_P;
    dale_net_config cfgs[32 * GRID_P];
    dale_spectrum_job jobs[32 * GRID_P];
    dale_spectrum_set sets[32 * GRID_P];
    double ps[GRID_P];
    for (size_t q = 0; q < GRID_P; q++) ps[q] = 0.01 + (0.5 - 0.01) * (double)q / (GRID_P - 1);
    for (size_t s = 0; s < ns; s++)
        for (size_t q = 0; q < GRID_P; q++) {
            dale_net_config *c = &cfgs[s * GRID_P + q];
            dale_net_config_defaults(c);
            c->type = DALE_MODEL_COLEI;
            c->zero_diag = 0; /* paper Fig. 7B: the grid notebook does not zero the diagonal */
            c->rho = 1.5;
            c->hidden = sizes[s];
            c->ei_ratio = 1.0 / ps[q] - 1.0;
            c->input = c->output = 1;
            jobs[s * GRID_P + q] = (dale_spectrum_job){c, o->seed, seeds};
        }
    double secs;
    if (table_sample(o, jobs, nj, sets, &secs)) return 1;
    int rc = 1, plotted = 0, warned = 0;
    sbuf b = {0};
    cJSON *arr = cJSON_CreateArray();
    char path[1200];
    if (!o->out[0]) snprintf(o->out, sizeof o->out, "spec/nse-grid");
    if (dale_mkdirs(o->out)) goto fail;
    sb_printf(&b, "p_percent,n,p,nE,nI,seeds,nse_mean,nse_sd,smax_mean,rho_mean\n");
    for (size_t j = 0; j < nj; j++) {
        double m, sd, sm, ssd, rm, rsd;
        FIELD_STATS(&sets[j], nse, &m, &sd);
        FIELD_STATS(&sets[j], sigma_max, &sm, &ssd);
        FIELD_STATS(&sets[j], rho, &rm, &rsd);
        double p = ps[j % GRID_P];
        sb_printf(&b, "%.4f,%zu,%.6f,%zu,%zu,%zu,%.6f,%.6f,%.6f,%.6f\n", 100 * p, sets[j].n, p,
                  sets[j].nE, sets[j].nI, seeds, m, sd, sm, rm);
        cJSON *o1 = set_json(&sets[j], NULL);
        if (o1) {
            cJSON_AddNumberToObject(o1, "p", p);
            cJSON_AddItemToArray(arr, o1);
        }
    }
    snprintf(path, sizeof path, "%s/grid.csv", o->out);
    if (sb_write(&b, path)) goto fail;
    snprintf(path, sizeof path, "%s/grid.json", o->out);
    if (!arr || write_json(arr, path)) goto fail;
    {
        char title[200];
        snprintf(title, sizeof title, "ColEI NSE at init (rho 1.5, no diagonal zeroing, %zu seed%s per cell)",
                 seeds, seeds == 1 ? "" : "s");
        if (dale_plot_heatmap(o->out, "nse_grid", "grid.csv", 1, 2, 7, title, "inhibitory units (%)",
                              "hidden units n", "NSE", o->plot, &plotted))
            goto fail;
        plot_note(plotted, o->plot, o->out, "nse_grid", &warned);
    }
    if (o->json) print_json(arr);
    else {
        printf("Fig. 7B: ColEI NSE over n x p (%zu seed%s per cell, seeds from %llu), %.1f s on %d threads\n\n",
               seeds, seeds == 1 ? "" : "s", (unsigned long long)o->seed, secs, o->threads);
        printf("%6s", "n \\ p");
        for (size_t q = 0; q < GRID_P; q++) printf(" %6.1f%%", 100 * ps[q]);
        printf("\n");
        for (size_t s = 0; s < ns; s++) {
            printf("%6zu", sizes[s]);
            for (size_t q = 0; q < GRID_P; q++) {
                double m, sd;
                FIELD_STATS(&sets[s * GRID_P + q], nse, &m, &sd);
                printf(" %7.3f", m);
            }
            printf("\n");
        }
        printf("\nwrote %s/grid.csv, grid.json%s\n", o->out, plotted ? ", nse_grid.png, nse_grid.svg" : "");
    }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "dale spectrum: %s\n", dale_last_error());
    dalei_free(b.p);
    cJSON_Delete(arr);
    for (size_t j = 0; j < nj; j++) dale_spectrum_set_free(&sets[j]);
    return rc;
}

/* Every draw allocates and frees LAPACK workspaces of about n^2 doubles (8 MB
 * at n = 1000).  By default glibc returns such blocks to the kernel on free,
 * so every draw paid for fresh zeroed pages again (page faults were ~10 % of
 * Table 3's CPU time).  Serving them from the heap and not trimming it keeps
 * the pages; the peak memory is the same (one set of blocks per worker). */
static void keep_freed_memory(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

int cmd_spectrum(int argc, char **argv)
{
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    dale_set_blas_threads(1); /* parallelism comes from the draws */
    keep_freed_memory();
    if (!strcmp(o.table, "nse")) return run_table_nse(&o);
    if (!strcmp(o.table, "grid")) return run_table_grid(&o);
    return run_single(&o);
}
