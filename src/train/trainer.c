/* trainer.c — the trainer object: the training loop, evaluation and the
 * state a checkpoint carries.  It trains in memory and prints nothing; the
 * run directory of `dale train` is written around it (rundir.c).
 *
 * Loop (paper Sec. 3, 4.1): per epoch a fresh permutation of the training
 * set from the batch-order RNG; ceil(N/B) minibatches (the last holds the
 * remainder); per minibatch: forward, loss, BPTT, update policy, then the
 * learning-rate decay (after batch i of the epoch when i % k == 0, i from 0),
 * then evaluation / checkpoint events when the global update count is a
 * multiple of eval_every / checkpoint_every.
 *
 * Determinism: the batch order comes from a fork of rng(seed) tagged
 * "order", taken from the unadvanced stream, so a caller that initialises
 * the network from rng(seed) draws independently of it.  Everything the loop
 * carries between updates (RNG state, permutation, position, lr, loss ring,
 * sign memory) is the saved state, so a resumed run repeats the
 * uninterrupted one bit for bit.
 */
#include <math.h>
#include <string.h>
#include <time.h>
#include "dale/eval.h"
#include "dale/train.h"
#include "dale/trainer.h"
#include "internal.h"

#define RING 10
#define DNAN ((double)NAN)

struct dale_trainer {
    dale_net *net;          /* borrowed */
    dale_task *task;        /* borrowed */
    dale_update_policy pol;
    dale_schedule sch;
    dale_trainer_callbacks cb;
    dale_signs signs;
    dale_adam adam;         /* the optimiser's state (Adam only; zeroed for SGD) */
    dale_rng order;         /* batch-order stream */
    uint64_t seed;          /* the run seed: noise streams (dale_noise_stream) */
    int noisy, eval_noise;  /* the net draws noise; evaluations do too */
    size_t ntrain, nbatch;  /* training samples, minibatches per epoch */
    size_t spu;             /* samples per update: the batch, or 1 for multi-row samples (lm) */
    size_t eval_chunk;      /* evaluation chunk in batch rows */
    size_t *perm;
    long epoch, bi, updates, total_updates;
    double lr;
    double ring_loss[RING], ring_err[RING];
    dale_batch batch;       /* buffers for max(batch, eval_batch) samples */
    double wall_base;       /* wall clock reading at t0 */
    struct timespec t0;
    dale_trainer_metrics last; /* metrics of the last evaluation ... */
    int have_last;             /* ... made by this trainer          */
    char diverged[128];        /* "" or why the run diverged */
};

static double elapsed_s(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static double ring_mean(const double *r)
{
    double s = 0;
    int k = 0;
    for (int i = 0; i < RING; i++)
        if (!isnan(r[i])) { s += r[i]; k++; }
    return k ? s / k : DNAN;
}

static void metrics_nan(dale_trainer_metrics *m)
{
    m->updates = m->epoch = 0;
    m->lr = DNAN;
    m->train_loss = m->train_err = m->val_loss = m->val_err = m->test_loss = m->test_err = DNAN;
}

void dale_schedule_defaults(dale_schedule *s)
{
    memset(s, 0, sizeof *s);
    s->lr = 1e-3;
    s->lr_decay = 1.0;
    s->batch = 32;
    s->epochs = 1;
    s->max_updates = -1;
}

/* ------------------------------------------------------------ create */

dale_status dale_trainer_create(dale_net *net, dale_task *t, const dale_update_policy *p,
                                const dale_schedule *s, uint64_t seed, const dale_trainer_callbacks *cb,
                                dale_trainer **out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create: out is NULL");
    *out = NULL;
    if (!net || !t || !p || !s)
        return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create: the %s is NULL",
                         !net ? "network" : !t ? "task" : !p ? "update policy" : "schedule");
    const dale_net_config *nc = dale_net_config_of(net);
    if (nc->input != t->input || nc->output != t->output)
        return DALE_FAIL(DALE_ERR_ARG,
                         "dale_trainer_create: the network maps %zu inputs to %zu outputs, task %s has %zu and %zu",
                         nc->input, nc->output, t->name ? t->name : "?", t->input, t->output);
    if (!t->batch || t->T == 0)
        return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create: task %s has no batch function or no steps",
                         t->name ? t->name : "?");
    if (!(s->lr > 0)) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create: lr must be > 0 (got %g)", s->lr);
    if (s->batch == 0) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create: batch must be >= 1 (got 0)");
    if (s->epochs < 0 || s->eval_every < 0 || s->checkpoint_every < 0 || s->lr_decay_every < 0)
        return DALE_FAIL(DALE_ERR_ARG,
                         "dale_trainer_create: epochs, eval_every, checkpoint_every and lr_decay_every must be >= 0");
    if (p->optimizer != DALE_OPT_SGD && p->optimizer != DALE_OPT_ADAM)
        return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create: optimizer %d is neither DALE_OPT_SGD nor DALE_OPT_ADAM",
                         (int)p->optimizer);
    if (p->optimizer == DALE_OPT_ADAM &&
        !(p->beta1 >= 0 && p->beta1 < 1 && p->beta2 >= 0 && p->beta2 < 1 && p->adam_eps > 0 && isfinite(p->adam_eps)))
        return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create: Adam needs beta1, beta2 in [0, 1) and eps > 0 (got %g, %g, %g)",
                         p->beta1, p->beta2, p->adam_eps);
    if (!(p->weight_l2 >= 0 && isfinite(p->weight_l2)))
        return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create: weight_l2 must be a finite number >= 0 (got %g)",
                         p->weight_l2);
    size_t ntrain = t->count[DALE_SPLIT_TRAIN];
    if (ntrain == 0) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create: task %s has no training samples",
                                      t->name ? t->name : "?");
    /* A task whose training sample fills several batch rows (lm: a window
     * over all streams) takes one sample per update. */
    size_t srt = t->sample_rows[DALE_SPLIT_TRAIN] ? t->sample_rows[DALE_SPLIT_TRAIN] : 1;
    size_t B = srt > 1 ? 1 : s->batch;
    if (B > ntrain)
        return DALE_FAIL(DALE_ERR_ARG, "--batch %zu is larger than the training set (%zu samples)", B, ntrain);

    dale_trainer *tr = dalei_calloc(1, sizeof *tr);
    if (!tr) return DALE_ERR_NOMEM;
    clock_gettime(CLOCK_MONOTONIC, &tr->t0);
    tr->net = net;
    tr->task = t;
    tr->pol = *p;
    tr->sch = *s;
    if (cb) tr->cb = *cb;
    tr->ntrain = ntrain;
    tr->spu = B;
    tr->nbatch = (ntrain + B - 1) / B;
    long max_epochs_updates = s->epochs * (long)tr->nbatch;
    tr->total_updates = s->max_updates >= 0 && s->max_updates < max_epochs_updates ? s->max_updates
                                                                                   : max_epochs_updates;
    /* Zeroed: a checkpoint taken before the first shuffle fills it (update
     * 0) must hold valid indices and the same bytes every time. */
    tr->perm = dalei_calloc(ntrain, sizeof(size_t));
    if (!tr->perm) {
        dalei_free(tr);
        return DALE_ERR_NOMEM;
    }
    /* Evaluation never needs a chunk larger than its largest split, so an
     * absurd eval_batch cannot size the buffers (results are unchanged:
     * dale_evaluate clamps its chunk to Bmax). */
    size_t neval = t->count[DALE_SPLIT_VAL] > t->count[DALE_SPLIT_TEST] ? t->count[DALE_SPLIT_VAL]
                                                                         : t->count[DALE_SPLIT_TEST];
    size_t eb = s->eval_batch ? s->eval_batch : B;
    tr->eval_chunk = eb;
    size_t EB = eb < neval ? eb : neval;
    size_t sre = t->sample_rows[DALE_SPLIT_VAL] > t->sample_rows[DALE_SPLIT_TEST] ? t->sample_rows[DALE_SPLIT_VAL]
                                                                                 : t->sample_rows[DALE_SPLIT_TEST];
    if (sre > 1) EB *= sre;
    size_t Bmax = B * srt > EB ? B * srt : EB;
    dale_status st = dale_batch_init(&tr->batch, net, t, Bmax);
    if (!st && p->optimizer == DALE_OPT_ADAM && (st = dale_adam_init(&tr->adam, dale_net_size(net))))
        dale_batch_free(&tr->batch);
    if (st) {
        dalei_free(tr->perm);
        dalei_free(tr);
        return st;
    }
    dale_rng init;
    dale_rng_seed(&init, seed);
    dale_rng_fork(&init, DALE_TRAINER_ORDER_LABEL, &tr->order);
    tr->seed = seed;
    tr->noisy = nc->noise_rec > 0 || nc->noise_in > 0;
    tr->lr = s->lr;
    for (int i = 0; i < RING; i++) tr->ring_loss[i] = tr->ring_err[i] = DNAN;
    metrics_nan(&tr->last);
    *out = tr;
    return DALE_OK;
}

void dale_trainer_free(dale_trainer *tr)
{
    if (!tr) return;
    dale_signs_free(&tr->signs);
    dale_adam_free(&tr->adam);
    dalei_free(tr->perm);
    dale_batch_free(&tr->batch);
    dalei_free(tr);
}

/* -------------------------------------------------------- evaluation */

void dale_noise_stream(uint64_t seed, int eval, uint64_t index, dale_rng *out)
{
    dale_rng r, base;
    dale_rng_seed(&r, seed);
    dale_rng_fork(&r, DALE_TRAINER_NOISE_LABEL, &base);
    dale_rng_fork(&base, 2 * index + (eval ? 1 : 0), out);
}

void dale_trainer_set_eval_noise(dale_trainer *tr, int on)
{
    if (tr) tr->eval_noise = on != 0;
}

/* dale_evaluate with the split's evaluation noise when it is on. */
static dale_status evaluate_split(dale_trainer *tr, dale_split split, double *loss, double *err)
{
    if (!(tr->noisy && tr->eval_noise)) return dale_evaluate(&tr->batch, split, tr->eval_chunk, loss, err);
    dale_rng r;
    dale_noise_stream(tr->seed, 1, (uint64_t)split, &r);
    dale_net_set_noise(tr->net, &r);
    dale_status st = dale_evaluate(&tr->batch, split, tr->eval_chunk, loss, err);
    dale_net_set_noise(tr->net, NULL);
    return st;
}

dale_status dale_trainer_evaluate(dale_trainer *tr, dale_split split, double *loss, double *err)
{
    if (!tr || !loss || !err) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_evaluate: a NULL argument");
    if ((int)split < 0 || split > DALE_SPLIT_TEST || tr->task->count[split] == 0)
        return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_evaluate: task %s has no samples in split %d",
                         tr->task->name ? tr->task->name : "?", (int)split);
    return evaluate_split(tr, split, loss, err);
}

dale_status dale_trainer_eval(dale_trainer *tr, int notify, dale_trainer_metrics *out)
{
    if (!tr) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_eval: the trainer is NULL");
    dale_trainer_metrics m;
    metrics_nan(&m);
    m.updates = tr->updates;
    m.epoch = tr->epoch;
    m.lr = tr->lr;
    m.train_loss = ring_mean(tr->ring_loss);
    m.train_err = ring_mean(tr->ring_err);
    dale_status st;
    if (tr->task->count[DALE_SPLIT_VAL] &&
        (st = evaluate_split(tr, DALE_SPLIT_VAL, &m.val_loss, &m.val_err)))
        return st;
    if (tr->task->count[DALE_SPLIT_TEST] &&
        (st = evaluate_split(tr, DALE_SPLIT_TEST, &m.test_loss, &m.test_err)))
        return st;
    tr->last = m;
    tr->have_last = 1;
    if (out) *out = m;
    if (notify && tr->cb.on_eval) return tr->cb.on_eval(tr, &m, tr->cb.user);
    return DALE_OK;
}

int dale_trainer_last_metrics(const dale_trainer *tr, dale_trainer_metrics *out)
{
    if (out) *out = tr->last;
    return tr->have_last;
}

/* -------------------------------------------------------------- loop */

dale_status dale_trainer_step(dale_trainer *tr, dale_trainer_step_info *info)
{
    dale_trainer_step_info inf = {DNAN, DNAN, DNAN, 0, 0};
    if (!tr) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_step: the trainer is NULL");
    dale_status st = DALE_OK;
    if (tr->diverged[0] || tr->epoch >= tr->sch.epochs || tr->updates >= tr->total_updates) {
        inf.done = 1;
        goto out;
    }
    if (tr->bi == 0) {
        for (size_t k = 0; k < tr->ntrain; k++) tr->perm[k] = k;
        dale_rng_shuffle(&tr->order, tr->perm, tr->ntrain);
    }
    size_t B = tr->spu, s = (size_t)tr->bi * B, nb = tr->ntrain - s < B ? tr->ntrain - s : B;
    double loss;
    size_t correct;
    if (tr->noisy) {
        dale_rng nr;
        dale_noise_stream(tr->seed, 0, (uint64_t)tr->updates, &nr);
        dale_net_set_noise(tr->net, &nr);
    }
    st = dale_batch_run(&tr->batch, DALE_SPLIT_TRAIN, tr->perm + s, nb, 1, &loss, &correct);
    if (tr->noisy) dale_net_set_noise(tr->net, NULL);
    if (st) goto out;
    /* the weight penalty belongs to the training loss (its gradient joins in the update) */
    if (tr->pol.weight_l2 > 0) loss += dale_weight_l2(tr->net, tr->pol.weight_l2);
    inf.loss = loss;
    if (!isfinite(loss)) {
        snprintf(tr->diverged, sizeof tr->diverged, "non-finite training loss at update %ld", tr->updates + 1);
        inf.diverged = 1;
        goto out;
    }
    double err = !dale_loss_is_classification(tr->task->loss)
                     ? DNAN
                     : 100.0 * (1.0 - (double)correct / (double)tr->batch.npred);
    inf.err = err;
    if (tr->pol.sign_freeze && !tr->signs.s && (st = dale_signs_record(&tr->signs, tr->net))) goto out;
    dale_update_stats us;
    st = dale_update_apply_opt(tr->net, &tr->pol, tr->lr, &tr->signs, &tr->adam, &us);
    if (st == DALE_ERR_NUMERIC) {
        snprintf(tr->diverged, sizeof tr->diverged, "non-finite gradient at update %ld", tr->updates + 1);
        inf.diverged = 1;
        st = DALE_OK;
        goto out;
    }
    if (st) goto out;
    inf.grad_norm = us.grad_norm;
    tr->ring_loss[tr->bi % RING] = loss;
    tr->ring_err[tr->bi % RING] = err;
    if (tr->sch.lr_decay_every > 0 && tr->bi % tr->sch.lr_decay_every == 0) tr->lr *= tr->sch.lr_decay;
    tr->bi++;
    tr->updates++;
    if ((size_t)tr->bi == tr->nbatch) { tr->bi = 0; tr->epoch++; }
    if (tr->sch.eval_every > 0 && tr->updates % tr->sch.eval_every == 0 && (st = dale_trainer_eval(tr, 1, NULL)))
        goto out;
    if (tr->sch.checkpoint_every > 0 && tr->updates % tr->sch.checkpoint_every == 0 && tr->cb.on_checkpoint &&
        (st = tr->cb.on_checkpoint(tr, tr->cb.user)))
        goto out;
    if (tr->cb.on_progress) tr->cb.on_progress(tr, tr->cb.user);
out:
    if (info) *info = inf;
    return st;
}

dale_status dale_trainer_run(dale_trainer *tr)
{
    if (!tr) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_run: the trainer is NULL");
    dale_trainer_step_info inf;
    dale_status st;
    do {
        if ((st = dale_trainer_step(tr, &inf))) return st;
    } while (!inf.done && !inf.diverged);
    return DALE_OK;
}

/* ---------------------------------------------------------- accessors */

long dale_trainer_updates(const dale_trainer *tr) { return tr->updates; }
long dale_trainer_epoch(const dale_trainer *tr) { return tr->epoch; }
long dale_trainer_total_updates(const dale_trainer *tr) { return tr->total_updates; }
size_t dale_trainer_batches_per_epoch(const dale_trainer *tr) { return tr->nbatch; }
double dale_trainer_lr(const dale_trainer *tr) { return tr->lr; }
dale_net *dale_trainer_net(const dale_trainer *tr) { return tr->net; }
dale_task *dale_trainer_task(const dale_trainer *tr) { return tr->task; }
const char *dale_trainer_diverged(const dale_trainer *tr) { return tr->diverged[0] ? tr->diverged : NULL; }

void dale_trainer_train_means(const dale_trainer *tr, double *loss, double *err)
{
    if (loss) *loss = ring_mean(tr->ring_loss);
    if (err) *err = ring_mean(tr->ring_err);
}

double dale_trainer_wall(const dale_trainer *tr) { return tr->wall_base + elapsed_s(&tr->t0); }

void dale_trainer_set_wall(dale_trainer *tr, double seconds)
{
    clock_gettime(CLOCK_MONOTONIC, &tr->t0);
    tr->wall_base = seconds;
}

/* -------------------------------------------------------------- state */

dale_status dale_trainer_state_save(dale_trainer *tr, dale_npz_writer *w)
{
    if (!tr || !w) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_state_save: a NULL argument");
    size_t one = 1, four = 4, two = 2, three = 3, ring = 2 * RING, nperm = tr->ntrain;
    int64_t counters[3] = {tr->epoch, tr->bi, tr->updates};
    double lr = tr->lr, wall = dale_trainer_wall(tr);
    double cache[2] = {tr->order.has_cached, tr->order.cached_normal};
    double rb[2 * RING];
    memcpy(rb, tr->ring_loss, sizeof tr->ring_loss);
    memcpy(rb + RING, tr->ring_err, sizeof tr->ring_err);
    /* The batch order as uint64: where size_t is that already (LP64), the
     * writer copies tr->perm's bytes as they are, without a converted copy
     * (60000 entries for MNIST, at every checkpoint). */
    uint64_t *perm = NULL;
    const void *pdata = tr->perm;
    if (sizeof(size_t) != sizeof(uint64_t)) {
        if (!(perm = dalei_alloc(nperm, sizeof(uint64_t)))) return DALE_ERR_NOMEM;
        for (size_t k = 0; k < nperm; k++) perm[k] = tr->perm[k];
        pdata = perm;
    }
    dale_status st;
    if (!(st = dale_npz_add(w, "state.rng", DALE_U64, 1, &four, tr->order.s)) &&
        !(st = dale_npz_add(w, "state.rng_cache", DALE_F64, 1, &two, cache)) &&
        !(st = dale_npz_add(w, "state.counters", DALE_I64, 1, &three, counters)) &&
        !(st = dale_npz_add(w, "state.lr", DALE_F64, 1, &one, &lr)) &&
        !(st = dale_npz_add(w, "state.wall", DALE_F64, 1, &one, &wall)) &&
        !(st = dale_npz_add(w, "state.ring", DALE_F64, 1, &ring, rb)) &&
        !(st = dale_npz_add(w, "state.perm", DALE_U64, 1, &nperm, pdata)) && tr->signs.s) {
        size_t ns = tr->signs.size;
        st = dale_npz_add(w, "state.signs", DALE_F32, 1, &ns, tr->signs.s);
    }
    if (!st && tr->adam.m) {
        /* Adam's moments and step count: members only an Adam run has */
        size_t na = tr->adam.size;
        int64_t t = tr->adam.t;
        if (!(st = dale_npz_add(w, "state.adam_m", DALE_F32, 1, &na, tr->adam.m)) &&
            !(st = dale_npz_add(w, "state.adam_v", DALE_F32, 1, &na, tr->adam.v)))
            st = dale_npz_add(w, "state.adam_t", DALE_I64, 1, &one, &t);
    }
    dalei_free(perm);
    return st;
}

/* Read member `key` of z, requiring dtype and element count. */
static dale_status read_exact(dale_npz *z, const char *path, const char *key, dale_dtype t, size_t count,
                              void *dst)
{
    dale_array a;
    dale_status st = dale_npz_read(z, key, &a);
    if (st) return st;
    if (a.dtype != t || a.count != count) {
        dale_array_free(&a);
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: member '%s' has the wrong dtype or size (want %zu %s)", path, key,
                         count, dale_dtype_descr(t));
    }
    memcpy(dst, a.data, count * dale_dtype_size(t));
    dale_array_free(&a);
    return DALE_OK;
}

/* Everything a checkpoint restores is checked before any of it is used:
 * a state the loop could never have written (an all-zero generator, which
 * is xoshiro's fixed point and hangs the shuffle's bounded draw; a batch
 * order that is no permutation; a lr or clock that is not a finite
 * positive number; counters beyond the epoch) is refused naming the member. */
#define CORRUPT(member, ...)                                                                              \
    DALE_FAIL(DALE_ERR_FORMAT, "%s: corrupt checkpoint: member '" member "' " __VA_ARGS__)

static dale_status check_state(const dale_trainer *tr, const char *path, const uint64_t s[4],
                               const double cache[2], const int64_t counters[3], double lr, double wall,
                               const double *rb, const uint64_t *perm, const dale_signs *sg)
{
    if (!(s[0] | s[1] | s[2] | s[3]))
        return CORRUPT("state.rng", "is all zero (a generator state is never zero)", path);
    if (!(cache[0] == 0 || cache[0] == 1) || !isfinite(cache[1]))
        return CORRUPT("state.rng_cache", "holds %g, %g (want a flag 0 or 1 and a finite number)", path, cache[0],
                       cache[1]);
    if (!(isfinite(lr) && lr > 0))
        return CORRUPT("state.lr", "is %g (want a finite learning rate > 0)", path, lr);
    if (!(isfinite(wall) && wall >= 0))
        return CORRUPT("state.wall", "is %g (want finite seconds >= 0)", path, wall);
    /* The batch position is always inside an epoch (it wraps to 0 at its end),
     * and every update advanced it: updates = epoch * batches + position. */
    int64_t ep = counters[0], bi = counters[1], up = counters[2], nb = (int64_t)tr->nbatch;
    if (ep < 0 || bi < 0 || bi >= nb || up < 0 || ep > (INT64_MAX - bi) / nb || up != ep * nb + bi)
        return CORRUPT("state.counters",
                       "holds epoch %lld, batch %lld, updates %lld (want 0 <= batch < %lld batches per epoch and "
                       "updates = epoch * %lld + batch)",
                       path, (long long)ep, (long long)bi, (long long)up, (long long)nb, (long long)nb);
    for (int i = 0; i < 2 * RING; i++)
        if (isinf(rb[i]))
            return CORRUPT("state.ring", "holds %g at %d (want finite losses and errors, or nan for none)", path,
                           rb[i], i);
    /* A permutation of 0..N-1; before the first update the order is still
     * the initial all-zero one (the first update draws it). */
    int initial = up == 0;
    for (size_t k = 0; k < tr->ntrain && initial; k++) initial = perm[k] == 0;
    if (!initial) {
        unsigned char *seen = dalei_calloc(tr->ntrain, 1);
        if (!seen) return DALE_ERR_NOMEM;
        for (size_t k = 0; k < tr->ntrain; k++) {
            if (perm[k] >= tr->ntrain || seen[perm[k]]) {
                unsigned long long v = (unsigned long long)perm[k];
                int dup = perm[k] < tr->ntrain;
                dalei_free(seen);
                return CORRUPT("state.perm", "holds %s %llu at position %zu (want each of 0..%zu exactly once)",
                               path, dup ? "a second" : "the out-of-range index", v, k, tr->ntrain - 1);
            }
            seen[perm[k]] = 1;
        }
        dalei_free(seen);
    }
    for (size_t k = 0; sg && k < sg->size; k++)
        if (!(sg->s[k] == 1.0f || sg->s[k] == 0.0f || sg->s[k] == -1.0f))
            return CORRUPT("state.signs", "holds %g at %zu (want -1, 0 or +1)", path, (double)sg->s[k], k);
    return DALE_OK;
}

/* The parameters of a checkpoint, checked before the network takes them:
 * present with the right dtype and size, finite, and the sign-constrained
 * ones (DALE_P_NONNEG) >= 0 where the policy projects them. */
static dale_status check_params(const dale_trainer *tr, dale_npz *z, const char *path)
{
    for (size_t i = 0; i < dale_net_nparams(tr->net); i++) {
        const dale_param *q = dale_net_param(tr->net, i);
        dale_array a;
        dale_status st = dalei_param_read(z, q, path, &a);
        if (st) return st;
        const float *w = a.data;
        int nonneg = tr->pol.project && (q->flags & DALE_P_NONNEG);
        for (size_t k = 0; k < a.count && !st; k++)
            if (!isfinite(w[k]) || (nonneg && w[k] < 0.0f))
                st = DALE_FAIL(DALE_ERR_FORMAT, "%s: corrupt checkpoint: member '%s' holds %g at %zu (want %s)",
                               path, q->name, (double)w[k], k,
                               nonneg ? "finite weights >= 0: the parameter is sign-constrained" : "finite weights");
        dale_array_free(&a);
        if (st) return st;
    }
    return DALE_OK;
}

dale_status dale_trainer_state_load(dale_trainer *tr, dale_npz *z, const char *path)
{
    if (!tr || !z) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_state_load: a NULL argument");
    if (!path) path = "checkpoint";
    int64_t counters[3];
    double lr, wall, cache[2], rb[2 * RING];
    uint64_t s[4];
    dale_signs sg = {NULL, 0};
    dale_adam ad = {NULL, NULL, 0, 0};
    int64_t adam_t = 0;
    dale_status st = DALE_OK;
    uint64_t *perm = dalei_alloc(tr->ntrain, sizeof(uint64_t));
    if (!perm) return DALE_ERR_NOMEM;
    if (!st) st = read_exact(z, path, "state.rng", DALE_U64, 4, s);
    if (!st) st = read_exact(z, path, "state.rng_cache", DALE_F64, 2, cache);
    if (!st) st = read_exact(z, path, "state.counters", DALE_I64, 3, counters);
    if (!st) st = read_exact(z, path, "state.lr", DALE_F64, 1, &lr);
    if (!st) st = read_exact(z, path, "state.wall", DALE_F64, 1, &wall);
    if (!st) st = read_exact(z, path, "state.ring", DALE_F64, 2 * RING, rb);
    if (!st) st = read_exact(z, path, "state.perm", DALE_U64, tr->ntrain, perm);
    if (!st && dale_npz_has(z, "state.signs")) {
        if (!(st = dale_signs_record(&sg, tr->net)))
            st = read_exact(z, path, "state.signs", DALE_F32, sg.size, sg.s);
    }
    if (!st && tr->adam.m) {
        /* an Adam run's checkpoint holds its moments and step count */
        size_t na = dale_net_size(tr->net);
        if (!(st = dale_adam_init(&ad, na)) && !(st = read_exact(z, path, "state.adam_m", DALE_F32, na, ad.m)) &&
            !(st = read_exact(z, path, "state.adam_v", DALE_F32, na, ad.v)))
            st = read_exact(z, path, "state.adam_t", DALE_I64, 1, &adam_t);
        for (size_t k = 0; !st && k < na; k++)
            if (!isfinite(ad.m[k]) || !(ad.v[k] >= 0.0f && isfinite(ad.v[k])))
                st = CORRUPT("state.adam_m/v", "holds m %g, v %g at %zu (want finite moments, v >= 0)", path,
                             (double)ad.m[k], (double)ad.v[k], k);
        if (!st && adam_t != counters[2])
            st = CORRUPT("state.adam_t", "is %lld (want the update count %lld: one Adam step per update)", path,
                         (long long)adam_t, (long long)counters[2]);
    }
    if (!st) st = check_state(tr, path, s, cache, counters, lr, wall, rb, perm, sg.s ? &sg : NULL);
    if (!st) {
        memcpy(tr->order.s, s, sizeof s);
        tr->order.has_cached = cache[0] != 0;
        tr->order.cached_normal = cache[1];
        tr->epoch = (long)counters[0];
        tr->bi = (long)counters[1];
        tr->updates = (long)counters[2];
        tr->lr = lr;
        tr->wall_base = wall; /* the clock runs on from the trainer's creation */
        memcpy(tr->ring_loss, rb, sizeof tr->ring_loss);
        memcpy(tr->ring_err, rb + RING, sizeof tr->ring_err);
        for (size_t k = 0; k < tr->ntrain; k++) tr->perm[k] = (size_t)perm[k];
        if (sg.s) {
            dale_signs_free(&tr->signs);
            tr->signs = sg;
            sg.s = NULL;
        }
        if (ad.m) {
            dale_adam_free(&tr->adam);
            tr->adam = ad;
            tr->adam.t = (long)adam_t;
            ad.m = ad.v = NULL;
        }
        tr->diverged[0] = '\0';
    }
    dale_adam_free(&ad);
    dale_signs_free(&sg);
    dalei_free(perm);
    return st;
}

dale_status dale_trainer_checkpoint_save(dale_trainer *tr, const char *path)
{
    if (!tr || !path) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_checkpoint_save: a NULL argument");
    dale_npz_writer *w;
    dale_status st = dale_npz_writer_create(path, &w);
    if (st) return st;
    if ((st = dale_params_save(tr->net, w)) || (st = dale_trainer_state_save(tr, w))) {
        dale_npz_writer_free(w);
        return st;
    }
    return dale_npz_writer_commit(w);
}

dale_status dale_trainer_checkpoint_load(dale_trainer *tr, const char *path)
{
    if (!tr || !path) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_checkpoint_load: a NULL argument");
    dale_npz *z;
    dale_status st = dale_npz_open(path, &z);
    if (st) return st;
    /* All checks first: a corrupt member leaves network and state as they were. */
    st = check_params(tr, z, path);
    if (!st) st = dale_params_check_masks(tr->net, z, path);
    if (!st) st = dale_trainer_state_load(tr, z, path);
    if (!st) st = dale_params_load(tr->net, z, path);
    dale_npz_close(z);
    return st;
}
