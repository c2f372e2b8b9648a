/* ondemand.c — `dale sweep` taking runs one at a time: a run through the
 * library's runner with a plan of that run alone, and --claim, where
 * independent sweep processes on one sweep directory (shells on several
 * nodes of a shared file system, Slurm array tasks) share the work through
 * claim files (dale/claim.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "dale/claim.h"
#include "ondemand.h"

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int od_run_one(const dale_sweep *sw, dale_store *store, const dale_runner_options *o, const char *exe, size_t run,
               double *wall, int *sig)
{
    size_t idx = run;
    dale_sweep_plan one;
    memset(&one, 0, sizeof one);
    one.sweep = sw;
    one.store = store;
    one.pending = &idx;
    one.npending = 1;
    dale_runner_options ro = *o;
    ro.jobs = 1;
    ro.quiet = 1; /* the caller prints the progress line */
    ro.only = NULL;
    dale_sweep_tally t;
    double t0 = mono();
    *sig = 0;
    dale_status st = dale_sweep_run_pending(&one, &ro, exe, &t);
    *wall = mono() - t0;
    if (st) {
        fprintf(o->log, "dale sweep: %s: out of memory; not run\n", sw->runs[run].id);
        return OD_SKIPPED;
    }
    *sig = t.signal;
    if (t.locked) return OD_SKIPPED;
    if (t.done == 0) return t.signal ? OD_STOPPED : OD_SKIPPED;
    return t.ok ? OD_OK : t.diverged ? OD_DIVERGED : OD_FAILED;
}

void od_tally_add(dale_sweep_tally *t, int code)
{
    switch (code) {
    case OD_OK: t->done++; t->ok++; break;
    case OD_DIVERGED: t->done++; t->diverged++; break;
    case OD_FAILED: t->done++; t->failed++; break;
    case OD_SKIPPED: t->locked++; break;
    default: break;
    }
}

const char *od_code_name(int code)
{
    static const char *const names[] = {"ok", "diverged", "failed", "skipped", "stopped"};
    return code >= 0 && code <= OD_STOPPED ? names[code] : "?";
}

static volatile sig_atomic_t claim_signal;
static void on_claim_signal(int s) { claim_signal = s; }

/* result.json says "failed" and was written at or after t0 (unix seconds):
 * another process of this round ran the run and recorded its failure. */
static int failed_since(const char *run_dir, time_t t0)
{
    char path[4300], rs[32];
    struct stat sb;
    snprintf(path, sizeof path, "%s/result.json", run_dir);
    if (stat(path, &sb) != 0 || sb.st_mtime < t0) return 0;
    dale_run_finished(run_dir, rs, sizeof rs);
    return !strcmp(rs, "failed");
}

int od_sweep_claim(dale_sweep_plan *plan, const dale_runner_options *o, const char *exe, double stale_seconds,
                   dale_sweep_tally *t)
{
    memset(t, 0, sizeof *t);
    const dale_sweep *sw = plan->sweep;
    FILE *log = o->log;
    time_t t0 = time(NULL);
    claim_signal = 0;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_claim_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    for (size_t k = 0; k < plan->npending && !claim_signal; k++) {
        const dale_sweep_run *r = &sw->runs[plan->pending[k]];
        char rs[32];
        if (dale_run_finished(r->cfg.out, rs, sizeof rs)) {
            /* finished by another process since this one made its plan */
            if (!dale_store_has_finished(plan->store, r->id) &&
                dale_store_put_run(plan->store, r->cfg.out, r->id, r->label, NULL, NULL))
                fprintf(log, "dale sweep: store: %s\n", dale_last_error());
            t->locked++;
            continue;
        }
        if (failed_since(r->cfg.out, t0)) { t->locked++; continue; }
        dale_claim holder;
        int took = 0;
        int c = dale_claim_take(r->cfg.out, stale_seconds, &holder, &took);
        if (c < 0) {
            fprintf(log, "dale sweep: %s: cannot claim: %s; skipped\n", r->id, dale_last_error());
            t->locked++;
            continue;
        }
        if (c == 0) {
            if (!o->quiet)
                fprintf(log, "dale sweep: %s is claimed by host %s pid %ld (%lld s ago); skipped\n", r->id,
                        holder.host, holder.pid, (long long)time(NULL) - holder.time);
            t->locked++;
            continue;
        }
        if (took)
            fprintf(log, "dale sweep: %s: took over the stale claim of host %s pid %ld (%lld s old); the run "
                    "resumes from its checkpoint if it has one\n", r->id, holder.host, holder.pid,
                    (long long)time(NULL) - holder.time);
        /* the state may have changed between the check above and the claim */
        if (dale_run_finished(r->cfg.out, rs, sizeof rs) || failed_since(r->cfg.out, t0)) {
            dale_claim_release(r->cfg.out);
            t->locked++;
            continue;
        }
        double wall;
        int sig;
        int code = od_run_one(sw, plan->store, o, exe, plan->pending[k], &wall, &sig);
        dale_claim_release(r->cfg.out);
        if (sig && !claim_signal) claim_signal = sig;
        od_tally_add(t, code);
        if (code == OD_STOPPED) t->stopped = 1;
        if (!o->quiet && code != OD_STOPPED)
            fprintf(log, "[%zu/%zu] %s %-24.24s %-8s %6.1fs\n", k + 1, plan->npending, r->id, r->label,
                    od_code_name(code), wall);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (claim_signal) t->stopped = 1; /* runs are left: a re-run takes them */
    t->signal = (int)claim_signal;
    return 0;
}
