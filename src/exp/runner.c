/* runner.c — running a sweep (dale/runner.h): sorting its runs into
 * finished, invalid, stale and pending, running the pending ones on worker
 * processes, and the store records of each (the Slurm job array: slurm.c).
 *
 * SIGINT/SIGTERM while runs are running: the children get SIGTERM, the
 * runner waits for them and reports the signal; their checkpoints make a
 * re-run resume.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dale/fileio.h"
#include "dale/runner.h"
#include "internal.h"

void dale_format_duration(double s, char *buf, size_t cap)
{
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
}

static int file_exists(const char *dir, const char *name)
{
    char p[4300];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

static dale_status write_text(const char *path, const char *text)
{
    return dalei_write_file_atomic(path, text, strlen(text));
}

/* <run>/sweep.json: the run's id, label and the options the spec set
 * before resolution ("given"; the store reads all three, so a rebuild
 * groups on what the user set, e.g. inhib, which config.json folds into
 * ei_ratio). */
static dale_status write_sweep_json(const dale_sweep_run *r)
{
    char path[4300], lab[160];
    dalei_json_escape(r->label, lab, sizeof lab - 1); /* - 1: the length these files always had */
    snprintf(path, sizeof path, "%s/sweep.json", r->cfg.out);
    const char *given = r->given ? r->given : "{}";
    size_t cap = strlen(given) + 512;
    char *text = dalei_alloc(cap, 1);
    if (!text) return DALE_ERR_NOMEM;
    snprintf(text, cap, "{\n  \"id\": \"%s\",\n  \"label\": \"%s\",\n  \"given\": %s\n}\n", r->id, lab, given);
    dale_status st = write_text(path, text);
    dalei_free(text);
    return st;
}

/* Does <run>/sweep.json record the given options? */
static int sweep_json_has_given(const char *run_dir)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/sweep.json", run_dir);
    char *t = dalei_read_text(path, 1 << 20);
    int has = t && strstr(t, "\"given\":") != NULL;
    dalei_free(t);
    return has;
}

/* result.json for a run the trainer could not record (invalid options, a
 * signal). */
static dale_status write_failed_result(const char *run_dir, const char *status, const char *reason)
{
    char path[4300], text[1024], esc[700];
    dalei_json_escape(reason, esc, sizeof esc - 1);
    snprintf(path, sizeof path, "%s/result.json", run_dir);
    snprintf(text, sizeof text, "{\n  \"status\": \"%s\",\n  \"reason\": \"%s\"\n}\n", status, esc);
    return write_text(path, text);
}

/* A directory the runner makes on the way (a failure shows when a file in
 * it cannot be written). */
static void make_dir_quiet(const char *dir) { (void)dale_mkdirs(dir); }

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ------------------------------------------------------------------ plan */

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    FILE *outf = in ? fopen(to, "wb") : NULL;
    if (in && outf) {
        char buf[8192];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, k, outf);
    }
    if (in) fclose(in);
    if (outf) fclose(outf);
}

void dale_sweep_plan_free(dale_sweep_plan *p)
{
    if (!p) return;
    dalei_free(p->pending);
    dalei_free(p->stale);
    dale_store_close(p->store);
    dalei_free(p);
}

dale_status dale_sweep_plan_create(const dale_sweep *sw, const dale_runner_options *o, dale_sweep_plan **out)
{
    *out = NULL;
    FILE *log = o->log;
    dale_sweep_plan *p = dalei_calloc(1, sizeof *p);
    if (!p) return DALE_ERR_NOMEM;
    p->sweep = sw;
    dale_status st = DALE_OK;
    if (!o->dry_run) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/runs", o->out);
        if ((st = dale_mkdirs(dir))) goto fail;
        /* keep the spec (and its analysis defaults) with the results */
        if (o->spec) {
            char path[4300];
            snprintf(path, sizeof path, "%s/spec.json", o->out);
            copy_file(o->spec, path);
        }
        if ((st = dale_store_open(o->out, &p->store))) goto fail;
    }
    p->pending = dalei_calloc(sw->n ? sw->n : 1, sizeof *p->pending);
    p->stale = dalei_calloc(sw->n ? sw->n : 1, 1);
    if (!p->pending || !p->stale) { st = DALE_ERR_NOMEM; goto fail; }
    size_t nmine = 0;
    for (size_t i = 0; i < sw->n; i++) {
        const dale_sweep_run *r = &sw->runs[i];
        if (o->only && strcmp(o->only, r->id)) continue;
        char rs[32];
        if (r->invalid) {
            p->ninvalid++;
            if (!o->dry_run) {
                make_dir_quiet(r->cfg.out);
                write_sweep_json(r);
                write_failed_result(r->cfg.out, "invalid", r->reason);
                if (dale_store_put_run(p->store, r->cfg.out, r->id, r->label, "invalid", r->reason))
                    fprintf(log, "dale sweep: store: %s\n", dale_last_error());
            }
            if (!o->quiet) fprintf(log, "dale sweep: run %s (%s) is invalid: %s\n", r->id, r->label, r->reason);
            continue;
        }
        char why[256];
        p->stale[i] = (char)dale_run_config_differs(&r->cfg, r->cfg.out, why, sizeof why);
        if (p->stale[i]) {
            /* not this run: keep the old directory aside and start afresh */
            fprintf(log, "dale sweep: runs/%s (%s) holds another run (%s; another dale version or spec)%s\n", r->id,
                    r->label, why, o->dry_run ? ": it would be moved aside and re-run" : "");
            if (!o->dry_run) {
                char aside[4300];
                int k = 1;
                do snprintf(aside, sizeof aside, "%s.stale-%d", r->cfg.out, k++);
                while (access(aside, F_OK) == 0 && k < 1000);
                if (rename(r->cfg.out, aside) && errno != ENOENT) { /* ENOENT: another rank moved it */
                    st = DALE_FAIL(DALE_ERR_IO, "cannot move %s aside: %s", r->cfg.out, strerror(errno));
                    goto fail;
                }
                fprintf(log, "dale sweep: moved it to %s; the run starts afresh\n", aside);
            }
        }
        if (!p->stale[i] && dale_run_finished(r->cfg.out, rs, sizeof rs)) {
            p->nfinished++;
            /* a run that finished after its sweep died: catch the store up;
             * a run of an older dale has no "given" options in sweep.json:
             * add them (config.json and result.json stay as they are) */
            int upgrade = !o->dry_run && !sweep_json_has_given(r->cfg.out) && !write_sweep_json(r);
            if (p->store && (upgrade || !dale_store_has_finished(p->store, r->id)) &&
                dale_store_put_run(p->store, r->cfg.out, r->id, r->label, NULL, NULL))
                fprintf(log, "dale sweep: store: %s\n", dale_last_error());
            continue;
        }
        if (o->size > 1 && (int)(nmine++ % (size_t)o->size) != o->rank) continue;
        p->pending[p->npending++] = i;
        p->est_seconds += dale_run_seconds(&r->cfg);
        p->est_updates += dale_run_updates(&r->cfg);
        if (!o->dry_run) {
            make_dir_quiet(r->cfg.out);
            write_sweep_json(r);
        }
    }
    *out = p;
    return DALE_OK;
fail:
    dale_sweep_plan_free(p);
    return st;
}

/* ------------------------------------------------------------------- run */

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

/* The child: lock, die with the parent, one BLAS thread, log file, exec.
 * Everything it decides about the run directory it decides under the
 * run's lock: another sweep process on the same sweep may have finished
 * this run meanwhile (exit 77: nothing to do), and config.json is written
 * only here, so no other worker's `dale train` finds a half-written one. */
static void child_exec(const dale_sweep_run *r, const char *self)
{
    char path[4300], cfg[4300];
    snprintf(path, sizeof path, "%s/lock", r->cfg.out);
    int fd = dalei_lock_file(path, NULL);
    if (fd < 0) _exit(75); /* someone else runs it */
    /* kept open (and so locked) across the exec: `dale train` holds it on */
    fcntl(fd, F_SETFD, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) _exit(76);
    char rs[32];
    if (dale_run_finished(r->cfg.out, rs, sizeof rs)) _exit(77); /* done by another process */
    int resume = file_exists(r->cfg.out, "checkpoint.npz") && file_exists(r->cfg.out, "config.json");
    snprintf(cfg, sizeof cfg, "%s/config.json", r->cfg.out);
    if (!resume && dale_config_write_json(&r->cfg, cfg)) {
        fprintf(stderr, "dale sweep: %s\n", dale_last_error());
        _exit(1);
    }
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    snprintf(path, sizeof path, "%s/log.txt", r->cfg.out);
    int lf = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0644);
    if (lf >= 0) {
        dup2(lf, 1);
        dup2(lf, 2);
        close(lf);
    }
    char *argv_resume[] = {"dale", "train", "--resume", "--out", (char *)r->cfg.out, "--quiet", NULL};
    char *argv_new[] = {"dale", "train", "--config", cfg, "--out", (char *)r->cfg.out, "--quiet", NULL};
    execv(self, resume ? argv_resume : argv_new);
    fprintf(stderr, "dale sweep: cannot run %s: %s\n", self, strerror(errno));
    _exit(127);
}

typedef struct slot {
    pid_t pid;
    size_t run;
    double t0;
} slot;

dale_status dale_sweep_run_pending(dale_sweep_plan *plan, const dale_runner_options *o, const char *self,
                                   dale_sweep_tally *t)
{
    memset(t, 0, sizeof *t);
    const dale_sweep *sw = plan->sweep;
    const size_t *pend = plan->pending, np = plan->npending;
    FILE *log = o->log;
    int jobs = o->jobs > 0 ? o->jobs : 1;
    slot *slots = dalei_calloc((size_t)jobs, sizeof *slots);
    if (!slots) return DALE_ERR_NOMEM;
    stop_signal = 0;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waitpid returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    double est_left = 0, est_done = 0, real_done = 0, t_start = mono();
    for (size_t k = 0; k < np; k++) est_left += dale_run_seconds(&sw->runs[pend[k]].cfg);
    size_t next = 0;
    int active = 0;
    while (next < np || active > 0) {
        while (!stop_signal && next < np && active < jobs) {
            const dale_sweep_run *r = &sw->runs[pend[next++]];
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                fprintf(log, "dale sweep: fork failed: %s\n", strerror(errno));
                next--;
                break;
            }
            if (pid == 0) child_exec(r, self);
            int i = 0;
            while (slots[i].pid) i++;
            slots[i].pid = pid;
            slots[i].run = (size_t)(r - sw->runs);
            slots[i].t0 = mono();
            active++;
        }
        if (active == 0) break;
        /* A stop request is acted on here, whether it interrupted waitpid
         * (EINTR below) or arrived while a finished run was being stored. */
        if (stop_signal && !t->stopped) {
            t->stopped = 1;
            fprintf(log, "\ndale sweep: %s: stopping %d running run(s); a re-run resumes them\n",
                    stop_signal == SIGINT ? "interrupted" : "terminated", active);
            for (int i = 0; i < jobs; i++)
                if (slots[i].pid) kill(slots[i].pid, SIGTERM);
            next = np; /* start nothing more */
        }
        /* Poll (20 ms): a signal landing between the stop check above and
         * a blocking waitpid would otherwise wait for a run to end. */
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid == 0 || (pid < 0 && errno == EINTR)) {
            struct timespec nap = {0, 20000000};
            nanosleep(&nap, NULL);
            continue;
        }
        if (pid < 0) break; /* ECHILD: nothing left to wait for */
        int i = 0;
        while (i < jobs && slots[i].pid != pid) i++;
        if (i == jobs) continue;
        const dale_sweep_run *r = &sw->runs[slots[i].run];
        double wall = mono() - slots[i].t0;
        slots[i].pid = 0;
        active--;
        char rs[32], reason[700] = "", tail[400];
        int fin = dale_run_finished(r->cfg.out, rs, sizeof rs);
        const char *ovr = NULL;
        if (WIFEXITED(status) && (WEXITSTATUS(status) == 75 || WEXITSTATUS(status) == 76)) {
            t->locked++;
            fprintf(log, "dale sweep: %s is being run by another process; skipped\n", r->id);
            continue;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
            t->locked++;
            fprintf(log, "dale sweep: %s was finished by another process; skipped\n", r->id);
            if (!dale_store_has_finished(plan->store, r->id) &&
                dale_store_put_run(plan->store, r->cfg.out, r->id, r->label, NULL, NULL))
                fprintf(log, "dale sweep: store: %s\n", dale_last_error());
            continue;
        }
        if (stop_signal && !fin) continue; /* stopped by us: left resumable, not a failure */
        if (!fin && WIFEXITED(status) && (WEXITSTATUS(status) == 130 || WEXITSTATUS(status) == 143)) {
            /* `dale train` stopped by SIGINT/SIGTERM from outside (a batch
             * system's scancel or time limit signals every process of the
             * job, and the run may see it before this process does): its
             * checkpoint is saved, so it is left resumable, not failed */
            t->stopped = 1;
            fprintf(log, "dale sweep: %s was stopped by a signal (exit %d); a re-run resumes it from its checkpoint\n",
                    r->id, WEXITSTATUS(status));
            continue;
        }
        if (!fin) {
            char path[4300];
            snprintf(path, sizeof path, "%s/log.txt", r->cfg.out);
            dalei_last_line(path, tail, 301); /* at most 300 characters of it */
            if (WIFSIGNALED(status))
                snprintf(reason, sizeof reason, "killed by signal %d", WTERMSIG(status));
            else
                snprintf(reason, sizeof reason, "exit status %d: %s", WEXITSTATUS(status), tail);
            if (WIFSIGNALED(status) || !file_exists(r->cfg.out, "result.json") || strcmp(rs, "failed"))
                write_failed_result(r->cfg.out, "failed", reason);
            ovr = "failed";
            t->failed++;
        } else if (!strcmp(rs, "ok")) t->ok++;
        else t->diverged++;
        if (dale_store_put_run(plan->store, r->cfg.out, r->id, r->label, ovr, ovr ? reason : NULL))
            fprintf(log, "dale sweep: store: %s (dale results %s --rebuild repairs it)\n", dale_last_error(), o->out);
        t->done++;
        double e = dale_run_seconds(&r->cfg);
        est_done += e;
        real_done += wall;
        est_left -= e;
        double ratio = est_done > 0 ? real_done / est_done : 1;
        char eta[32], el[32];
        dale_format_duration(est_left * ratio / (double)jobs, eta, sizeof eta);
        dale_format_duration(mono() - t_start, el, sizeof el);
        if (!o->quiet)
            fprintf(log, "[%zu/%zu] %s %-24.24s %-8s %6.1fs  elapsed %s  ETA %s%s%s\n", t->done, np, r->id, r->label,
                    fin ? rs : "failed", wall, el, eta, fin ? "" : "  ", fin ? "" : reason);
    }
    dalei_free(slots);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    t->signal = (int)stop_signal;
    return DALE_OK;
}
