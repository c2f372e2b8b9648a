/* sweep.c — `dale sweep` and `dale reproduce`: the options, the plan's
 * summary and listing, and the end-of-sweep line.  The engine (which runs
 * are pending, worker processes, the MPI share, the Slurm array, the store
 * records) is the library's (dale/runner.h).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "dale/runner.h"
#include "dale/slurm.h"
#include "dale/sweep.h"
#include "internal.h"
#include "ondemand.h"

/* The dale executable the runs are started with. */
static int self_exe(char *buf, size_t cap)
{
    ssize_t sl = readlink("/proc/self/exe", buf, cap - 1);
    if (sl <= 0) return -1;
    buf[sl] = '\0';
    return 0;
}

typedef struct sweep_opts {
    const char *spec, *out, *scale, *only;
    int jobs, dry_run, slurm, rank, size, quiet, no_report;
    int mpi;                /* --mpi with MPI built in: runs handed out on demand by rank 0 */
    int mpi_rank, mpi_size; /* MPI_COMM_WORLD's, once MPI_Init ran */
    int mpi_expect;         /* --mpi-size N: the world size the launcher must give (0: any) */
    double mpi_lost;        /* --mpi-lost SECONDS: a worker whose run's lock is free this long, unreported, is dead */
    int claim;              /* --claim: take runs on demand through claim files */
    double claim_stale;     /* --claim-stale SECONDS: another host's claim older than this is stale */
    dale_slurm_options sl;         /* the Slurm options (--partition ...); spec, out, scale, exe set later */
    const char *sbatch_lines[64];  /* --sbatch-line, in order */
    int submit;                    /* --submit */
    const char *slurm_only;        /* the first Slurm option given, for "needs --slurm" */
} sweep_opts;

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
          "  --slurm         write OUT/slurm/sweep.sbatch (a job array over the pending\n"
          "                  runs) and OUT/slurm/pending.txt; run nothing here.  With it\n"
          "                  (docs/cluster.md):\n"
          "    --submit            submit the script with sbatch and record the job id in\n"
          "                        OUT/slurm/jobs.txt (default: only write it)\n"
          "    --runs-per-task K   runs one array task runs one after another (default 1)\n"
          "    --array-max N       at most N array tasks at once, --array=...%N (default: no limit)\n"
          "    --time T            auto, minutes, HH:MM:SS or D-HH:MM:SS (default auto: the\n"
          "                        largest chunk's estimate x 2 + 10 minutes)\n"
          "    --mem M             auto or a size such as 4G (default: no --mem line; auto:\n"
          "                        the largest memory estimate x 1.5 + 512M)\n"
          "    --cpus-per-task N   (default 1)\n"
          "    --partition P       (default: the cluster's default partition)\n"
          "    --account A         (default: none)\n"
          "    --requeue           let Slurm requeue a preempted or failed-node task (default: off)\n"
          "    --sbatch-line TEXT  an extra '#SBATCH TEXT' line, e.g. --qos=long (repeatable)\n"
          "  --mpi           under mpirun/srun: rank 0 hands the pending runs out in order\n"
          "                  to the other ranks as they ask (one run at a time each;\n"
          "                  docs/cluster.md).  Without MPI built in (dale version): the\n"
          "                  static share, the k-th pending run when k % size == rank\n"
          "                  (rank/size from OMPI_COMM_WORLD_*, PMI_*, or\n"
          "                  SLURM_PROCID/SLURM_NTASKS; default jobs 1)\n"
          "  --mpi-size N    with --mpi: fail unless the MPI world has N ranks\n"
          "  --mpi-lost S    with --mpi: a worker whose run's lock has been free for S\n"
          "                  seconds without a report is taken for dead and its run\n"
          "                  handed to another (default 120; where the MPI keeps the job\n"
          "                  alive when a rank dies)\n"
          "  --rank R --size S  the static share with an explicit rank and size\n"
          "  --claim         take pending runs one at a time through claim files\n"
          "                  (<run>/claim), so processes started anywhere on a shared\n"
          "                  file system share the work on demand\n"
          "  --claim-stale S a claim from another host older than S seconds is taken\n"
          "                  over (default 86400; on this host: when its process is gone)\n"
          "  --only ID       run only the run with this id\n"
          "  --quiet         no per-run progress lines\n\n"
          "dale sweep status DIR [--json] [--no-squeue]: where the sweep in DIR stands\n"
          "(dale sweep status --help).\n\n"
          "Exit codes: 0 every run ok or diverged, 1 some run failed (recorded with its\n"
          "reason), 2 usage error, 130 interrupted (re-run to resume).\n",
          f);
}

static void write_scale_json(const char *out, const char *spec, const char *scale);

static int env_int(const char *const *names, int def)
{
    for (int i = 0; names[i]; i++) {
        const char *v = getenv(names[i]);
        if (v && *v) return atoi(v);
    }
    return def;
}

/* The longest path a sweep writes is a run's checkpoint temp file,
 * OUT/runs/<16-hex id>/checkpoint.npz.tmp.<pid>; a run directory must fit
 * in a run config's out (511 bytes).  Checked before anything is created,
 * so a too-long --out does not leave directories behind SQLite's "unable
 * to open database file".  0 when it fits, else 2 after a message. */
static int check_out_length(const char *out)
{
    const size_t out_cap = sizeof ((dale_run_config *)0)->out - 1;
    const size_t tail = strlen("/runs/") + 16 + strlen("/checkpoint.npz.tmp.") + 10;
    size_t len = strlen(out);
    if (len + tail > out_cap) {
        fprintf(stderr,
                "dale sweep: --out is %zu characters; the sweep's longest path (OUT/runs/<id>/checkpoint.npz.tmp.<pid>, "
                "%zu more) must fit in %zu: use a directory name of at most %zu characters\n",
                len, tail, out_cap, out_cap - tail);
        return 2;
    }
    for (const char *p = out; *p;) {
        size_t k = strcspn(p, "/");
        if (k > 255) {
            fprintf(stderr, "dale sweep: --out: a path component is %zu characters, more than the 255 a file name may have\n", k);
            return 2;
        }
        p += k;
        while (*p == '/') p++;
    }
    return 0;
}

static int dalecli_sweep_run(const sweep_opts *o, int print_list)
{
    dale_sweep *sw = NULL;
    dale_sweep_plan *plan = NULL;
    int rc = 1;
    if (check_out_length(o->out)) return 2;
    if (o->mpi && o->mpi_rank > 0) { /* a worker: rank 0 plans, lists and hands out */
        if (o->dry_run || o->slurm) return 0;
        char exe[4096];
        if (self_exe(exe, sizeof exe)) {
            fprintf(stderr, "dale sweep: cannot find the dale executable (/proc/self/exe)\n");
            return 1;
        }
        if (dale_sweep_load(o->spec, o->out, o->scale, &sw)) {
            fprintf(stderr, "dale sweep: rank %d: %s\n", o->mpi_rank, dale_last_error());
            return 2;
        }
        dale_runner_options wo = {.out = o->out, .jobs = 1, .quiet = 1, .log = stderr};
        rc = dalecli_mpi_worker(sw, &wo, exe);
        dale_sweep_free(sw);
        return rc;
    }
    if (dale_sweep_load(o->spec, o->out, o->scale, &sw)) {
        fprintf(stderr, "dale sweep: %s\n", dale_last_error());
        return 2;
    }
    dale_runner_options ro = {.out = o->out, .spec = o->spec, .only = o->only, .dry_run = o->dry_run,
                              .rank = o->rank, .size = o->size, .jobs = o->jobs, .quiet = o->quiet, .log = stderr};
    if (dale_sweep_plan_create(sw, &ro, &plan)) {
        fprintf(stderr, "dale sweep: %s\n", dale_last_error());
        goto done;
    }
    char t1[32], t2[32];
    dale_format_duration(plan->est_seconds, t1, sizeof t1);
    dale_format_duration(plan->est_seconds / (o->jobs > 0 ? o->jobs : 1), t2, sizeof t2);
    fprintf(stderr, "sweep %s: %zu runs: %zu finished, %zu invalid, %zu to run (%.3g updates; estimate %s of CPU, "
            "%s with %d jobs)\n", sw->name, sw->n, plan->nfinished, plan->ninvalid, plan->npending, plan->est_updates,
            t1, t2, o->jobs);
    if (o->dry_run || print_list) {
        printf("%-16s  %-24s  %-8s  %10s  %9s\n", "id", "label", "state", "updates", "est");
        for (size_t i = 0; i < sw->n; i++) {
            dale_sweep_run *r = &sw->runs[i];
            char rs[32];
            int fin = !r->invalid && !plan->stale[i] && dale_run_finished(r->cfg.out, rs, sizeof rs);
            char e[32];
            dale_format_duration(dale_run_seconds(&r->cfg), e, sizeof e);
            printf("%-16s  %-24.24s  %-8s  %10.0f  %9s  %s\n", r->id, r->label,
                   r->invalid ? "invalid" : plan->stale[i] ? "stale" : fin ? rs : "pending", dale_run_updates(&r->cfg),
                   e, r->invalid ? r->reason : "");
        }
    }
    if (o->dry_run) { rc = 0; goto done; }
    char self[4096];
    if (o->slurm) {
        char script[4400];
        if (self_exe(self, sizeof self)) snprintf(self, sizeof self, "dale");
        dale_slurm_options sl = o->sl;
        sl.spec = o->spec;
        sl.out = o->out;
        sl.scale = o->scale;
        sl.exe = self;
        size_t ntasks = 0;
        dale_status sst = dale_slurm_write(plan, &sl, script, sizeof script, &ntasks);
        if (sst) {
            fprintf(stderr, "dale sweep: %s\n", dale_last_error());
            if (sst == DALE_ERR_ARG) rc = 2; /* a name or path no script can hold: nothing was written */
            goto done;
        }
        write_scale_json(o->out, o->spec, o->scale);
        printf("wrote %s (%zu array tasks for %zu runs) and %s/slurm/pending.txt\n", script, ntasks, plan->npending,
               o->out);
        rc = 0;
        if (!o->submit) printf("submit with: sbatch %s\n", script);
        else if (plan->npending == 0) printf("nothing to submit: no run is pending\n");
        else {
            char jobid[32];
            if (dale_slurm_submit(o->out, script, ntasks, 120, jobid, sizeof jobid)) {
                fprintf(stderr, "dale sweep: %s\n", dale_last_error());
                rc = 1;
            } else
                printf("submitted job %s (%zu array tasks); recorded in %s/slurm/jobs.txt; see: dale sweep status %s\n",
                       jobid, ntasks, o->out, o->out);
        }
        goto done;
    }
    write_scale_json(o->out, o->spec, o->scale);
    if (self_exe(self, sizeof self)) {
        fprintf(stderr, "dale sweep: cannot find the dale executable (/proc/self/exe)\n");
        goto done;
    }
    dale_sweep_tally t;
    if (o->mpi && o->mpi_size > 1) {
        fprintf(stderr, "dale sweep: MPI world of %d ranks: rank 0 hands out the %zu pending runs, %d workers run them\n",
                o->mpi_size, plan->npending, o->mpi_size - 1);
        if (dalecli_mpi_coordinate(plan, &ro, o->mpi_lost, &t)) {
            fprintf(stderr, "dale sweep: out of memory\n");
            goto done;
        }
    } else if (o->claim) {
        od_sweep_claim(plan, &ro, self, o->claim_stale, &t);
    } else if (dale_sweep_run_pending(plan, &ro, self, &t)) {
        fprintf(stderr, "dale sweep: out of memory\n");
        goto done;
    }
    if (t.signal) {
        if (!t.stopped) /* the signal came after the last run had finished */
            fprintf(stderr, "\ndale sweep: %s after the last run; nothing left to resume\n",
                    t.signal == SIGINT ? "interrupted" : "terminated");
        rc = 130;
        goto done;
    }
    fprintf(stderr, "dale sweep: %zu ran: %zu ok, %zu diverged, %zu failed%s\n", t.done, t.ok, t.diverged, t.failed,
            t.locked ? " (some skipped: run by another process)" : "");
    rc = t.failed ? 1 : 0;
    if (rc == 0 && plan->ninvalid) rc = 1;
    if (t.stopped) { /* a run was stopped by a signal from outside: it resumes on a re-run */
        fprintf(stderr, "dale sweep: some runs were stopped by a signal; a re-run resumes them\n");
        rc = 130;
    }
done:
    dale_sweep_plan_free(plan);
    dale_sweep_free(sw);
    return rc;
}

static int slurm_int(const char *opt, const char *v, int lo, int hi, int *out, const char *who)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (*v == '\0' || *end || x < lo || x > hi) {
        fprintf(stderr, "dale %s: %s must be an integer %d..%d (got '%s')\n", who, opt, lo, hi, v);
        return 2;
    }
    *out = (int)x;
    return -1;
}

/* The Slurm options of dale sweep at argv[*i]: -2 when argv[*i] is none of
 * them, -1 when taken (*i moved past its value), else an exit code. */
static int parse_slurm_opt(int argc, char **argv, int *i, sweep_opts *o, const char *who)
{
    const char *a = argv[*i];
    static const char *const with_value[] = {"--partition", "--account", "--time", "--mem", "--cpus-per-task",
                                             "--array-max", "--runs-per-task", "--sbatch-line", NULL};
    int rc = -1;
    if (!strcmp(a, "--submit")) o->submit = 1;
    else if (!strcmp(a, "--requeue")) o->sl.requeue = 1;
    else {
        int k = 0;
        while (with_value[k] && strcmp(a, with_value[k])) k++;
        if (!with_value[k] || *i + 1 >= argc) return -2;
        const char *v = argv[++*i];
        if (!strcmp(a, "--partition")) o->sl.partition = v;
        else if (!strcmp(a, "--account")) o->sl.account = v;
        else if (!strcmp(a, "--time")) o->sl.time = v;
        else if (!strcmp(a, "--mem")) o->sl.mem = v;
        else if (!strcmp(a, "--cpus-per-task")) rc = slurm_int(a, v, 1, 4096, &o->sl.cpus_per_task, who);
        else if (!strcmp(a, "--array-max")) rc = slurm_int(a, v, 1, 1000000, &o->sl.array_max, who);
        else if (!strcmp(a, "--runs-per-task")) rc = slurm_int(a, v, 1, 1000000, &o->sl.runs_per_task, who);
        else {
            if (o->sl.nsbatch_lines == sizeof o->sbatch_lines / sizeof *o->sbatch_lines) {
                fprintf(stderr, "dale %s: at most %zu --sbatch-line options\n", who, o->sl.nsbatch_lines);
                return 2;
            }
            o->sbatch_lines[o->sl.nsbatch_lines++] = v;
            o->sl.sbatch_lines = o->sbatch_lines;
        }
    }
    if (!o->slurm_only) o->slurm_only = a;
    return rc;
}

/* Parse the options shared by sweep and reproduce; returns -1 to go on, else
 * an exit code.  *pos gets the positional argument. */
static int parse_common(int argc, char **argv, sweep_opts *o, const char **pos, const char *who, int *list,
                        void (*usage)(FILE *))
{
    int mpi = 0, rc;
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
        else if (!strcmp(a, "--mpi-size") && has && !list) {
            o->mpi_expect = atoi(argv[++i]);
            if (o->mpi_expect < 1) { fprintf(stderr, "dale %s: --mpi-size must be a positive number of ranks\n", who); return 2; }
        } else if (!strcmp(a, "--mpi-lost") && has && !list) {
            char *end;
            o->mpi_lost = strtod(argv[++i], &end);
            if (*end || !(o->mpi_lost > 0)) {
                fprintf(stderr, "dale %s: --mpi-lost must be a positive number of seconds\n", who);
                return 2;
            }
        } else if (!strcmp(a, "--claim") && !list) o->claim = 1;
        else if (!strcmp(a, "--claim-stale") && has && !list) {
            char *end;
            o->claim_stale = strtod(argv[++i], &end);
            if (*end || !(o->claim_stale > 0)) {
                fprintf(stderr, "dale %s: --claim-stale must be a positive number of seconds\n", who);
                return 2;
            }
        }
        else if (!strcmp(a, "--quiet")) o->quiet = 1;
        else if (!strcmp(a, "--list") && list) *list = 1;
        else if (!strcmp(a, "--no-report") && list) o->no_report = 1;
        else if (!list && (rc = parse_slurm_opt(argc, argv, &i, o, who)) != -2) {
            if (rc >= 0) return rc;
        }
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "dale %s: unknown option or missing value '%s' (see dale %s --help)\n", who, a, who);
            return 2;
        } else if (!*pos) *pos = a;
        else { fprintf(stderr, "dale %s: unexpected argument '%s'\n", who, a); return 2; }
    }
    if (mpi && o->claim) {
        fprintf(stderr, "dale %s: --mpi and --claim: choose one (--mpi under an MPI launcher, --claim for independent processes)\n", who);
        return 2;
    }
    if (o->claim && o->jobs > 1) {
        fprintf(stderr, "dale %s: --claim runs one run at a time per process: start more processes instead of --jobs %d\n",
                who, o->jobs);
        return 2;
    }
    if (o->claim) o->jobs = 1;
    if (o->claim_stale <= 0) o->claim_stale = 86400;
    if (o->mpi_lost <= 0) o->mpi_lost = 120;
    if (mpi && !list && dalecli_mpi_built()) {
        o->mpi = 1; /* MPI_Init in cmd_sweep: rank and size from MPI_COMM_WORLD */
        if (!o->jobs) o->jobs = 1;
    } else if (mpi) {
        if (!list)
            fprintf(stderr, "dale %s: this dale is built without MPI (make MPI=1): --mpi takes rank and size from the "
                    "launcher's environment and runs every size-th pending run; --claim shares the runs on demand\n", who);
        static const char *const rk[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID", NULL};
        static const char *const sz[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS", NULL};
        o->rank = env_int(rk, 0);
        o->size = env_int(sz, 1);
        if (!o->jobs) o->jobs = 1;
    }
    if (o->mpi_expect && !o->mpi) {
        fprintf(stderr, "dale %s: --mpi-size needs --mpi and a dale built with MPI (dale version says)\n", who);
        return 2;
    }
    if (o->size < 1 || o->rank < 0 || o->rank >= o->size) {
        fprintf(stderr, "dale %s: need 0 <= rank < size (got rank %d, size %d)\n", who, o->rank, o->size);
        return 2;
    }
    if (!o->jobs) o->jobs = ncpu > 0 ? (int)ncpu : 1;
    if (o->slurm_only && !o->slurm) {
        fprintf(stderr, "dale %s: %s needs --slurm\n", who, o->slurm_only);
        return 2;
    }
    return -1;
}

static int mpi_check_world(const sweep_opts *o);
static int sweep_main(sweep_opts *o, const char *spec);

int cmd_sweep(int argc, char **argv)
{
    sweep_opts o;
    memset(&o, 0, sizeof o);
    const char *spec;
    if (argc >= 2 && !strcmp(argv[1], "status")) return cmd_sweep_status(argc - 1, argv + 1);
    int rc = parse_common(argc, argv, &o, &spec, "sweep", NULL, sweep_usage);
    if (rc >= 0) return rc;
    if (!spec) { sweep_usage(stderr); return 2; }
    o.spec = spec;
    if (o.mpi) {
        if (dalecli_mpi_init(&argc, &argv, &o.mpi_rank, &o.mpi_size)) {
            fprintf(stderr, "dale sweep: MPI_Init failed\n");
            return 1;
        }
        rc = mpi_check_world(&o);
        if (rc < 0) rc = sweep_main(&o, spec);
        dalecli_mpi_release();
        dalecli_mpi_finalize(rc);
        return rc;
    }
    return sweep_main(&o, spec);
}

/* The world MPI_Init gave must be the one the launcher meant: --mpi-size,
 * and a launcher's own size variable, which a dale built against another
 * MPI than the launcher's sees while MPI says it is a singleton of 1.
 * Returns -1 to go on, else 2 after a message. */
static int mpi_check_world(const sweep_opts *o)
{
    static const char *const sz[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", NULL};
    int env = env_int(sz, 0);
    if (o->mpi_expect && o->mpi_size != o->mpi_expect) {
        if (o->mpi_rank == 0)
            fprintf(stderr, "dale sweep: --mpi-size %d, but the MPI world has %d rank%s: check the launcher (mpirun -n, "
                    "srun --mpi=pmix) and that dale was built with the launcher's MPI\n", o->mpi_expect, o->mpi_size,
                    o->mpi_size == 1 ? "" : "s");
        return 2;
    }
    if (env > 1 && o->mpi_size != env) {
        if (o->mpi_rank == 0)
            fprintf(stderr, "dale sweep: the launcher started %d processes, but MPI says this world has %d rank%s: dale "
                    "was built against another MPI than the launcher's (see dale version)\n", env, o->mpi_size,
                    o->mpi_size == 1 ? "" : "s");
        return 2;
    }
    if (o->mpi_rank == 0)
        fprintf(stderr, "dale sweep: MPI rank 0 of %d (%s)\n", o->mpi_size, dalecli_mpi_library());
    return -1;
}

static int sweep_main(sweep_opts *o, const char *spec)
{
    static char out[4096];
    if (!o->out) {
        dale_sweep *sw = NULL;
        if (dale_sweep_load(spec, "sweeps", o->scale, &sw)) {
            fprintf(stderr, "dale sweep: %s\n", dale_last_error());
            return 2;
        }
        snprintf(out, sizeof out, "sweeps/%s", sw->name);
        dale_sweep_free(sw);
        o->out = out;
    }
    return dalecli_sweep_run(o, 0);
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

/* One scale of a preset: its "kind" (smoke: the pipeline only; reduced: a
 * smaller budget that shows the paper's ordering; paper: the paper's
 * protocol; control: a control experiment beside the claim), its note, and
 * the size and cost of its sweep. */
typedef struct scale_info {
    char name[64], kind[16], note[256];
    size_t runs;
    double updates, seconds;
} scale_info;

#define MAX_SCALES 16

static int cmp_scale_cost(const void *a, const void *b)
{
    double x = ((const scale_info *)a)->seconds, y = ((const scale_info *)b)->seconds;
    return x < y ? -1 : x > y;
}

/* The scales of the spec at path ("paper", the spec as written, always
 * among them), with costs and cheapest first when `cost`.  Returns how many:
 * 0 when the spec cannot be read as a JSON object. */
static size_t preset_scales(const char *path, scale_info *sc, int cost)
{
    size_t n = 0;
    char *text = dalei_read_text(path, (size_t)1 << 24);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    dalei_free(text);
    int have_paper = 0;
    const cJSON *scales = cJSON_GetObjectItemCaseSensitive(root, "scales");
    for (const cJSON *it = cJSON_IsObject(scales) ? scales->child : NULL; it && n < MAX_SCALES; it = it->next) {
        scale_info *x = &sc[n++];
        memset(x, 0, sizeof *x);
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "kind"), *nt = cJSON_GetObjectItemCaseSensitive(it, "note");
        snprintf(x->name, sizeof x->name, "%s", it->string);
        snprintf(x->kind, sizeof x->kind, "%s", cJSON_IsString(k) ? k->valuestring : strcmp(it->string, "paper") ? "?" : "paper");
        snprintf(x->note, sizeof x->note, "%s", cJSON_IsString(nt) ? nt->valuestring : "");
        have_paper |= !strcmp(it->string, "paper");
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return 0; /* dale_sweep_load says what is wrong with it */
    }
    cJSON_Delete(root);
    if (!have_paper && n < MAX_SCALES) {
        memset(&sc[n], 0, sizeof sc[n]);
        snprintf(sc[n].name, sizeof sc[n].name, "paper");
        snprintf(sc[n].kind, sizeof sc[n].kind, "paper");
        n++;
    }
    for (size_t i = 0; cost && i < n; i++) {
        dale_sweep *sw = NULL;
        if (dale_sweep_load(path, "sweeps", sc[i].name, &sw)) {
            fprintf(stderr, "dale reproduce: %s\n", dale_last_error());
            continue;
        }
        sc[i].runs = sw->n;
        for (size_t r = 0; r < sw->n; r++) {
            sc[i].seconds += dale_run_seconds(&sw->runs[r].cfg);
            sc[i].updates += dale_run_updates(&sw->runs[r].cfg);
        }
        dale_sweep_free(sw);
    }
    if (cost) qsort(sc, n, sizeof *sc, cmp_scale_cost);
    return n;
}

/* The cheapest scale whose numbers can support the paper's claim (the
 * first of kind reduced or paper), or NULL. */
static const scale_info *first_claim_scale(const scale_info *sc, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(sc[i].kind, "reduced") || !strcmp(sc[i].kind, "paper")) return &sc[i];
    return NULL;
}

/* The scale named `name` among sc, or NULL. */
static const scale_info *find_scale(const scale_info *sc, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(sc[i].name, name)) return &sc[i];
    return NULL;
}

/* OUT/scale.json: which scale of which spec the sweep directory holds and
 * what kind of numbers it gives, so a table read later can say so. */
static void write_scale_json(const char *out, const char *spec, const char *scale)
{
    scale_info sc[MAX_SCALES];
    size_t n = preset_scales(spec, sc, 0);
    const scale_info *x = find_scale(sc, n, scale && scale[0] ? scale : "paper");
    cJSON *j = cJSON_CreateObject();
    if (!j) return;
    cJSON_AddStringToObject(j, "spec", spec);
    cJSON_AddStringToObject(j, "scale", scale && scale[0] ? scale : "paper");
    cJSON_AddStringToObject(j, "kind", x ? x->kind : "?");
    cJSON_AddStringToObject(j, "note", x ? x->note : "");
    char *t = cJSON_Print(j);
    cJSON_Delete(j);
    char path[4200];
    snprintf(path, sizeof path, "%s/scale.json", out);
    FILE *f = t ? fopen(path, "wb") : NULL;
    if (f) {
        fprintf(f, "%s\n", t);
        if (fclose(f)) fprintf(stderr, "dale sweep: cannot write %s\n", path);
    }
    cJSON_free(t);
    /* the store says it too, so `dale results` can label the table */
    dale_store *st = NULL;
    if (dale_store_open(out, &st) || dale_store_set_meta(st, "scale", scale && scale[0] ? scale : "paper") ||
        dale_store_set_meta(st, "scale_kind", x ? x->kind : "?") ||
        dale_store_set_meta(st, "scale_note", x ? x->note : ""))
        fprintf(stderr, "dale sweep: %s\n", dale_last_error());
    size_t nc = preset_scales(spec, sc, 1); /* cheapest first */
    const scale_info *first = first_claim_scale(sc, nc);
    char use[700];
    snprintf(use, sizeof use, "--scale %s (%s)", first ? first->name : "paper", first ? first->note : "the paper's protocol");
    if (st && dale_store_set_meta(st, "scale_instead", use))
        fprintf(stderr, "dale sweep: %s\n", dale_last_error());
    dale_store_close(st);
}

static void reproduce_usage(FILE *f)
{
    fputs("usage: dale reproduce --list\n"
          "       dale reproduce NAME [--scale S] [--jobs N] [--out DIR] [--dry-run] [--no-report]\n\n"
          "Runs the paper experiment NAME (a sweep spec experiments/NAME.json; directory:\n"
          "$DALE_EXPERIMENTS, else ./experiments, else next to the executable), prints\n"
          "its table and statistics with `dale results` and the preset's analysis, then\n"
          "writes its figures and report: DIR/report/index.html (`dale report`,\n"
          "docs/figures.md).\n\n"
          "  --list          every preset, every scale it has with its kind, runs and\n"
          "                  cost estimate, and the cheapest scale that can support the\n"
          "                  paper's claim\n"
          "  --scale S       a scale of the preset (default quick): quick is a smoke test\n"
          "                  (minutes on 2 cores; it tests the pipeline, its numbers are\n"
          "                  not results); paper is the paper's protocol; others: --list\n"
          "  --jobs N        worker processes (default: online CPUs)\n"
          "  --out DIR       sweep directory (default: sweeps/NAME-SCALE)\n"
          "  --dry-run       list the runs and the estimate only\n"
          "  --no-report     no figures and no report page at the end\n",
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
        for (size_t i = 0; i < nn; i++) {
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", ed, names[i]);
            names[i][strlen(names[i]) - 5] = '\0';
            dale_sweep *sw = NULL;
            char desc[256] = "";
            if (!dale_sweep_load(path, "sweeps", NULL, &sw)) snprintf(desc, sizeof desc, "%s", sw->description);
            else snprintf(desc, sizeof desc, "(cannot be read: %s)", dale_last_error());
            dale_sweep_free(sw);
            scale_info sc[MAX_SCALES];
            size_t ns = preset_scales(path, sc, 1);
            const scale_info *first = first_claim_scale(sc, ns);
            printf("%s%s  %s\n", i ? "\n" : "", names[i], desc);
            if (ns) printf("    %-16s %-8s %6s %10s %10s  %s\n", "scale", "kind", "runs", "updates", "cpu", "note");
            for (size_t k = 0; k < ns; k++) {
                char t[32];
                dale_format_duration(sc[k].seconds, t, sizeof t);
                printf("  %s %-16s %-8s %6zu %10.3g %10s  %s\n", &sc[k] == first ? "*" : " ", sc[k].name, sc[k].kind,
                       sc[k].runs, sc[k].updates, t, sc[k].note);
            }
            free(names[i]);
        }
        printf("\nkinds: smoke = tests the pipeline only (its numbers are not results); reduced = a smaller\n"
               "budget that shows the paper's ordering, not its numbers; paper = the paper's protocol;\n"
               "control = a control experiment beside the claim.\n"
               "* = the cheapest scale whose numbers can support the paper's claim.\n");
        printf("\ncpu = estimated single-core time (divide by --jobs); see docs/experiments.md\n");
        return 0;
    }
    if (!name) { reproduce_usage(stderr); return 2; }
    if (!o.scale) o.scale = "quick";
    char spec[4400], out[4400];
    snprintf(spec, sizeof spec, "%s/%s.json", ed, name);
    struct stat sb;
    if (stat(spec, &sb) != 0) {
        char hint[128] = "";
        DIR *d = opendir(ed);
        if (d) {
            char *names[256];
            size_t nn = 0;
            struct dirent *e;
            while ((e = readdir(d)) && nn < 256) {
                size_t l = strlen(e->d_name);
                if (l > 5 && !strcmp(e->d_name + l - 5, ".json") && (names[nn] = strdup(e->d_name))) names[nn++][l - 5] = '\0';
            }
            closedir(d);
            qsort(names, nn, sizeof *names, cmp_cstr); /* ties go to the first name, whatever readdir's order */
            const char *near = dalei_nearest(name, (const char *const *)names, nn);
            if (near) snprintf(hint, sizeof hint, " (did you mean %s?)", near);
            for (size_t i = 0; i < nn; i++) free(names[i]);
        }
        fprintf(stderr, "dale reproduce: no preset '%s' (%s)%s; see dale reproduce --list\n", name, spec, hint);
        return 2;
    }
    if (!o.out) {
        snprintf(out, sizeof out, "sweeps/%s-%s", name, o.scale);
        o.out = out;
    }
    o.spec = spec;
    scale_info sc[MAX_SCALES];
    size_t ns = preset_scales(spec, sc, 0);
    const scale_info *x = find_scale(sc, ns, o.scale), *first = NULL;
    if (ns && !x) {
        const char *cand[MAX_SCALES];
        for (size_t i = 0; i < ns; i++) cand[i] = sc[i].name;
        const char *near = dalei_nearest(o.scale, cand, ns);
        fprintf(stderr, "dale reproduce: %s has no scale '%s'%s%s%s; see dale reproduce --list\n", name, o.scale,
                near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
        return 2;
    }
    char banner[512] = "";
    if (x && !strcmp(x->kind, "smoke")) {
        ns = preset_scales(spec, sc, 1); /* cheapest first */
        first = first_claim_scale(sc, ns);
        snprintf(banner, sizeof banner, "SMOKE TEST: these numbers test the pipeline, not the paper's claim; use "
                 "--scale %s (%s)\n", first ? first->name : "paper", first ? first->note : "the paper's protocol");
    }
    if (banner[0]) fputs(banner, stderr);
    rc = dalecli_sweep_run(&o, 0);
    if (o.dry_run || rc == 2 || rc == 130) return rc;
    char *rargv[] = {"results", (char *)o.out, NULL};
    int rr = cmd_results(2, rargv); /* it labels a smoke scale's table itself */
    if (!o.no_report && rr == 0) {
        /* the figures and the page: a failure here loses no run, so it is
         * reported but leaves the exit status to the runs and the table */
        fflush(stdout);
        char rep[4500];
        snprintf(rep, sizeof rep, "%s/report", o.out);
        if (dalecli_report(o.out, rep, 0, 0))
            fprintf(stderr, "dale reproduce: the report could not be written; rerun: dale report %s\n", o.out);
    }
    return rc ? rc : rr;
}
