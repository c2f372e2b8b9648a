/* test_trainer.c — the library trainer (dale/trainer.h) without a run directory.
 *
 *  - A task written here (a toy regression: the target is the sum of the
 *    last step's inputs) trains from memory: the test loss falls, the
 *    callbacks see every scheduled evaluation, nothing is written to the
 *    working directory, nothing leaks.
 *  - The adding problem trained through the trainer with a `dale train`
 *    config gives final parameters bit-identical to dale_train_run's
 *    final.npz, and the callback's evaluations are metrics.csv's rows.
 *  - A run saved mid-epoch (parameters + state, DANN with sign freezing so
 *    state.signs is exercised) and continued in a fresh trainer on a fresh
 *    network ends bit for bit where the uninterrupted run ends.
 *  - Divergence stops the trainer; a callback's error stops the run.
 *  - Bad arguments give DALE_ERR_ARG with a message.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "dale/eval.h"
#include "dale/trainer.h"
#include "internal.h"

static char root[512];

/* ------------------------------------------------------ the toy task */

/* Sample k of a split: T = 4 steps of 2 inputs from a hash of (split, k);
 * target = x[T-1][0] + x[T-1][1]. */
static float toy_value(size_t split, size_t k, size_t t, size_t j)
{
    uint64_t h = (uint64_t)split * 1000003u + k * 131u + t * 7u + j + 1;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (float)((double)(h >> 11) * 0x1p-53);
}

static dale_status toy_batch(dale_task *t, dale_split split, const size_t *idx, size_t B, float *x, float *yf,
                             int32_t *yi)
{
    (void)yi;
    for (size_t b = 0; b < B; b++) {
        if (idx[b] >= t->count[split]) return DALE_ERR_ARG;
        for (size_t s = 0; s < t->T; s++)
            for (size_t j = 0; j < 2; j++) x[(s * B + b) * 2 + j] = toy_value(split, idx[b], s, j);
        yf[b] = toy_value(split, idx[b], t->T - 1, 0) + toy_value(split, idx[b], t->T - 1, 1);
    }
    return DALE_OK;
}

static void toy_task(dale_task *t)
{
    memset(t, 0, sizeof *t);
    t->name = "toy";
    t->T = 4;
    t->input = 2;
    t->output = 1;
    t->loss = DALE_LOSS_MSE_LAST;
    t->count[DALE_SPLIT_TRAIN] = 200;
    t->count[DALE_SPLIT_TEST] = 50;
    t->input_mean = 0.5;
    t->batch = toy_batch;
}

static dale_net *make_net(dale_model_type type, size_t input, size_t output, size_t hidden, uint64_t seed)
{
    dale_net_config nc;
    dale_net_config_defaults(&nc);
    nc.type = type;
    nc.input = input;
    nc.output = output;
    nc.hidden = hidden;
    dale_net *net = NULL;
    CHECK_OK(dale_net_create(&nc, &net));
    if (!net) return NULL;
    dale_rng r;
    dale_rng_seed(&r, seed);
    CHECK_OK(dale_net_init(net, &r));
    return net;
}

typedef struct events {
    long evals, checkpoints, progress;
    long eval_updates[64];
    dale_trainer_metrics m[64];
    dale_status fail_with; /* returned by on_eval when non-zero */
} events;

static dale_status ev_eval(dale_trainer *tr, const dale_trainer_metrics *m, void *user)
{
    events *e = user;
    CHECK(m->updates == dale_trainer_updates(tr), "on_eval: metrics of update %ld at update %ld", m->updates,
          dale_trainer_updates(tr));
    if (e->evals < 64) e->m[e->evals] = *m;
    e->evals++;
    return e->fail_with;
}

static dale_status ev_checkpoint(dale_trainer *tr, void *user)
{
    (void)tr;
    ((events *)user)->checkpoints++;
    return DALE_OK;
}

static void ev_progress(dale_trainer *tr, void *user)
{
    (void)tr;
    ((events *)user)->progress++;
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    if (!d) return 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static void test_toy(void)
{
    long live = dalei_alloc_live();
    size_t files = count_entries(".");
    dale_task task;
    toy_task(&task);
    dale_net *net = make_net(DALE_MODEL_RNN, 2, 1, 16, 5);
    if (!net) return;
    dale_update_policy pol;
    dale_update_policy_default(DALE_MODEL_RNN, 1.0, &pol);
    dale_schedule s;
    dale_schedule_defaults(&s);
    s.lr = 0.05;
    s.batch = 20;
    s.epochs = 30;
    s.eval_every = 50;
    s.checkpoint_every = 100;
    events ev;
    memset(&ev, 0, sizeof ev);
    dale_trainer_callbacks cb = {ev_eval, ev_checkpoint, ev_progress, &ev};
    dale_trainer *tr = NULL;
    CHECK_OK(dale_trainer_create(net, &task, &pol, &s, 1, &cb, &tr));
    if (!tr) { dale_net_free(net); return; }
    CHECK(dale_trainer_batches_per_epoch(tr) == 10 && dale_trainer_total_updates(tr) == 300,
          "toy: %zu batches per epoch, %ld updates (want 10, 300)", dale_trainer_batches_per_epoch(tr),
          dale_trainer_total_updates(tr));
    double l0, e0, l1, e1;
    CHECK_OK(dale_trainer_evaluate(tr, DALE_SPLIT_TEST, &l0, &e0));
    CHECK(isnan(e0), "toy: an MSE task has no error rate (got %g)", e0);
    dale_trainer_step_info info;
    CHECK_OK(dale_trainer_step(tr, &info));
    CHECK(isfinite(info.loss) && !info.diverged && !info.done && isfinite(info.grad_norm) &&
              dale_trainer_updates(tr) == 1,
          "toy: one step: loss %g diverged %d done %d updates %ld", info.loss, info.diverged, info.done,
          dale_trainer_updates(tr));
    CHECK_OK(dale_trainer_run(tr));
    CHECK(dale_trainer_updates(tr) == 300 && dale_trainer_epoch(tr) == 30 && !dale_trainer_diverged(tr),
          "toy: ran %ld updates, %ld epochs", dale_trainer_updates(tr), dale_trainer_epoch(tr));
    CHECK_OK(dale_trainer_evaluate(tr, DALE_SPLIT_TEST, &l1, &e1));
    CHECK(l1 < 0.25 * l0, "toy: test loss %g -> %g (want a fall to below a quarter)", l0, l1);
    CHECK(ev.evals == 6 && ev.checkpoints == 3 && ev.progress == 300,
          "toy: %ld evaluations, %ld checkpoints, %ld progress events (want 6, 3, 300)", ev.evals,
          ev.checkpoints, ev.progress);
    int seq = 1;
    for (long i = 0; i < ev.evals && i < 64; i++) seq &= ev.m[i].updates == 50 * (i + 1);
    CHECK(seq, "toy: evaluations not at updates 50, 100, ...");
    CHECK(ev.m[5].test_loss == l1 && isnan(ev.m[5].val_loss),
          "toy: last evaluation test loss %g, evaluate says %g; val %g (no split: nan)", ev.m[5].test_loss, l1,
          ev.m[5].val_loss);
    dale_trainer_metrics last;
    CHECK(dale_trainer_last_metrics(tr, &last) && last.updates == 300, "toy: last metrics at update %ld",
          last.updates);
    double ml, me;
    dale_trainer_train_means(tr, &ml, &me);
    CHECK(isfinite(ml) && isnan(me), "toy: train ring means %g %g", ml, me);
    /* the budget is spent: a step does nothing */
    CHECK_OK(dale_trainer_step(tr, &info));
    CHECK(info.done && dale_trainer_updates(tr) == 300, "toy: a step after the budget did something");
    CHECK(dale_trainer_evaluate(tr, DALE_SPLIT_VAL, &l1, &e1) == DALE_ERR_ARG && strstr(dale_last_error(), "split"),
          "toy: evaluating an absent split: %s", dale_last_error());
    dale_trainer_free(tr);
    dale_net_free(net);
    CHECK(count_entries(".") == files, "toy: the trainer wrote into the working directory");
    CHECK(dalei_alloc_live() == live, "toy: %ld allocations leaked", dalei_alloc_live() - live);
}

/* ---------------------------------------- the trainer vs dale_train_run */

static void adding_config(dale_run_config *c, const char *model, const char *out)
{
    dale_config_defaults(c);
    CHECK_OK(dale_config_set(c, "task", "adding"));
    CHECK_OK(dale_config_set(c, "model", model));
    CHECK_OK(dale_config_set(c, "hidden", "10"));
    CHECK_OK(dale_config_set(c, "adding_n", "300"));
    CHECK_OK(dale_config_set(c, "adding_test", "60"));
    CHECK_OK(dale_config_set(c, "adding_len", "12"));
    CHECK_OK(dale_config_set(c, "split", "paper"));
    CHECK_OK(dale_config_set(c, "batch", "16"));
    CHECK_OK(dale_config_set(c, "epochs", "3"));
    CHECK_OK(dale_config_set(c, "eval_every", "7"));
    CHECK_OK(dale_config_set(c, "lr_decay_every", "5"));
    CHECK_OK(dale_config_set(c, "seed", "11"));
    CHECK_OK(dale_config_set(c, "out", out));
    CHECK_OK(dale_config_resolve(c));
}

/* Task and initialised network of c, as `dale train` builds them. */
static int build(const dale_run_config *c, dale_task **task, dale_net **net)
{
    *task = NULL;
    *net = NULL;
    CHECK_OK(dale_task_from_config(c, task));
    if (!*task) return 0;
    CHECK_OK(dale_net_from_config(c, *task, net));
    if (!*net) return 0;
    dale_rng r;
    dale_rng_seed(&r, c->seed);
    CHECK_OK(dale_net_init(*net, &r));
    return 1;
}

/* Every parameter of net equals the member of the npz file, bit for bit. */
static void same_params(const char *label, dale_net *net, const char *path)
{
    dale_npz *z = NULL;
    CHECK_OK(dale_npz_open(path, &z));
    if (!z) return;
    const float *th = dale_net_theta(net);
    size_t bad = 0, n = dale_net_nparams(net);
    for (size_t i = 0; i < n; i++) {
        const dale_param *q = dale_net_param(net, i);
        dale_array a;
        if (dale_npz_read(z, q->name, &a) || a.dtype != DALE_F32 || a.count != q->rows * q->cols) {
            bad++;
        } else if (memcmp(a.data, th + q->offset, a.count * sizeof(float)) != 0) {
            bad++;
            printf("     %s: %s differs\n", label, q->name);
        }
        dale_array_free(&a);
    }
    dale_npz_close(z);
    CHECK(bad == 0 && n > 0, "%s: %zu of %zu parameters differ from %s", label, bad, n, path);
}

static void fmt_num(char *p, size_t cap, double v)
{
    if (isnan(v)) snprintf(p, cap, ",nan");
    else snprintf(p, cap, ",%.9g", v);
}

static void test_vs_train_run(const char *model)
{
    char out[700], label[64];
    snprintf(out, sizeof out, "%s/run-%s", root, model);
    snprintf(label, sizeof label, "vs dale_train_run (%s)", model);
    dale_run_config c;
    adding_config(&c, model, out);
    dale_train_options opt = {0}; /* resume off, quiet, refuse to overwrite */
    CHECK_OK(dale_train_run(&c, &opt));

    dale_task *task;
    dale_net *net;
    if (!build(&c, &task, &net)) { dale_net_free(net); dale_task_free(task); return; }
    dale_update_policy pol;
    dale_schedule s;
    CHECK_OK(dale_config_policy(&c, &pol));
    dale_config_schedule(&c, &s);
    events ev;
    memset(&ev, 0, sizeof ev);
    dale_trainer_callbacks cb = {ev_eval, NULL, NULL, &ev};
    dale_trainer *tr = NULL;
    CHECK_OK(dale_trainer_create(net, task, &pol, &s, c.seed, &cb, &tr));
    if (tr) {
        CHECK_OK(dale_trainer_eval(tr, 1, NULL)); /* the initial network, as row 0 */
        CHECK_OK(dale_trainer_run(tr));
        if (dale_trainer_updates(tr) % c.eval_every) CHECK_OK(dale_trainer_eval(tr, 1, NULL));
        char fin[800];
        snprintf(fin, sizeof fin, "%s/final.npz", out);
        same_params(label, net, fin);
        /* every evaluation the callback saw is a row of metrics.csv */
        char path[800], line[4096], want[512];
        snprintf(path, sizeof path, "%s/metrics.csv", out);
        FILE *f = fopen(path, "r");
        long rows = 0, same = 0;
        if (f && fgets(line, sizeof line, f)) {
            while (fgets(line, sizeof line, f) && rows < 64) {
                const dale_trainer_metrics *m = &ev.m[rows++];
                snprintf(want, sizeof want, "%ld,%ld", m->updates, m->epoch);
                const double v[7] = {m->lr, m->train_loss, m->train_err, m->val_loss,
                                     m->val_err, m->test_loss, m->test_err};
                for (int i = 0; i < 7; i++) fmt_num(want + strlen(want), sizeof want - strlen(want), v[i]);
                if (strncmp(line, want, strlen(want)) == 0 && line[strlen(want)] == ',') same++;
                else if (rows - same <= 2) printf("     %s row %ld: got %.*s want %s\n", label, rows, 120, line, want);
            }
        }
        if (f) fclose(f);
        CHECK(rows > 5 && rows == ev.evals && same == rows,
              "%s: %ld of %ld metrics.csv rows match the %ld evaluations", label, same, rows, ev.evals);
    }
    dale_trainer_free(tr);
    dale_net_free(net);
    dale_task_free(task);
}

/* ------------------------------------------------------- save and load */

static void test_resume(void)
{
    long live = dalei_alloc_live();
    char out[700], ck[800];
    snprintf(out, sizeof out, "%s/resume", root);
    snprintf(ck, sizeof ck, "%s/state.npz", root);
    dale_run_config c;
    adding_config(&c, "dann", out);
    CHECK_OK(dale_config_set(&c, "sign_freeze", "on"));
    CHECK_OK(dale_config_set(&c, "dense", "6"));
    dale_update_policy pol;
    dale_schedule s;
    CHECK_OK(dale_config_policy(&c, &pol));
    dale_config_schedule(&c, &s);

    /* the uninterrupted run */
    dale_task *task;
    dale_net *full, *net2 = NULL;
    if (!build(&c, &task, &full)) { dale_net_free(full); dale_task_free(task); return; }
    dale_trainer *tr = NULL;
    CHECK_OK(dale_trainer_create(full, task, &pol, &s, c.seed, NULL, &tr));
    if (tr) CHECK_OK(dale_trainer_run(tr));
    dale_trainer_free(tr);
    tr = NULL;

    /* 23 updates (mid-epoch: 15 batches per epoch), saved by hand */
    dale_net *part = NULL;
    dale_task *t2;
    if (!build(&c, &t2, &part)) goto done;
    CHECK_OK(dale_trainer_create(part, t2, &pol, &s, c.seed, NULL, &tr));
    if (!tr) goto done;
    for (int i = 0; i < 23; i++) CHECK_OK(dale_trainer_step(tr, NULL));
    dale_npz_writer *w = NULL;
    CHECK_OK(dale_npz_writer_create(ck, &w));
    if (w) {
        CHECK_OK(dale_params_save(part, w));
        CHECK_OK(dale_trainer_state_save(tr, w));
        CHECK_OK(dale_npz_writer_commit(w));
    }
    dale_trainer_free(tr);
    tr = NULL;

    /* a fresh network (another init) and trainer continue from the file */
    dale_run_config c2 = c;
    c2.seed = 99;
    dale_task *t3 = NULL;
    if (!build(&c2, &t3, &net2)) { dale_task_free(t3); goto done; }
    CHECK_OK(dale_trainer_create(net2, t3, &pol, &s, 99, NULL, &tr));
    if (tr) {
        dale_npz *z = NULL;
        CHECK_OK(dale_npz_open(ck, &z));
        if (z) {
            CHECK_OK(dale_params_load(net2, z, ck));
            CHECK_OK(dale_trainer_state_load(tr, z, ck));
            CHECK(dale_npz_has(z, "state.signs"), "resume: sign freezing saved no state.signs");
            dale_npz_close(z);
        }
        CHECK(dale_trainer_updates(tr) == 23 && dale_trainer_epoch(tr) == 1, "resume: at update %ld epoch %ld",
              dale_trainer_updates(tr), dale_trainer_epoch(tr));
        CHECK_OK(dale_trainer_run(tr));
        size_t n = dale_net_size(full);
        CHECK(n == dale_net_size(net2) && memcmp(dale_net_theta(full), dale_net_theta(net2), n * sizeof(float)) == 0,
              "resume: the continued run ends elsewhere than the uninterrupted one");
        /* checkpoint_save / _load round trip at the end */
        CHECK_OK(dale_trainer_checkpoint_save(tr, ck));
        double lr = dale_trainer_lr(tr);
        dale_trainer_free(tr);
        tr = NULL;
        CHECK_OK(dale_trainer_create(net2, t3, &pol, &s, 5, NULL, &tr));
        if (tr) {
            CHECK_OK(dale_trainer_checkpoint_load(tr, ck));
            CHECK(dale_trainer_updates(tr) == dale_trainer_total_updates(tr) && dale_trainer_lr(tr) == lr,
                  "checkpoint round trip: update %ld lr %g (want %ld, %g)", dale_trainer_updates(tr),
                  dale_trainer_lr(tr), dale_trainer_total_updates(tr), lr);
            /* a state for another training set size is refused, nothing changes */
            dale_task *small = NULL;
            dale_run_config c3 = c;
            CHECK_OK(dale_config_set(&c3, "adding_n", "200"));
            CHECK_OK(dale_task_from_config(&c3, &small));
            dale_trainer *tr3 = NULL;
            if (small) CHECK_OK(dale_trainer_create(net2, small, &pol, &s, 5, NULL, &tr3));
            if (tr3) {
                dale_status st = dale_trainer_checkpoint_load(tr3, ck);
                CHECK(st == DALE_ERR_FORMAT && strstr(dale_last_error(), "state.perm") &&
                          dale_trainer_updates(tr3) == 0,
                      "a state of another task: %d %s", st, dale_last_error());
            }
            dale_trainer_free(tr3);
            dale_task_free(small);
        }
    }
    dale_task_free(t3);
done:
    dale_trainer_free(tr);
    dale_net_free(net2);
    dale_net_free(part);
    dale_task_free(t2);
    dale_net_free(full);
    dale_task_free(task);
    CHECK(dalei_alloc_live() == live, "resume: %ld allocations leaked", dalei_alloc_live() - live);
}

/* ------------------------------------------- divergence, stops, errors */

static void test_stops_and_errors(void)
{
    long live = dalei_alloc_live();
    dale_task task;
    toy_task(&task);
    dale_net *net = make_net(DALE_MODEL_RNN, 2, 1, 8, 2);
    if (!net) return;
    dale_update_policy pol;
    dale_update_policy_default(DALE_MODEL_RNN, 0, &pol);
    dale_schedule s;
    dale_schedule_defaults(&s);
    s.batch = 10;
    s.epochs = 2;
    dale_trainer *tr = NULL;

    /* divergence: a huge lr */
    s.lr = 1e30;
    CHECK_OK(dale_trainer_create(net, &task, &pol, &s, 1, NULL, &tr));
    if (tr) {
        CHECK_OK(dale_trainer_run(tr));
        const char *why = dale_trainer_diverged(tr);
        CHECK(why && strstr(why, "non-finite") && dale_trainer_updates(tr) < 40,
              "a 1e30 lr: diverged '%s' after %ld updates", why ? why : "(no)", dale_trainer_updates(tr));
        dale_trainer_step_info info;
        long u = dale_trainer_updates(tr);
        CHECK_OK(dale_trainer_step(tr, &info));
        CHECK(info.done && dale_trainer_updates(tr) == u, "a diverged trainer stepped on");
    }
    dale_trainer_free(tr);
    tr = NULL;

    /* a callback's error stops the run at the first evaluation */
    dale_rng r;
    dale_rng_seed(&r, 2);
    CHECK_OK(dale_net_init(net, &r));
    s.lr = 0.01;
    s.eval_every = 3;
    events ev;
    memset(&ev, 0, sizeof ev);
    ev.fail_with = DALE_ERR_IO;
    dale_trainer_callbacks cb = {ev_eval, NULL, NULL, &ev};
    CHECK_OK(dale_trainer_create(net, &task, &pol, &s, 1, &cb, &tr));
    if (tr) {
        dale_status st = dale_trainer_run(tr);
        CHECK(st == DALE_ERR_IO && ev.evals == 1 && dale_trainer_updates(tr) == 3,
              "a failing on_eval: run -> %d after %ld evaluations, %ld updates", st, ev.evals,
              dale_trainer_updates(tr));
    }
    dale_trainer_free(tr);
    tr = NULL;

    /* bad arguments */
    struct {
        const char *what, *msg;
        dale_net *n;
        dale_task *t;
        size_t batch;
        double lr;
    } bad[] = {
        {"NULL task", "task", net, NULL, 10, 0.1},
        {"NULL network", "network", NULL, &task, 10, 0.1},
        {"batch 0", "batch", net, &task, 0, 0.1},
        {"batch > training set", "larger than the training set", net, &task, 201, 0.1},
        {"lr 0", "lr", net, &task, 10, 0},
        {"lr NaN", "lr", net, &task, 10, (double)NAN},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s.batch = bad[i].batch;
        s.lr = bad[i].lr;
        dale_clear_error();
        tr = (dale_trainer *)&task; /* must be reset to NULL */
        dale_status st = dale_trainer_create(bad[i].n, bad[i].t, &pol, &s, 1, NULL, &tr);
        CHECK(st == DALE_ERR_ARG && tr == NULL && strstr(dale_last_error(), bad[i].msg),
              "%s: %d, message '%s' (want DALE_ERR_ARG naming '%s')", bad[i].what, st, dale_last_error(), bad[i].msg);
    }
    s.batch = 10;
    s.lr = 0.1;
    dale_task wide;
    toy_task(&wide);
    wide.input = 3;
    dale_status st = dale_trainer_create(net, &wide, &pol, &s, 1, NULL, &tr);
    CHECK(st == DALE_ERR_ARG && strstr(dale_last_error(), "inputs"), "widths of net and task differ: %d %s", st,
          dale_last_error());
    st = dale_trainer_create(net, &task, NULL, &s, 1, NULL, &tr);
    CHECK(st == DALE_ERR_ARG && strstr(dale_last_error(), "policy"), "NULL policy: %d %s", st, dale_last_error());
    st = dale_trainer_create(net, &task, &pol, &s, 1, NULL, NULL);
    CHECK(st == DALE_ERR_ARG, "NULL out: %d", st);
    dale_trainer_free(NULL);
    dale_net_free(net);
    CHECK(dalei_alloc_live() == live, "errors: %ld allocations leaked", dalei_alloc_live() - live);
}

int main(void)
{
    snprintf(root, sizeof root, "%s/dale-trainer.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) return 1;
    dale_set_blas_threads(1);
    test_toy();
    test_vs_train_run("rnn");
    test_vs_train_run("colei");
    test_vs_train_run("dann");
    test_resume();
    test_stops_and_errors();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) printf("note: could not remove %s\n", root);
    return check_done("test_trainer");
}
