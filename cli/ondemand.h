/* ondemand.h — `dale sweep` taking runs on demand: one run at a time
 * through the library's runner (cli/ondemand.c), claim files shared by
 * independent sweep processes (--claim), and MPI ranks fed by rank 0
 * (--mpi, cli/mpi.c). */
#ifndef DALE_CLI_ONDEMAND_H
#define DALE_CLI_ONDEMAND_H

#include <stddef.h>
#include "dale/runner.h"

/* How one run ended (what a worker reports to rank 0). */
enum { OD_OK = 0, OD_DIVERGED, OD_FAILED, OD_SKIPPED, OD_STOPPED };

/* Run sw->runs[run] to its end through dale_sweep_run_pending with a plan
 * of that one run (the same lock, child `dale train`, failure record and
 * store insert as a local sweep), recorded in store.  *wall gets its
 * seconds; *sig the SIGINT/SIGTERM that stopped it (0 if none).  Returns an
 * OD_* code (OD_SKIPPED: another process runs it or had finished it). */
int od_run_one(const dale_sweep *sw, dale_store *store, const dale_runner_options *o, const char *exe, size_t run,
               double *wall, int *sig);

/* Add outcome code to t (done and ok/diverged/failed, or locked). */
void od_tally_add(dale_sweep_tally *t, int code);
const char *od_code_name(int code);

/* --claim: take plan->pending in order through claim files (dale/claim.h);
 * a run another live process claimed is skipped (t->locked), a stale claim
 * taken over.  A signal stops it with t->signal set. */
int od_sweep_claim(dale_sweep_plan *plan, const dale_runner_options *o, const char *exe, double stale_seconds,
                   dale_sweep_tally *t);

/* MPI (cli/mpi.c).  dalecli_mpi_built: 1 when this dale was built with MPI.
 * dalecli_mpi_init: MPI_Init, *rank and *size of MPI_COMM_WORLD; 0 ok.
 * dalecli_mpi_coordinate (rank 0 of size > 1): hand plan->pending out to the
 * other ranks in order as they ask, tally their reports into t; a worker
 * whose run's lock has been free for lost_s seconds without a report is
 * taken for dead and its run handed to another.
 * dalecli_mpi_worker (rank > 0): ask rank 0 for runs and run them until told
 * to stop; returns the exit code.  dalecli_mpi_release: answer every rank
 * that has not been told to stop (rank 0's error paths).  dalecli_mpi_finalize:
 * MPI_Finalize. */
int dalecli_mpi_built(void);
const char *dalecli_mpi_library(void);
int dalecli_mpi_init(int *argc, char ***argv, int *rank, int *size);
int dalecli_mpi_coordinate(dale_sweep_plan *plan, const dale_runner_options *o, double lost_s, dale_sweep_tally *t);
int dalecli_mpi_worker(const dale_sweep *sw, const dale_runner_options *o, const char *exe);
void dalecli_mpi_release(void);
void dalecli_mpi_finalize(int rc);

#endif
