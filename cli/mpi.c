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
 * polls with MPI_Iprobe and 20 ms sleeps, so an idle rank does not spin a
 * core that a run needs.
 *
 * A worker that asks while the queue is empty waits for an answer as long
 * as another worker is busy, since a busy worker's run may come back.
 *
 * A dead worker: Open MPI 4.1's mpirun by default ends the whole job when a
 * rank dies; what survives is the run directories and the store (every run
 * recorded stays recorded, a running run keeps its checkpoint) and the same
 * command again finishes the rest.  Where the job lives on (Open MPI's
 * orte_enable_recovery, other MPIs), rank 0 takes a busy worker for dead
 * when its run's lock (held by the run's `dale train`) has been free for
 * lost_s seconds without a report, or when a send to it fails
 * (MPI_ERRORS_RETURN), and hands its run to another worker; at the end it
 * ends the job with MPI_Abort, since MPI_Finalize would wait for the dead.
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
static int g_lost;                         /* rank 0: workers taken for dead */
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

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Wait for the next ASK from any rank, at most `wait` seconds (< 0: for
 * ever); 0 with *src and msg, 1 when none came, -1 on an MPI error. */
static int next_ask(int msg[4], int *src, double wait)
{
    double t0 = mono();
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
        if (wait >= 0 && mono() - t0 > wait) return 1;
        nap();
    }
}

/* Is run r of worker w lost?  The worker's `dale train` holds the run's
 * lock while the run runs; once the lock has been free for lost_s seconds
 * and the worker has not reported, the worker is taken for dead (a live
 * worker reports within the store's busy timeout of its run's end). */
static int worker_lost(const dale_sweep_run *r, double *unlocked_since, double lost_s)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/lock", r->cfg.out);
    if (dalei_lock_holder(path) != 0) {
        *unlocked_since = 0;
        return 0;
    }
    double now = mono();
    if (*unlocked_since == 0) *unlocked_since = now;
    return now - *unlocked_since > lost_s;
}

int dalecli_mpi_coordinate(dale_sweep_plan *plan, const dale_runner_options *o, double lost_s, dale_sweep_tally *t)
{
    memset(t, 0, sizeof *t);
    const dale_sweep *sw = plan->sweep;
    FILE *log = o->log;
    size_t np = plan->npending;
    /* the queue: plan order, with re-queued runs (stopped or lost) first */
    size_t *again = dalei_calloc(np ? np : 1, sizeof *again), nagain = 0, next = 0;
    int *busy = dalei_calloc((size_t)g_size, sizeof *busy);
    double *unlocked = dalei_calloc((size_t)g_size, sizeof *unlocked);
    char *waiting = dalei_calloc((size_t)g_size, 1); /* asked, not answered yet */
    if (!again || !busy || !unlocked || !waiting) {
        dalei_free(again);
        dalei_free(busy);
        dalei_free(unlocked);
        dalei_free(waiting);
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
        int msg[4] = {-1, 0, 0, 0}, w = 0;
        int got = next_ask(msg, &w, 0.5);
        if (got < 0) {
            fprintf(log, "dale sweep: MPI error on rank 0; stopping (a re-run resumes what is left)\n");
            break;
        }
        if (got == 1) { /* no message: look for workers that died with a run */
            for (int v = 1; v < g_size; v++) {
                if (g_told[v] || busy[v] < 0 || !worker_lost(&sw->runs[busy[v]], &unlocked[v], lost_s)) continue;
                const dale_sweep_run *r = &sw->runs[busy[v]];
                char rs[32];
                g_told[v] = 1;
                nstopped++;
                g_lost++;
                if (dale_run_finished(r->cfg.out, rs, sizeof rs)) {
                    if (!dale_store_has_finished(plan->store, r->id) &&
                        dale_store_put_run(plan->store, r->cfg.out, r->id, r->label, NULL, NULL))
                        fprintf(log, "dale sweep: store: %s\n", dale_last_error());
                    od_tally_add(t, strcmp(rs, "ok") ? OD_DIVERGED : OD_OK);
                    fprintf(log, "dale sweep: rank %d is lost (no report %.0f s after its run ended); %s is "
                            "finished and recorded\n", v, lost_s, r->id);
                } else {
                    if (!stopping) again[nagain++] = (size_t)busy[v];
                    fprintf(log, "dale sweep: rank %d is lost (its run's lock free for %.0f s, no report); %s %s\n",
                            v, lost_s, r->id, stopping ? "is left for a re-run" : "goes to another rank");
                }
                busy[v] = -1;
            }
        }
        else if (g_told[w] && msg[0] >= 0) { /* a rank taken for lost: its late report is not counted twice */
            fprintf(log, "dale sweep: rank %d, taken for lost, reported after all; not counted\n", w);
            if (!msg[3]) {
                int stop = -1;
                MPI_Send(&stop, 1, MPI_INT, w, TAG_RUN, MPI_COMM_WORLD);
            }
            continue;
        }
        else if (msg[0] >= 0 && (size_t)msg[0] < sw->n) {
            const dale_sweep_run *r = &sw->runs[msg[0]];
            busy[w] = -1;
            unlocked[w] = 0;
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
        if (got == 0 && !g_told[w]) {
            if (msg[3]) { /* the worker leaves: no answer */
                g_told[w] = 1;
                nstopped++;
            } else waiting[w] = 1;
        }
        /* Answer the waiting workers: a run while there is one; "stop" once
         * the queue is empty and no busy worker can give a run back (a
         * stopped or lost one), else they wait. */
        int anybusy = 0;
        for (int v = 1; v < g_size; v++) anybusy |= !g_told[v] && busy[v] >= 0;
        for (int v = 1; v < g_size; v++) {
            if (!waiting[v]) continue;
            int give = -1;
            if (!stopping && !mpi_signal) {
                if (nagain) give = (int)again[--nagain];
                else if (next < np) give = (int)plan->pending[next++];
            }
            if (give < 0 && anybusy && !stopping && !mpi_signal) continue;
            waiting[v] = 0;
            if (MPI_Send(&give, 1, MPI_INT, v, TAG_RUN, MPI_COMM_WORLD) != MPI_SUCCESS) {
                fprintf(log, "dale sweep: rank %d cannot be reached; %s\n", v,
                        give >= 0 ? "its run goes to another rank" : "going on without it");
                if (give >= 0) again[nagain++] = (size_t)give;
                g_told[v] = 1;
                g_lost++;
                nstopped++;
                continue;
            }
            if (give < 0) { g_told[v] = 1; nstopped++; }
            else { busy[v] = give; unlocked[v] = 0; anybusy = 1; }
        }
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    t->signal = (int)mpi_signal;
    if (t->signal) t->stopped = 1;
    dalei_free(again);
    dalei_free(busy);
    dalei_free(unlocked);
    dalei_free(waiting);
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
        if (next_ask(msg, &w, -1)) break;
        if (!msg[3]) MPI_Send(&give, 1, MPI_INT, w, TAG_RUN, MPI_COMM_WORLD);
        if (!g_told[w]) { g_told[w] = 1; nstopped++; }
    }
}

void dalecli_mpi_finalize(int rc)
{
    if (!g_init) return;
    if (g_rank == 0 && g_lost) {
        /* MPI_Finalize waits for every rank, the dead one too: with every
         * run recorded, end the job instead */
        fprintf(stderr, "dale sweep: %d rank%s lost: every run is recorded; ending the MPI job with MPI_Abort "
                "(exit %d)\n", g_lost, g_lost == 1 ? " was" : "s were", rc);
        fflush(NULL);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
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
int dalecli_mpi_coordinate(dale_sweep_plan *plan, const dale_runner_options *o, double lost_s, dale_sweep_tally *t)
{
    (void)plan; (void)o; (void)lost_s;
    memset(t, 0, sizeof *t);
    return -1;
}
int dalecli_mpi_worker(const dale_sweep *sw, const dale_runner_options *o, const char *exe)
{
    (void)sw; (void)o; (void)exe;
    return 1;
}
void dalecli_mpi_release(void) {}
void dalecli_mpi_finalize(int rc) { (void)rc; }

#endif
