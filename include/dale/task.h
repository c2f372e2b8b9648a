/* dale/task.h — tasks: where batches come from.
 *
 * A task knows its sequence length T, input width d, output width m, its loss
 * and its splits; it knows nothing of model types.  Batches are time-major:
 * x is (T, B, d).  Targets: MSE tasks fill yf (B, m), or (T, B, m) for the
 * weighted kind; classification tasks fill yi (B) for last-step losses or
 * (T, B) for every-step and weighted losses (docs/losses.md).
 * Samples are addressed by index within a split, so the trainer owns the
 * shuffling (and its RNG) and a run is reproducible from its seed.
 */
#ifndef DALE_TASK_H
#define DALE_TASK_H

#include <stddef.h>
#include <stdint.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Loss kinds.  The network output is (R, m) at the last step for the *_LAST
 * kinds and (T, R, m), one prediction per step and batch row, for the others.
 *   MSE_LAST      targets yf (R, m);    mean over R*m of (out - y)^2
 *   CE_LAST       labels  yi (R);       mean cross-entropy over R rows
 *   CE_EVERY      labels  yi (T, R);    mean cross-entropy over T*R predictions
 *   MSE_WEIGHTED  targets yf (T, R, m), weights w (T, R)
 *   CE_WEIGHTED   labels  yi (T, R),    weights w (T, R)
 * Weighted kinds: with l_tr the loss of one prediction (MSE: the mean over
 * the m outputs of (out - y)^2; CE: -log softmax(out)_y) and W = sum of w,
 *     loss = sum_{t,r} w_tr l_tr / W,
 * and steps with w_tr = 0 are not scored at all (their targets are never
 * read).  Weights 1 at the last step only give MSE_LAST / CE_LAST (to float
 * round-off), weights 1 everywhere give CE_EVERY.  Values are fixed: new
 * kinds are appended. */
typedef enum dale_loss_kind {
    DALE_LOSS_MSE_LAST,
    DALE_LOSS_CE_LAST,
    DALE_LOSS_CE_EVERY,
    DALE_LOSS_MSE_WEIGHTED,
    DALE_LOSS_CE_WEIGHTED,
    DALE_LOSS_COUNT
} dale_loss_kind;

/* "mse_last", "ce_last", "ce_every", "mse_weighted", "ce_weighted"; "?" for
 * a value out of range. */
DALE_API const char *dale_loss_name(dale_loss_kind k);
/* 1 for the cross-entropy kinds (labels, argmax error counting), else 0. */
DALE_API int dale_loss_is_classification(dale_loss_kind k);
/* 1 when the network must output every step (all_steps = 1 in
 * dale_net_forward): CE_EVERY and the weighted kinds. */
DALE_API int dale_loss_all_steps(dale_loss_kind k);
/* 1 for the kinds that take per-step weights. */
DALE_API int dale_loss_is_weighted(dale_loss_kind k);

typedef enum dale_split { DALE_SPLIT_TRAIN, DALE_SPLIT_VAL, DALE_SPLIT_TEST } dale_split;

typedef struct dale_task dale_task;
struct dale_trial;
struct dale_task {
    const char *name;
    size_t T, input, output;
    dale_loss_kind loss;
    size_t count[3]; /* samples per split (0: split absent) */
    double input_mean; /* dataset mean of the inputs (ColEI bias centering) */
    /* Fill x (T, B, d) and targets for samples idx[0..B) of `split`.  On an
     * error (an index out of range) x and the targets may be partly written. */
    dale_status (*batch)(dale_task *t, dale_split split, const size_t *idx, size_t B, float *x,
                         float *yf, int32_t *yi);
    void (*destroy)(dale_task *t);
    void *impl;
    /* Optional, for tasks whose samples are not single fixed-length
     * sequences (lm): sample_rows[s] is the number of batch rows one sample
     * of split s fills (0 means 1; when the training value is > 1 an update
     * takes exactly one sample); steps, when set, gives the time steps
     * (1..T) of the batch of samples idx[0..B), and `batch` then fills x and
     * the targets for that many steps (rows packed as for a T of that size). */
    size_t sample_rows[3];
    size_t (*steps)(const dale_task *t, dale_split split, const size_t *idx, size_t B);
    const char *summary; /* one line about the loaded data for logs (NULL: none) */
    /* Optional, for the weighted loss kinds (DALE_LOSS_MSE_WEIGHTED,
     * DALE_LOSS_CE_WEIGHTED; ignored for the others): fill w (T, R),
     * time-major like x, R = B times the split's sample_rows, with the loss
     * weight of each step of samples idx[0..B) of `split` (finite, >= 0;
     * 0 = not scored).  T is the batch's step count (steps() or the task's
     * T).  Called after `batch`.  NULL: every weight is 1.  For weighted
     * kinds `batch` fills targets at every step: yf (T, R, m) or yi (T, R). */
    dale_status (*weights)(dale_task *t, dale_split split, const size_t *idx, size_t B, size_t T,
                           float *w);
    /* Optional, for trial-based tasks (pdm, cdm, dms; docs/neuro.md), whose
     * error is counted over trials, not steps.  score: given out (T, B, m),
     * the every-step outputs for samples idx[0..B) of `split` (T as for
     * `weights`), set *ncorrect to the number of correct trials (see
     * dale_trial_outcome).  When set, dale_batch_run reports that count and
     * B as its error denominator.  trial: the condition labels of sample idx
     * of `split` (DALE_ERR_ARG when idx is out of range). */
    dale_status (*score)(dale_task *t, dale_split split, const size_t *idx, size_t B, size_t T,
                         const float *out, size_t *ncorrect);
    dale_status (*trial)(dale_task *t, dale_split split, size_t idx, struct dale_trial *info);
};

/* The condition labels of one trial of a trial-based task.  Output 0 is
 * "fixate"; outputs 1..m-1 are the choices, choice c being output c + 1.
 * Periods are consecutive: period k covers steps [start[k], start[k+1]),
 * start[nperiods] = len, the trial's length (steps from len to the task's T
 * are padding, weight 0).  The last period is the decision period (the go
 * cue: the fixation input is off from its first step). */
#define DALE_TRIAL_PERIODS 6
typedef struct dale_trial {
    int32_t truth;    /* the correct choice (0-based; output truth + 1)          */
    int32_t context;  /* cdm: the cued modality (0, 1); -1 for other tasks        */
    int32_t cond;     /* the condition index (balanced: trial i has i mod ncond)  */
    double coh[2];    /* signed coherence in % per modality: > 0 is evidence for
                         choice 1 (output 2), < 0 for choice 0; pdm: coh[1] = 0  */
    int32_t dir[2];   /* the choice each modality's evidence supports (pdm: dir[0]
                         = truth, dir[1] = -1; cdm: both; dms: -1), defined even
                         at coherence 0                                          */
    int32_t stim[2];  /* dms: sample and test stimulus (0-based); else -1         */
    size_t nperiods;
    const char *period[DALE_TRIAL_PERIODS];        /* names, static strings      */
    size_t start[DALE_TRIAL_PERIODS + 1];          /* first step of each, then len */
    size_t len;
    size_t grace;     /* steps at the start of the decision period that neither
                         the loss nor the choice reads (--<task>-grace; 0: none) */
} dale_trial;

/* Scoring of one trial as the field does it (docs/neuro.md, Cognitive
 * tasks).  out holds outputs time-major (T, B, m), the trial being column b;
 * m >= 2 (fixate + at least one choice).  Fixation is broken when, at any
 * step before the decision period, a choice output is strictly larger than
 * every earlier output (the argmax over all m outputs, first index on ties,
 * is not 0).  The choice is the argmax over outputs 1..m-1 of their mean
 * over the decision period after its first tr->grace steps (first index on
 * ties); the grace steps are not read at all (neither fixation nor choice),
 * the steps before the decision period are checked as without grace.
 * Returns 1 when fixation held and the choice is tr->truth, 0 for a wrong
 * choice, -1 for broken fixation; *choice (may be NULL) gets the choice
 * (0-based), or -1 when fixation broke.  The trial must fit: tr->len <= T and
 * a decision period of more than tr->grace steps (else -2). */
DALE_API int dale_trial_outcome(const float *out, size_t T, size_t B, size_t b, size_t m, const dale_trial *tr,
                                int *choice);

DALE_API void dale_task_free(dale_task *t); /* NULL-safe */

/* Adding problem (paper Sec. 6.2.1; docs/reference-behaviour.md, Tasks): N
 * sequences of length T; input at step t is (value_t, mark_t), value ~
 * U[0,1], exactly two marks chosen uniformly
 * without replacement; target = sum of the two marked values; MSE at the
 * last step.  Generated from `data_seed`.  Splits: paper_split = 0 (the
 * reference code): the last n_test sequences are the test set, the rest
 * train, no validation; paper_split = 1: train / val / test = N - 2 n_test,
 * n_test, n_test (8000/1000/1000 for N = 10000). */
typedef struct dale_adding_config {
    size_t N, T, n_test;
    uint64_t data_seed;
    int paper_split;
} dale_adding_config;
DALE_API dale_status dale_task_adding_create(const dale_adding_config *cfg, dale_task **out);

/* Sequential MNIST / Fashion-MNIST (paper Sec. 6.2.2; docs/reference-behaviour.md,
 * Tasks).  Reads the four IDX files (plain or .gz) from `dir`:
 * train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte.  Pixels stay uint8 in
 * memory and are scaled to [0, 1] (/255, nothing else) per batch.
 * variant: 0 row-wise (T = 28 steps of 28 pixels, top row first), 1 pixel-wise
 * (T = 784 steps of 1, row-major), 2 permuted pixel-wise (a fixed permutation
 * drawn from perm_seed).  Cross-entropy at the last step.
 * Splits: paper_split = 0 (reference): train 60000, test 10000, no
 * validation; 1: 10000 training images chosen by a shuffle seeded with
 * val_seed are held out as validation (train 50000). */
typedef struct dale_seqmnist_config {
    const char *dir;
    int variant;
    uint64_t perm_seed;
    int paper_split;
    uint64_t val_seed;
} dale_seqmnist_config;
DALE_API dale_status dale_task_seqmnist_create(const dale_seqmnist_config *cfg, dale_task **out);

/* A task over arrays the caller owns: N samples of T steps, the first
 * n_train of them the training split, the next n_val validation, the last
 * n_test test (n_train + n_val + n_test = N; a split may be empty).
 *
 * Layouts (sample-major, C order, as a NumPy array would be):
 *   x   float  [N][T][input]                         required
 *   yf  float  [N][T][output] for MSE_WEIGHTED,      MSE kinds only
 *              [N][output]    for MSE_LAST
 *   yi  int32  [N][T] for CE_WEIGHTED and CE_EVERY,  CE kinds only
 *              [N]    for CE_LAST
 *   w   float  [N][T], optional (NULL: all 1)        weighted kinds only
 *
 * The arrays are BORROWED, not copied: they must stay alive and unchanged
 * until dale_task_free.  `name` (NULL: "arrays") is copied.  Creation reads
 * every array once and refuses: a NULL cfg/out/x, a missing target array
 * or one the loss does not use, weights with an unweighted loss, any size
 * 0, split counts that do not add up to N, a CE loss with output < 2, a
 * non-finite input, a weight that is negative or not finite, a non-finite
 * target or a label outside [0, output) at a step whose weight is > 0
 * (steps of weight 0 are never read by the loss, so they may hold
 * anything, e.g. label -1), and a non-empty split whose weights are all 0.
 * Errors: DALE_ERR_ARG with a message naming the array, sample and step;
 * DALE_ERR_NOMEM.  input_mean (ColEI bias centering) is the mean of x over
 * the training samples (over all samples when n_train = 0). */
typedef struct dale_arrays_task_config {
    const char *name;
    size_t N, T, input, output;
    dale_loss_kind loss;
    const float *x;
    const float *yf;
    const int32_t *yi;
    const float *w;
    size_t n_train, n_val, n_test;
} dale_arrays_task_config;
DALE_API dale_status dale_task_arrays_create(const dale_arrays_task_config *cfg, dale_task **out);

#ifdef __cplusplus
}
#endif
#endif
