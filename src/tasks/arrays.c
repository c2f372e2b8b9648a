/* arrays.c — a task over caller-owned arrays (include/dale/task.h).
 *
 * Nothing is copied: batches are gathered straight from the caller's
 * sample-major arrays into the time-major batch buffers.  Everything the
 * loss will read is checked once at creation, so a batch cannot fail on
 * data (only on an index out of range).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dale/task.h"
#include "internal.h"

typedef struct arrays {
    dale_task task;
    dale_arrays_task_config c; /* borrowed pointers */
    size_t off[3];             /* first sample of each split */
    char name[64];
    char summary[200];
} arrays;

static dale_status arrays_check(const dale_task *t, dale_split split, const size_t *idx, size_t B)
{
    if ((unsigned)split > DALE_SPLIT_TEST)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: split %d does not exist", t->name, (int)split);
    for (size_t b = 0; b < B; b++)
        if (idx[b] >= t->count[split])
            return DALE_FAIL(DALE_ERR_ARG, "task %s: sample %zu out of range (split has %zu)", t->name, idx[b],
                             t->count[split]);
    return DALE_OK;
}

static dale_status arrays_batch(dale_task *t, dale_split split, const size_t *idx, size_t B, float *x,
                                float *yf, int32_t *yi)
{
    const arrays *a = t->impl;
    const dale_arrays_task_config *c = &a->c;
    dale_status st = arrays_check(t, split, idx, B);
    if (st) return st;
    size_t T = c->T, d = c->input, m = c->output;
    for (size_t b = 0; b < B; b++) {
        size_t s = a->off[split] + idx[b];
        for (size_t k = 0; k < T; k++)
            memcpy(x + (k * B + b) * d, c->x + (s * T + k) * d, d * sizeof *x);
        switch (c->loss) {
        case DALE_LOSS_MSE_LAST:
            memcpy(yf + b * m, c->yf + s * m, m * sizeof *yf);
            break;
        case DALE_LOSS_CE_LAST:
            yi[b] = c->yi[s];
            break;
        case DALE_LOSS_MSE_WEIGHTED:
            for (size_t k = 0; k < T; k++)
                memcpy(yf + (k * B + b) * m, c->yf + (s * T + k) * m, m * sizeof *yf);
            break;
        default: /* CE_EVERY, CE_WEIGHTED */
            for (size_t k = 0; k < T; k++) yi[k * B + b] = c->yi[s * T + k];
            break;
        }
    }
    return DALE_OK;
}

static dale_status arrays_weights(dale_task *t, dale_split split, const size_t *idx, size_t B, size_t T,
                                  float *w)
{
    const arrays *a = t->impl;
    dale_status st = arrays_check(t, split, idx, B);
    if (st) return st;
    if (T != a->c.T)
        return DALE_FAIL(DALE_ERR_SHAPE, "task %s: weights for %zu steps asked, samples have %zu", t->name, T,
                         a->c.T);
    for (size_t b = 0; b < B; b++) {
        size_t s = a->off[split] + idx[b];
        for (size_t k = 0; k < T; k++) w[k * B + b] = a->c.w ? a->c.w[s * T + k] : 1.0f;
    }
    return DALE_OK;
}

static void arrays_destroy(dale_task *t)
{
    dalei_free(t->impl);
}

/* a * b * c, or 0 with *ovf = 1 when it exceeds `limit`. */
static size_t mul3(size_t a, size_t b, size_t c, size_t limit, int *ovf)
{
    if (a && b > limit / a) { *ovf = 1; return 0; }
    size_t ab = a * b;
    if (ab && c > limit / ab) { *ovf = 1; return 0; }
    return ab * c;
}

static int finite_f(float v)
{
    return isfinite(v);
}

/* Weight of sample s, step k (1 without a weight array). */
static float weight_at(const dale_arrays_task_config *c, size_t s, size_t k)
{
    return c->w ? c->w[s * c->T + k] : 1.0f;
}

/* Tasks sit below the trainer, so the loss helpers of train/ are not
 * called from here; the enum itself is shared through task.h. */
static const char *const kind_names[DALE_LOSS_COUNT] = {"DALE_LOSS_MSE_LAST", "DALE_LOSS_CE_LAST",
                                                        "DALE_LOSS_CE_EVERY", "DALE_LOSS_MSE_WEIGHTED",
                                                        "DALE_LOSS_CE_WEIGHTED"};

static int is_weighted(dale_loss_kind k)
{
    return k == DALE_LOSS_MSE_WEIGHTED || k == DALE_LOSS_CE_WEIGHTED;
}

static dale_status validate(const dale_arrays_task_config *c, const char *nm)
{
    if (!c->x) return DALE_FAIL(DALE_ERR_ARG, "task %s: inputs x are NULL (want float [N][T][input])", nm);
    if (c->N == 0 || c->T == 0 || c->input == 0 || c->output == 0)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: sizes must be > 0 (got N %zu, T %zu, input %zu, output %zu)", nm,
                         c->N, c->T, c->input, c->output);
    int ovf = 0;
    size_t limit = ((size_t)1 << 40) / sizeof(float);
    mul3(c->N, c->T, c->input, limit, &ovf);
    mul3(c->N, c->T, c->output, limit, &ovf);
    if (ovf)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: %zu samples x %zu steps x %zu/%zu inputs/outputs is too large", nm,
                         c->N, c->T, c->input, c->output);
    if (c->n_train > c->N || c->n_val > c->N - c->n_train || c->n_test != c->N - c->n_train - c->n_val)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: train %zu + val %zu + test %zu samples must add up to N = %zu", nm,
                         c->n_train, c->n_val, c->n_test, c->N);
    if ((unsigned)c->loss >= DALE_LOSS_COUNT)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: unknown loss kind %d", nm, (int)c->loss);
    int weighted = is_weighted(c->loss), cls = c->loss != DALE_LOSS_MSE_LAST && c->loss != DALE_LOSS_MSE_WEIGHTED;
    const char *lname = kind_names[c->loss];
    if (cls && !c->yi)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: loss %s needs int32 labels yi (%s), got NULL", nm, lname,
                         c->loss == DALE_LOSS_CE_LAST ? "[N]" : "[N][T]");
    if (!cls && !c->yf)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: loss %s needs float targets yf (%s), got NULL", nm, lname,
                         c->loss == DALE_LOSS_MSE_LAST ? "[N][output]" : "[N][T][output]");
    if (cls && c->yf)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: loss %s takes labels yi; float targets yf must be NULL", nm, lname);
    if (!cls && c->yi)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: loss %s takes float targets yf; labels yi must be NULL", nm, lname);
    if (c->w && !weighted)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: weights w need a weighted loss (DALE_LOSS_MSE_WEIGHTED or "
                         "DALE_LOSS_CE_WEIGHTED), "
                         "not %s", nm, lname);
    if (cls && c->output < 2)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: loss %s needs output >= 2 classes (got %zu)", nm, lname, c->output);

    size_t T = c->T, d = c->input, m = c->output;
    for (size_t s = 0; s < c->N; s++)
        for (size_t k = 0; k < T; k++)
            for (size_t i = 0; i < d; i++)
                if (!finite_f(c->x[(s * T + k) * d + i]))
                    return DALE_FAIL(DALE_ERR_ARG, "task %s: input x[%zu][%zu][%zu] = %g is not finite", nm, s, k,
                                     i, (double)c->x[(s * T + k) * d + i]);
    if (c->w)
        for (size_t s = 0; s < c->N; s++)
            for (size_t k = 0; k < T; k++) {
                float v = c->w[s * T + k];
                if (!finite_f(v) || v < 0.0f)
                    return DALE_FAIL(DALE_ERR_ARG, "task %s: weight w[%zu][%zu] = %g is %s", nm, s, k, (double)v,
                                     finite_f(v) ? "negative" : "not finite");
            }
    /* Targets, where the loss reads them. */
    for (size_t s = 0; s < c->N; s++) {
        switch (c->loss) {
        case DALE_LOSS_MSE_LAST:
            for (size_t j = 0; j < m; j++)
                if (!finite_f(c->yf[s * m + j]))
                    return DALE_FAIL(DALE_ERR_ARG, "task %s: target yf[%zu][%zu] = %g is not finite", nm, s, j,
                                     (double)c->yf[s * m + j]);
            break;
        case DALE_LOSS_CE_LAST:
            if (c->yi[s] < 0 || (size_t)c->yi[s] >= m)
                return DALE_FAIL(DALE_ERR_ARG, "task %s: label yi[%zu] = %d is outside [0, %zu)", nm, s,
                                 (int)c->yi[s], m);
            break;
        case DALE_LOSS_MSE_WEIGHTED:
            for (size_t k = 0; k < T; k++) {
                if (!(weight_at(c, s, k) > 0.0f)) continue;
                for (size_t j = 0; j < m; j++)
                    if (!finite_f(c->yf[(s * T + k) * m + j]))
                        return DALE_FAIL(DALE_ERR_ARG, "task %s: target yf[%zu][%zu][%zu] = %g is not finite "
                                         "(at a step of weight > 0)", nm, s, k, j, (double)c->yf[(s * T + k) * m + j]);
            }
            break;
        default: /* CE_EVERY, CE_WEIGHTED */
            for (size_t k = 0; k < T; k++) {
                int32_t y = c->yi[s * T + k];
                if (weight_at(c, s, k) > 0.0f && (y < 0 || (size_t)y >= m))
                    return DALE_FAIL(DALE_ERR_ARG, "task %s: label yi[%zu][%zu] = %d is outside [0, %zu)%s", nm, s,
                                     k, (int)y, m, weighted ? " (at a step of weight > 0)" : "");
            }
            break;
        }
    }
    /* A split whose weights are all 0 has nothing to score. */
    if (c->w) {
        static const char *const split_names[3] = {"train", "val", "test"};
        size_t cnt[3] = {c->n_train, c->n_val, c->n_test}, off = 0;
        for (int sp = 0; sp < 3; sp++) {
            int any = 0;
            for (size_t k = off * T; k < (off + cnt[sp]) * T && !any; k++) any = c->w[k] > 0.0f;
            if (cnt[sp] && !any)
                return DALE_FAIL(DALE_ERR_ARG, "task %s: every weight of the %s split (samples %zu..%zu) is 0", nm,
                                 split_names[sp], off, off + cnt[sp] - 1);
            off += cnt[sp];
        }
    }
    return DALE_OK;
}

dale_status dale_task_arrays_create(const dale_arrays_task_config *cfg, dale_task **out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_task_arrays_create: out is NULL");
    *out = NULL;
    if (!cfg) return DALE_FAIL(DALE_ERR_ARG, "dale_task_arrays_create: cfg is NULL");
    const char *nm = cfg->name ? cfg->name : "arrays";
    dale_status st = validate(cfg, nm);
    if (st) return st;
    arrays *a = dalei_calloc(1, sizeof *a);
    if (!a) return DALE_ERR_NOMEM;
    a->c = *cfg;
    snprintf(a->name, sizeof a->name, "%s", nm);
    a->off[DALE_SPLIT_TRAIN] = 0;
    a->off[DALE_SPLIT_VAL] = cfg->n_train;
    a->off[DALE_SPLIT_TEST] = cfg->n_train + cfg->n_val;
    /* Mean input over the training samples (all samples without any). */
    size_t per = cfg->T * cfg->input, ns = cfg->n_train ? cfg->n_train : cfg->N;
    double sum = 0;
    for (size_t k = 0; k < ns * per; k++) sum += (double)cfg->x[k];
    dale_task *t = &a->task;
    t->name = a->name;
    t->T = cfg->T;
    t->input = cfg->input;
    t->output = cfg->output;
    t->loss = cfg->loss;
    t->count[DALE_SPLIT_TRAIN] = cfg->n_train;
    t->count[DALE_SPLIT_VAL] = cfg->n_val;
    t->count[DALE_SPLIT_TEST] = cfg->n_test;
    t->input_mean = sum / (double)(ns * per);
    t->batch = arrays_batch;
    t->weights = is_weighted(cfg->loss) ? arrays_weights : NULL;
    t->destroy = arrays_destroy;
    t->impl = a;
    snprintf(a->summary, sizeof a->summary, "%s: %zu samples of %zu steps (%zu in, %zu out, %s%s), train/val/test %zu/%zu/%zu",
             a->name, cfg->N, cfg->T, cfg->input, cfg->output, kind_names[cfg->loss],
             cfg->w ? ", weights" : "", cfg->n_train, cfg->n_val, cfg->n_test);
    t->summary = a->summary;
    *out = t;
    return DALE_OK;
}
