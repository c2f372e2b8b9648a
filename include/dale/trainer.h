/* dale/trainer.h — training a network on a task: the trainer object, and
 * the run directory `dale train` writes around it.
 *
 * The trainer (dale_trainer_*) trains a network the caller created and
 * initialised on any task (anything implementing struct dale_task) in
 * memory: it writes no file and prints nothing.  Per epoch it draws a fresh
 * permutation of the training set from its batch-order RNG; an epoch has
 * ceil(N/B) minibatches (the last holds the remainder); per minibatch:
 * forward, loss, BPTT, the update policy, then the learning-rate decay
 * (after batch i of the epoch when i % lr_decay_every == 0, i from 0), then
 * an evaluation (on_eval) and a checkpoint event (on_checkpoint) when the
 * update count is a multiple of eval_every / checkpoint_every, then
 * on_progress.  Everything the loop carries between updates (batch-order
 * RNG, permutation, position, lr, loss ring, sign memory) is its "state",
 * saved and restored by dale_trainer_state_save / _load, so a run resumed
 * from a checkpoint repeats the uninterrupted one bit for bit (with BLAS on
 * one thread, dale_set_blas_threads(1), so sums are ordered the same).
 *
 * The run directory (dale_train_run, cfg->out):
 *   config.json      the resolved config (written first)
 *   metrics.csv      one row per evaluation (update 0 = the initial network)
 *   checkpoint.npz   parameters + effective matrices + trainer state, written
 *                    atomically every checkpoint_every updates
 *   final.npz        parameters + effective matrices at the end
 *   result.json      status (ok | diverged | failed), reason, final metrics, wall time
 * Resume (resume = 1) reloads checkpoint.npz and continues bit-for-bit: the
 * batch order, learning rate, loss ring buffer and sign memory are restored,
 * and metrics.csv is cut back to the checkpoint's update.  A run that does
 * not resume never overwrites what cfg->out holds (dale_train_dir_prepare).
 */
#ifndef DALE_TRAINER_H
#define DALE_TRAINER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "dale/config.h"
#include "dale/linalg.h" /* dale_set_blas_threads, declared here before */
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/rng.h"
#include "dale/status.h"
#include "dale/task.h"
#include "dale/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ trainer */

/* The label of the batch-order stream: the trainer created with `seed`
 * draws its batch order from dale_rng_fork(rng(seed), DALE_TRAINER_ORDER_LABEL)
 * (the fork does not advance rng(seed)), so a caller may initialise the
 * network from dale_rng_seed(seed) itself and the two streams stay
 * independent, exactly as `dale train` does. */
#define DALE_TRAINER_ORDER_LABEL 0x6f72646572ull /* "order" */

/* Noise (dale_net_set_noise; a network whose noise_rec or noise_in is > 0).
 * Every noise sample comes from a stream of the run seed that no other
 * draw touches, rng(seed) forked with DALE_TRAINER_NOISE_LABEL and then
 * with a label per use: training update u (u = 0 for the first update) draws
 * from dale_noise_stream(seed, 0, u), the evaluation of split s (when
 * evaluation noise is on) from dale_noise_stream(seed, 1, s), the same
 * sample at every evaluation.  So a run is a function of its config and
 * seed, and a resumed run draws what the uninterrupted one drew: the
 * checkpoint needs no noise state beyond its update count. */
#define DALE_TRAINER_NOISE_LABEL 0x6e6f697365ull /* "noise" */
DALE_API void dale_noise_stream(uint64_t seed, int eval, uint64_t index, dale_rng *out);

/* How long and how fast to train. */
typedef struct dale_schedule {
    double lr;            /* learning rate of the first update (> 0)                  */
    double lr_decay;      /* lr *= lr_decay after within-epoch batch i when ...      */
    long lr_decay_every;  /* ... i % lr_decay_every == 0 (i from 0); 0: never decay  */
    size_t batch;         /* samples per update (> 0, at most the training set); a
                             task whose training sample fills several batch rows
                             (sample_rows[TRAIN] > 1: lm) takes one sample per update */
    long epochs;          /* passes over the training set (>= 0)                     */
    long max_updates;     /* stop after this many updates; < 0: no limit             */
    long eval_every;      /* evaluate (on_eval) every this many updates; 0: never    */
    size_t eval_batch;    /* evaluation chunk in samples; 0: the training batch      */
    long checkpoint_every; /* on_checkpoint every this many updates; 0: never        */
} dale_schedule;

/* Fill s with the defaults: lr 1e-3, no decay (lr_decay 1, every 0), batch
 * 32, 1 epoch, no update limit, eval_every 0, eval_batch 0, checkpoint_every 0. */
DALE_API void dale_schedule_defaults(dale_schedule *s);

typedef struct dale_trainer dale_trainer;

/* One evaluation.  The train_* values are the means over the last (up to)
 * 10 minibatch losses / errors of the current run (NaN before the first
 * update); val_* and test_* cover the whole split (NaN when the task has no
 * such split).  Errors are percentages; NaN for MSE (regression) tasks. */
typedef struct dale_trainer_metrics {
    long updates, epoch; /* counters when it was taken */
    double lr;
    double train_loss, train_err, val_loss, val_err, test_loss, test_err;
} dale_trainer_metrics;

/* Events.  Every member may be NULL.  A callback returning a status other
 * than DALE_OK stops the update or run that called it, which returns that
 * status (so a writer can stop training on an I/O error).  Callbacks may
 * call the accessors and dale_trainer_state_save / _checkpoint_save; they
 * may not step, run or free the trainer. */
typedef struct dale_trainer_callbacks {
    /* after each scheduled evaluation (and each dale_trainer_eval with notify) */
    dale_status (*on_eval)(dale_trainer *tr, const dale_trainer_metrics *m, void *user);
    /* every checkpoint_every updates, after on_eval of the same update */
    dale_status (*on_checkpoint)(dale_trainer *tr, void *user);
    /* after every update, last */
    void (*on_progress)(dale_trainer *tr, void *user);
    void *user;
} dale_trainer_callbacks;

/* Create a trainer for net (borrowed: created and initialised by the caller,
 * input and output widths those of the task) on task (borrowed), updating
 * with policy p (copied; see dale_update_policy_default) on schedule s
 * (copied), the batch order drawn from `seed` (DALE_TRAINER_ORDER_LABEL).
 * cb may be NULL (no events; copied otherwise).  The net is planned for the
 * largest batch the trainer runs (training or evaluation chunk).  net and
 * task must outlive the trainer; the trainer is not thread-safe.
 * *out is owned by the caller (dale_trainer_free).
 * Errors: DALE_ERR_ARG (NULL net, task, p, s or out; batch 0; a batch larger
 * than the training set; no training samples; an lr that is not > 0;
 * negative epochs, eval_every, checkpoint_every or lr_decay_every;
 * widths of net and task that differ; a task without a batch function or
 * steps; an unknown optimizer, Adam's beta1 / beta2 outside [0, 1) or eps
 * not > 0, a negative weight_l2), DALE_ERR_NOMEM.  An Adam policy gets its
 * state (moments 0, no steps) here. */
DALE_API dale_status dale_trainer_create(dale_net *net, dale_task *task, const dale_update_policy *p,
                                         const dale_schedule *s, uint64_t seed,
                                         const dale_trainer_callbacks *cb, dale_trainer **out);
DALE_API void dale_trainer_free(dale_trainer *tr); /* NULL-safe; frees neither net nor task */

/* What one update did. */
typedef struct dale_trainer_step_info {
    double loss;      /* mean training loss of the minibatch (before the update) */
    double err;       /* its error in percent (NaN for MSE tasks)               */
    double grad_norm; /* global gradient norm before clipping (NaN if none)     */
    int diverged;     /* 1: the loss or the gradient was not finite; the
                         parameters are unchanged and the trainer stops          */
    int done;         /* 1: the budget was already spent (or the trainer had
                         diverged): nothing was done                            */
} dale_trainer_step_info;

/* Evaluations with the network's noise (on != 0) or without it (0, the
 * state after dale_trainer_create); training updates always draw it.  A
 * network without noise is not affected. */
DALE_API void dale_trainer_set_eval_noise(dale_trainer *tr, int on);

/* Make one update (shuffling first at the start of an epoch), then the
 * scheduled evaluation / checkpoint events and on_progress.  info may be
 * NULL.  A diverged update returns DALE_OK with info->diverged set and the
 * reason in dale_trainer_diverged(); the trainer then makes no more
 * updates.  Errors: those of the task, the network and the callbacks. */
DALE_API dale_status dale_trainer_step(dale_trainer *tr, dale_trainer_step_info *info);

/* Step until the budget (epochs and max_updates) is spent or the run
 * diverges (DALE_OK both; see dale_trainer_diverged).  Errors: as step. */
DALE_API dale_status dale_trainer_run(dale_trainer *tr);

/* Mean loss over the whole split and its error in percent (NaN for MSE),
 * in chunks of eval_batch samples; the network's weights are not changed.
 * Errors: DALE_ERR_ARG (a NULL pointer, a split the task does not have),
 * those of the task and the network. */
DALE_API dale_status dale_trainer_evaluate(dale_trainer *tr, dale_split split, double *loss, double *err);

/* Evaluate now (validation and test splits, train from the ring), keep the
 * result as the last metrics and, when notify is non-zero, pass it to
 * on_eval.  out may be NULL.  Errors: as dale_trainer_evaluate, the callback's. */
DALE_API dale_status dale_trainer_eval(dale_trainer *tr, int notify, dale_trainer_metrics *out);

/* The last metrics dale_trainer_eval or a scheduled evaluation took in this
 * trainer: 1 and *out filled, or 0 (none yet; *out all NaN). */
DALE_API int dale_trainer_last_metrics(const dale_trainer *tr, dale_trainer_metrics *out);

/* Accessors. */
DALE_API long dale_trainer_updates(const dale_trainer *tr);       /* updates made (restored ones included) */
DALE_API long dale_trainer_epoch(const dale_trainer *tr);         /* completed epochs */
DALE_API long dale_trainer_total_updates(const dale_trainer *tr); /* the budget: min(max_updates, epochs x batches) */
DALE_API size_t dale_trainer_batches_per_epoch(const dale_trainer *tr);
DALE_API double dale_trainer_lr(const dale_trainer *tr);          /* the next update's learning rate */
/* Means of the last (up to) 10 minibatch losses and errors (NaN: none). */
DALE_API void dale_trainer_train_means(const dale_trainer *tr, double *loss, double *err);
/* NULL, or why the run diverged ("non-finite training loss at update 12"). */
DALE_API const char *dale_trainer_diverged(const dale_trainer *tr);
DALE_API dale_net *dale_trainer_net(const dale_trainer *tr);
DALE_API dale_task *dale_trainer_task(const dale_trainer *tr);
/* Seconds of training: since dale_trainer_create, plus what a restored
 * state had counted; dale_trainer_set_wall makes it read `seconds` now. */
DALE_API double dale_trainer_wall(const dale_trainer *tr);
DALE_API void dale_trainer_set_wall(dale_trainer *tr, double seconds);

/* Add the trainer state to an NPZ being written, as the members
 *   state.rng (uint64 x4), state.rng_cache (float64 x2: has cached normal,
 *   its value), state.counters (int64: epoch, batch in epoch, updates),
 *   state.lr, state.wall (float64 x1), state.ring (float64 x20: 10 losses,
 *   10 errors), state.perm (uint64 x training samples), state.signs
 *   (float32, one per theta entry) once sign freezing recorded the signs,
 *   and, with an Adam policy only, state.adam_m, state.adam_v (float32, one
 *   per theta entry) and state.adam_t (int64 x1: the steps taken).
 * The parameters are not included (dale_params_save).  Errors: as dale_npz_add. */
DALE_API dale_status dale_trainer_state_save(dale_trainer *tr, dale_npz_writer *w);
/* Restore the state saved by dale_trainer_state_save from z (`path` names
 * it in messages).  The trainer must be set up as the saved one was (same
 * task, network and batch); the schedule may differ (a new budget continues
 * the same trajectory).  Every member is checked before any is used: the
 * generator state not all zero, its cache flag 0/1 and value finite, lr
 * finite and > 0, wall time finite and >= 0, counters with 0 <= batch <
 * batches per epoch and updates = epoch * batches + batch, the ring finite
 * or nan, the batch order a permutation of the training samples (or the
 * all-zero initial order before the first update), sign memory in
 * {-1, 0, +1}, Adam's moments finite with v >= 0 and its step count equal
 * to the update count.  On an error nothing is changed.
 * Errors: DALE_ERR_FORMAT (a member missing, of the wrong dtype or size, or
 * "PATH: corrupt checkpoint: member 'state.X' ..." naming what was
 * expected), DALE_ERR_NOMEM, those of dale_npz_read. */
DALE_API dale_status dale_trainer_state_load(dale_trainer *tr, dale_npz *z, const char *path);

/* A checkpoint file: parameters + effective matrices (dale_params_save)
 * and the state, written atomically to path; and its reader, which loads
 * the parameters (present, finite, and the DALE_P_NONNEG ones >= 0 when the
 * policy projects), the connectivity masks (dale_params_check_masks: those
 * the network has, unchanged) and the state first, then loads them (on a corrupt
 * member neither network nor state changes; only a read error at that
 * stage may leave them partly loaded).
 * Errors: as dale_npz_writer_create / dale_npz_open and the above. */
DALE_API dale_status dale_trainer_checkpoint_save(dale_trainer *tr, const char *path);
DALE_API dale_status dale_trainer_checkpoint_load(dale_trainer *tr, const char *path);

/* --------------------------------------------------------- run directory */

/* Zero-initialised options are safe: no resume, quiet, and a directory
 * that holds a run (or other files) is refused, not overwritten. */
typedef struct dale_train_options {
    int resume;   /* continue from <out>/checkpoint.npz */
    FILE *log;    /* progress and messages (NULL: quiet) */
    int tty;      /* log is a terminal: redraw one progress line */
    int force;    /* without resume: whatever <out> holds is first moved
                     aside to <out>.old-N (dale_train_dir_prepare); 0: refuse */
    /* NULL, or a flag (set by the caller's signal handler): once it is
     * non-zero, the run stops after the update in progress, saves its
     * checkpoint at that update and returns DALE_ERR_STATE without writing
     * result.json or final.npz; resume continues it bit for bit */
    const volatile sig_atomic_t *stop;
} dale_train_options;

/* What <c->out> holds, for a run about to start there afresh. */
typedef enum dale_train_dir {
    DALE_TRAIN_DIR_FREE = 0, /* absent, empty, or a start that never reached
                                its first checkpoint (config.json, metrics.csv,
                                a sweep's sweep.json, lock, log.txt) of this
                                same config, or of any config when its
                                result.json says "failed": the run starts
                                (again) there, as a sweep re-runs such runs */
    DALE_TRAIN_DIR_SAME,     /* a run of this config (the budget, epochs and
                                max_updates, may differ) with checkpoint.npz:
                                finished, failed or interrupted; resume continues it */
    DALE_TRAIN_DIR_OTHER,    /* a run of another config, or one resume cannot continue */
    DALE_TRAIN_DIR_FILES,    /* files that are not a run's */
    DALE_TRAIN_DIR_MOVED     /* (force) it held one of the two above and was
                                renamed to the first free <out>.old-N */
} dale_train_dir;

/* The guard dale_train_run applies before a run that does not resume:
 * classify <c->out> (*kind); with force, rename a directory that is not
 * FREE to the first free <out>.old-N (N = 1, 2, ...; nothing is deleted)
 * and set *kind to DALE_TRAIN_DIR_MOVED.  what (may be NULL) gets one line
 * saying what is there: "a finished run (status ok, 10 updates, 0 epochs
 * done) of task adding, model colei, seed 1", "a run interrupted at update
 * 40 (its checkpoint) of ...", "a run of ... (max_updates is 10 there, 20
 * here)", "4 files that are not a run's: a.txt, b.txt, c.txt, ...", and
 * after a move "... moved to <out>.old-1".  Reads config.json, result.json
 * and checkpoint.npz there; changes nothing unless it moves.
 * Errors: DALE_ERR_IO (<out> cannot be read, or the rename failed),
 * DALE_ERR_NOMEM. */
DALE_API dale_status dale_train_dir_prepare(const dale_run_config *c, int force, dale_train_dir *kind, char *what,
                                            size_t cap);

/* Run the training described by the resolved config c.  Returns DALE_OK when
 * the run finished, also when it diverged (result.json says so); an error
 * for failures (bad data, I/O, ...) after writing result.json with status
 * "failed" where the run directory exists.  Without resume, <c->out> must be
 * FREE (dale_train_dir_prepare; with force it is moved aside first, said on
 * log): otherwise DALE_ERR_STATE, naming what is there, and nothing in it
 * is changed.  A stop (opt->stop) returns DALE_ERR_STATE after saving the
 * checkpoint, as described there. */
/* The update DIR/checkpoint.npz was saved at (its state.counters), -1 when
 * it cannot be read (no error is left behind). */
DALE_API long dale_checkpoint_update(const char *dir);

DALE_API dale_status dale_train_run(const dale_run_config *c, const dale_train_options *opt);

/* Read and check the mask files a resolved config names (mask_in,
 * mask_rec, mask_out) against the shapes its task and network give, as
 * dale_net_from_config will, without creating anything: `dale train`
 * refuses a bad mask before it touches --out.  Errors: as
 * dale_net_from_config's for masks, those of dale_config_task_shape. */
DALE_API dale_status dale_config_check_masks(const dale_run_config *c);

/* Create (not initialise) the network a resolved config describes for
 * `task` (input and output widths, input mean), exactly as a training run
 * does, with its connectivity masks: the files mask_in, mask_rec (every
 * cell), mask_out read and checked (exactly the map's 2-D shape, any
 * numeric or bool dtype, values 0/1), and the generated ones (sparsity,
 * autapses) drawn from rng(seed); `dale eval` uses it before loading
 * parameters.  *out is owned by the caller (dale_net_free).
 * Errors: as dale_net_create, DALE_ERR_ARG (a mask refused, naming the
 * option, the file, its shape and dtype and what was expected), those of
 * dale_npy_read (named the same way). */
DALE_API dale_status dale_net_from_config(const dale_run_config *c, const struct dale_task *task,
                                          struct dale_net **out);

#ifdef __cplusplus
}
#endif
#endif
