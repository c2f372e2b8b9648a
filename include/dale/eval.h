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
                        losses; for weighted losses the (step, row) pairs with weight > 0) */
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

#ifdef __cplusplus
}
#endif
#endif
