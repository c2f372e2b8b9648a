/* cli.h — subcommands of the dale command-line tool.  Each returns the
 * process exit code: 0 ok, 1 runtime error, 2 usage error. */
#ifndef DALE_CLI_H
#define DALE_CLI_H

#include <stddef.h>
#include <stdio.h>

int cmd_train(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_data_make_objrec(int argc, char **argv); /* dale data make-objrec */
int cmd_eval(int argc, char **argv);
int cmd_spectrum(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_transplant(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_sweep_status(int argc, char **argv); /* dale sweep status */
int cmd_results(int argc, char **argv);
int cmd_reproduce(int argc, char **argv);
int cmd_psychometric(int argc, char **argv);

/* Strict numbers for flags (cli/eval.c): digits only, no sign; count also
 * at most 1e8.  Return 0 when v parses, else 1. */
int cli_parse_u64(const char *v, unsigned long long *out);

/* The flags of the commands that read a run's trials (dale eval, dale
 * psychometric): RUN, --checkpoint, --split, --data, --trials, --seed, --out
 * and, where json is non-NULL, --json.  --help prints usage to stdout.
 * Returns -1 when the command goes on, else its exit code (0 after --help, 2
 * after a message on stderr naming cmd). */
typedef struct cli_run_flags {
    const char *run, *which, *split, *data, *trials, *seed, *out;
} cli_run_flags;
int cli_run_flags_parse(int argc, char **argv, const char *cmd, void (*usage)(FILE *), int *json,
                        cli_run_flags *f);
int cli_parse_count(const char *v, size_t *out);
/* The psychometric curves of one pdm or cdm run (cli/psychometric.c):
 * fl->run the run directory, fl->out the folder for psychometric.csv,
 * psychometric_fit.csv and the figure psychometric.{gp,png,svg} (NULL:
 * RUN/psychometric); NULL which/split mean final/test.  quiet: no table on
 * stdout and no message when fixation broke in every trial.  Returns 0
 * written, 1 error (message on stderr), 2 bad flag, 3 fixation broke in every
 * trial (nothing to plot, nothing written).  render 0: data and script
 * only, no gnuplot. */
int dalecli_psychometric(const cli_run_flags *fl, int quiet, int render);
int cmd_plot(int argc, char **argv);
int cmd_report(int argc, char **argv);

#include <stddef.h>
#include "dale/stats.h"

/* The runs `dale plot` and `dale report` read: run directories (config.json,
 * metrics.csv, sweep.json's label) with their metrics.csv parsed. */
typedef struct dalecli_runs {
    void *r; /* the runs (plot.c's own type) */
    size_t n, cap;
} dalecli_runs;

/* Collect the runs of paths: a run directory is taken as is, a sweep
 * directory gives SWEEP/runs/ID and SWEEP/NAME.  Returns 0, else an exit
 * code after a message on stderr naming `who` (2: no such directory, not a
 * run, no runs; 1: a run cannot be read). */
int dalecli_runs_collect(char *const *paths, size_t npaths, dalecli_runs *rs, const char *who);
void dalecli_runs_free(dalecli_runs *rs); /* NULL-safe */
/* A figure's axis label for a metric or config key (words and the key). */
const char *dalecli_axis_label(const char *k, char *buf, size_t cap);
/* Keep only the runs whose directory's name is one of ids (run ids);
 * returns how many are left. */
size_t dalecli_runs_keep(dalecli_runs *rs, char (*ids)[17], size_t nids);
const char *dalecli_run_dir(const dalecli_runs *rs, size_t i); /* run i's directory */

typedef struct dalecli_plot_opts {
    const char *metric, *group, *x, *y, *out, *name, *title;
    const char *select, *hp; /* scatter: the selection (NULL: dale_select's defaults) */
    int logx, logy, selected, no_render, quiet;
    int skip_missing; /* curves: a metric no run has returns 3 with no message */
} dalecli_plot_opts;

/* Learning curves of rs into o->out (dale plot); name_out (may be NULL)
 * gets the figure's name.  Returns an exit code. */
int dalecli_plot_curves(const dalecli_runs *rs, const dalecli_plot_opts *o, char *name_out, size_t cap);
/* Scatter o->y against o->x over the runs of sweep dir; *fit (may be NULL)
 * gets the line, r and p, *npoints the points.  Returns an exit code. */
int dalecli_plot_scatter(const char *dir, const dalecli_plot_opts *o, dale_linreg *fit, size_t *npoints,
                         char *name_out, size_t cap);

/* OUT/index.html for a run or sweep directory (dale report); an exit code. */
int dalecli_report(const char *dir, const char *out, int no_render, int quiet);
/* How the report puts a figure on its page: OUT/NAME.png with a caption. */
typedef void (*dalecli_figure_fn)(FILE *f, const char *out, const char *name, const char *caption);
/* The spectra at initialisation of the runs rs, pooled per cell of the
 * comma-separated group keys (default label): per cell a row of NSE,
 * sigma_max and rho, the eigenvalues of the first 100 runs' W and the
 * histogram of all their singular values (log density when logy), as
 * OUT/initspec_K_{eig,svals}.{csv,gp,png,svg}, drawn when render; the HTML
 * goes to f through figure.  Transplanted runs are left out.  0, or 1 when
 * memory ran out (the page says so). */
int dalecli_init_spectra(FILE *f, const dalecli_runs *rs, const char *group, int logy, const char *out,
                         int render, dalecli_figure_fn figure);

#endif
