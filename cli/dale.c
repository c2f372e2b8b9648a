/* dale.c — entry point of the `dale` tool: git-style subcommands. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dale/version.h"
#include "cli.h"
#include "ondemand.h"
#include "internal.h"

static void usage(FILE *f)
{
    fputs("usage: dale <command> [options]\n\n"
          "commands:\n"
          "  train     train a network (rnn | colei | dann) on a task; `dale train --help`\n"
          "  eval      loss and error of a trained run on a split; every step of N trials\n"
          "            (--trials N) as an NPZ; `dale eval --help`\n"
          "  psychometric  choice against signed coherence of a pdm or cdm run, with a\n"
          "            fitted logistic (CSV, PNG, SVG); `dale psychometric --help`\n"
          "  data      get, list and verify data sets (mnist, fashion-mnist, objrec, kjv,\n"
          "            glove100); `dale data --help`\n"
          "  spectrum  spectra of many initialisations, the NSE tables; `dale spectrum --help`\n"
          "  diagnose  NSE, sigma_max, rho and a verdict for matrices in NPY/NPZ/CSV files\n"
          "  transplant  singular vectors of one matrix with the singular values of another\n"
          "  sweep     run a grid of training runs from a JSON spec (locally, as a Slurm\n"
          "            job array, under MPI); `dale sweep status DIR`: where it stands\n"
          "  results   tables, hyper-parameter selection and statistics of a sweep\n"
          "  reproduce run a paper experiment (fig2a, table1, ...); `dale reproduce --list`\n"
          "  plot      learning curves of runs (mean ± sd over seeds) or a scatter of a sweep\n"
          "            with its regression line; `dale plot --help`\n"
          "  report    an offline HTML page with the figures and tables of a run or sweep;\n"
          "            `dale report --help`\n"
          "  version   the dale version and the git commit it was built from (also --version)\n"
          "  help      this text\n\n"
          "Exit codes: 0 ok, 1 runtime error, 2 usage error.\n",
          f);
}

/* Whether NAME is set to a positive decimal integer (what OpenBLAS takes
 * as a thread count; anything else it ignores and uses every core). */
static int env_thread_count(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) return 0;
    char *end;
    long n = strtol(v, &end, 10);
    return *end == '\0' && n > 0;
}

/* BLAS threading is decided before OpenBLAS starts its thread pool.  The
 * library is loaded (and its pool started, one worker per core, each
 * mapping a 128 MB buffer) before main runs, so dale_set_blas_threads()
 * comes too late: under `ulimit -v` a worker retries its failed mapping
 * forever and the process hangs at exit waiting for it.  Unless the user
 * chose a count (OPENBLAS_NUM_THREADS, which OpenBLAS reads before
 * GOTO_NUM_THREADS and OMP_NUM_THREADS), dale sets OPENBLAS_NUM_THREADS=1
 * and executes itself once more, so the library starts with no workers;
 * a command that wants more BLAS threads (dale train --threads N) asks
 * for them later through openblas_set_num_threads, which starts them
 * then.  DALE_BLAS_REEXEC marks the second start, so this never loops;
 * if the exec fails dale goes on as before. */
static void pin_blas_threads(char **argv)
{
    if (getenv("DALE_BLAS_REEXEC")) {
        unsetenv("DALE_BLAS_REEXEC"); /* not inherited by what dale starts */
        return;
    }
    if (env_thread_count("OPENBLAS_NUM_THREADS")) return;
    if (setenv("OPENBLAS_NUM_THREADS", "1", 1) || setenv("DALE_BLAS_REEXEC", "1", 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("DALE_BLAS_REEXEC");
}

int main(int argc, char **argv)
{
    pin_blas_threads(argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    /* Past a file-size limit (ulimit -f, batch schedulers) the kernel would
     * kill us with SIGXFSZ and no message; ignored, write() fails with
     * EFBIG instead, and the writers report which file could not be
     * written while the atomic renames keep the previous files intact. */
    signal(SIGXFSZ, SIG_IGN);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "data")) return cmd_data(argc - 1, argv + 1);
    if (!strcmp(cmd, "spectrum")) return cmd_spectrum(argc - 1, argv + 1);
    if (!strcmp(cmd, "diagnose")) return cmd_diagnose(argc - 1, argv + 1);
    if (!strcmp(cmd, "transplant")) return cmd_transplant(argc - 1, argv + 1);
    if (!strcmp(cmd, "sweep")) return cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(cmd, "results")) return cmd_results(argc - 1, argv + 1);
    if (!strcmp(cmd, "reproduce")) return cmd_reproduce(argc - 1, argv + 1);
    if (!strcmp(cmd, "psychometric")) return cmd_psychometric(argc - 1, argv + 1);
    if (!strcmp(cmd, "plot")) return cmd_plot(argc - 1, argv + 1);
    if (!strcmp(cmd, "report")) return cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("dale %s (commit %s)\n", dale_version(), dale_git_commit());
        if (dalecli_mpi_built())
            printf("mpi: %s (dale sweep --mpi hands out runs on demand)\n", dalecli_mpi_library());
        else
            printf("mpi: not built in (make MPI=1; dale sweep --mpi takes a static share from the environment)\n");
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    static const char *const commands[] = {"train", "eval", "data", "spectrum", "diagnose", "transplant",
                                           "sweep", "results", "reproduce", "psychometric", "plot", "report", "version", "help"};
    const char *near = dalei_nearest(cmd, commands, sizeof commands / sizeof commands[0]);
    if (near) fprintf(stderr, "dale: unknown command '%s' (did you mean %s?)\n", cmd, near);
    else fprintf(stderr, "dale: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
