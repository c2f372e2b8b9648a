/* dale/runner.h — running a sweep: which runs are pending, running them on
 * N local worker processes (or this MPI rank's share), writing a Slurm job
 * array instead, and recording every run in the results store.
 *
 * Each run is a child process `EXE train --config <run>/config.json --out
 * <run> --quiet` (`train --resume --out <run> --quiet` when the run has a
 * checkpoint), EXE being the dale executable, with OPENBLAS_NUM_THREADS=1
 * and stdout/stderr appended to <run>/log.txt.  The child holds a write
 * lock on <run>/lock (fcntl, kept across exec), so two sweep processes never
 * run one run at once, and dies with its parent (PR_SET_PDEATHSIG), so a
 * killed sweep leaves no orphans writing into run directories.  The parent
 * is the only writer of the store in one process; several sweep processes
 * (MPI ranks, array tasks) share it through SQLite's WAL locking.
 */
#ifndef DALE_RUNNER_H
#define DALE_RUNNER_H

#include <stddef.h>
#include <stdio.h>
#include "dale/status.h"
#include "dale/sweep.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dale_runner_options {
    const char *out;   /* the sweep directory (runs in out/runs, the store in out/results.sqlite) */
    const char *spec;  /* the spec file, copied to out/spec.json (NULL: not copied) */
    const char *only;  /* run only the run with this id (NULL: every run) */
    int dry_run;       /* classify only: create, move and write nothing */
    int rank, size;    /* this process takes the k-th pending run when k % size == rank (size 1: all) */
    int jobs;          /* worker processes (>= 1) */
    int quiet;         /* no per-run lines (invalid runs, progress) */
    FILE *log;         /* messages and progress lines, "dale sweep: ..." (stderr in the CLI); not NULL */
} dale_runner_options;

/* The runs of a sweep sorted by what is to be done with them. */
typedef struct dale_sweep_plan {
    const dale_sweep *sweep;  /* borrowed; must outlive the plan */
    dale_store *store;        /* open unless a dry run */
    size_t *pending, npending;/* indices into sweep->runs, in order */
    char *stale;              /* per run: its directory held another run (moved aside unless a dry run) */
    size_t nfinished, ninvalid;
    double est_seconds, est_updates; /* of the pending runs (dale_run_seconds, dale_run_updates) */
} dale_sweep_plan;

/* Sort the runs of sw (only o->only when set): an invalid run is recorded
 * as such (its directory, sweep.json, result.json "invalid" and the store);
 * a run whose directory holds another run (dale_run_config_differs) is
 * moved aside to <dir>.stale-K and counts as pending; a finished run is
 * caught up in the store if its sweep died before recording it; the rest is
 * pending, and this rank's share of it goes into plan->pending with its
 * directory and sweep.json made.  Unless a dry run, out/runs is created,
 * the spec copied and the store opened first.  Messages (invalid runs,
 * stale ones, store trouble) go to o->log.  Errors: DALE_ERR_IO (cannot
 * create out/runs, open the store, or move a directory aside),
 * DALE_ERR_NOMEM.  *out: dale_sweep_plan_free. */
DALE_API dale_status dale_sweep_plan_create(const dale_sweep *sw, const dale_runner_options *o,
                                            dale_sweep_plan **out);
DALE_API void dale_sweep_plan_free(dale_sweep_plan *p); /* NULL-safe; closes the store */

/* How dale_sweep_run_pending went. */
typedef struct dale_sweep_tally {
    size_t done;      /* runs that ended and were recorded */
    size_t ok, diverged, failed;
    size_t locked;    /* skipped: another process was running them */
    int signal;       /* SIGINT or SIGTERM that stopped the sweep, 0 if none */
    int stopped;      /* runs were stopped by a signal (ours, or one a run got from outside: `dale train`
                       * exit 130/143 with its checkpoint saved); they resume on a re-run */
} dale_sweep_tally;

/* Run plan->pending with o->jobs child processes of the executable exe
 * (see the file comment), recording each ended run in the store (a run the
 * trainer could not record, e.g. killed by a signal, gets result.json
 * "failed" with the reason).  A progress line per ended run goes to o->log
 * unless quiet.  SIGINT and SIGTERM are caught while it runs: the children
 * get SIGTERM, it waits for them and returns with t->signal set.  Errors:
 * DALE_ERR_NOMEM (nothing was started).  A failed run is no error: see
 * t->failed. */
DALE_API dale_status dale_sweep_run_pending(dale_sweep_plan *plan, const dale_runner_options *o, const char *exe,
                                            dale_sweep_tally *t);

/* dale_slurm_write (dale/slurm.h) with every Slurm option at its default:
 * one run per array task, time auto, no --mem, partition or account. */
DALE_API dale_status dale_sweep_write_slurm(const dale_sweep_plan *plan, const char *spec, const char *out,
                                            const char *scale, const char *exe, char *script, size_t cap);

/* A duration as "1h05m" (an hour or more) or "3m07s", rounded to the
 * second; negative or non-finite: "0m00s". */
DALE_API void dale_format_duration(double seconds, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
