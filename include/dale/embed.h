/* dale/embed.h — entry points for programs that hold dale through a
 * foreign-function interface (the Python package python/dale uses them
 * through ctypes).  Such a caller cannot lay out dale's C structs safely
 * (dale_run_config and dale_update_policy grow with new options), so
 * everything here takes opaque pointers and option NAMES: a run option
 * added to the option table is reachable at once through dale_config_set,
 * with no change here.
 *
 * Typical use, as `dale train` does it, but in memory:
 *     dale_config_create(&c);  dale_config_set(c, "model", "colei"); ...
 *     dale_config_resolve(c);
 *     dale_net_create_widths(c, input, output, input_mean, &net);
 *     dale_net_init_seed(net, seed);          (rng(seed), as dale train)
 *     dale_trainer_create_config(net, task, c, NULL, &tr);
 */
#ifndef DALE_EMBED_H
#define DALE_EMBED_H

#include <stddef.h>
#include <stdint.h>
#include "dale/config.h"
#include "dale/model.h"
#include "dale/status.h"
#include "dale/task.h"
#include "dale/trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A run config on the heap holding the defaults (dale_config_defaults);
 * *out is owned by the caller (dale_config_free).  Errors: DALE_ERR_ARG
 * (out NULL), DALE_ERR_NOMEM. */
DALE_API dale_status dale_config_create(dale_run_config **out);
DALE_API void dale_config_free(dale_run_config *c); /* NULL-safe */

/* Create (not initialise) the network a RESOLVED config describes for data
 * of `input` inputs and `output` outputs (input_mean: the data's mean, used
 * only by ColEI bias centring), exactly as dale_net_from_config does for a
 * task of those widths.  *out is owned by the caller (dale_net_free).
 * Errors: DALE_ERR_ARG (NULL c or out, a width of 0, an option value
 * dale_config_net refuses), those of dale_net_create. */
DALE_API dale_status dale_net_create_widths(const dale_run_config *c, size_t input, size_t output,
                                            double input_mean, dale_net **out);

/* Initialise every parameter from the stream rng(seed), the stream
 * `dale train --seed SEED` initialises its network from, so the same
 * config and seed give the same parameters bit for bit.  (The spectrum
 * transplant option of a run is not applied here.)  Errors: DALE_ERR_ARG
 * (net NULL), those of dale_net_init. */
DALE_API dale_status dale_net_init_seed(dale_net *net, uint64_t seed);

/* The hidden states of recurrent cell `cell` from the last forward pass:
 * *h points at (T, B, n) floats (step 1 first; time-major like the input),
 * owned by the net and overwritten by the next forward, *T and *B the
 * forward's sizes, n the cell's width (dale_net_config_of(net)->hidden).
 * Errors: DALE_ERR_ARG (NULL argument, cell >= the number of cells),
 * DALE_ERR_STATE (no forward pass since the last dale_net_backward or
 * dale_net_plan that reallocated the activations: the trainer's updates
 * run a backward, so read the states after a forward of your own). */
DALE_API dale_status dale_net_hidden(const dale_net *net, size_t cell, const float **h, size_t *T, size_t *B);

/* A trainer for net (created and initialised by the caller; borrowed) on
 * task (borrowed) with the update policy (dale_config_policy), schedule
 * (dale_config_schedule) and batch-order seed (its "seed") of the RESOLVED
 * config c, which is read here only.  cb may be NULL.  With the network of
 * dale_net_create_widths + dale_net_init_seed for the same config, the
 * trainer makes the updates `dale train` makes, bit for bit.  *out is owned
 * by the caller (dale_trainer_free).  Errors: DALE_ERR_ARG (NULL c),
 * those of dale_config_policy and dale_trainer_create. */
DALE_API dale_status dale_trainer_create_config(dale_net *net, dale_task *task, const dale_run_config *c,
                                                const dale_trainer_callbacks *cb, dale_trainer **out);

#ifdef __cplusplus
}
#endif
#endif
