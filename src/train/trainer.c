/* trainer.c — the training loop, evaluation, checkpoints and resume.
 *
 * Loop (spec §3.5, §4.1):  per epoch a fresh permutation of the training set
 * from the run's batch-order RNG; ceil(N/B) minibatches (the last holds the
 * remainder); per minibatch: forward, loss, BPTT, update policy, then the
 * learning-rate decay (after batch i of the epoch when i % k == 0, i from 0),
 * then evaluation / checkpoint when the global update count is a multiple of
 * eval_every / checkpoint_every.
 *
 * Determinism: the network init draws from rng(seed); the batch order from
 * an independent fork of it.  Everything the loop carries between updates
 * (RNG state, permutation, position, lr, loss ring, sign memory) goes into
 * the checkpoint, so a resumed run repeats the uninterrupted one bit for bit
 * (BLAS is pinned to one thread by the CLI so sums are ordered the same).
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "dale/linalg.h"
#include "dale/eval.h"
#include "dale/lm.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/spectral.h"
#include "dale/spectrum.h"
#include "dale/task.h"
#include "dale/train.h"
#include "dale/trainer.h"
#include "dale/fileio.h"
#include "internal.h"

#define RING 10
#define DNAN ((double)NAN)

typedef struct metrics_row {
    double train_loss, train_err, val_loss, val_err, test_loss, test_err;
} metrics_row;

typedef struct trainer {
    const dale_run_config *c;
    const dale_train_options *opt;
    dale_task *task;
    dale_net *net;
    dale_update_policy pol;
    dale_signs signs;
    dale_rng order;         /* batch-order stream */
    size_t ntrain, nbatch;  /* training samples, minibatches per epoch */
    size_t spu;             /* samples per update: --batch, or 1 for multi-row samples (lm) */
    size_t *perm;
    long epoch, bi, updates, total_updates;
    double lr;
    double ring_loss[RING], ring_err[RING];
    dale_batch batch;       /* buffers for max(batch, eval_batch) samples */
    double wall_before;     /* seconds spent before a resume */
    struct timespec t0;
    double last_progress;
    long start_updates;     /* update count when this process started */
    metrics_row last;       /* metrics of the last evaluation ...     */
    int have_last;          /* ... made by this process               */
    char path[4096];
} trainer;

static double now_s(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static const char *run_file(trainer *tr, const char *name)
{
    snprintf(tr->path, sizeof tr->path, "%s/%s", tr->c->out, name);
    return tr->path;
}

/* ------------------------------------------------------------ set-up */

dale_status dale_net_from_config(const dale_run_config *c, const dale_task *task, dale_net **out)
{
    dale_net_config nc;
    dale_net_config_defaults(&nc);
    dale_status st = dale_model_parse(c->model, &nc.type);
    if (st) return st;
    nc.input = task->input;
    nc.output = task->output;
    nc.layers = (size_t)c->layers;
    nc.hidden = (size_t)c->hidden;
    for (const char *p = c->dense; *p;) {
        char *end;
        long w = strtol(p, &end, 10);
        if (nc.ndense == DALE_MAX_DENSE)
            return DALE_FAIL(DALE_ERR_ARG, "--dense: at most %d layers", DALE_MAX_DENSE);
        nc.dense[nc.ndense++] = (size_t)w;
        p = *end ? end + 1 : end;
    }
    nc.ei_ratio = c->ei_ratio;
    nc.dann_ni_in = (size_t)c->dann_ni_in;
    nc.dann_ni_rec = (size_t)c->dann_ni_rec;
    nc.dann_ni_out = (size_t)c->dann_ni_out;
    nc.rho = c->rho;
    nc.zero_diag = strcmp(c->zero_diag, "on") == 0;
    nc.colei_dist = !strcmp(c->colei_dist, "gamma")     ? DALE_DIST_GAMMA
                    : !strcmp(c->colei_dist, "uniform") ? DALE_DIST_UNIFORM
                                                        : DALE_DIST_EXPONENTIAL;
    nc.gamma_shape = c->gamma_shape;
    nc.numerator = c->numerator;
    nc.dann_wie_random = strcmp(c->dann_wie, "random") == 0;
    nc.rnn_input_he = strcmp(c->rnn_input_init, "he") == 0;
    nc.bias_centering = strcmp(c->bias_centering, "on") == 0;
    nc.input_mean = task->input_mean;
    return dale_net_create(&nc, out);
}

static void make_policy(const dale_run_config *c, dale_update_policy *p)
{
    memset(p, 0, sizeof *p);
    p->clip = c->clip;
    p->scope = !strcmp(c->clip_scope, "tensor") ? DALE_CLIP_TENSOR
               : !strcmp(c->clip_scope, "global") ? DALE_CLIP_GLOBAL
                                                  : DALE_CLIP_LAYER;
    p->inhib_scale = strcmp(c->inhib_grad_scale, "on") == 0;
    p->project = strcmp(c->project, "on") == 0;
    p->sign_freeze = strcmp(c->sign_freeze, "on") == 0;
}

/* -------------------------------------------------------- evaluation */

static double ring_mean(const double *r)
{
    double s = 0;
    int k = 0;
    for (int i = 0; i < RING; i++)
        if (!isnan(r[i])) { s += r[i]; k++; }
    return k ? s / k : DNAN;
}

static void csv_num(FILE *f, double v)
{
    if (isnan(v)) fputs(",nan", f);
    else fprintf(f, ",%.9g", v);
}

/* Evaluate the current network into tr->last (train metrics from the ring). */
static dale_status compute_metrics(trainer *tr)
{
    metrics_row m;
    m.train_loss = ring_mean(tr->ring_loss);
    m.train_err = ring_mean(tr->ring_err);
    m.val_loss = m.val_err = DNAN;
    size_t chunk = (size_t)tr->c->eval_batch;
    dale_status st;
    if (tr->task->count[DALE_SPLIT_VAL] &&
        (st = dale_evaluate(&tr->batch, DALE_SPLIT_VAL, chunk, &m.val_loss, &m.val_err)))
        return st;
    if ((st = dale_evaluate(&tr->batch, DALE_SPLIT_TEST, chunk, &m.test_loss, &m.test_err))) return st;
    tr->last = m;
    tr->have_last = 1;
    return DALE_OK;
}

static dale_status write_metrics(trainer *tr, int header)
{
    FILE *f = fopen(run_file(tr, "metrics.csv"), header ? "w" : "a");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", tr->path, strerror(errno));
    size_t nc = dale_net_ncells(tr->net);
    if (header) {
        fputs("update,epoch,lr,train_loss,train_err,val_loss,val_err,test_loss,test_err", f);
        for (size_t l = 0; l < nc; l++) fprintf(f, ",nse_cell%zu,smax_cell%zu,rho_cell%zu", l, l, l);
        fputc('\n', f);
    } else {
        dale_status st = compute_metrics(tr);
        if (st) { fclose(f); return st; }
        const metrics_row m = tr->last;
        fprintf(f, "%ld,%ld", tr->updates, tr->epoch);
        csv_num(f, tr->lr);
        csv_num(f, m.train_loss); csv_num(f, m.train_err);
        csv_num(f, m.val_loss); csv_num(f, m.val_err);
        csv_num(f, m.test_loss); csv_num(f, m.test_err);
        size_t n = (size_t)tr->c->hidden;
        float *W = NULL;
        int spectra = strcmp(tr->c->spectra, "on") == 0;
        if (spectra && !(W = dalei_alloc(n * n, sizeof(float)))) { fclose(f); return DALE_ERR_NOMEM; }
        for (size_t l = 0; l < nc; l++) {
            dale_spectrum_summary s = {0, DNAN, DNAN, DNAN, 0, 0, 0};
            if (spectra) {
                dale_net_effective(tr->net, l, W, NULL);
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
        return DALE_FAIL(DALE_ERR_IO, "%s: write failed", tr->path);
    }
    fclose(f);
    return DALE_OK;
}

/* Resume: keep the header and the regular rows (update a multiple of
 * eval_every) up to the checkpoint's update.  A row written at the end of an
 * interrupted budget (--max-updates) is dropped; the resumed run writes its
 * own rows from there, exactly as the uninterrupted run did. */
static dale_status truncate_metrics(trainer *tr, long upto)
{
    const char *p = run_file(tr, "metrics.csv");
    FILE *f = fopen(p, "r");
    if (!f) return write_metrics(tr, 1);
    size_t cap = 1 << 16, len = 0;
    char *buf = dalei_alloc(cap, 1), line[8192];
    if (!buf) { fclose(f); return DALE_ERR_NOMEM; }
    int first = 1;
    while (fgets(line, sizeof line, f)) {
        long u = strtol(line, NULL, 10);
        if (!first && u > upto) break;
        if (!first && u % tr->c->eval_every != 0) continue;
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

/* -------------------------------------------------------- checkpoints */

static dale_status save_npz(trainer *tr, const char *name, int with_state)
{
    dale_npz_writer *w;
    dale_status st = dale_npz_writer_create(run_file(tr, name), &w);
    if (st) return st;
    if ((st = dale_params_save(tr->net, w))) goto fail;
    if (with_state) {
        size_t one = 1, four = 4, two = 2, ring = 2 * RING, nperm = tr->ntrain;
        int64_t counters[3] = {tr->epoch, tr->bi, tr->updates};
        size_t three = 3;
        double lr = tr->lr, wall = tr->wall_before + now_s(&tr->t0);
        double cache[2] = {tr->order.has_cached, tr->order.cached_normal};
        double rb[2 * RING];
        memcpy(rb, tr->ring_loss, sizeof tr->ring_loss);
        memcpy(rb + RING, tr->ring_err, sizeof tr->ring_err);
        uint64_t *perm = dalei_alloc(nperm, sizeof(uint64_t));
        if (!perm) { st = DALE_ERR_NOMEM; goto fail; }
        for (size_t k = 0; k < nperm; k++) perm[k] = tr->perm[k];
        if (!(st = dale_npz_add(w, "state.rng", DALE_U64, 1, &four, tr->order.s)) &&
            !(st = dale_npz_add(w, "state.rng_cache", DALE_F64, 1, &two, cache)) &&
            !(st = dale_npz_add(w, "state.counters", DALE_I64, 1, &three, counters)) &&
            !(st = dale_npz_add(w, "state.lr", DALE_F64, 1, &one, &lr)) &&
            !(st = dale_npz_add(w, "state.wall", DALE_F64, 1, &one, &wall)) &&
            !(st = dale_npz_add(w, "state.ring", DALE_F64, 1, &ring, rb)) &&
            !(st = dale_npz_add(w, "state.perm", DALE_U64, 1, &nperm, perm)) && tr->signs.s) {
            size_t ns = tr->signs.size;
            st = dale_npz_add(w, "state.signs", DALE_F32, 1, &ns, tr->signs.s);
        }
        dalei_free(perm);
        if (st) goto fail;
    }
    return dale_npz_writer_commit(w);
fail:
    dale_npz_writer_free(w);
    return st;
}

/* Read member `key` of z, requiring dtype and element count. */
static dale_status read_exact(dale_npz *z, const char *path, const char *key, dale_dtype t,
                              size_t count, void *dst)
{
    dale_array a;
    dale_status st = dale_npz_read(z, key, &a);
    if (st) return st;
    if (a.dtype != t || a.count != count) {
        dale_array_free(&a);
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: member '%s' has the wrong dtype or size (want %zu %s)",
                         path, key, count, dale_dtype_descr(t));
    }
    memcpy(dst, a.data, count * dale_dtype_size(t));
    dale_array_free(&a);
    return DALE_OK;
}

static dale_status load_checkpoint(trainer *tr)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", run_file(tr, "checkpoint.npz"));
    dale_npz *z;
    dale_status st = dale_npz_open(path, &z);
    if (st) return st;
    dale_net *net = tr->net;
    st = dale_params_load(net, z, path);
    int64_t counters[3];
    double lr, wall, cache[2], rb[2 * RING];
    uint64_t *perm = dalei_alloc(tr->ntrain, sizeof(uint64_t));
    if (!perm && !st) st = DALE_ERR_NOMEM;
    if (!st) st = read_exact(z, path, "state.rng", DALE_U64, 4, tr->order.s);
    if (!st) st = read_exact(z, path, "state.rng_cache", DALE_F64, 2, cache);
    if (!st) st = read_exact(z, path, "state.counters", DALE_I64, 3, counters);
    if (!st) st = read_exact(z, path, "state.lr", DALE_F64, 1, &lr);
    if (!st) st = read_exact(z, path, "state.wall", DALE_F64, 1, &wall);
    if (!st) st = read_exact(z, path, "state.ring", DALE_F64, 2 * RING, rb);
    if (!st) st = read_exact(z, path, "state.perm", DALE_U64, tr->ntrain, perm);
    if (!st && dale_npz_has(z, "state.signs")) {
        if (!(st = dale_signs_record(&tr->signs, net)))
            st = read_exact(z, path, "state.signs", DALE_F32, tr->signs.size, tr->signs.s);
    }
    if (!st) {
        tr->order.has_cached = cache[0] != 0;
        tr->order.cached_normal = cache[1];
        tr->epoch = counters[0];
        tr->bi = counters[1];
        tr->updates = counters[2];
        tr->lr = lr;
        tr->wall_before = wall;
        memcpy(tr->ring_loss, rb, sizeof tr->ring_loss);
        memcpy(tr->ring_err, rb + RING, sizeof tr->ring_err);
        for (size_t k = 0; k < tr->ntrain; k++) {
            if (perm[k] >= tr->ntrain) {
                st = DALE_FAIL(DALE_ERR_FORMAT, "%s: batch order holds index %llu beyond %zu samples",
                               path, (unsigned long long)perm[k], tr->ntrain);
                break;
            }
            tr->perm[k] = (size_t)perm[k];
        }
        if (!st && (tr->epoch < 0 || tr->bi < 0 || (size_t)tr->bi > tr->nbatch || tr->updates < 0))
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: trainer counters out of range", path);
    }
    dalei_free(perm);
    dale_npz_close(z);
    return st;
}

/* ------------------------------------------------------------- result */

static dale_status write_result(trainer *tr, const char *status, const char *reason)
{
    char text[2048];
    double wall = tr->wall_before + now_s(&tr->t0);
    char num[9][32];
    const double v[9] = {tr->last.train_loss, tr->last.train_err, tr->last.val_loss,
                         tr->last.val_err, tr->last.test_loss, tr->last.test_err,
                         dale_lm_perplexity(tr->last.train_loss), dale_lm_perplexity(tr->last.val_loss),
                         dale_lm_perplexity(tr->last.test_loss)};
    for (int i = 0; i < 9; i++) {
        if (isfinite(v[i])) snprintf(num[i], sizeof num[i], "%.9g", v[i]);
        else snprintf(num[i], sizeof num[i], "null");
    }
    char esc[600];
    size_t k = 0;
    for (const char *p = reason; *p && k + 2 < sizeof esc; p++) {
        if (*p == '"' || *p == '\\') esc[k++] = '\\';
        esc[k++] = (*p == '\n' || *p == '\t') ? ' ' : *p;
    }
    esc[k] = '\0';
    /* Every-step cross-entropy (lm): perplexities exp(CE) too (null above CE 20). */
    int ppl = tr->task && tr->task->loss == DALE_LOSS_CE_EVERY;
    int n = snprintf(text, sizeof text,
                     "{\n  \"status\": \"%s\",\n  \"reason\": \"%s\",\n  \"updates\": %ld,\n"
                     "  \"epochs_done\": %ld,\n  \"lr\": %.9g,\n  \"train_loss\": %s,\n  \"train_err\": %s,\n"
                     "  \"val_loss\": %s,\n  \"val_err\": %s,\n  \"test_loss\": %s,\n  \"test_err\": %s,\n"
                     "%s%s%s%s%s%s%s"
                     "  \"wall_s\": %.3f\n}\n",
                     status, esc, tr->updates, tr->epoch, tr->lr, num[0], num[1], num[2], num[3],
                     num[4], num[5], ppl ? "  \"train_ppl\": " : "", ppl ? num[6] : "",
                     ppl ? ",\n  \"val_ppl\": " : "", ppl ? num[7] : "", ppl ? ",\n  \"test_ppl\": " : "",
                     ppl ? num[8] : "", ppl ? ",\n" : "", wall);
    return dalei_write_file_atomic(run_file(tr, "result.json"), text, (size_t)n);
}

/* ----------------------------------------------------------- progress */

static void progress(trainer *tr, int force)
{
    if (!tr->opt->log) return;
    double t = now_s(&tr->t0);
    if (!force && t - tr->last_progress < (tr->opt->tty ? 0.5 : 10.0)) return;
    tr->last_progress = t;
    long done = tr->updates, total = tr->total_updates;
    double rate = t > 0 ? (double)(done - tr->start_updates) / t : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(tr->opt->log, "%sepoch %ld update %ld/%ld  %.0f upd/s  ETA %dm%02ds  train loss %.5g  test loss %.5g%s",
            tr->opt->tty ? "\r" : "", tr->epoch + 1 > tr->c->epochs ? tr->c->epochs : tr->epoch + 1,
            done, total, rate, (int)(eta / 60), (int)eta % 60, ring_mean(tr->ring_loss),
            tr->last.test_loss, tr->opt->tty ? "   " : "\n");
    fflush(tr->opt->log);
}

/* ---------------------------------------------------------------- loop */

static void trainer_free(trainer *tr)
{
    dale_task_free(tr->task);
    dale_net_free(tr->net);
    dale_signs_free(&tr->signs);
    dalei_free(tr->perm);
    dale_batch_free(&tr->batch);
}

/* Spectrum transplant at init (spec §5.4, Table 1): the three matrices of
 * the 1-layer standard RNN (input U (n, d), recurrent W (n, n), readout
 * (m, n)) are replaced by U_vec diag(σ_val) V_vecᵀ, where one of the pair is
 * the RNN's own init and the other the same matrix of an independent ColEI
 * network (ratio 9, ρ 1.5, no diagonal zeroing: the transplant helpers'
 * donors; its first-layer U is all-positive Exp(1/√d), its readout the
 * ColEI dense recipe), initialised from a fork of the run's init stream.
 * The result is an unconstrained RNN (biases stay 0); sign freezing, if
 * asked for, records the transplanted signs at the first update. */
static dale_status apply_transplant(trainer *tr, dale_rng *init)
{
    const dale_run_config *c = tr->c;
    if (!strcmp(c->transplant, "off")) return DALE_OK;
    int colei_vectors = !strcmp(c->transplant, "colei-vectors+rnn-values");
    dale_net_config dc = *dale_net_config_of(tr->net);
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
        if ((st = dale_net_effective(tr->net, cell, bufr, k == 2 ? NULL : bufr + cap))) goto done;
        if ((st = dale_net_effective(donor, cell, bufc, k == 2 ? NULL : bufc + cap))) goto done;
        const float *rv = bufr + off, *cv = bufc + off;
        for (size_t i = 0; i < rows * cols; i++) {
            a[i] = (double)(colei_vectors ? cv[i] : rv[i]);
            b[i] = (double)(colei_vectors ? rv[i] : cv[i]);
        }
        if ((st = dale_transplant(a, b, rows, cols, o))) goto done;
        int pi = dale_net_find(tr->net, names[k]);
        if (pi < 0) { st = DALE_FAIL(DALE_ERR_STATE, "transplant: no parameter %s", names[k]); goto done; }
        const dale_param *p = dale_net_param(tr->net, (size_t)pi);
        float *theta = dale_net_theta(tr->net) + p->offset;
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

static dale_status setup(trainer *tr)
{
    const dale_run_config *c = tr->c;
    dale_status st;
    if ((st = dale_task_from_config(c, &tr->task))) return st;
    if ((st = dale_net_from_config(c, tr->task, &tr->net))) return st;
    make_policy(c, &tr->pol);
    dale_task *t = tr->task;
    tr->ntrain = t->count[DALE_SPLIT_TRAIN];
    if (tr->opt->log && t->summary) fprintf(tr->opt->log, "%s\n", t->summary);
    /* A task whose training sample fills several batch rows (lm: a window
     * over all streams) takes one sample per update. */
    size_t srt = t->sample_rows[DALE_SPLIT_TRAIN] ? t->sample_rows[DALE_SPLIT_TRAIN] : 1;
    size_t B = srt > 1 ? 1 : (size_t)c->batch;
    tr->spu = B;
    if (B > tr->ntrain)
        return DALE_FAIL(DALE_ERR_ARG, "--batch %zu is larger than the training set (%zu samples)",
                         B, tr->ntrain);
    tr->nbatch = (tr->ntrain + B - 1) / B;
    long max_epochs_updates = c->epochs * (long)tr->nbatch;
    tr->total_updates = c->max_updates >= 0 && c->max_updates < max_epochs_updates ? c->max_updates
                                                                                   : max_epochs_updates;
    /* Zeroed: the update-0 checkpoint is written before the first shuffle
     * fills it, and its state.perm must be valid indices and the same bytes
     * every time (valgrind found it uninitialised). */
    tr->perm = dalei_calloc(tr->ntrain, sizeof(size_t));
    if (!tr->perm) return DALE_ERR_NOMEM;
    /* Evaluation never needs a chunk larger than its largest split, so an
     * absurd --eval-batch cannot size the buffers (results are unchanged:
     * dale_evaluate clamps its chunk to Bmax). */
    size_t neval = t->count[DALE_SPLIT_VAL] > t->count[DALE_SPLIT_TEST] ? t->count[DALE_SPLIT_VAL]
                                                                         : t->count[DALE_SPLIT_TEST];
    size_t EB = (size_t)c->eval_batch < neval ? (size_t)c->eval_batch : neval;
    size_t sre = t->sample_rows[DALE_SPLIT_VAL] > t->sample_rows[DALE_SPLIT_TEST] ? t->sample_rows[DALE_SPLIT_VAL]
                                                                                 : t->sample_rows[DALE_SPLIT_TEST];
    if (sre > 1) EB *= sre;
    size_t Bmax = B * srt > EB ? B * srt : EB;
    if ((st = dale_batch_init(&tr->batch, tr->net, t, Bmax))) return st;
    /* Init from rng(seed); the batch order from an independent fork. */
    dale_rng init;
    dale_rng_seed(&init, c->seed);
    dale_rng_fork(&init, 0x6f72646572ull /* "order" */, &tr->order);
    if ((st = dale_net_init(tr->net, &init))) return st;
    if ((st = apply_transplant(tr, &init))) return st;
    tr->lr = c->lr;
    for (int i = 0; i < RING; i++) tr->ring_loss[i] = tr->ring_err[i] = DNAN;
    tr->last.train_loss = tr->last.train_err = tr->last.val_loss = DNAN;
    tr->last.val_err = tr->last.test_loss = tr->last.test_err = DNAN;
    return DALE_OK;
}


/* Remove temp files that a killed writer left in the run directory:
 * "<file>.tmp.<pid>" of the atomic writers (and libzip's "<that>.XXXXXX"),
 * for the run's own files only.  They are never read, but a run preempted
 * many times would otherwise collect one per kill that hit a write.  One
 * process per run directory is assumed, as everywhere in the trainer. */
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
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
                break;
            }
        }
    }
    closedir(d);
}

/* One epoch's worth of minibatches from position tr->bi; returns 1 in
 * *stop when the budget is reached or the run diverged. */
static dale_status train_loop(trainer *tr, char *diverged, size_t dlen)
{
    const dale_run_config *c = tr->c;
    size_t B = tr->spu;
    dale_status st;
    while (tr->epoch < c->epochs && tr->updates < tr->total_updates) {
        if (tr->bi == 0) {
            for (size_t k = 0; k < tr->ntrain; k++) tr->perm[k] = k;
            dale_rng_shuffle(&tr->order, tr->perm, tr->ntrain);
        }
        while ((size_t)tr->bi < tr->nbatch && tr->updates < tr->total_updates) {
            size_t s = (size_t)tr->bi * B, nb = tr->ntrain - s < B ? tr->ntrain - s : B;
            double loss;
            size_t correct;
            if ((st = dale_batch_run(&tr->batch, DALE_SPLIT_TRAIN, tr->perm + s, nb, 1, &loss, &correct))) return st;
            if (!isfinite(loss)) {
                snprintf(diverged, dlen, "non-finite training loss at update %ld", tr->updates + 1);
                return DALE_OK;
            }
            if (tr->pol.sign_freeze && !tr->signs.s && (st = dale_signs_record(&tr->signs, tr->net)))
                return st;
            st = dale_update_apply(tr->net, &tr->pol, tr->lr, &tr->signs, NULL);
            if (st == DALE_ERR_NUMERIC) {
                snprintf(diverged, dlen, "non-finite gradient at update %ld", tr->updates + 1);
                return DALE_OK;
            }
            if (st) return st;
            tr->ring_loss[tr->bi % RING] = loss;
            tr->ring_err[tr->bi % RING] = tr->task->loss == DALE_LOSS_MSE_LAST
                                              ? DNAN
                                              : 100.0 * (1.0 - (double)correct / (double)tr->batch.npred);
            if (c->lr_decay_every > 0 && tr->bi % c->lr_decay_every == 0) tr->lr *= c->lr_decay;
            tr->bi++;
            tr->updates++;
            if ((size_t)tr->bi == tr->nbatch) { tr->bi = 0; tr->epoch++; }
            if (tr->updates % c->eval_every == 0 && (st = write_metrics(tr, 0))) return st;
            if (tr->updates % c->checkpoint_every == 0 && (st = save_npz(tr, "checkpoint.npz", 1))) return st;
            progress(tr, 0);
            if (tr->bi == 0) break; /* new epoch: reshuffle */
        }
    }
    return DALE_OK;
}

dale_status dale_train_run(const dale_run_config *c, const dale_train_options *opt)
{
    trainer tr;
    memset(&tr, 0, sizeof tr);
    tr.c = c;
    tr.opt = opt;
    clock_gettime(CLOCK_MONOTONIC, &tr.t0);
    char diverged[256] = "";
    dale_status st = dale_config_check_memory(c); /* before any large allocation */
    if (st) return st;
    if ((st = dale_mkdirs(c->out))) return st;
    remove_stale_temps(c->out);
    if (st) return st;
    if ((st = dale_config_write_json(c, run_file(&tr, "config.json")))) return st;
    if ((st = setup(&tr))) goto fail;
    if (opt->resume) {
        if ((st = load_checkpoint(&tr))) goto fail;
        if ((st = truncate_metrics(&tr, tr.updates))) goto fail;
        if (opt->log)
            fprintf(opt->log, "resumed %s at update %ld (epoch %ld)\n", c->out, tr.updates, tr.epoch);
    } else {
        if ((st = write_metrics(&tr, 1))) goto fail;
        if ((st = write_metrics(&tr, 0))) goto fail; /* the initial network */
        if ((st = save_npz(&tr, "checkpoint.npz", 1))) goto fail;
    }
    tr.start_updates = tr.updates;
    if ((st = train_loop(&tr, diverged, sizeof diverged))) goto fail;
    if (!diverged[0] && tr.updates % c->eval_every != 0 && (st = write_metrics(&tr, 0))) goto fail;
    /* A resume that had nothing left to do still reports the final metrics. */
    if (!diverged[0] && !tr.have_last && (st = compute_metrics(&tr))) goto fail;
    if (!diverged[0] && (st = save_npz(&tr, "checkpoint.npz", 1))) goto fail;
    if (!diverged[0] && (st = save_npz(&tr, "final.npz", 0))) goto fail;
    progress(&tr, 1);
    if (opt->log && opt->tty) fputc('\n', opt->log);
    if (diverged[0] && opt->log) fprintf(opt->log, "run diverged: %s\n", diverged);
    st = write_result(&tr, diverged[0] ? "diverged" : "ok", diverged);
    trainer_free(&tr);
    return st;
fail: {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", dale_last_error());
    write_result(&tr, "failed", msg[0] ? msg : dale_status_str(st));
    trainer_free(&tr);
    return st;
}
}
