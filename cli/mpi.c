/* mpi.c — `dale sweep --mpi` when dale is built with MPI (make MPI=1, or
 * mpicc found): rank 0 hands the pending runs out in plan order to the
 * other ranks as they ask for work, and they report back how each ended.
 * Rank 0 only coordinates (when the world has more than one rank); each
 * worker runs one run at a time through the library's runner (the run's
 * lock, the child `dale train`, the failure record and the store insert of
 * a local sweep).
 *
 * Messages (MPI_COMM_WORLD): a worker sends ASK {run, code, wall_ms, leave}
 * to rank 0 (run -1 on its first ask; else the run it finished and its
 * OD_* code), rank 0 answers RUN {index into the sweep's runs, or -1: stop}
 * unless the worker said it leaves.  A worker that was stopped by
 * SIGINT/SIGTERM reports its run as stopped and leaves; rank 0 hands that
 * run to another worker, which resumes it from its checkpoint.  Waiting
 * polls with MPI_Iprobe and short sleeps, so an idle rank does not spin a
 * core that a run needs.
 *
 * MPI_ERRORS_RETURN is set: a send to a worker that fails marks it lost and
 * re-queues its run.  OpenMPI 4.1's mpirun, however, aborts the whole job
 * when any rank dies; what survives then is the run directories and the
 * store: every run recorded before stays recorded, a run that was running
 * keeps its checkpoint, and the same command again finishes the rest.
 *
 * Built without MPI, the functions below are stubs and --mpi falls back to
 * the static share of the environment's rank and size (cli/sweep.c).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "internal.h"
#include "ondemand.h"

#ifdef DALE_MPI
#include <mpi.h>

enum { TAG_ASK = 1, TAG_RUN = 2 };

static int g_rank, g_size, g_init, g_left; /* g_left: this worker said it leaves */
static char *g_told;                       /* rank 0: per rank, told to stop (or left or lost) */

int dalecli_mpi_built(void) { return 1; }

const char *dalecli_mpi_library(void)
{
    static char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    if (!lib[0] && MPI_Get_library_version(lib, &len) == MPI_SUCCESS) {
        lib[len < (int)sizeof lib ? len : (int)sizeof lib - 1] = '\0';
        char *c = strpbrk(lib, ",\n");
        if (c) *c = '\0';
    }
    return lib;
}

int dalecli_mpi_init(int *argc, char ***argv, int *rank, int *size)
{
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return -1;
    g_init = 1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_told = dalei_calloc((size_t)g_size, 1);
    if (!g_told) return -1;
    g_told[0] = 1;
    *rank = g_rank;
    *size = g_size;
    return 0;
}

static void nap(void)
{
    struct timespec ts = {0, 20000000}; /* 20 ms */
    nanosleep(&ts, NULL);
}

static volatile sig_atomic_t mpi_signal;
static void on_mpi_signal(int s) { mpi_signal = s; }

static void catch_signals(struct sigaction *old_int, struct sigaction *old_term)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_mpi_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
}

/* Wait for the next ASK from any rank; 0 with *src and msg, -1 on an MPI error. */
static int next_ask(int msg[4], int *src)
{
    for (;;) {
        int flag = 0;
        MPI_Status s;
        if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_ASK, MPI_COMM_WORLD, &flag, &s) != MPI_SUCCESS) return -1;
        if (flag) {
            *src = s.MPI_SOURCE;
            return MPI_Recv(msg, 4, MPI_INT, s.MPI_SOURCE, TAG_ASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE) == MPI_SUCCESS
                       ? 0
                       : -1;
        }
        nap();
    }
}

int dalecli_mpi_coordinate(dale_sweep_plan *plan, const dale_runner_options *o, dale_sweep_tally *t)
{
    memset(t, 0, sizeof *t);
    const dale_sweep *sw = plan->sweep;
    FILE *log = o->log;
    size_t np = plan->npending;
    /* the queue: plan order, with re-queued runs (stopped or lost) first */
    size_t *again = dalei_calloc(np ? np : 1, sizeof *again), nagain = 0, next = 0;
    int *busy = dalei_calloc((size_t)g_size, sizeof *busy);
    if (!again || !busy) {
        dalei_free(again);
        dalei_free(busy);
        return -1;
    }
    for (int w = 0; w < g_size; w++) busy[w] = -1;
    int stopping = 0, nstopped = 0;
    for (int w = 0; w < g_size; w++) nstopped += g_told[w];
    mpi_signal = 0;
    struct sigaction old_int, old_term;
    catch_signals(&old_int, &old_term);
    time_t t0 = time(NULL);
    while (nstopped < g_size) {
        if (mpi_signal && !stopping) {
            stopping = 1;
            fprintf(log, "\ndale sweep: %s: handing out no more runs; waiting for the running ones\n",
                    mpi_signal == SIGINT ? "interrupted" : "terminated");
        }
        int msg[4], w;
        if (next_ask(msg, &w)) {
            fprintf(log, "dale sweep: MPI error on rank 0; stopping (a re-run resumes what is left)\n");
            break;
        }
        if (msg[0] >= 0 && (size_t)msg[0] < sw->n) {
            const dale_sweep_run *r = &sw->runs[msg[0]];
            busy[w] = -1;
            if (msg[1] == OD_STOPPED) {
                t->stopped = 1;
                if (!stopping) again[nagain++] = (size_t)msg[0]; /* another worker resumes it */
                fprintf(log, "dale sweep: %s was stopped on rank %d%s\n", r->id, w,
                        stopping ? "; a re-run resumes it" : "; handed to another rank");
            } else {
                od_tally_add(t, msg[1]);
                if (!o->quiet && msg[1] != OD_SKIPPED)
                    fprintf(log, "[%zu/%zu] %s %-24.24s %-8s %6.1fs  rank %d  elapsed %llds\n", t->done, np, r->id,
                            r->label, od_code_name(msg[1]), msg[2] / 1000.0, w, (long long)(time(NULL) - t0));
                else if (msg[1] == OD_SKIPPED)
                    fprintf(log, "dale sweep: %s is being run or was finished by another process; skipped\n", r->id);
            }
        }
        if (msg[3]) { /* the worker leaves: no answer */
            if (!g_told[w]) { g_told[w] = 1; nstopped++; }
            continue;
        }
        int give = -1;
        if (!stopping && !mpi_signal) {
            if (nagain) give = (int)again[--nagain];
            else if (next < np) give = (int)plan->pending[next++];
        }
        if (MPI_Send(&give, 1, MPI_INT, w, TAG_RUN, MPI_COMM_WORLD) != MPI_SUCCESS) {
            fprintf(log, "dale sweep: rank %d cannot be reached; %s\n", w,
                    give >= 0 ? "its run goes to another rank" : "going on without it");
            if (give >= 0) again[nagain++] = (size_t)give;
            g_told[w] = 1;
            nstopped++;
            continue;
        }
        if (give < 0) { g_told[w] = 1; nstopped++; }
        else busy[w] = give;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    t->signal = (int)mpi_signal;
    if (t->signal) t->stopped = 1;
    dalei_free(again);
    dalei_free(busy);
    return 0;
}

int dalecli_mpi_worker(const dale_sweep *sw, const dale_runner_options *o, const char *exe)
{
    dale_store *store = NULL;
    int msg[4] = {-1, 0, 0, 0}, rc = 0;
    mpi_signal = 0;
    struct sigaction old_int, old_term;
    catch_signals(&old_int, &old_term);
    for (;;) {
        if (mpi_signal) msg[3] = 1;
        if (MPI_Send(msg, 4, MPI_INT, 0, TAG_ASK, MPI_COMM_WORLD) != MPI_SUCCESS) { rc = 1; break; }
        if (msg[3]) { g_left = 1; break; }
        int run = -1, flag = 0;
        while (!flag) {
            if (MPI_Iprobe(0, TAG_RUN, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS) break;
            if (!flag) nap();
        }
        if (!flag || MPI_Recv(&run, 1, MPI_INT, 0, TAG_RUN, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
            rc = 1;
            break;
        }
        if (run < 0) { g_left = 1; break; }
        msg[0] = run;
        msg[2] = 0;
        if ((size_t)run >= sw->n) { msg[1] = OD_SKIPPED; continue; }
        if (mpi_signal) { msg[1] = OD_STOPPED; continue; } /* not started: rank 0 re-queues it */
        if (!store && dale_store_open(o->out, &store)) {
            fprintf(o->log, "dale sweep: rank %d: %s\n", g_rank, dale_last_error());
            msg[1] = OD_STOPPED;
            msg[3] = 1;
            rc = 1;
            continue;
        }
        double wall;
        int sig;
        msg[1] = od_run_one(sw, store, o, exe, (size_t)run, &wall, &sig);
        msg[2] = wall < 2e6 ? (int)(wall * 1000) : 2000000000;
        if (sig) mpi_signal = sig;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    dale_store_close(store);
    return rc ? rc : mpi_signal ? 130 : 0;
}

void dalecli_mpi_release(void)
{
    if (!g_init) return;
    if (g_rank > 0) {
        if (!g_left) {
            int msg[4] = {-1, 0, 0, 1};
            MPI_Send(msg, 4, MPI_INT, 0, TAG_ASK, MPI_COMM_WORLD);
            g_left = 1;
        }
        return;
    }
    int nstopped = 0;
    for (int w = 0; w < g_size; w++) nstopped += g_told[w];
    while (nstopped < g_size) {
        int msg[4], w, give = -1;
        if (next_ask(msg, &w)) break;
        if (!msg[3]) MPI_Send(&give, 1, MPI_INT, w, TAG_RUN, MPI_COMM_WORLD);
        if (!g_told[w]) { g_told[w] = 1; nstopped++; }
    }
}

void dalecli_mpi_finalize(void)
{
    if (!g_init) return;
    MPI_Finalize();
    dalei_free(g_told);
    g_told = NULL;
    g_init = 0;
}

#else /* built without MPI */

int dalecli_mpi_built(void) { return 0; }
const char *dalecli_mpi_library(void) { return ""; }
int dalecli_mpi_init(int *argc, char ***argv, int *rank, int *size)
{
    (void)argc; (void)argv;
    *rank = 0;
    *size = 1;
    return -1;
}
int dalecli_mpi_coordinate(dale_sweep_plan *plan, const dale_runner_options *o, dale_sweep_tally *t)
{
    (void)plan; (void)o;
    memset(t, 0, sizeof *t);
    return -1;
}
int dalecli_mpi_worker(const dale_sweep *sw, const dale_runner_options *o, const char *exe)
{
    (void)sw; (void)o; (void)exe;
    return 1;
}
void dalecli_mpi_release(void) {}
void dalecli_mpi_finalize(void) {}

#endif
