/* rundir.c — `dale train`'s run directory around the trainer object:
 * config.json, metrics.csv (with the spectra columns), checkpoint.npz,
 * final.npz, result.json, resume with metrics truncation, stale temp
 * removal and the progress line.
 *
 * The network is initialised here, not by the trainer: from rng(seed), then
 * (optionally) the spectrum transplant from that stream's "donor" fork; the
 * trainer forks its batch order from the unadvanced rng(seed) ("order"), so
 * the three streams are those every run has always used.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dale/eval.h"
#include "dale/fileio.h"
#include "dale/lm.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/spectral.h"
#include "dale/spectrum.h"
#include "dale/task.h"
#include "dale/trainer.h"
#include "internal.h"

#define DNAN ((double)NAN)

typedef struct rundir {
    const dale_run_config *c;
    const dale_train_options *opt;
    dale_task *task;
    dale_net *net;
    dale_trainer *tr;
    struct timespec t0;     /* start of dale_train_run */
    int wall_set;           /* the trainer's clock counts from t0 (and a resumed run's time) */
    double last_progress;
    long start_updates;     /* update count when this process started */
    char path[4096];
    int lock_fd;            /* the run's lock (take_run_lock), -1 when not held */
} rundir;

static double now_s(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static const char *run_file(rundir *rd, const char *name)
{
    snprintf(rd->path, sizeof rd->path, "%s/%s", rd->c->out, name);
    return rd->path;
}

/* ------------------------------------------------------------ set-up */

/* The connectivity mask NPY `path` given as --`opt` for a map of R x C
 * (`what` names it) into *out (R * C floats 0/1, the caller's, dalei_free):
 * exactly that 2-D shape, any numeric dtype (bool reads as uint8), every
 * value 0 or 1. */
static dale_status read_mask(const char *opt, const char *path, size_t R, size_t C, const char *what, float **out)
{
    *out = NULL;
    dale_array a;
    dale_status st = dale_npy_read(path, &a);
    if (st) {
        char why[512];
        snprintf(why, sizeof why, "%s", dale_last_error());
        return DALE_FAIL(st, "--%s %s: cannot read the mask (%s)", opt, path, why);
    }
    char shp[96] = "(";
    for (int k = 0; k < a.ndim; k++)
        snprintf(shp + strlen(shp), sizeof shp - strlen(shp), "%s%zu", k ? ", " : "", a.shape[k]);
    snprintf(shp + strlen(shp), sizeof shp - strlen(shp), ")");
    if (a.ndim != 2 || a.shape[0] != R || a.shape[1] != C) {
        st = DALE_FAIL(DALE_ERR_ARG, "--%s %s: the mask has shape %s, dtype %s; expected shape (%zu, %zu) for %s "
                       "(receiving x sending units), values 0/1", opt, path, shp, dale_dtype_descr(a.dtype), R, C,
                       what);
        dale_array_free(&a);
        return st;
    }
    float *m = dalei_alloc(R * C, sizeof(float));
    if (!m) {
        dale_array_free(&a);
        return DALE_ERR_NOMEM;
    }
    for (size_t k = 0; k < R * C && !st; k++) {
        double v;
        switch (a.dtype) {
        case DALE_F32: v = ((const float *)a.data)[k]; break;
        case DALE_F64: v = ((const double *)a.data)[k]; break;
        case DALE_I32: v = ((const int32_t *)a.data)[k]; break;
        case DALE_I64: v = (double)((const int64_t *)a.data)[k]; break;
        case DALE_U8: v = ((const uint8_t *)a.data)[k]; break;
        case DALE_I8: v = ((const int8_t *)a.data)[k]; break;
        case DALE_U64: v = (double)((const uint64_t *)a.data)[k]; break;
        default: v = NAN; break;
        }
        if (v == 0.0 || v == 1.0) m[k] = (float)v;
        else
            st = DALE_FAIL(DALE_ERR_ARG, "--%s %s (shape %s, dtype %s): holds %g at row %zu, column %zu; a mask "
                           "holds only 0 (connection removed) and 1 (kept)", opt, path, shp,
                           dale_dtype_descr(a.dtype), v, k / C, k % C);
    }
    dale_array_free(&a);
    if (st) dalei_free(m);
    else *out = m;
    return st;
}

#define WHAT_IN "the first cell's input map U (hidden x input)"
#define WHAT_REC "the recurrent W (hidden x hidden)"
#define WHAT_OUT "the readout (output x the width it reads)"

/* read_mask onto map (layer, rec) of net. */
static dale_status load_mask(dale_net *net, const char *opt, const char *path, size_t layer, int rec,
                             const char *what)
{
    size_t R, C;
    float *m;
    dale_status st = dale_net_map_shape(net, layer, rec, &R, &C);
    if (!st) st = read_mask(opt, path, R, C, what, &m);
    if (st) return st;
    st = dale_net_set_mask(net, layer, rec, m);
    dalei_free(m);
    return st;
}

dale_status dale_config_check_masks(const dale_run_config *c)
{
    if (!c->mask_in[0] && !c->mask_rec[0] && !c->mask_out[0]) return DALE_OK;
    dale_task_shape s;
    dale_status st = dale_config_task_shape(c, &s);
    if (st) return st;
    size_t n = (size_t)c->hidden, width = n;
    for (const char *p = c->dense; *p;) { /* the readout reads the last dense layer */
        char *end;
        long w = strtol(p, &end, 10);
        if (end == p) break;
        width = (size_t)w;
        p = *end ? end + 1 : end;
    }
    const struct { const char *opt, *path, *what; size_t R, C; } f[3] = {
        {"mask-in", c->mask_in, WHAT_IN, n, (size_t)s.input},
        {"mask-rec", c->mask_rec, WHAT_REC, n, n},
        {"mask-out", c->mask_out, WHAT_OUT, (size_t)s.output, width},
    };
    for (int k = 0; k < 3 && !st; k++) {
        float *m = NULL;
        if (f[k].path[0]) st = read_mask(f[k].opt, f[k].path, f[k].R, f[k].C, f[k].what, &m);
        dalei_free(m);
    }
    return st;
}

dale_status dale_net_from_config(const dale_run_config *c, const dale_task *task, dale_net **out)
{
    dale_net_config nc;
    *out = NULL;
    dale_status st = dale_config_net(c, task->input, task->output, task->input_mean, &nc);
    if (st || (st = dale_net_create(&nc, out))) return st;
    /* Connectivity masks: the files, then the generated ones from the
     * seed's own fork (dale_net_init draws the same again), so a network
     * that loads parameters instead of initialising (dale eval) has them. */
    dale_net *net = *out;
    size_t nl = dale_net_nlayers(net);
    if (c->mask_in[0])
        st = load_mask(net, "mask-in", c->mask_in, 0, 0, WHAT_IN);
    for (size_t l = 0; !st && c->mask_rec[0] && l < dale_net_ncells(net); l++)
        st = load_mask(net, "mask-rec", c->mask_rec, l, 1, WHAT_REC);
    if (!st && c->mask_out[0])
        st = load_mask(net, "mask-out", c->mask_out, nl - 1, 0, WHAT_OUT);
    if (!st) {
        dale_rng r;
        dale_rng_seed(&r, c->seed);
        st = dale_net_masks_draw(net, &r);
    }
    if (st) {
        dale_net_free(net);
        *out = NULL;
    }
    return st;
}

/* Spectrum transplant at init (paper Sec. 5.4, Table 1): the three matrices
 * of the 1-layer standard RNN (input U (n, d), recurrent W (n, n), readout
 * (m, n)) are replaced by U_vec diag(σ_val) V_vecᵀ, where one of the pair is
 * the RNN's own init and the other the same matrix of an independent ColEI
 * network (ratio 9, ρ 1.5, no diagonal zeroing: the transplant helpers'
 * donors; its first-layer U is all-positive Exp(1/√d), its readout the
 * ColEI dense recipe), initialised from a fork of the run's init stream.
 * The result is an unconstrained RNN (biases stay 0); sign freezing, if
 * asked for, records the transplanted signs at the first update. */
static dale_status apply_transplant(const dale_run_config *c, dale_net *net, dale_rng *init)
{
    if (!strcmp(c->transplant, "off")) return DALE_OK;
    int colei_vectors = !strcmp(c->transplant, "colei-vectors+rnn-values");
    dale_net_config dc = *dale_net_config_of(net);
    dc.type = DALE_MODEL_COLEI;
    dc.ei_ratio = 9;
    dc.rho = 1.5;
    dc.zero_diag = 0;
    dc.colei_dist = DALE_DIST_EXPONENTIAL;
    dc.bias_centering = 0;
    dale_net *donor = NULL;
    float *bufr = NULL, *bufc = NULL;
    double *a = NULL, *b = NULL, *o = NULL;
    size_t n = dc.hidden, d = dc.input, m = dc.output;
    size_t cap = n * n > n * d ? n * n : n * d;
    if (m * n > cap) cap = m * n;
    dale_rng drng;
    dale_rng_fork(init, 0x646f6e6f72ull /* "donor" */, &drng);
    dale_status st = dale_net_create(&dc, &donor);
    if (!st) st = dale_net_init(donor, &drng);
    if (st) goto done;
    bufr = dalei_alloc(2 * cap, sizeof(float));
    bufc = dalei_alloc(2 * cap, sizeof(float));
    a = dalei_alloc(cap, sizeof(double));
    b = dalei_alloc(cap, sizeof(double));
    o = dalei_alloc(cap, sizeof(double));
    if (!bufr || !bufc || !a || !b || !o) { st = DALE_ERR_NOMEM; goto done; }
    /* effective matrices: cell 0 W into buf, U into buf + cap; readout W */
    static const char *const names[3] = {"cell0.U", "cell0.W", "out.W"};
    for (int k = 0; k < 3; k++) {
        size_t rows = k == 2 ? m : n, cols = k == 0 ? d : k == 1 ? n : n;
        size_t cell = k == 2 ? 1 : 0, off = k == 0 ? cap : 0;
        if ((st = dale_net_effective(net, cell, bufr, k == 2 ? NULL : bufr + cap))) goto done;
        if ((st = dale_net_effective(donor, cell, bufc, k == 2 ? NULL : bufc + cap))) goto done;
        const float *rv = bufr + off, *cv = bufc + off;
        for (size_t i = 0; i < rows * cols; i++) {
            a[i] = (double)(colei_vectors ? cv[i] : rv[i]);
            b[i] = (double)(colei_vectors ? rv[i] : cv[i]);
        }
        if ((st = dale_transplant(a, b, rows, cols, o))) goto done;
        int pi = dale_net_find(net, names[k]);
        if (pi < 0) { st = DALE_FAIL(DALE_ERR_STATE, "transplant: no parameter %s", names[k]); goto done; }
        const dale_param *p = dale_net_param(net, (size_t)pi);
        float *theta = dale_net_theta(net) + p->offset;
        for (size_t i = 0; i < rows * cols; i++) theta[i] = (float)o[i];
    }
done:
    dale_net_free(donor);
    dalei_free(bufr);
    dalei_free(bufc);
    dalei_free(a);
    dalei_free(b);
    dalei_free(o);
    return st;
}

/* ------------------------------------------------------- metrics.csv */

static void csv_num(FILE *f, double v)
{
    if (isnan(v)) fputs(",nan", f);
    else fprintf(f, ",%.9g", v);
}

/* The header (m NULL) or the row of evaluation m. */
static dale_status write_metrics(rundir *rd, const dale_trainer_metrics *m)
{
    /* Never through a symbolic link: a link planted in the run directory
     * would make the append write into its target. */
    int fd = open(run_file(rd, "metrics.csv"), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (m ? O_APPEND : O_TRUNC),
                  0644);
    if (fd < 0 && errno == ELOOP)
        return DALE_FAIL(DALE_ERR_IO, "%s: is a symbolic link; dale does not write through one (remove it)", rd->path);
    FILE *f = fd < 0 ? NULL : fdopen(fd, m ? "a" : "w");
    if (!f) {
        int e = errno;
        if (fd >= 0) close(fd);
        return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", rd->path, strerror(e));
    }
    size_t nc = dale_net_ncells(rd->net);
    if (!m) {
        fputs("update,epoch,lr,train_loss,train_err,val_loss,val_err,test_loss,test_err", f);
        for (size_t l = 0; l < nc; l++) fprintf(f, ",nse_cell%zu,smax_cell%zu,rho_cell%zu", l, l, l);
        fputc('\n', f);
    } else {
        fprintf(f, "%ld,%ld", m->updates, m->epoch);
        csv_num(f, m->lr);
        csv_num(f, m->train_loss); csv_num(f, m->train_err);
        csv_num(f, m->val_loss); csv_num(f, m->val_err);
        csv_num(f, m->test_loss); csv_num(f, m->test_err);
        size_t n = (size_t)rd->c->hidden;
        float *W = NULL;
        int spectra = strcmp(rd->c->spectra, "on") == 0;
        if (spectra && !(W = dalei_alloc(n * n, sizeof(float)))) { fclose(f); return DALE_ERR_NOMEM; }
        for (size_t l = 0; l < nc; l++) {
            dale_spectrum_summary s = {0, DNAN, DNAN, DNAN, 0, 0, 0};
            if (spectra) {
                dale_net_effective(rd->net, l, W, NULL);
                /* A non-finite W has no spectrum; the row says nan. */
                if (dale_spectrum_summarize_f32(W, n, &s) != DALE_OK) s.nse = s.sigma_max = s.rho = DNAN;
            }
            csv_num(f, s.nse); csv_num(f, s.sigma_max); csv_num(f, s.rho);
        }
        dalei_free(W);
        fputc('\n', f);
    }
    if (fflush(f) != 0 || ferror(f)) {
        fclose(f);
        return DALE_FAIL(DALE_ERR_IO, "%s: write failed", rd->path);
    }
    fclose(f);
    return DALE_OK;
}

/* Resume: keep the header and the regular rows (update a multiple of
 * eval_every) up to the checkpoint's update.  A row written at the end of an
 * interrupted budget (--max-updates) is dropped; the resumed run writes its
 * own rows from there, exactly as the uninterrupted run did. */
static dale_status truncate_metrics(rundir *rd, long upto)
{
    const char *p = run_file(rd, "metrics.csv");
    struct stat sb;
    if (lstat(p, &sb) == 0 && !S_ISREG(sb.st_mode))
        return DALE_FAIL(DALE_ERR_IO, "%s: is %s, not a regular file; dale does not write through it (remove it)", p,
                         S_ISLNK(sb.st_mode) ? "a symbolic link" : "a directory or device");
    FILE *f = fopen(p, "r");
    if (!f) return write_metrics(rd, NULL);
    size_t cap = 1 << 16, len = 0;
    char *buf = dalei_alloc(cap, 1), line[8192];
    if (!buf) { fclose(f); return DALE_ERR_NOMEM; }
    int first = 1;
    size_t fields = 0;
    while (fgets(line, sizeof line, f)) {
        size_t l0 = strlen(line), nf = 1;
        for (size_t i = 0; i < l0; i++) nf += line[i] == ',';
        /* A row cut short (a full disk, a kill inside the write) has no
         * newline or fewer fields than the header: it is dropped, with
         * anything after it, and the resumed run writes it again. */
        if (!first && (l0 == 0 || line[l0 - 1] != '\n' || nf != fields)) break;
        if (first) fields = nf;
        long u = strtol(line, NULL, 10);
        if (!first && u > upto) break;
        if (!first && u % rd->c->eval_every != 0) continue;
        first = 0;
        size_t l = strlen(line);
        if (len + l + 1 > cap) {
            char *nb = dalei_realloc(buf, cap * 2, 1);
            if (!nb) { dalei_free(buf); fclose(f); return DALE_ERR_NOMEM; }
            buf = nb;
            cap *= 2;
        }
        memcpy(buf + len, line, l);
        len += l;
    }
    fclose(f);
    char path[4096];
    snprintf(path, sizeof path, "%s", p);
    dale_status st = dalei_write_file_atomic(path, buf, len);
    dalei_free(buf);
    return st;
}

/* final.npz: parameters and effective matrices, no trainer state. */
static dale_status save_final(rundir *rd)
{
    dale_npz_writer *w;
    dale_status st = dale_npz_writer_create(run_file(rd, "final.npz"), &w);
    if (st) return st;
    if ((st = dale_params_save(rd->net, w))) {
        dale_npz_writer_free(w);
        return st;
    }
    return dale_npz_writer_commit(w);
}

/* ------------------------------------------------------------- result */

static dale_status write_result(rundir *rd, const char *status, const char *reason)
{
    char text[2048];
    dale_trainer_metrics last;
    long updates = 0, epoch = 0;
    double lr = 0, wall = now_s(&rd->t0);
    if (rd->tr) {
        dale_trainer_last_metrics(rd->tr, &last);
        updates = dale_trainer_updates(rd->tr);
        epoch = dale_trainer_epoch(rd->tr);
        lr = dale_trainer_lr(rd->tr);
        if (rd->wall_set) wall = dale_trainer_wall(rd->tr);
    } else {
        last.train_loss = last.train_err = last.val_loss = DNAN;
        last.val_err = last.test_loss = last.test_err = DNAN;
    }
    char num[9][32];
    const double v[9] = {last.train_loss, last.train_err, last.val_loss,
                         last.val_err, last.test_loss, last.test_err,
                         dale_lm_perplexity(last.train_loss), dale_lm_perplexity(last.val_loss),
                         dale_lm_perplexity(last.test_loss)};
    for (int i = 0; i < 9; i++) {
        if (isfinite(v[i])) snprintf(num[i], sizeof num[i], "%.9g", v[i]);
        else snprintf(num[i], sizeof num[i], "null");
    }
    /* JSON has no nan or inf: a non-finite lr or clock is written as null. */
    char lrs[32], walls[32];
    if (isfinite(lr)) snprintf(lrs, sizeof lrs, "%.9g", lr);
    else snprintf(lrs, sizeof lrs, "null");
    if (isfinite(wall)) snprintf(walls, sizeof walls, "%.3f", wall);
    else snprintf(walls, sizeof walls, "null");
    char esc[600];
    dalei_json_escape(reason, esc, sizeof esc);
    /* Every-step cross-entropy (lm): perplexities exp(CE) too (null above CE 20). */
    int ppl = rd->task && rd->task->loss == DALE_LOSS_CE_EVERY;
    int n = snprintf(text, sizeof text,
                     "{\n  \"status\": \"%s\",\n  \"reason\": \"%s\",\n  \"updates\": %ld,\n"
                     "  \"epochs_done\": %ld,\n  \"lr\": %s,\n  \"train_loss\": %s,\n  \"train_err\": %s,\n"
                     "  \"val_loss\": %s,\n  \"val_err\": %s,\n  \"test_loss\": %s,\n  \"test_err\": %s,\n"
                     "%s%s%s%s%s%s%s"
                     "  \"wall_s\": %s,\n  \"dale_version\": \"%s\",\n  \"dale_commit\": \"%s\"\n}\n",
                     status, esc, updates, epoch, lrs, num[0], num[1], num[2], num[3],
                     num[4], num[5], ppl ? "  \"train_ppl\": " : "", ppl ? num[6] : "",
                     ppl ? ",\n  \"val_ppl\": " : "", ppl ? num[7] : "", ppl ? ",\n  \"test_ppl\": " : "",
                     ppl ? num[8] : "", ppl ? ",\n" : "", walls,
                     dale_version(), dale_git_commit());
    return dalei_write_file_atomic(run_file(rd, "result.json"), text, (size_t)n);
}

/* ----------------------------------------------------------- progress */

/* Updates per second, or seconds per update when slower than one a second. */
static void fmt_rate(char *buf, size_t cap, double rate)
{
    if (!(rate > 0) || !isfinite(rate)) dalei_sfmt(buf, cap, "- upd/s");
    else if (rate >= 10) dalei_sfmt(buf, cap, "%.0f upd/s", rate);
    else if (rate >= 1) dalei_sfmt(buf, cap, "%.1f upd/s", rate);
    else dalei_sfmt(buf, cap, "%.3g s/upd", 1 / rate);
}

static void fmt_eta(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || !isfinite(s)) dalei_sfmt(buf, cap, "-");
    else if (s >= 3600) dalei_sfmt(buf, cap, "%ldh%02ldm", (long)(s / 3600), ((long)s / 60) % 60);
    else dalei_sfmt(buf, cap, "%ldm%02lds", (long)s / 60, (long)s % 60);
}

/* The progress line: while training (at most every 0.5 s on a terminal,
 * where it is redrawn, every 10 s otherwise; the line of the last update is
 * left to the closing one), and a closing line (`end`: "done", "diverged"
 * or "stopped") whose epochs are those result.json reports. */
static void progress(rundir *rd, const char *end)
{
    if (!rd->opt->log) return;
    double t = now_s(&rd->t0);
    dale_trainer *tr = rd->tr;
    long done = dale_trainer_updates(tr), total = dale_trainer_total_updates(tr), epoch = dale_trainer_epoch(tr);
    if (!end && (done >= total || t - rd->last_progress < (rd->opt->tty ? 0.5 : 10.0))) return;
    rd->last_progress = t;
    double rate = t > 0 && done > rd->start_updates ? (double)(done - rd->start_updates) / t : 0;
    char rs[32], es[32];
    fmt_rate(rs, sizeof rs, rate);
    fmt_eta(es, sizeof es, rate > 0 ? (double)(total - done) / rate : -1);
    double train_loss;
    dale_trainer_metrics last;
    dale_trainer_train_means(tr, &train_loss, NULL);
    dale_trainer_last_metrics(tr, &last);
    FILE *f = rd->opt->log;
    if (end)
        fprintf(f, "%s%s: update %ld/%ld, epochs done %ld/%ld, %s, train loss %.5g, test loss %.5g%s\n",
                rd->opt->tty ? "\r" : "", end, done, total, epoch, rd->c->epochs, rs, train_loss, last.test_loss,
                rd->opt->tty ? "   " : "");
    else
        fprintf(f, "%sepoch %ld/%ld  update %ld/%ld  %s  ETA %s  train loss %.5g  test loss %.5g%s",
                rd->opt->tty ? "\r" : "", epoch + 1 > rd->c->epochs ? rd->c->epochs : epoch + 1, rd->c->epochs, done,
                total, rs, es, train_loss, last.test_loss, rd->opt->tty ? "   " : "\n");
    fflush(f);
}

/* ----------------------------------------------------- trainer events */

static dale_status on_eval(dale_trainer *tr, const dale_trainer_metrics *m, void *user)
{
    (void)tr;
    return write_metrics(user, m);
}

static dale_status on_checkpoint(dale_trainer *tr, void *user)
{
    return dale_trainer_checkpoint_save(tr, run_file(user, "checkpoint.npz"));
}

static void on_progress(dale_trainer *tr, void *user)
{
    (void)tr;
    progress(user, NULL);
}

/* ---------------------------------------------------------------- run */

/* Task, network (initialised, transplanted) and trainer of the config. */
static dale_status setup(rundir *rd)
{
    const dale_run_config *c = rd->c;
    dale_status st;
    if ((st = dale_task_from_config(c, &rd->task))) return st;
    if ((st = dale_net_from_config(c, rd->task, &rd->net))) return st;
    dale_task *t = rd->task;
    if (rd->opt->log && t->summary) fprintf(rd->opt->log, "%s\n", t->summary);
    /* Init from rng(seed); the trainer's batch order is its fork "order"
     * of the same unadvanced stream; the transplant donor a fork of the
     * stream after the init draws. */
    dale_rng init;
    dale_rng_seed(&init, c->seed);
    if ((st = dale_net_init(rd->net, &init))) return st;
    if ((st = apply_transplant(c, rd->net, &init))) return st;
    dale_update_policy pol;
    dale_schedule sch;
    if ((st = dale_config_policy(c, &pol))) return st;
    dale_config_schedule(c, &sch);
    dale_trainer_callbacks cb = {on_eval, on_checkpoint, on_progress, rd};
    if ((st = dale_trainer_create(rd->net, t, &pol, &sch, c->seed, &cb, &rd->tr))) return st;
    dale_trainer_set_eval_noise(rd->tr, !strcmp(c->eval_noise, "on"));
    /* Every evaluation of a run reports its test split. */
    if (t->count[DALE_SPLIT_TEST] == 0)
        return DALE_FAIL(DALE_ERR_ARG, "task %s has no samples in this split", t->name);
    return DALE_OK;
}

/* ------------------------------------------------- the overwrite guard */

/* The files a run writes, and those a sweep keeps beside them. */
static const char *const run_files[] = {"config.json", "metrics.csv", "checkpoint.npz", "final.npz", "result.json"};

static int is_run_file(const char *name)
{
    for (size_t i = 0; i < sizeof run_files / sizeof run_files[0]; i++)
        if (!strcmp(name, run_files[i])) return 1;
    return 0;
}

static int is_companion(const char *name)
{
    if (!strcmp(name, "sweep.json") || !strcmp(name, "lock") || !strcmp(name, "log.txt")) return 1;
    for (size_t i = 0; i < sizeof run_files / sizeof run_files[0]; i++) {
        size_t n = strlen(run_files[i]);
        if (!strncmp(name, run_files[i], n) && !strncmp(name + n, ".tmp.", 5)) return 1; /* a killed writer's */
    }
    return 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

/* How <dir>/config.json relates to c: 0 the same, 1 the same but for the
 * budget, 2 another config, 3 absent or unreadable.  why: the first
 * difference; who: "task T, model M, seed S". */
static int guard_config(const dale_run_config *c, const char *dir, char *why, size_t wcap, char *who, size_t hcap)
{
    char path[4200];
    why[0] = who[0] = '\0';
    dalei_sfmt(path, sizeof path, "%s/config.json", dir);
    char *buf = dalei_read_text(path, 1 << 24);
    if (!buf) return 3;
    cJSON *have = cJSON_Parse(buf);
    dalei_free(buf);
    if (!cJSON_IsObject(have)) {
        cJSON_Delete(have);
        return 3;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(have, "task"), *m = cJSON_GetObjectItemCaseSensitive(have, "model"),
                *sd = cJSON_GetObjectItemCaseSensitive(have, "seed");
    dalei_sfmt(who, hcap, "task %s, model %s, seed %.0f", cJSON_IsString(t) ? t->valuestring : "?",
               cJSON_IsString(m) ? m->valuestring : "?", cJSON_IsNumber(sd) ? sd->valuedouble : -1.0);
    cJSON_Delete(have);
    int rel = dale_config_compare_file(c, path, 1, why, wcap);
    return rel < 0 ? 3 : rel;
}

/* result.json: its status ("" when absent or unreadable), updates, epochs
 * done and reason. */
static void guard_result(const char *dir, char *status, size_t scap, long *updates, long *epochs, char *reason,
                         size_t rcap)
{
    char path[4200];
    status[0] = reason[0] = '\0';
    *updates = *epochs = -1;
    dalei_sfmt(path, sizeof path, "%s/result.json", dir);
    char *buf = dalei_read_text(path, 1 << 20);
    cJSON *j = buf ? cJSON_Parse(buf) : NULL;
    dalei_free(buf);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "status"), *r = cJSON_GetObjectItemCaseSensitive(j, "reason"),
                *u = cJSON_GetObjectItemCaseSensitive(j, "updates"),
                *e = cJSON_GetObjectItemCaseSensitive(j, "epochs_done");
    if (cJSON_IsString(s)) dalei_sfmt(status, scap, "%s", s->valuestring);
    if (cJSON_IsString(r)) dalei_sfmt(reason, rcap, "%s", r->valuestring);
    if (cJSON_IsNumber(u)) *updates = (long)u->valuedouble;
    if (cJSON_IsNumber(e)) *epochs = (long)e->valuedouble;
    cJSON_Delete(j);
}

long dale_checkpoint_update(const char *dir)
{
    char path[4200];
    dalei_sfmt(path, sizeof path, "%s/checkpoint.npz", dir);
    dale_npz *z = NULL;
    dale_array a;
    memset(&a, 0, sizeof a);
    long u = -1;
    if (dale_npz_open(path, &z) == DALE_OK && dale_npz_read(z, "state.counters", &a) == DALE_OK &&
        a.dtype == DALE_I64 && a.count == 3)
        u = (long)((const int64_t *)a.data)[2];
    dale_array_free(&a);
    dale_npz_close(z);
    dale_clear_error();
    return u;
}

/* dir without trailing slashes, so that "<dir>.old-N" is its sibling. */
static void strip_slashes(const char *dir, char *out, size_t cap)
{
    dalei_sfmt(out, cap, "%s", dir);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/') out[--n] = '\0';
}

dale_status dale_train_dir_prepare(const dale_run_config *c, int force, dale_train_dir *kind, char *what, size_t cap)
{
    char dummy[8];
    if (!what || !cap) {
        what = dummy;
        cap = sizeof dummy;
    }
    what[0] = '\0';
    *kind = DALE_TRAIN_DIR_FREE;
    if (!c || !c->out[0]) return DALE_FAIL(DALE_ERR_ARG, "dale_train_dir_prepare: no run directory");
    const char *dir = c->out;
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (errno == ENOENT) return DALE_OK;
        return DALE_FAIL(DALE_ERR_IO, "%s: cannot read it: %s", dir, strerror(errno));
    }
    /* Names found, sorted for the message: the first few that are not a run's. */
    char others[32][64];
    size_t nothers = 0, nrun = 0, nall = 0;
    int has[5] = {0, 0, 0, 0, 0};
    if (!S_ISDIR(sb.st_mode)) {
        *kind = DALE_TRAIN_DIR_FILES;
        dalei_sfmt(what, cap, "a file, not a directory");
    } else {
        DIR *d = opendir(dir);
        if (!d) return DALE_FAIL(DALE_ERR_IO, "%s: cannot list it: %s", dir, strerror(errno));
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            nall++;
            if (is_run_file(e->d_name)) {
                nrun++;
                for (size_t i = 0; i < 5; i++) has[i] |= !strcmp(e->d_name, run_files[i]);
            } else if (!is_companion(e->d_name)) {
                if (nothers < 32) dalei_sfmt(others[nothers], sizeof others[0], "%s", e->d_name);
                nothers++;
            }
        }
        closedir(d);
        if (nrun == 0 && nothers == 0) return DALE_OK; /* empty, or a sweep's run not started yet */
        if (nrun == 0) {
            size_t shown = nothers < 32 ? nothers : 32;
            qsort(others, shown, sizeof others[0], cmp_name);
            size_t k = (size_t)snprintf(what, cap, "%zu file%s that %s not a run's:", nothers, nothers == 1 ? "" : "s",
                                        nothers == 1 ? "is" : "are");
            for (size_t i = 0; i < shown && i < 4 && k < cap; i++)
                k += (size_t)snprintf(what + k, cap - k, "%s %s", i ? "," : "", others[i]);
            if (nothers > 4 && k < cap) snprintf(what + k, cap - k, ", ...");
            *kind = DALE_TRAIN_DIR_FILES;
        }
    }
    if (*kind == DALE_TRAIN_DIR_FREE) {
        char why[256], who[256], status[32], reason[160];
        long updates, epochs, ck = has[2] ? dale_checkpoint_update(dir) : -1;
        int rel = guard_config(c, dir, why, sizeof why, who, sizeof who);
        guard_result(dir, status, sizeof status, &updates, &epochs, reason, sizeof reason);
        int finished = !strcmp(status, "ok") || !strcmp(status, "diverged");
        char head[512];
        if (finished)
            dalei_sfmt(head, sizeof head, "a finished run (status %s, %ld updates, %ld epochs done)", status, updates,
                       epochs);
        else if (!strcmp(status, "failed") && ck >= 0)
            dalei_sfmt(head, sizeof head, "a failed run (%s; its checkpoint at update %ld)", reason, ck);
        else if (status[0] && strcmp(status, "failed"))
            dalei_sfmt(head, sizeof head, "a run with status %s", status);
        else if (ck >= 0)
            dalei_sfmt(head, sizeof head, "a run interrupted at update %ld (its checkpoint)", ck);
        else if (has[2])
            dalei_sfmt(head, sizeof head, "a run with an unreadable checkpoint.npz");
        else if (has[3])
            dalei_sfmt(head, sizeof head, "a run with final.npz but no checkpoint");
        else if (status[0])
            dalei_sfmt(head, sizeof head, "a failed run that stopped before its first checkpoint (%s)", reason);
        else
            dalei_sfmt(head, sizeof head, "a run that stopped before its first checkpoint");
        if (rel <= 1 && ck >= 0) *kind = DALE_TRAIN_DIR_SAME;
        else if (rel <= 1 && !has[2] && !has[3] && !finished) *kind = DALE_TRAIN_DIR_FREE; /* starts again */
        /* a recorded failure before any training: nothing to keep, and no
         * process is running it (one still in its set-up has no result) */
        else if (!has[2] && !has[3] && !strcmp(status, "failed")) *kind = DALE_TRAIN_DIR_FREE;
        else *kind = DALE_TRAIN_DIR_OTHER;
        dalei_sfmt(what, cap, "%s %s%s%s%s%s", head, rel == 3 ? "without a readable config.json" : "of ",
                   rel == 3 ? "" : who, rel == 1 ? " (the same config but for its budget: " :
                                       rel == 2 ? " (another config: " : "",
                   rel == 1 || rel == 2 ? why : "", rel == 1 || rel == 2 ? ")" : "");
        if (*kind == DALE_TRAIN_DIR_FREE) return DALE_OK;
    }
    if (!force) return DALE_OK;
    /* never move a run that a living process is writing: ask its lock
     * (a lock file is only looked at, not made, so a foreign directory
     * gets no new file) */
    char lk[4200];
    snprintf(lk, sizeof lk, "%s/lock", dir);
    long holder = dalei_lock_holder(lk);
    if (holder)
        return DALE_FAIL(DALE_ERR_STATE,
                         "%s is being written by another dale process (pid %ld): it is not moved aside; "
                         "nothing was changed",
                         dir, holder);
    char base[4096], aside[4200];
    strip_slashes(dir, base, sizeof base);
    struct stat ab;
    int k = 1;
    do dalei_sfmt(aside, sizeof aside, "%s.old-%d", base, k++);
    while (lstat(aside, &ab) == 0 && k < 100000);
    if (rename(base, aside) != 0)
        return DALE_FAIL(DALE_ERR_IO, "cannot move %s aside to %s: %s", base, aside, strerror(errno));
    size_t n = strlen(what);
    dalei_sfmt(what + n, cap - n, "; moved to %s", aside);
    *kind = DALE_TRAIN_DIR_MOVED;
    return DALE_OK;
}

/* Remove temp files that a killed writer left in the run directory:
 * "<file>.tmp.<pid>" of the atomic writers (and libzip's "<that>.XXXXXX"),
 * for the run's own files only, and only when that process is gone: a
 * sweep writes config.json.tmp.<pid> of a run it is about to start, and a
 * living writer's temp file is never touched.  They are never read, but a
 * run preempted many times would otherwise collect one per kill that hit
 * a write. */
static void remove_stale_temps(const char *dir)
{
    static const char *const own[] = {"checkpoint.npz", "final.npz", "metrics.csv", "result.json",
                                      "config.json"};
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d))) {
        for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
            size_t n = strlen(own[i]);
            if (strncmp(e->d_name, own[i], n) == 0 && strncmp(e->d_name + n, ".tmp.", 5) == 0) {
                long pid = strtol(e->d_name + n + 5, NULL, 10);
                if (pid > 0 && (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)) break;
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
                break;
            }
        }
    }
    closedir(d);
}

/* The run's lock: a write lock (fcntl) on DIR/lock, held until the process
 * ends, so a dead writer's lock is gone with it.  A sweep's worker takes it
 * before it execs `dale train`, which then holds it already (the lock
 * belongs to the process).  *fd is the descriptor to keep open. */
static dale_status take_run_lock(const char *dir, int *fd)
{
    char path[4200];
    long pid;
    snprintf(path, sizeof path, "%s/lock", dir);
    if ((*fd = dalei_lock_file(path, &pid)) >= 0) return DALE_OK;
    if (errno != EAGAIN)
        return DALE_FAIL(DALE_ERR_IO, "%s: cannot open the run's lock file: %s", path, strerror(errno));
    char who_s[48] = "";
    if (pid) snprintf(who_s, sizeof who_s, " (pid %ld)", pid);
    return DALE_FAIL(DALE_ERR_STATE,
                     "%s is being written by another dale process%s; nothing was changed (wait for it, or stop "
                     "it: its checkpoint lets you resume)",
                     dir, who_s);
}

static void rundir_free(rundir *rd)
{
    if (rd->lock_fd >= 0) close(rd->lock_fd); /* releases the run's lock */
    rd->lock_fd = -1;
    dale_trainer_free(rd->tr);
    dale_net_free(rd->net);
    dale_task_free(rd->task);
}

dale_status dale_train_run(const dale_run_config *c, const dale_train_options *opt)
{
    rundir rd;
    memset(&rd, 0, sizeof rd);
    rd.c = c;
    rd.opt = opt;
    rd.lock_fd = -1;
    clock_gettime(CLOCK_MONOTONIC, &rd.t0);
    dale_status st = dale_config_check_memory(c); /* before any large allocation */
    if (st) return st;
    /* One writer per run directory: a run there (or its lock file) is
     * locked before anything is looked at or moved; a directory that holds
     * no run gets its lock when it is made ready below. */
    char probe[4200];
    struct stat sb;
    snprintf(probe, sizeof probe, "%s/config.json", c->out);
    int is_run = lstat(probe, &sb) == 0;
    snprintf(probe, sizeof probe, "%s/lock", c->out);
    if ((is_run || lstat(probe, &sb) == 0) && (st = take_run_lock(c->out, &rd.lock_fd))) return st;
    if (!opt->resume) {
        /* Never overwrite a run or other files: refuse, or (force) move them aside. */
        dale_train_dir kind;
        char what[1024];
        if ((st = dale_train_dir_prepare(c, opt->force, &kind, what, sizeof what))) {
            rundir_free(&rd);
            return st;
        }
        if (kind == DALE_TRAIN_DIR_MOVED && opt->log) fprintf(opt->log, "%s held %s\n", c->out, what);
        if (kind == DALE_TRAIN_DIR_MOVED) rundir_free(&rd); /* that lock went with the old run */
        if (kind != DALE_TRAIN_DIR_FREE && kind != DALE_TRAIN_DIR_MOVED) {
            rundir_free(&rd);
            return DALE_FAIL(DALE_ERR_STATE,
                             "%s holds %s; it is not overwritten (resume it, train into another directory, or "
                             "force: it is moved aside to %s.old-N)",
                             c->out, what, c->out);
        }
    }
    if ((st = dale_mkdirs(c->out))) {
        rundir_free(&rd);
        return st;
    }
    if (rd.lock_fd < 0 && (st = take_run_lock(c->out, &rd.lock_fd))) return st;
    remove_stale_temps(c->out);
    if ((st = dale_config_write_json(c, run_file(&rd, "config.json")))) {
        rundir_free(&rd);
        return st;
    }
    if ((st = setup(&rd))) goto fail;
    /* The trainer's clock started at its creation: it also counts the
     * set-up and (on resume) the time the run had before. */
    double before = now_s(&rd.t0) - dale_trainer_wall(rd.tr);
    if (opt->resume) {
        char path[4096];
        snprintf(path, sizeof path, "%s", run_file(&rd, "checkpoint.npz"));
        if ((st = dale_trainer_checkpoint_load(rd.tr, path))) goto fail;
        dale_trainer_set_wall(rd.tr, dale_trainer_wall(rd.tr) + before);
        rd.wall_set = 1;
        if ((st = truncate_metrics(&rd, dale_trainer_updates(rd.tr)))) goto fail;
        if (opt->log)
            fprintf(opt->log, "resumed %s at update %ld (epoch %ld)\n", c->out, dale_trainer_updates(rd.tr),
                    dale_trainer_epoch(rd.tr));
    } else {
        dale_trainer_set_wall(rd.tr, dale_trainer_wall(rd.tr) + before);
        rd.wall_set = 1;
        if ((st = write_metrics(&rd, NULL))) goto fail;
        if ((st = dale_trainer_eval(rd.tr, 1, NULL))) goto fail; /* the initial network */
        if ((st = dale_trainer_checkpoint_save(rd.tr, run_file(&rd, "checkpoint.npz")))) goto fail;
    }
    rd.start_updates = dale_trainer_updates(rd.tr);
    /* dale_trainer_run's loop, with a look at the stop flag between updates */
    dale_trainer_step_info inf;
    do {
        if (opt->stop && *opt->stop) {
            /* stopped: keep the state at this update; the run stays resumable */
            if ((st = dale_trainer_checkpoint_save(rd.tr, run_file(&rd, "checkpoint.npz")))) goto fail;
            progress(&rd, "stopped");
            long u = dale_trainer_updates(rd.tr);
            rundir_free(&rd);
            return DALE_FAIL(DALE_ERR_STATE, "stopped at update %ld; its checkpoint is saved in %s", u, c->out);
        }
        if ((st = dale_trainer_step(rd.tr, &inf))) goto fail;
    } while (!inf.done && !inf.diverged);
    const char *diverged = dale_trainer_diverged(rd.tr);
    if (!diverged) {
        if (dale_trainer_updates(rd.tr) % c->eval_every != 0 && (st = dale_trainer_eval(rd.tr, 1, NULL))) goto fail;
        /* A resume that had nothing left to do still reports the final metrics. */
        if (!dale_trainer_last_metrics(rd.tr, NULL) && (st = dale_trainer_eval(rd.tr, 0, NULL))) goto fail;
        if ((st = dale_trainer_checkpoint_save(rd.tr, run_file(&rd, "checkpoint.npz")))) goto fail;
        if ((st = save_final(&rd))) goto fail;
    }
    progress(&rd, diverged ? "diverged" : "done");
    if (diverged && opt->log) fprintf(opt->log, "run diverged: %s\n", diverged);
    st = write_result(&rd, diverged ? "diverged" : "ok", diverged ? diverged : "");
    rundir_free(&rd);
    return st;
fail: {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", dale_last_error());
    write_result(&rd, "failed", msg[0] ? msg : dale_status_str(st));
    rundir_free(&rd);
    return st;
}
}
