/* adding.c — the adding problem (paper Sec. 6.2.1; docs/reference-behaviour.md, Tasks).
 *
 * The whole data set is generated once at creation: values (N, T) and the
 * two marked positions per sequence, in a fixed draw order (for each
 * sequence: T values, then the two positions), so it is a function of
 * data_seed alone and independent of the run seed.  Memory: N*T floats.
 */
#include <string.h>
#include "dale/rng.h"
#include "dale/taskdesc.h"
#include "internal.h"

typedef struct adding {
    dale_task task;
    size_t N, T, off[3];  /* split offsets into the sequence arrays */
    float *value;         /* (N, T) */
    uint32_t *mark;       /* (N, 2) marked positions, distinct */
} adding;

static dale_status adding_batch(dale_task *t, dale_split split, const size_t *idx, size_t B,
                                float *x, float *yf, int32_t *yi)
{
    (void)yi;
    adding *a = t->impl;
    size_t T = a->T;
    if ((unsigned)split > DALE_SPLIT_TEST)
        return DALE_FAIL(DALE_ERR_ARG, "adding: split %d does not exist", (int)split);
    for (size_t b = 0; b < B; b++) {
        if (idx[b] >= t->count[split])
            return DALE_FAIL(DALE_ERR_ARG, "adding: sample %zu out of range (split has %zu)",
                             idx[b], t->count[split]);
        size_t s = a->off[split] + idx[b];
        const float *v = a->value + s * T;
        for (size_t k = 0; k < T; k++) {
            x[(k * B + b) * 2 + 0] = v[k];
            x[(k * B + b) * 2 + 1] = 0.0f;
        }
        uint32_t p = a->mark[2 * s], q = a->mark[2 * s + 1];
        x[(p * B + b) * 2 + 1] = 1.0f;
        x[(q * B + b) * 2 + 1] = 1.0f;
        yf[b] = v[p] + v[q];
    }
    return DALE_OK;
}

static void adding_destroy(dale_task *t)
{
    adding *a = t->impl;
    dalei_free(a->value);
    dalei_free(a->mark);
    dalei_free(a);
}

dale_status dale_task_adding_create(const dale_adding_config *cfg, dale_task **out)
{
    *out = NULL;
    if (cfg->T < 2) return DALE_FAIL(DALE_ERR_ARG, "adding: sequence length must be >= 2 (got %zu)", cfg->T);
    if (cfg->T > 100000) return DALE_FAIL(DALE_ERR_ARG, "adding: sequence length %zu is absurd (max 100000)", cfg->T);
    size_t need = cfg->paper_split ? 2 * cfg->n_test : cfg->n_test;
    if (cfg->n_test == 0 || cfg->N <= need)
        return DALE_FAIL(DALE_ERR_ARG, "adding: %zu sequences cannot hold %s test set of %zu",
                         cfg->N, cfg->paper_split ? "a validation and a" : "a", cfg->n_test);
    if (cfg->N > ((size_t)1 << 26) / cfg->T * 16)
        return DALE_FAIL(DALE_ERR_ARG, "adding: %zu sequences of %zu steps is too large", cfg->N, cfg->T);
    adding *a = dalei_calloc(1, sizeof *a);
    if (!a) return DALE_ERR_NOMEM;
    a->N = cfg->N;
    a->T = cfg->T;
    a->value = dalei_alloc(cfg->N * cfg->T, sizeof(float));
    a->mark = dalei_alloc(cfg->N * 2, sizeof(uint32_t));
    if (!a->value || !a->mark) {
        dalei_free(a->value);
        dalei_free(a->mark);
        dalei_free(a);
        return DALE_ERR_NOMEM;
    }
    dale_rng rng;
    dale_rng_seed(&rng, cfg->data_seed);
    for (size_t s = 0; s < cfg->N; s++) {
        for (size_t k = 0; k < cfg->T; k++) a->value[s * cfg->T + k] = (float)dale_rng_uniform01(&rng);
        uint32_t p = (uint32_t)dale_rng_below(&rng, cfg->T);
        uint32_t q = (uint32_t)dale_rng_below(&rng, cfg->T - 1);
        if (q >= p) q++; /* uniform over the other T-1 positions */
        a->mark[2 * s] = p;
        a->mark[2 * s + 1] = q;
    }
    dale_task *t = &a->task;
    t->name = "adding";
    t->T = cfg->T;
    t->input = 2;
    t->output = 1;
    t->loss = DALE_LOSS_MSE_LAST;
    t->input_mean = 0.3; /* the reference's hard-coded value for adding */
    size_t ntr = cfg->N - need;
    t->count[DALE_SPLIT_TRAIN] = ntr;
    t->count[DALE_SPLIT_VAL] = cfg->paper_split ? cfg->n_test : 0;
    t->count[DALE_SPLIT_TEST] = cfg->n_test;
    a->off[DALE_SPLIT_TRAIN] = 0;
    a->off[DALE_SPLIT_VAL] = ntr;
    a->off[DALE_SPLIT_TEST] = cfg->N - cfg->n_test;
    t->batch = adding_batch;
    t->destroy = adding_destroy;
    t->impl = a;
    *out = t;
    return DALE_OK;
}

/* ------------------------------------------------------------ registry */

static const dale_task_option adding_options[] = {
    {"adding_n", DALE_OPT_LONG, "10000", "number of sequences", NULL, 2},
    {"adding_len", DALE_OPT_LONG, "20", "sequence length T", NULL, 2},
    {"adding_test", DALE_OPT_LONG, "1000", "test (and paper-split validation) size", NULL, 1},
};

/* The reference script: batch 64, 100 epochs, lr 0.1 x 0.99 after every
 * 20th batch of an epoch; clipping ColEI 7 per tensor, DANN 3 per layer,
 * the standard RNN none. */
static const dale_task_default adding_defaults[] = {
    {NULL, "hidden", "10"},    {NULL, "batch", "64"},          {NULL, "epochs", "100"},
    {NULL, "eval_every", "20"}, {NULL, "lr", "0.1"},            {NULL, "lr_decay", "0.99"},
    {NULL, "lr_decay_every", "20"}, {NULL, "clip", "0"},       {"colei", "clip", "7"},
    {"dann", "clip", "3"},
};

static dale_status adding_shape(const dale_options *o, dale_task_shape *s)
{
    double N = (double)dale_opt_long(o, "adding_n"), T = (double)dale_opt_long(o, "adding_len");
    double test = (double)dale_opt_long(o, "adding_test");
    double held = dale_opt_is(o, "split", "paper") ? 2.0 * test : test;
    memset(s, 0, sizeof *s);
    s->T = s->Tin = T;
    s->input = 2;
    s->output = 1;
    s->ntrain = N - held;
    s->neval = s->eval_max = held;
    if (held > test) s->eval_max = test;
    s->rows = 1;
    s->data_bytes = 4.0 * N * (T + 2);
    return DALE_OK;
}

static dale_status adding_create(const dale_options *o, dale_task **out)
{
    dale_adding_config ac = {(size_t)dale_opt_long(o, "adding_n"), (size_t)dale_opt_long(o, "adding_len"),
                             (size_t)dale_opt_long(o, "adding_test"), dale_opt_u64(o, "data_seed"),
                             dale_opt_is(o, "split", "paper")};
    return dale_task_adding_create(&ac, out);
}

const dale_task_desc dalei_task_adding = {
    "adding", "the adding problem: sum the two marked values of a sequence (MSE at the last step)",
    adding_options, sizeof adding_options / sizeof adding_options[0],
    adding_defaults, sizeof adding_defaults / sizeof adding_defaults[0],
    NULL, adding_shape, adding_create,
};
