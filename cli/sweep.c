/* sweep.c — `dale sweep` and `dale reproduce`: expand a sweep spec, run the
 * pending runs on N local worker processes (or emit a Slurm array script,
 * or take this MPI rank's share), record every run in the results store.
 *
 * Each run is a child process `dale train --config <run>/config.json --out
 * <run> --quiet` (`--resume` when the run has a checkpoint), with
 * OPENBLAS_NUM_THREADS=1, stdout/stderr to <run>/log.txt.  The child holds
 * a write lock on <run>/lock (fcntl, kept across exec), so two sweep
 * processes never run one run at once, and dies with its parent
 * (PR_SET_PDEATHSIG), so a killed sweep leaves no orphans writing into run
 * directories.  The parent is the only writer of the store in one process;
 * several sweep processes (MPI ranks, array tasks) share it through
 * SQLite's WAL locking.  SIGINT/SIGTERM: children get SIGTERM, the sweep
 * waits for them and exits 130; their checkpoints make a re-run resume.
 */
#include <dirent.h>
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
#include "cli.h"
#include "dale/sweep.h"
#include "internal.h"

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static int make_dirs(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int file_exists(const char *dir, const char *name)
{
    char p[4300];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

static int write_text(const char *path, const char *text)
{
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) { unlink(tmp); return -1; }
    return 0;
}

/* <run>/sweep.json: the run's id and label (the store's rebuild reads it). */
static int write_sweep_json(const dale_sweep_run *r)
{
    char path[4300], text[512], lab[160];
    dalei_json_escape(r->label, lab, sizeof lab - 1); /* - 1: the length these files always had */
    snprintf(path, sizeof path, "%s/sweep.json", r->cfg.out);
    snprintf(text, sizeof text, "{\n  \"id\": \"%s\",\n  \"label\": \"%s\"\n}\n", r->id, lab);
    return write_text(path, text);
}

/* result.json for a run the trainer could not record (invalid options, a
 * signal). */
static int write_failed_result(const char *run_dir, const char *status, const char *reason)
{
    char path[4300], text[1024], esc[700];
    dalei_json_escape(reason, esc, sizeof esc - 1);
    snprintf(path, sizeof path, "%s/result.json", run_dir);
    snprintf(text, sizeof text, "{\n  \"status\": \"%s\",\n  \"reason\": \"%s\"\n}\n", status, esc);
    return write_text(path, text);
}

static void fmt_time(double s, char *buf, size_t cap)
{
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
}

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The child: lock, die with the parent, one BLAS thread, log file, exec. */
static void child_exec(const dale_sweep_run *r, const char *self, int resume)
{
    char path[4300], cfg[4300];
    snprintf(path, sizeof path, "%s/lock", r->cfg.out);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fd < 0 || fcntl(fd, F_SETLK, &fl) != 0) _exit(75); /* someone else runs it */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) _exit(76);
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    snprintf(path, sizeof path, "%s/log.txt", r->cfg.out);
    int lf = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (lf >= 0) {
        dup2(lf, 1);
        dup2(lf, 2);
        close(lf);
    }
    snprintf(cfg, sizeof cfg, "%s/config.json", r->cfg.out);
    char *argv_resume[] = {"dale", "train", "--resume", "--out", (char *)r->cfg.out, "--quiet", NULL};
    char *argv_new[] = {"dale", "train", "--config", cfg, "--out", (char *)r->cfg.out, "--quiet", NULL};
    execv(self, resume ? argv_resume : argv_new);
    fprintf(stderr, "dale sweep: cannot run %s: %s\n", self, strerror(errno));
    _exit(127);
}

/* Last non-empty line of <run>/log.txt into buf. */
static void log_tail(const char *run_dir, char *buf, size_t cap)
{
    char path[4300], line[512];
    buf[0] = '\0';
    snprintf(path, sizeof path, "%s/log.txt", run_dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (n) snprintf(buf, cap, "%.300s", line);
    }
    fclose(f);
}

typedef struct sweep_opts {
    const char *spec, *out, *scale, *only;
    int jobs, dry_run, slurm, rank, size, quiet;
} sweep_opts;

typedef struct slot {
    pid_t pid;
    size_t run;
    double t0;
} slot;

/* Run every pending run; returns the exit code. */
static int run_pending(dale_sweep *sw, size_t *pend, size_t np, const sweep_opts *o, dale_store *st)
{
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) { fprintf(stderr, "dale sweep: cannot find the dale executable (/proc/self/exe)\n"); return 1; }
    self[sl] = '\0';
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waitpid returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int jobs = o->jobs;
    slot *slots = calloc((size_t)jobs, sizeof *slots);
    if (!slots) { fprintf(stderr, "dale sweep: out of memory\n"); return 1; }
    double est_left = 0, est_done = 0, real_done = 0, t_start = mono();
    for (size_t k = 0; k < np; k++) est_left += dale_run_seconds(&sw->runs[pend[k]].cfg);
    size_t next = 0, done = 0, nfail = 0, nok = 0, ndiv = 0, nlocked = 0;
    int active = 0, stopping = 0;
    while (next < np || active > 0) {
        while (!stop_signal && next < np && active < jobs) {
            dale_sweep_run *r = &sw->runs[pend[next++]];
            int resume = file_exists(r->cfg.out, "checkpoint.npz") && file_exists(r->cfg.out, "config.json");
            if (!resume) {
                char cp[4300];
                snprintf(cp, sizeof cp, "%s/config.json", r->cfg.out);
                if (dale_config_write_json(&r->cfg, cp)) {
                    fprintf(stderr, "dale sweep: %s\n", dale_last_error());
                    nfail++;
                    continue;
                }
            }
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) {
                fprintf(stderr, "dale sweep: fork failed: %s\n", strerror(errno));
                next--;
                break;
            }
            if (pid == 0) child_exec(r, self, resume);
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
        if (stop_signal && !stopping) {
            stopping = 1;
            fprintf(stderr, "\ndale sweep: %s: stopping %d running run(s); a re-run resumes them\n",
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
        dale_sweep_run *r = &sw->runs[slots[i].run];
        double wall = mono() - slots[i].t0;
        slots[i].pid = 0;
        active--;
        char rs[32], reason[700] = "", tail[400];
        int fin = dale_run_finished(r->cfg.out, rs, sizeof rs);
        const char *ovr = NULL;
        if (WIFEXITED(status) && (WEXITSTATUS(status) == 75 || WEXITSTATUS(status) == 76)) {
            nlocked++;
            fprintf(stderr, "dale sweep: %s is being run by another process; skipped\n", r->id);
            continue;
        }
        if (stop_signal && !fin) continue; /* stopped by us: left resumable, not a failure */
        if (!fin) {
            log_tail(r->cfg.out, tail, sizeof tail);
            if (WIFSIGNALED(status))
                snprintf(reason, sizeof reason, "killed by signal %d", WTERMSIG(status));
            else
                snprintf(reason, sizeof reason, "exit status %d: %s", WEXITSTATUS(status), tail);
            if (WIFSIGNALED(status) || !file_exists(r->cfg.out, "result.json") || strcmp(rs, "failed"))
                write_failed_result(r->cfg.out, "failed", reason);
            ovr = "failed";
            nfail++;
        } else if (!strcmp(rs, "ok")) nok++;
        else ndiv++;
        if (dale_store_put_run(st, r->cfg.out, r->id, r->label, ovr, ovr ? reason : NULL))
            fprintf(stderr, "dale sweep: store: %s (dale results %s --rebuild repairs it)\n", dale_last_error(), o->out);
        done++;
        double e = dale_run_seconds(&r->cfg);
        est_done += e;
        real_done += wall;
        est_left -= e;
        double ratio = est_done > 0 ? real_done / est_done : 1;
        char eta[32], el[32];
        fmt_time(est_left * ratio / (double)jobs, eta, sizeof eta);
        fmt_time(mono() - t_start, el, sizeof el);
        if (!o->quiet)
            fprintf(stderr, "[%zu/%zu] %s %-24.24s %-8s %6.1fs  elapsed %s  ETA %s%s%s\n", done, np, r->id, r->label,
                    fin ? rs : "failed", wall, el, eta, fin ? "" : "  ", fin ? "" : reason);
    }
    free(slots);
    if (stop_signal) {
        if (!stopping) /* the signal came after the last run had finished */
            fprintf(stderr, "\ndale sweep: %s after the last run; nothing left to resume\n",
                    stop_signal == SIGINT ? "interrupted" : "terminated");
        return 130;
    }
    fprintf(stderr, "dale sweep: %zu ran: %zu ok, %zu diverged, %zu failed%s\n", done, nok, ndiv, nfail,
            nlocked ? " (some skipped: run by another process)" : "");
    return nfail ? 1 : 0;
}

static int write_slurm(const dale_sweep *sw, const size_t *pend, size_t np, const sweep_opts *o)
{
    char dir[4200], path[4300], self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) snprintf(self, sizeof self, "dale");
    else self[sl] = '\0';
    snprintf(dir, sizeof dir, "%s/slurm", o->out);
    if (make_dirs(dir)) { fprintf(stderr, "dale sweep: cannot create %s\n", dir); return 1; }
    snprintf(path, sizeof path, "%s/pending.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) { fprintf(stderr, "dale sweep: cannot write %s\n", path); return 1; }
    for (size_t k = 0; k < np; k++) fprintf(f, "%s\n", sw->runs[pend[k]].id);
    fclose(f);
    double worst = 0;
    for (size_t k = 0; k < np; k++) {
        double s = dale_run_seconds(&sw->runs[pend[k]].cfg);
        if (s > worst) worst = s;
    }
    long minutes = (long)(worst * 3 / 60) + 10;
    snprintf(path, sizeof path, "%s/sweep.sbatch", dir);
    f = fopen(path, "w");
    if (!f) { fprintf(stderr, "dale sweep: cannot write %s\n", path); return 1; }
    fprintf(f,
            "#!/bin/bash\n"
            "# Slurm job array for sweep '%s': one task per pending run (%zu).\n"
            "# Submit: sbatch %s   (resubmitting after `dale sweep ... --slurm` again is safe:\n"
            "# finished runs are skipped, interrupted ones resume from their checkpoint).\n"
            "#SBATCH --job-name=dale-%s\n"
            "#SBATCH --array=0-%zu\n"
            "#SBATCH --cpus-per-task=1\n"
            "#SBATCH --time=%ld\n"
            "#SBATCH --output=%s/task-%%a.out\n"
            "set -eu\n"
            "id=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" %s/pending.txt)\n"
            "exec %s sweep %s --out %s%s%s --jobs 1 --only \"$id\"\n",
            sw->name, np, path, sw->name, np ? np - 1 : 0, minutes, dir, dir, self, o->spec, o->out,
            o->scale ? " --scale " : "", o->scale ? o->scale : "");
    fclose(f);
    printf("wrote %s (%zu array tasks) and %s/pending.txt\nsubmit with: sbatch %s\n", path, np, dir, path);
    return 0;
}

static void sweep_usage(FILE *f)
{
    fputs("usage: dale sweep SPEC.json [options]\n\n"
          "Expands a sweep spec (docs/experiments.md) into runs, runs the pending ones and\n"
          "records every run in OUT/results.sqlite.  Re-running skips finished runs\n"
          "(result.json status ok or diverged) and resumes interrupted ones.\n\n"
          "  --out DIR       sweep directory (default: sweeps/<spec name>)\n"
          "  --jobs N        worker processes (default: online CPUs)\n"
          "  --scale NAME    apply the spec's \"scales\".NAME overlay (default: none = paper)\n"
          "  --dry-run       list the runs and the cost estimate; run nothing\n"
          "  --slurm         write OUT/slurm/sweep.sbatch (one array task per pending run)\n"
          "                  and OUT/slurm/pending.txt; run nothing\n"
          "  --mpi           run this rank's share of the pending runs: the k-th pending\n"
          "                  run when k %% size == rank (rank/size from OMPI_COMM_WORLD_*,\n"
          "                  PMI_*, or SLURM_PROCID/SLURM_NTASKS; default jobs 1)\n"
          "  --rank R --size S  the same with an explicit rank and size\n"
          "  --only ID       run only the run with this id\n"
          "  --quiet         no per-run progress lines\n\n"
          "Exit codes: 0 every run ok or diverged, 1 some run failed (recorded with its\n"
          "reason), 2 usage error, 130 interrupted (re-run to resume).\n",
          f);
}

static int env_int(const char *const *names, int def)
{
    for (int i = 0; names[i]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) return atoi(v);
    }
    return def;
}

int dalecli_sweep_run(const sweep_opts *o, int print_list);
int dalecli_sweep_run(const sweep_opts *o, int print_list)
{
    dale_sweep *sw = NULL;
    dale_store *st = NULL;
    size_t *pend = NULL;
    char *stale = NULL;
    int rc = 1;
    char rdir[4200];
    snprintf(rdir, sizeof rdir, "%s/runs", o->out);
    if (dale_sweep_load(o->spec, o->out, o->scale, &sw)) {
        fprintf(stderr, "dale sweep: %s\n", dale_last_error());
        return 2;
    }
    if (!o->dry_run) {
        if (make_dirs(rdir)) {
            fprintf(stderr, "dale sweep: cannot create %s: %s\n", rdir, strerror(errno));
            goto done;
        }
        /* keep the spec (and its analysis defaults) with the results */
        FILE *in = fopen(o->spec, "rb");
        char path[4300];
        snprintf(path, sizeof path, "%s/spec.json", o->out);
        FILE *outf = in ? fopen(path, "wb") : NULL;
        if (in && outf) {
            char buf[8192];
            size_t k;
            while ((k = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, k, outf);
        }
        if (in) fclose(in);
        if (outf) fclose(outf);
        if (dale_store_open(o->out, &st)) {
            fprintf(stderr, "dale sweep: %s\n", dale_last_error());
            goto done;
        }
    }
    pend = calloc(sw->n ? sw->n : 1, sizeof *pend);
    stale = calloc(sw->n ? sw->n : 1, 1); /* the run's directory holds another run */
    if (!pend || !stale) goto done;
    size_t np = 0, nfin = 0, ninv = 0, nmine = 0;
    double est = 0, est_upd = 0;
    for (size_t i = 0; i < sw->n; i++) {
        dale_sweep_run *r = &sw->runs[i];
        if (o->only && strcmp(o->only, r->id)) continue;
        char rs[32];
        if (r->invalid) {
            ninv++;
            if (!o->dry_run) {
                make_dirs(r->cfg.out);
                write_sweep_json(r);
                write_failed_result(r->cfg.out, "invalid", r->reason);
                if (dale_store_put_run(st, r->cfg.out, r->id, r->label, "invalid", r->reason))
                    fprintf(stderr, "dale sweep: store: %s\n", dale_last_error());
            }
            if (!o->quiet) fprintf(stderr, "dale sweep: run %s (%s) is invalid: %s\n", r->id, r->label, r->reason);
            continue;
        }
        char why[256];
        stale[i] = (char)dale_run_config_differs(&r->cfg, r->cfg.out, why, sizeof why);
        if (stale[i]) {
            /* not this run: keep the old directory aside and start afresh */
            fprintf(stderr, "dale sweep: runs/%s (%s) holds another run (%s; another dale version or spec)%s\n",
                    r->id, r->label, why, o->dry_run ? ": it would be moved aside and re-run" : "");
            if (!o->dry_run) {
                char aside[4300];
                int k = 1;
                do snprintf(aside, sizeof aside, "%s.stale-%d", r->cfg.out, k++);
                while (access(aside, F_OK) == 0 && k < 1000);
                if (rename(r->cfg.out, aside) && errno != ENOENT) { /* ENOENT: another rank moved it */
                    fprintf(stderr, "dale sweep: cannot move %s aside: %s\n", r->cfg.out, strerror(errno));
                    goto done;
                }
                fprintf(stderr, "dale sweep: moved it to %s; the run starts afresh\n", aside);
            }
        }
        if (!stale[i] && dale_run_finished(r->cfg.out, rs, sizeof rs)) {
            nfin++;
            /* a run that finished after its sweep died: catch the store up */
            if (st && !dale_store_has_finished(st, r->id) && dale_store_put_run(st, r->cfg.out, r->id, r->label, NULL, NULL))
                fprintf(stderr, "dale sweep: store: %s\n", dale_last_error());
            continue;
        }
        if (o->size > 1 && (int)(nmine++ % (size_t)o->size) != o->rank) continue;
        pend[np++] = i;
        est += dale_run_seconds(&r->cfg);
        est_upd += dale_run_updates(&r->cfg);
        if (!o->dry_run) {
            make_dirs(r->cfg.out);
            write_sweep_json(r);
        }
    }
    char t1[32], t2[32];
    fmt_time(est, t1, sizeof t1);
    fmt_time(est / (o->jobs > 0 ? o->jobs : 1), t2, sizeof t2);
    fprintf(stderr, "sweep %s: %zu runs: %zu finished, %zu invalid, %zu to run (%.3g updates; estimate %s of CPU, "
            "%s with %d jobs)\n", sw->name, sw->n, nfin, ninv, np, est_upd, t1, t2, o->jobs);
    if (o->dry_run || print_list) {
        printf("%-16s  %-24s  %-8s  %10s  %9s\n", "id", "label", "state", "updates", "est");
        for (size_t i = 0; i < sw->n; i++) {
            dale_sweep_run *r = &sw->runs[i];
            char rs[32];
            int fin = !r->invalid && !stale[i] && dale_run_finished(r->cfg.out, rs, sizeof rs);
            char e[32];
            fmt_time(dale_run_seconds(&r->cfg), e, sizeof e);
            printf("%-16s  %-24.24s  %-8s  %10.0f  %9s  %s\n", r->id, r->label,
                   r->invalid ? "invalid" : stale[i] ? "stale" : fin ? rs : "pending", dale_run_updates(&r->cfg), e,
                   r->invalid ? r->reason : "");
        }
    }
    if (o->dry_run) { rc = 0; goto done; }
    if (o->slurm) { rc = write_slurm(sw, pend, np, o); goto done; }
    rc = run_pending(sw, pend, np, o, st);
    if (rc == 0 && ninv) rc = 1;
done:
    free(pend);
    free(stale);
    dale_store_close(st);
    dale_sweep_free(sw);
    return rc;
}

/* Parse the options shared by sweep and reproduce; returns -1 to go on, else
 * an exit code.  *pos gets the positional argument. */
static int parse_common(int argc, char **argv, sweep_opts *o, const char **pos, const char *who, int *list,
                        void (*usage)(FILE *))
{
    int mpi = 0;
    *pos = NULL;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o->jobs = 0;
    o->rank = 0;
    o->size = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--out") && has) o->out = argv[++i];
        else if (!strcmp(a, "--jobs") && has) {
            o->jobs = atoi(argv[++i]);
            if (o->jobs < 1 || o->jobs > 4096) { fprintf(stderr, "dale %s: --jobs must be 1..4096\n", who); return 2; }
        } else if (!strcmp(a, "--scale") && has) o->scale = argv[++i];
        else if (!strcmp(a, "--only") && has) o->only = argv[++i];
        else if (!strcmp(a, "--rank") && has) o->rank = atoi(argv[++i]);
        else if (!strcmp(a, "--size") && has) o->size = atoi(argv[++i]);
        else if (!strcmp(a, "--dry-run")) o->dry_run = 1;
        else if (!strcmp(a, "--slurm")) o->slurm = 1;
        else if (!strcmp(a, "--mpi")) mpi = 1;
        else if (!strcmp(a, "--quiet")) o->quiet = 1;
        else if (!strcmp(a, "--list") && list) *list = 1;
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "dale %s: unknown option or missing value '%s' (see dale %s --help)\n", who, a, who);
            return 2;
        } else if (!*pos) *pos = a;
        else { fprintf(stderr, "dale %s: unexpected argument '%s'\n", who, a); return 2; }
    }
    if (mpi) {
        static const char *const rk[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID", NULL};
        static const char *const sz[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS", NULL};
        o->rank = env_int(rk, 0);
        o->size = env_int(sz, 1);
        if (!o->jobs) o->jobs = 1;
    }
    if (o->size < 1 || o->rank < 0 || o->rank >= o->size) {
        fprintf(stderr, "dale %s: need 0 <= rank < size (got rank %d, size %d)\n", who, o->rank, o->size);
        return 2;
    }
    if (!o->jobs) o->jobs = ncpu > 0 ? (int)ncpu : 1;
    return -1;
}

int cmd_sweep(int argc, char **argv)
{
    sweep_opts o;
    memset(&o, 0, sizeof o);
    const char *spec;
    int rc = parse_common(argc, argv, &o, &spec, "sweep", NULL, sweep_usage);
    if (rc >= 0) return rc;
    if (!spec) { sweep_usage(stderr); return 2; }
    o.spec = spec;
    char out[4096];
    if (!o.out) {
        dale_sweep *sw = NULL;
        if (dale_sweep_load(spec, "sweeps", o.scale, &sw)) {
            fprintf(stderr, "dale sweep: %s\n", dale_last_error());
            return 2;
        }
        snprintf(out, sizeof out, "sweeps/%s", sw->name);
        dale_sweep_free(sw);
        o.out = out;
    }
    return dalecli_sweep_run(&o, 0);
}

/* ----------------------------------------------------------- reproduce */

static const char *experiments_dir(char *buf, size_t cap)
{
    const char *env = getenv("DALE_EXPERIMENTS");
    if (env && *env) return env;
    struct stat sb;
    if (stat("experiments", &sb) == 0) return "experiments";
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *s = strrchr(self, '/');
        if (s) *s = '\0';
        snprintf(buf, cap, "%s/../experiments", self);
        if (stat(buf, &sb) == 0) return buf;
        snprintf(buf, cap, "%s/../share/dale/experiments", self);
        if (stat(buf, &sb) == 0) return buf;
    }
    return "experiments";
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void reproduce_usage(FILE *f)
{
    fputs("usage: dale reproduce --list\n"
          "       dale reproduce NAME [--scale quick|paper] [--jobs N] [--out DIR] [--dry-run]\n\n"
          "Runs the paper experiment NAME (a sweep spec experiments/NAME.json; directory:\n"
          "$DALE_EXPERIMENTS, else ./experiments, else next to the executable), then prints\n"
          "its table and statistics with `dale results` and the preset's analysis.\n\n"
          "  --list          every preset with its runs and cost estimate at both scales\n"
          "  --scale S       quick (minutes on 2 cores) or paper (the reference protocol;\n"
          "                  default quick)\n"
          "  --jobs N        worker processes (default: online CPUs)\n"
          "  --out DIR       sweep directory (default: sweeps/NAME-SCALE)\n"
          "  --dry-run       list the runs and the estimate only\n",
          f);
}

int cmd_reproduce(int argc, char **argv)
{
    sweep_opts o;
    memset(&o, 0, sizeof o);
    const char *name;
    int list = 0;
    int rc = parse_common(argc, argv, &o, &name, "reproduce", &list, reproduce_usage);
    if (rc >= 0) return rc;
    char eb[4200];
    const char *ed = experiments_dir(eb, sizeof eb);
    if (list) {
        DIR *d = opendir(ed);
        if (!d) { fprintf(stderr, "dale reproduce: cannot open %s (set DALE_EXPERIMENTS)\n", ed); return 1; }
        char *names[256];
        size_t nn = 0;
        struct dirent *e;
        while ((e = readdir(d)) && nn < 256) {
            size_t l = strlen(e->d_name);
            if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) names[nn++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, nn, sizeof *names, cmp_cstr);
        printf("%-10s %6s %10s %10s   %6s %10s %10s   %s\n", "name", "quick", "updates", "cpu", "paper", "updates",
               "cpu", "description");
        for (size_t i = 0; i < nn; i++) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", ed, names[i]);
            names[i][strlen(names[i]) - 5] = '\0';
            double est[2] = {0, 0}, upd[2] = {0, 0};
            size_t runs[2] = {0, 0};
            char desc[256] = "";
            static const char *const sc[2] = {"quick", "paper"};
            for (int k = 0; k < 2; k++) {
                dale_sweep *sw = NULL;
                if (dale_sweep_load(path, "sweeps", sc[k], &sw)) {
                    fprintf(stderr, "dale reproduce: %s\n", dale_last_error());
                    continue;
                }
                runs[k] = sw->n;
                for (size_t r = 0; r < sw->n; r++) {
                    est[k] += dale_run_seconds(&sw->runs[r].cfg);
                    upd[k] += dale_run_updates(&sw->runs[r].cfg);
                }
                snprintf(desc, sizeof desc, "%s", sw->description);
                dale_sweep_free(sw);
            }
            char t0[32], t1[32];
            fmt_time(est[0], t0, sizeof t0);
            fmt_time(est[1], t1, sizeof t1);
            printf("%-10s %6zu %10.3g %10s   %6zu %10.3g %10s   %s\n", names[i], runs[0], upd[0], t0, runs[1], upd[1],
                   t1, desc);
            free(names[i]);
        }
        printf("\ncpu = estimated single-core time (divide by --jobs); see docs/experiments.md\n");
        return 0;
    }
    if (!name) { reproduce_usage(stderr); return 2; }
    if (!o.scale) o.scale = "quick";
    char spec[4400], out[4400];
    snprintf(spec, sizeof spec, "%s/%s.json", ed, name);
    struct stat sb;
    if (stat(spec, &sb) != 0) {
        fprintf(stderr, "dale reproduce: no preset '%s' (%s); see dale reproduce --list\n", name, spec);
        return 2;
    }
    if (!o.out) {
        snprintf(out, sizeof out, "sweeps/%s-%s", name, o.scale);
        o.out = out;
    }
    o.spec = spec;
    rc = dalecli_sweep_run(&o, 0);
    if (o.dry_run || rc == 2 || rc == 130) return rc;
    char *rargv[] = {"results", (char *)o.out, NULL};
    int rr = cmd_results(2, rargv);
    return rc ? rc : rr;
}
