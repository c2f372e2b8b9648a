/* dale/eval.h — running a network on a task's batches; parameter files.
 *
 * A dale_batch binds a network to a task with the scratch buffers one batch
 * needs (inputs, targets, dL/dout) for up to Bmax samples; the trainer, the
 * evaluator and `dale eval` all run batches through it, so loss and error
 * are computed in one place.  Evaluation goes over a split in chunks (there
 * is no coupling between samples, so chunking does not change the result).
 */
#ifndef DALE_EVAL_H
#define DALE_EVAL_H

#include <stddef.h>
#include <stdint.h>
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dale_batch {
    dale_net *net;   /* not owned */
    dale_task *task; /* not owned */
    size_t Bmax;
    float *x, *yf, *dout;
    int32_t *yi;
    size_t npred;    /* predictions the last dale_batch_run scored (rows x steps for every-step
                        losses; for weighted losses the (step, row) pairs with weight > 0;
                        for tasks with a score hook the trials: B) */
    float *w;        /* weighted losses: the last batch's weights (T, rows); NULL otherwise */
    double wsum;     /* weighted losses: sum of the last batch's weights (else npred) */
} dale_batch;

/* Allocate buffers for up to Bmax batch rows (samples, or samples times the
 * task's sample_rows) and plan the net for (T, Bmax).  Targets are sized for
 * every step (T, Bmax, m), which the weighted kinds use; the weight buffer
 * is allocated for weighted kinds only.  DALE_ERR_ARG for an unknown loss. */
DALE_API dale_status dale_batch_init(dale_batch *b, dale_net *net, dale_task *task, size_t Bmax);
DALE_API void dale_batch_free(dale_batch *b); /* NULL-safe, idempotent */

/* Forward (and with backward = 1: zero the gradients, then BPTT) on samples
 * idx[0..B) of split (B times the split's sample_rows batch rows, over the
 * task's steps() or T steps).  *loss is the mean loss over the b->npred
 * predictions; *ncorrect counts correct argmax predictions (classification;
 * 0 for MSE).  A non-finite loss is returned as is, without a backward pass.
 *
 * Weighted kinds (dale_loss_is_weighted): the task's `batch` fills targets
 * at every step, its `weights` hook (all ones when NULL) fills w (T, R),
 * and the net runs with all_steps = 1.  *loss = sum w l / sum w (0 when
 * every weight is 0), b->npred counts the steps with w > 0 (the error
 * denominator), *ncorrect the correct ones among them, b->wsum = sum w.
 * A weight that is negative or not finite, or a label out of [0, m) where
 * w > 0, is DALE_ERR_ARG naming the step and row. */
DALE_API dale_status dale_batch_run(dale_batch *b, dale_split split, const size_t *idx, size_t B,
                                    int backward, double *loss, size_t *ncorrect);

/* Mean loss over every prediction of a whole split and error in percent
 * (NaN for MSE tasks), in chunks of at most `chunk` (<= Bmax) batch rows.
 * Weighted kinds: loss = sum w l / sum w over the whole split (0 if every
 * weight is 0), error = 100 (1 - correct / steps with w > 0) (NaN if none). */
DALE_API dale_status dale_evaluate(dale_batch *b, dale_split split, size_t chunk, double *loss,
                                   double *err);

/* Add every parameter (by table name) and each cell's effective W and U
 * ("cellK.W_eff", "cellK.U_eff") to an NPZ being written; a network with
 * connectivity masks adds each mask in force as float32 0/1 of its map's
 * shape ("cellK.U_mask", "cellK.W_mask", "denseK.W_mask", "out.W_mask"),
 * so the run's files say which connections existed (none otherwise). */
DALE_API dale_status dale_params_save(dale_net *net, dale_npz_writer *w);
/* Load every parameter of the table from z (dtype float32, exact sizes);
 * `path` names the file in messages. */
DALE_API dale_status dale_params_load(dale_net *net, dale_npz *z, const char *path);
/* The masks of net against those z holds (written by dale_params_save):
 * every mask in force must be there with the same values, and z may hold
 * no mask net lacks.  Errors: DALE_ERR_FORMAT naming path, the member and
 * what differs (a changed mask file on resume). */
DALE_API dale_status dale_params_check_masks(dale_net *net, dale_npz *z, const char *path);

/* ------------------------------------------------------------ trials */

/* Samples kept whole for analysis (dale eval --trials; docs/neuro.md): every
 * step of N samples of one split through a network.  Arrays are
 * sample-major (C order, as NumPy holds them); a sample shorter than T
 * (a cdm trial with a short delay) is padded with zeros (weight 0) in every
 * array, outputs and hidden states included (whatever the length of the
 * chunk it ran in).
 *   x       float  [N][T][input]
 *   yi      int32  [N][T] (every-step and weighted CE kinds) or [N] (CE_LAST)
 *   yf      float  [N][T][output] (MSE_WEIGHTED) or [N][output] (MSE_LAST)
 *   w       float  [N][T]: the loss weight of each step (the task's for the
 *                  weighted kinds; 1 at every scored step otherwise)
 *   h       float  [ncells][N][T][hidden]: each cell's h_t (NULL unless asked)
 *   out     float  [N][T][output]: the readout at every step
 * and, for trial-based tasks (a `trial` hook), per sample: the condition
 * labels, the choice and the outcome of dale_trial_outcome (1 correct,
 * 0 wrong, -1 fixation broken).  NULL there for other tasks. */
typedef struct dale_trials {
    size_t N, T, input, output, hidden, ncells;
    dale_loss_kind loss;
    float *x, *yf, *w, *h, *out;
    int32_t *yi;
    dale_trial *trial;
    int *choice, *outcome;
} dale_trials;

/* Run samples first..first+N-1 of `split` in chunks of at most `chunk`
 * samples (0: all at once; the chunking changes outputs and states by float
 * round-off at most, as products of other sizes may take other kernels) with every
 * step's readout; keep the hidden states when `states` is non-zero.  Plans
 * net for (T, chunk).  On success *tr owns its arrays (dale_trials_free);
 * on an error nothing is left allocated.  Errors: DALE_ERR_ARG (N = 0,
 * samples beyond the split, a task whose samples fill several batch rows:
 * lm's training windows), DALE_ERR_NOMEM, and those of the task and the
 * forward. */
DALE_API dale_status dale_trials_run(dale_net *net, dale_task *task, dale_split split, size_t first, size_t N,
                                     size_t chunk, int states, dale_trials *tr);
DALE_API void dale_trials_free(dale_trials *tr); /* NULL-safe; leaves *tr zeroed */
/* Write the trials as an NPZ (atomically): inputs, targets, weights,
 * hidden0.. (one per cell, when kept), outputs, and for trial-based tasks
 * truth, choice, outcome, condition, context, direction [N,2], stimulus
 * [N,2], periods [N, P+1] (int32), coherence [N,2] (float64) and
 * period_names (uint8 text, comma-separated).  Errors: DALE_ERR_IO,
 * DALE_ERR_NOMEM, DALE_ERR_ARG (nothing to save). */
DALE_API dale_status dale_trials_save(const dale_trials *tr, const char *path);

/* Performance of trial-based tasks per condition: the fraction of trials
 * correct and with fixation broken (outcomes of dale_trial_outcome), over
 * all trials and per group.  Groups: the context (cdm), then the absolute
 * coherence of the modality that decides (pdm, cdm: the cued one), or
 * match / non-match (dms); sorted in that order, labelled like
 * "context 1, coh 15" (contexts and choices counted from 1). */
#define DALE_COND_MAX 64
typedef struct dale_cond_stat {
    char label[48];
    int32_t context;    /* -1: none */
    double coh;         /* |coherence| in %, or NaN */
    int32_t match;      /* dms: 1 match, 0 non-match; else -1 */
    size_t n;
    double correct, broken;
} dale_cond_stat;
typedef struct dale_cond_stats {
    dale_cond_stat all;
    dale_cond_stat g[DALE_COND_MAX];
    size_t n;
} dale_cond_stats;
/* Errors: DALE_ERR_ARG when tr has no trial labels (not a trial-based task)
 * or more than DALE_COND_MAX groups. */
DALE_API dale_status dale_cond_stats_of(const dale_trials *tr, dale_cond_stats *cs);

#ifdef __cplusplus
}
#endif
#endif
