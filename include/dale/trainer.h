/* dale/trainer.h — a training run: loop, evaluation, checkpoints, results.
 *
 * A run lives in its directory (cfg->out):
 *   config.json      the resolved config (written first)
 *   metrics.csv      one row per evaluation (update 0 = the initial network)
 *   checkpoint.npz   parameters + effective matrices + trainer state, written
 *                    atomically every checkpoint_every updates
 *   final.npz        parameters + effective matrices at the end
 *   result.json      status (ok | diverged | failed), reason, final metrics, wall time
 * Resume (resume = 1) reloads checkpoint.npz and continues bit-for-bit: the
 * batch order, learning rate, loss ring buffer and sign memory are restored,
 * and metrics.csv is cut back to the checkpoint's update.
 */
#ifndef DALE_TRAINER_H
#define DALE_TRAINER_H

#include <stdio.h>
#include "dale/config.h"
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dale_train_options {
    int resume;   /* continue from <out>/checkpoint.npz */
    FILE *log;    /* progress and messages (NULL: quiet) */
    int tty;      /* log is a terminal: redraw one progress line */
} dale_train_options;

/* Run the training described by the resolved config c.  Returns DALE_OK when
 * the run finished, also when it diverged (result.json says so); an error
 * for failures (bad data, I/O, ...) after writing result.json with status
 * "failed" where the run directory exists. */
DALE_API dale_status dale_train_run(const dale_run_config *c, const dale_train_options *opt);

/* Create (not initialise) the network a resolved config describes for
 * `task` (input and output widths, input mean), exactly as a training run
 * does; `dale eval` uses it before loading parameters.  *out is owned by
 * the caller (dale_net_free).  Errors: as dale_net_create, DALE_ERR_ARG. */
struct dale_task;
struct dale_net;
DALE_API dale_status dale_net_from_config(const dale_run_config *c, const struct dale_task *task,
                                          struct dale_net **out);

/* Pin BLAS to n threads (dale's policy: 1 per run; parallelism comes from
 * running several runs). */
DALE_API void dale_set_blas_threads(int n);

#ifdef __cplusplus
}
#endif
#endif
