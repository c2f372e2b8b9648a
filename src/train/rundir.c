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
#include <dirent.h>
#include <errno.h>
#include <math.h>
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

dale_status dale_net_from_config(const dale_run_config *c, const dale_task *task, dale_net **out)
{
    dale_net_config nc;
    *out = NULL;
    dale_status st = dale_config_net(c, task->input, task->output, task->input_mean, &nc);
    return st ? st : dale_net_create(&nc, out);
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
    FILE *f = fopen(run_file(rd, "metrics.csv"), m ? "a" : "w");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", rd->path, strerror(errno));
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
    FILE *f = fopen(p, "r");
    if (!f) return write_metrics(rd, NULL);
    size_t cap = 1 << 16, len = 0;
    char *buf = dalei_alloc(cap, 1), line[8192];
    if (!buf) { fclose(f); return DALE_ERR_NOMEM; }
    int first = 1;
    while (fgets(line, sizeof line, f)) {
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
    char esc[600];
    dalei_json_escape(reason, esc, sizeof esc);
    /* Every-step cross-entropy (lm): perplexities exp(CE) too (null above CE 20). */
    int ppl = rd->task && rd->task->loss == DALE_LOSS_CE_EVERY;
    int n = snprintf(text, sizeof text,
                     "{\n  \"status\": \"%s\",\n  \"reason\": \"%s\",\n  \"updates\": %ld,\n"
                     "  \"epochs_done\": %ld,\n  \"lr\": %.9g,\n  \"train_loss\": %s,\n  \"train_err\": %s,\n"
                     "  \"val_loss\": %s,\n  \"val_err\": %s,\n  \"test_loss\": %s,\n  \"test_err\": %s,\n"
                     "%s%s%s%s%s%s%s"
                     "  \"wall_s\": %.3f,\n  \"dale_version\": \"%s\",\n  \"dale_commit\": \"%s\"\n}\n",
                     status, esc, updates, epoch, lr, num[0], num[1], num[2], num[3],
                     num[4], num[5], ppl ? "  \"train_ppl\": " : "", ppl ? num[6] : "",
                     ppl ? ",\n  \"val_ppl\": " : "", ppl ? num[7] : "", ppl ? ",\n  \"test_ppl\": " : "",
                     ppl ? num[8] : "", ppl ? ",\n" : "", wall,
                     dale_version(), dale_git_commit());
    return dalei_write_file_atomic(run_file(rd, "result.json"), text, (size_t)n);
}

/* ----------------------------------------------------------- progress */

static void progress(rundir *rd, int force)
{
    if (!rd->opt->log) return;
    double t = now_s(&rd->t0);
    if (!force && t - rd->last_progress < (rd->opt->tty ? 0.5 : 10.0)) return;
    rd->last_progress = t;
    dale_trainer *tr = rd->tr;
    long done = dale_trainer_updates(tr), total = dale_trainer_total_updates(tr), epoch = dale_trainer_epoch(tr);
    double rate = t > 0 ? (double)(done - rd->start_updates) / t : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    double train_loss;
    dale_trainer_metrics last;
    dale_trainer_train_means(tr, &train_loss, NULL);
    dale_trainer_last_metrics(tr, &last);
    fprintf(rd->opt->log, "%sepoch %ld update %ld/%ld  %.0f upd/s  ETA %dm%02ds  train loss %.5g  test loss %.5g%s",
            rd->opt->tty ? "\r" : "", epoch + 1 > rd->c->epochs ? rd->c->epochs : epoch + 1,
            done, total, rate, (int)(eta / 60), (int)eta % 60, train_loss,
            last.test_loss, rd->opt->tty ? "   " : "\n");
    fflush(rd->opt->log);
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
    progress(user, 0);
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
    /* Every evaluation of a run reports its test split. */
    if (t->count[DALE_SPLIT_TEST] == 0)
        return DALE_FAIL(DALE_ERR_ARG, "task %s has no samples in this split", t->name);
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

static void rundir_free(rundir *rd)
{
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
    clock_gettime(CLOCK_MONOTONIC, &rd.t0);
    dale_status st = dale_config_check_memory(c); /* before any large allocation */
    if (st) return st;
    if ((st = dale_mkdirs(c->out))) return st;
    remove_stale_temps(c->out);
    if ((st = dale_config_write_json(c, run_file(&rd, "config.json")))) return st;
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
    if ((st = dale_trainer_run(rd.tr))) goto fail;
    const char *diverged = dale_trainer_diverged(rd.tr);
    if (!diverged) {
        if (dale_trainer_updates(rd.tr) % c->eval_every != 0 && (st = dale_trainer_eval(rd.tr, 1, NULL))) goto fail;
        /* A resume that had nothing left to do still reports the final metrics. */
        if (!dale_trainer_last_metrics(rd.tr, NULL) && (st = dale_trainer_eval(rd.tr, 0, NULL))) goto fail;
        if ((st = dale_trainer_checkpoint_save(rd.tr, run_file(&rd, "checkpoint.npz")))) goto fail;
        if ((st = save_final(&rd))) goto fail;
    }
    progress(&rd, 1);
    if (opt->log && opt->tty) fputc('\n', opt->log);
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
