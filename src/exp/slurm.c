/* slurm.c — a sweep as a Slurm job array (dale/slurm.h): the sbatch script,
 * its submission with sbatch, and squeue's view of the submitted jobs.
 *
 * Sweep specs are files people share, so every value that reaches the
 * generated script is quoted: shell words in single quotes ('...', a '
 * written as '\''), which bash takes literally whatever they hold; the
 * #SBATCH --output path in double quotes, which sbatch's own line parser
 * groups (a " escaped with a backslash, a % doubled so that sbatch's file
 * name patterns leave it alone); the job name reduced to [A-Za-z0-9._-];
 * partition, account, time and memory checked against the characters and
 * forms Slurm takes for them.  What no quoting makes safe is refused before
 * anything is written: a control character (newline, tab, ...) anywhere,
 * since a comment line or an #SBATCH line ends at a newline, and a
 * backslash in the output directory, which would turn off sbatch's %a
 * pattern in the log name.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dale/config.h"
#include "dale/fileio.h"
#include "dale/slurm.h"
#include "internal.h"

/* Offset of the first control character of s, or -1. */
static long ctrl_at(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return (long)(p - (const unsigned char *)s);
    return -1;
}

static dale_status slurm_value_ok(const char *what, const char *v)
{
    long at = ctrl_at(v);
    if (at >= 0)
        return DALE_FAIL(DALE_ERR_ARG, "cannot write a Slurm script: the %s holds a control character (byte 0x%02x "
                         "at offset %ld); newlines, tabs and other control characters cannot go into the script "
                         "safely: rename it", what, (unsigned)(unsigned char)v[at], at);
    return DALE_OK;
}

/* A non-empty value of at most 200 characters of [A-Za-z0-9] and `extra`. */
static dale_status slurm_name_ok(const char *what, const char *v, const char *extra)
{
    dale_status st = slurm_value_ok(what, v);
    if (st) return st;
    size_t n = strlen(v);
    if (n == 0 || n > 200)
        return DALE_FAIL(DALE_ERR_ARG, "cannot write a Slurm script: the %s must be 1 to 200 characters (got %zu)",
                         what, n);
    for (const char *p = v; *p; p++) {
        int okc = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                  strchr(extra, *p) != NULL;
        if (!okc)
            return DALE_FAIL(DALE_ERR_ARG, "cannot write a Slurm script: the %s '%s' holds '%c' at offset %ld; "
                             "it may hold only letters, digits and %s", what, v, *p, (long)(p - v), extra);
    }
    return DALE_OK;
}

static int all_digits(const char *s, size_t n)
{
    if (n == 0 || n > 6) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* Slurm's time forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S (numbers of 1-6 digits). */
static dale_status slurm_time_ok(const char *v)
{
    dale_status st = slurm_value_ok("--time", v);
    if (st) return st;
    const char *p = v, *dash = strchr(v, '-');
    int fields_max = 3;
    if (dash) {
        if (!all_digits(v, (size_t)(dash - v))) goto bad;
        p = dash + 1;
    }
    int nf = 0;
    for (;;) {
        size_t k = strcspn(p, ":");
        if (!all_digits(p, k)) goto bad;
        nf++;
        if (!p[k]) break;
        p += k + 1;
    }
    if (nf > fields_max) goto bad;
    return DALE_OK;
bad:
    return DALE_FAIL(DALE_ERR_ARG, "cannot write a Slurm script: --time '%s' is not a time Slurm reads; give auto, "
                     "minutes (90), HH:MM:SS, D-HH or D-HH:MM:SS", v);
}

/* Slurm's memory form: digits and an optional K, M, G or T. */
static dale_status slurm_mem_ok(const char *v)
{
    dale_status st = slurm_value_ok("--mem", v);
    if (st) return st;
    size_t n = strlen(v), d = n && strchr("KMGTkmgt", v[n - 1]) ? n - 1 : n;
    if (d == 0 || d > 12 || strspn(v, "0123456789") != d)
        return DALE_FAIL(DALE_ERR_ARG, "cannot write a Slurm script: --mem '%s' is not a size Slurm reads; give auto "
                         "or a number with an optional K, M, G or T (e.g. 4G)", v);
    return DALE_OK;
}

static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

/* dir/file for an #SBATCH line: in double quotes, " as \", % as %%. */
static void sbatch_quote(FILE *f, const char *dir, const char *file)
{
    fputc('"', f);
    for (const char *p = dir; *p; p++) {
        if (*p == '"') fputs("\\\"", f);
        else if (*p == '%') fputs("%%", f);
        else fputc(*p, f);
    }
    fputs(file, f);
    fputc('"', f);
}

/* A user's #SBATCH line without a leading "#SBATCH" and blanks. */
static const char *sbatch_line_text(const char *s)
{
    while (*s == ' ') s++;
    if (!strncmp(s, "#SBATCH", 7)) s += 7;
    while (*s == ' ') s++;
    return s;
}

double dale_slurm_auto_seconds(const dale_sweep_plan *plan, int runs_per_task)
{
    size_t k = runs_per_task > 0 ? (size_t)runs_per_task : 1;
    double worst = 0;
    for (size_t a = 0; a < plan->npending; a += k) {
        double s = 0;
        for (size_t j = a; j < a + k && j < plan->npending; j++) s += dale_run_seconds(&plan->sweep->runs[plan->pending[j]].cfg);
        if (s > worst) worst = s;
    }
    return worst * 2 + 600;
}

long dale_slurm_auto_mem_mb(const dale_sweep_plan *plan)
{
    double worst = 0;
    for (size_t j = 0; j < plan->npending; j++) {
        double pa = 0, ac = 0, da = 0;
        if (dale_config_memory_estimate(&plan->sweep->runs[plan->pending[j]].cfg, &pa, &ac, &da)) continue;
        if (pa + ac + da > worst) worst = pa + ac + da;
    }
    return (long)ceil(worst * 1.5 / 1048576.0) + 512;
}

void dale_slurm_format_time(double s, char *buf, size_t cap)
{
    if (!isfinite(s) || s < 60) s = 60;
    if (s > 365.0 * 86400) s = 365.0 * 86400;
    long m = (long)ceil(s / 60);
    snprintf(buf, cap, "%ld-%02ld:%02ld:00", m / 1440, (m / 60) % 24, m % 60);
}

dale_status dale_slurm_write(const dale_sweep_plan *plan, const dale_slurm_options *o, char *script, size_t cap,
                             size_t *ntasks)
{
    const dale_sweep *sw = plan->sweep;
    const size_t *pend = plan->pending, np = plan->npending;
    dale_status st;
    if ((st = slurm_value_ok("sweep name", sw->name)) || (st = slurm_value_ok("spec path", o->spec)) ||
        (st = slurm_value_ok("--out directory", o->out)) || (st = slurm_value_ok("dale executable path", o->exe)) ||
        (o->scale && (st = slurm_value_ok("--scale name", o->scale))) ||
        (o->partition && (st = slurm_name_ok("--partition", o->partition, "._,-"))) ||
        (o->account && (st = slurm_name_ok("--account", o->account, "._@+-"))) ||
        (o->time && strcmp(o->time, "auto") && (st = slurm_time_ok(o->time))) ||
        (o->mem && strcmp(o->mem, "auto") && (st = slurm_mem_ok(o->mem))))
        return st;
    for (size_t i = 0; i < o->nsbatch_lines; i++) {
        if ((st = slurm_value_ok("--sbatch-line", o->sbatch_lines[i]))) return st;
        const char *t = sbatch_line_text(o->sbatch_lines[i]);
        if (t[0] != '-' || strlen(t) > 1000)
            return DALE_FAIL(DALE_ERR_ARG, "cannot write a Slurm script: --sbatch-line '%s' is not an sbatch option "
                             "(it must start with '-', e.g. --qos=long, and be at most 1000 characters)", t);
    }
    if (strchr(o->out, '\\'))
        return DALE_FAIL(DALE_ERR_ARG, "cannot write a Slurm script: the --out directory holds a backslash, which "
                         "would turn off sbatch's %%a in the task log names: choose another directory");
    char job[64];
    size_t jn = 0;
    for (const char *p = sw->name; *p && jn + 1 < sizeof job; p++)
        job[jn++] = (char)((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                                   *p == '.' || *p == '_' || *p == '-'
                               ? *p
                               : '_');
    job[jn] = '\0';
    size_t per = o->runs_per_task > 0 ? (size_t)o->runs_per_task : 1;
    size_t tasks = (np + per - 1) / per;
    if (ntasks) *ntasks = tasks;
    int cpus = o->cpus_per_task > 0 ? o->cpus_per_task : 1;
    char tlim[64], mem[64] = "";
    if (!o->time || !strcmp(o->time, "auto")) dale_slurm_format_time(dale_slurm_auto_seconds(plan, (int)per), tlim, sizeof tlim);
    else snprintf(tlim, sizeof tlim, "%s", o->time);
    if (o->mem && !strcmp(o->mem, "auto")) snprintf(mem, sizeof mem, "%ldM", dale_slurm_auto_mem_mb(plan));
    else if (o->mem) snprintf(mem, sizeof mem, "%s", o->mem);

    char dir[4200], path[4300];
    if ((size_t)snprintf(dir, sizeof dir, "%s/slurm", o->out) >= sizeof dir)
        return DALE_FAIL(DALE_ERR_ARG, "cannot write a Slurm script: the --out directory is too long");
    if (dale_mkdirs(dir)) return DALE_FAIL(DALE_ERR_IO, "cannot create %s", dir);
    snprintf(path, sizeof path, "%s/pending.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "cannot write %s", path);
    for (size_t k = 0; k < np; k++) fprintf(f, "%s\n", sw->runs[pend[k]].id);
    if (fclose(f)) return DALE_FAIL(DALE_ERR_IO, "cannot write %s", path);
    snprintf(path, sizeof path, "%s/sweep.sbatch", dir);
    f = fopen(path, "w");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "cannot write %s", path);

    /* the comment block: what the array is and how to use it */
    fputs("#!/bin/bash\n# Slurm job array for sweep ", f);
    sh_quote(f, sw->name);
    fprintf(f, ", written by dale: %zu pending run(s) in %zu array task(s),\n"
               "# %zu run(s) per task, one after another.  Submit: sbatch ", np, tasks, per);
    sh_quote(f, path);
    fputs("\n# (or `dale sweep ... --slurm --submit`).  Re-submitting after `dale sweep ... --slurm`\n"
          "# again is safe: finished runs are skipped, interrupted ones resume from their\n"
          "# checkpoint, and a run another task holds the lock of is left to it.\n", f);
    fprintf(f, "#SBATCH --job-name=dale-%s\n", job);
    fprintf(f, "#SBATCH --array=0-%zu", tasks ? tasks - 1 : 0);
    if (o->array_max > 0) fprintf(f, "%%%d", o->array_max);
    fprintf(f, "\n#SBATCH --cpus-per-task=%d\n#SBATCH --time=%s\n", cpus, tlim);
    if (mem[0]) fprintf(f, "#SBATCH --mem=%s\n", mem);
    if (o->partition) fprintf(f, "#SBATCH --partition=%s\n", o->partition);
    if (o->account) fprintf(f, "#SBATCH --account=%s\n", o->account);
    if (o->requeue) fputs("#SBATCH --requeue\n", f);
    fputs("#SBATCH --output=", f);
    sbatch_quote(f, dir, "/task-%a.out");
    fputc('\n', f);
    for (size_t i = 0; i < o->nsbatch_lines; i++) fprintf(f, "#SBATCH %s\n", sbatch_line_text(o->sbatch_lines[i]));

    /* the body: this task's lines of pending.txt, one `dale sweep --only` each */
    fprintf(f, "\nset -u\n"
               "per_task=%zu\n"
               "first=$((SLURM_ARRAY_TASK_ID * per_task + 1))\n"
               "last=$((first + per_task - 1))\n"
               "rc=0\n"
               "# each run goes through `dale sweep --only ID`: its lock, its checkpoint, its\n"
               "# failure record and its row in the results store, as in a local sweep\n"
               "for id in $(sed -n \"${first},${last}p\" ", per);
    sh_quote(f, dir);
    fputs("/pending.txt); do\n    ", f);
    sh_quote(f, o->exe);
    fputs(" sweep ", f);
    sh_quote(f, o->spec);
    fputs(" --out ", f);
    sh_quote(f, o->out);
    if (o->scale) {
        fputs(" --scale ", f);
        sh_quote(f, o->scale);
    }
    fputs(" --jobs 1 --only \"$id\" || rc=$?\n"
          "    # 128 and above: stopped by a signal (scancel, time limit, preemption);\n"
          "    # the run keeps its checkpoint and resumes on the next submission\n"
          "    [ \"$rc\" -ge 128 ] && exit \"$rc\"\n"
          "done\n"
          "exit \"$rc\"\n", f);
    if (fclose(f)) return DALE_FAIL(DALE_ERR_IO, "cannot write %s", path);
    snprintf(script, cap, "%s", path);
    return DALE_OK;
}

dale_status dale_sweep_write_slurm(const dale_sweep_plan *plan, const char *spec, const char *out, const char *scale,
                                   const char *exe, char *script, size_t cap)
{
    dale_slurm_options o;
    memset(&o, 0, sizeof o);
    o.spec = spec;
    o.out = out;
    o.scale = scale;
    o.exe = exe;
    return dale_slurm_write(plan, &o, script, cap, NULL);
}

/* ------------------------------------------------------ sbatch, squeue */

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Run argv (PATH search, no shell, stdin /dev/null) with stdout and stderr
 * into buf (cap bytes, NUL-terminated, the rest dropped); SIGKILL after
 * timeout_s.  Returns the exit status, 127 when it cannot start, 128+N
 * when killed by signal N, -1 when it timed out. */
static int capture(char *const argv[], double timeout_s, char *buf, size_t cap)
{
    buf[0] = '\0';
    int pfd[2];
    if (pipe(pfd)) return 127;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return 127;
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) dup2(nul, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    size_t len = 0;
    int status = 0, done = 0, timed_out = 0;
    double end = mono() + timeout_s;
    while (!done) {
        char tmp[4096];
        ssize_t k;
        while ((k = read(pfd[0], tmp, sizeof tmp)) > 0) {
            size_t take = (size_t)k < cap - 1 - len ? (size_t)k : cap - 1 - len;
            memcpy(buf + len, tmp, take);
            len += take;
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) done = 1;
        else if (mono() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            timed_out = done = 1;
        } else {
            struct timespec nap = {0, 20000000};
            nanosleep(&nap, NULL);
        }
    }
    ssize_t k;
    char tmp[4096];
    while ((k = read(pfd[0], tmp, sizeof tmp)) > 0) {
        size_t take = (size_t)k < cap - 1 - len ? (size_t)k : cap - 1 - len;
        memcpy(buf + len, tmp, take);
        len += take;
    }
    close(pfd[0]);
    buf[len] = '\0';
    if (timed_out) return -1;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* The last non-empty line of text (for messages), at most 300 characters. */
static void last_line(const char *text, char *out, size_t cap)
{
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' ')) n--;
    size_t a = n;
    while (a && text[a - 1] != '\n') a--;
    size_t len = n - a < 300 ? n - a : 300;
    if (len >= cap) len = cap - 1;
    memcpy(out, text + a, len);
    out[len] = '\0';
}

static void describe_rc(int rc, const char *text, char *why, size_t cap)
{
    char ll[320];
    last_line(text, ll, sizeof ll);
    if (rc == -1) snprintf(why, cap, "timed out");
    else if (rc == 127) snprintf(why, cap, "cannot be run (not installed or not on PATH?)%s%s", ll[0] ? ": " : "", ll);
    else snprintf(why, cap, "exit status %d%s%s", rc, ll[0] ? ": " : "", ll);
}

dale_status dale_slurm_submit(const char *out, const char *script, size_t ntasks, double timeout_s, char *jobid,
                              size_t cap)
{
    jobid[0] = '\0';
    char text[8192], why[512];
    char *argv[] = {"sbatch", (char *)script, NULL};
    int rc = capture(argv, timeout_s, text, sizeof text);
    if (rc != 0) {
        describe_rc(rc, text, why, sizeof why);
        return DALE_FAIL(DALE_ERR_IO, "sbatch %s: %s", script, why);
    }
    const char *p = strstr(text, "Submitted batch job ");
    if (p) p += strlen("Submitted batch job ");
    else if (text[0] >= '0' && text[0] <= '9') p = text; /* SBATCH_PARSABLE set: "N" or "N;cluster" */
    else {
        last_line(text, why, sizeof why);
        return DALE_FAIL(DALE_ERR_IO, "sbatch %s said no \"Submitted batch job N\": %s", script, why);
    }
    size_t k = strspn(p, "0123456789");
    if (k == 0 || k >= cap || k > 20) return DALE_FAIL(DALE_ERR_IO, "sbatch %s: no job id after \"Submitted batch job\"", script);
    memcpy(jobid, p, k);
    jobid[k] = '\0';
    char path[4300];
    snprintf(path, sizeof path, "%s/slurm/jobs.txt", out);
    FILE *f = fopen(path, "a");
    if (!f || fprintf(f, "%s %lld %zu %s\n", jobid, (long long)time(NULL), ntasks, script) < 0 || fclose(f))
        return DALE_FAIL(DALE_ERR_IO, "submitted job %s, but cannot record it in %s", jobid, path);
    return DALE_OK;
}

void dale_slurm_jobs_free(dale_slurm_job *jobs) { dalei_free(jobs); }

dale_status dale_slurm_queue(const char *out_dir, double timeout_s, dale_slurm_job **out, size_t *n, size_t *njobs)
{
    *out = NULL;
    *n = 0;
    *njobs = 0;
    char path[4300];
    snprintf(path, sizeof path, "%s/slurm/jobs.txt", out_dir);
    char *text = dalei_read_text(path, 1 << 20);
    if (!text) return DALE_OK;
    /* the ids, comma-separated */
    size_t cap = strlen(text) + 1;
    char *ids = dalei_alloc(cap, 1);
    if (!ids) {
        dalei_free(text);
        return DALE_ERR_NOMEM;
    }
    ids[0] = '\0';
    size_t len = 0;
    for (char *line = text; *line;) {
        size_t k = strspn(line, "0123456789");
        if (k && k <= 20 && (line[k] == ' ' || line[k] == '\n' || !line[k])) {
            if (len) ids[len++] = ',';
            memcpy(ids + len, line, k);
            len += k;
            ids[len] = '\0';
            (*njobs)++;
        }
        char *nl = strchr(line, '\n');
        if (!nl) break;
        line = nl + 1;
    }
    dalei_free(text);
    if (!*njobs) {
        dalei_free(ids);
        return DALE_OK;
    }
    size_t bcap = 1 << 20;
    char *buf = dalei_alloc(bcap, 1);
    if (!buf) {
        dalei_free(ids);
        return DALE_ERR_NOMEM;
    }
    char *argv[] = {"squeue", "-h", "-j", ids, "-o", "%i %T", NULL};
    int rc = capture(argv, timeout_s, buf, bcap);
    dalei_free(ids);
    if (rc != 0) {
        char why[512];
        /* squeue says "Invalid job id specified" when every job has left
         * its memory (MinJobAge): nothing of this sweep is queued then */
        if (strstr(buf, "Invalid job id")) {
            dalei_free(buf);
            return DALE_OK;
        }
        describe_rc(rc, buf, why, sizeof why);
        dalei_free(buf);
        return DALE_FAIL(DALE_ERR_IO, "squeue: %s", why);
    }
    size_t lines = 0;
    for (const char *p = buf; *p; p++) lines += *p == '\n';
    dale_slurm_job *jobs = dalei_calloc(lines + 1, sizeof *jobs);
    if (!jobs) {
        dalei_free(buf);
        return DALE_ERR_NOMEM;
    }
    size_t m = 0;
    for (char *line = buf; *line && m <= lines;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        char id[64], state[32];
        if (sscanf(line, "%63s %31s", id, state) == 2) {
            snprintf(jobs[m].id, sizeof jobs[m].id, "%s", id);
            snprintf(jobs[m].state, sizeof jobs[m].state, "%s", state);
            m++;
        }
        if (!nl) break;
        line = nl + 1;
    }
    dalei_free(buf);
    *out = jobs;
    *n = m;
    return DALE_OK;
}
