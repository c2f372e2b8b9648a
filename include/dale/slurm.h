/* dale/slurm.h — a sweep as a Slurm job array: the sbatch script, its
 * submission, and what squeue says about it.
 *
 * The pending runs of a plan (dale/runner.h) are written one id a line to
 * OUT/slurm/pending.txt and split into chunks of runs_per_task; array task
 * T runs lines T*K+1 .. T*K+K, each through `EXE sweep SPEC --out OUT
 * [--scale S] --jobs 1 --only ID`, one after another: the run's lock,
 * checkpoint, failure record and store insert are those of a local sweep,
 * so a task stopped by Slurm (scancel, time limit, preemption) leaves its
 * runs resumable and a re-submission runs only what is not finished.
 *
 * Every value that reaches the script is checked and quoted: shell words in
 * single quotes, the #SBATCH --output path as sbatch reads it, the job name
 * reduced to [A-Za-z0-9._-], partition and account to a safe set of
 * characters, time and memory to Slurm's own forms, user #SBATCH lines to
 * one line without control characters; what cannot be written safely is
 * refused (DALE_ERR_ARG) before anything is written.
 */
#ifndef DALE_SLURM_H
#define DALE_SLURM_H

#include <stddef.h>
#include "dale/runner.h"
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dale_slurm_options {
    const char *spec;          /* the spec path the tasks pass to `dale sweep` */
    const char *out;           /* the sweep directory */
    const char *scale;         /* --scale for the tasks (NULL: none) */
    const char *exe;           /* the dale executable the tasks call */
    const char *partition;     /* #SBATCH --partition (NULL: the cluster's default); [A-Za-z0-9._,-] */
    const char *account;       /* #SBATCH --account (NULL: none); [A-Za-z0-9._@+-] */
    const char *time;          /* NULL or "auto": see dale_slurm_auto_seconds; else minutes "M",
                                * "HH:MM:SS", "MM:SS", "D-HH", "D-HH:MM" or "D-HH:MM:SS" */
    const char *mem;           /* NULL: no --mem line; "auto": dale_slurm_auto_mem_mb; else
                                * digits with an optional K, M, G or T suffix */
    int cpus_per_task;         /* #SBATCH --cpus-per-task (<= 0: 1) */
    int array_max;             /* the %N throttle of --array (<= 0: none) */
    int runs_per_task;         /* runs one array task runs one after another (<= 0: 1) */
    const char *const *sbatch_lines; /* extra lines written as "#SBATCH TEXT" (TEXT starts with '-';
                                      * a leading "#SBATCH " is dropped) */
    size_t nsbatch_lines;
    int requeue;               /* #SBATCH --requeue */
} dale_slurm_options;

/* The time limit "auto" gives a task: the largest sum of dale_run_seconds
 * over the runs of one chunk, times 2, plus 10 minutes, in seconds. */
DALE_API double dale_slurm_auto_seconds(const dale_sweep_plan *plan, int runs_per_task);
/* The memory "auto" gives a task, in MiB: the largest memory estimate
 * (dale_config_memory_estimate: parameters + activations + data) of a
 * pending run, times 1.5, plus 512 MiB for the process itself. */
DALE_API long dale_slurm_auto_mem_mb(const dale_sweep_plan *plan);
/* Seconds as Slurm's D-HH:MM:SS, rounded up to the minute. */
DALE_API void dale_slurm_format_time(double seconds, char *buf, size_t cap);

/* Write OUT/slurm/pending.txt and OUT/slurm/sweep.sbatch for plan->pending
 * with the options o (see the file comment); the script's path goes to
 * script (cap bytes), the number of array tasks to *ntasks (may be NULL).
 * Errors: DALE_ERR_ARG, before anything is written, naming the value that
 * cannot be written safely (a control character in any value, a backslash
 * in out, a partition or account outside its character set, a time or
 * memory Slurm does not read, an #SBATCH line that is not an option);
 * DALE_ERR_IO naming the directory or file. */
DALE_API dale_status dale_slurm_write(const dale_sweep_plan *plan, const dale_slurm_options *o, char *script,
                                      size_t cap, size_t *ntasks);

/* Submit the script with `sbatch SCRIPT` (fork/exec, PATH search, no
 * shell; killed after timeout_s seconds), read the job id from its
 * "Submitted batch job N" line (or the "N[;cluster]" that sbatch prints
 * when SBATCH_PARSABLE is set) into jobid (cap bytes) and append "N
 * <unix time> <ntasks> SCRIPT" to OUT/slurm/jobs.txt.  Errors:
 * DALE_ERR_IO (sbatch cannot be started, times out, fails: the message
 * holds its exit status and the last line it wrote; no job id in its
 * answer; jobs.txt cannot be written: the job is submitted then, and the
 * message says its id). */
DALE_API dale_status dale_slurm_submit(const char *out, const char *script, size_t ntasks, double timeout_s,
                                       char *jobid, size_t cap);

/* One line of squeue's answer: an array task ("123_4"), a block of tasks
 * not started yet ("123_[5-9%3]") or a job, and its state ("PENDING",
 * "RUNNING", ...). */
typedef struct dale_slurm_job {
    char id[64];
    char state[32];
} dale_slurm_job;

/* The jobs of OUT/slurm/jobs.txt that squeue still lists: `squeue -h -j
 * IDS -o "%i %T"` (fork/exec, killed after timeout_s).  *njobs gets how
 * many submissions jobs.txt records (0: none, and squeue is not called).
 * *out is owned by the caller (dalei-allocated: dale_slurm_jobs_free).
 * Errors: DALE_ERR_IO when squeue cannot be started, times out or fails
 * (the message says which, with its last line); *out is NULL then. */
DALE_API dale_status dale_slurm_queue(const char *out_dir, double timeout_s, dale_slurm_job **out, size_t *n,
                                      size_t *njobs);
DALE_API void dale_slurm_jobs_free(dale_slurm_job *jobs); /* NULL-safe */

#ifdef __cplusplus
}
#endif
#endif
