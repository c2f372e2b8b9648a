/* dale/sweepstate.h — where a sweep stands: each run done, diverged,
 * failed, invalid, running or pending, read from the sweep directory alone
 * (local sweeps, MPI ranks and Slurm array tasks alike), without changing
 * anything in it.
 *
 * The runs are those of the spec copied to DIR/spec.json (at the scale
 * DIR/scale.json names), plus any other run directory DIR/runs/<16 hex>
 * (directories moved aside, NAME.stale-K, are left out).  A run is
 *   done / diverged / failed / invalid  when <run>/result.json says ok /
 *                                  diverged / failed / invalid (a spec
 *                                  entry that does not resolve: invalid),
 *   running   when another process holds the fcntl lock on <run>/lock
 *             (tested with F_GETLK, which leaves the holder's lock alone),
 *             or <run>/claim names a process that may be alive (a claim is
 *             one line "host=H pid=P time=T"; a claim of this host whose
 *             pid no longer exists is stale and ignored),
 *   pending   otherwise.
 * done and diverged win over running (a finished run's lock file stays);
 * running wins over failed (a failed run being re-run).  The store
 * (DIR/results.sqlite, opened read-only) is read for each run's recorded
 * status, so a finished run the store is missing, or a store row without a
 * result, shows.
 */
#ifndef DALE_SWEEPSTATE_H
#define DALE_SWEEPSTATE_H

#include <stddef.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dale_run_state_kind {
    DALE_RUN_DONE = 0,
    DALE_RUN_DIVERGED,
    DALE_RUN_FAILED,
    DALE_RUN_INVALID,
    DALE_RUN_RUNNING,
    DALE_RUN_PENDING,
    DALE_RUN_NSTATES
} dale_run_state_kind;

typedef struct dale_run_state {
    char id[17];
    char label[128];       /* the spec's label, else sweep.json's, else "" */
    dale_run_state_kind state;
    char result[32];       /* result.json's status, "" when there is none */
    char reason[256];      /* result.json's reason (failed, invalid), or the spec's for an invalid entry */
    char store[32];        /* the store row's status, "" when the store has no row for the run */
    long lock_pid;         /* the process holding <run>/lock, 0 when none */
    char claim_host[256];  /* from <run>/claim, "" when there is no claim */
    long claim_pid;
    long long claim_time;
    int claim_stale;       /* the claim is of this host and its pid is gone */
    int checkpoint;        /* <run>/checkpoint.npz exists (a re-run resumes it) */
} dale_run_state;

typedef struct dale_sweep_state {
    dale_run_state *runs;
    size_t n;
    size_t count[DALE_RUN_NSTATES]; /* runs per state */
    int have_store;                 /* DIR/results.sqlite was read */
    size_t store_rows;              /* rows in its runs table */
    int from_spec;                  /* the run list came from DIR/spec.json */
    char note[512];                 /* why the spec or the store could not be read, "" when both were */
} dale_sweep_state;

/* Read where the sweep in dir stands (see the file comment).  Errors:
 * DALE_ERR_IO when dir has neither a spec.json that loads nor a runs/
 * directory (not a sweep directory); DALE_ERR_NOMEM.  A spec or store that
 * cannot be read is no error: state->note says so.  *out: free with
 * dale_sweep_state_free. */
DALE_API dale_status dale_sweep_state_read(const char *dir, dale_sweep_state **out);
DALE_API void dale_sweep_state_free(dale_sweep_state *s); /* NULL-safe */

/* "done", "diverged", "failed", "invalid", "running", "pending". */
DALE_API const char *dale_run_state_name(dale_run_state_kind k);

#ifdef __cplusplus
}
#endif
#endif
