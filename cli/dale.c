/* dale.c — entry point of the `dale` tool: git-style subcommands. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "dale/version.h"
#include "cli.h"
#include "internal.h"

static void usage(FILE *f)
{
    fputs("usage: dale <command> [options]\n\n"
          "commands:\n"
          "  train     train a network (rnn | colei | dann) on a task; `dale train --help`\n"
          "  eval      loss and error of a trained run on a split; `dale eval --help`\n"
          "  data      get, list and verify data sets (mnist, fashion-mnist, objrec, kjv,\n"
          "            glove100); `dale data --help`\n"
          "  spectrum  spectra of many initialisations, the NSE tables; `dale spectrum --help`\n"
          "  diagnose  NSE, sigma_max, rho and a verdict for matrices in NPY/NPZ/CSV files\n"
          "  transplant  singular vectors of one matrix with the singular values of another\n"
          "  sweep     run a grid of training runs from a JSON spec; `dale sweep --help`\n"
          "  results   tables, hyper-parameter selection and statistics of a sweep\n"
          "  reproduce run a paper experiment (fig2a, table1, ...); `dale reproduce --list`\n"
          "  version   the dale version and the git commit it was built from (also --version)\n"
          "  help      this text\n\n"
          "Exit codes: 0 ok, 1 runtime error, 2 usage error.\n",
          f);
}

int main(int argc, char **argv)
{
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
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("dale %s (commit %s)\n", dale_version(), dale_git_commit());
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    static const char *const commands[] = {"train", "eval", "data", "spectrum", "diagnose", "transplant",
                                           "sweep", "results", "reproduce", "version", "help"};
    const char *near = dalei_nearest(cmd, commands, sizeof commands / sizeof commands[0]);
    if (near) fprintf(stderr, "dale: unknown command '%s' (did you mean %s?)\n", cmd, near);
    else fprintf(stderr, "dale: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
