/* dale/report.h — figures: a data file, a gnuplot script, then PNG and SVG.
 *
 * Every figure NAME in directory DIR is three things a user can keep: the
 * data (a CSV with a header line, written by the caller), DIR/NAME.gp (a
 * gnuplot script that reads the CSV by its plain file name and writes
 * NAME.png and NAME.svg), and the two images.  The script is self-contained:
 * `cd DIR && gnuplot NAME.gp` re-plots.  dale runs gnuplot (found on PATH)
 * with DIR as its working directory; when gnuplot is not installed the data
 * and script are still written, *plotted is 0, and that is not an error.
 */
#ifndef DALE_REPORT_H
#define DALE_REPORT_H

#include <stddef.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Run `gnuplot NAME.gp` in DIR.  *plotted = 1 when it succeeded, 0 when
 * gnuplot is not installed.  Errors: DALE_ERR_IO (cannot start a process),
 * DALE_ERR_FORMAT (gnuplot failed; its messages are in DIR/NAME.log, kept
 * for the user). */
DALE_API dale_status dale_plot_run(const char *dir, const char *name, int *plotted);

/* The three figure functions below write DIR/NAME.gp and, when `run` is
 * non-zero, run it (dale_plot_run); with run = 0 *plotted is 0. */

/* Eigenvalues in the complex plane (paper Fig. 3 A–C).  csv (in DIR) has
 * columns draw,re,im; only draws < max_draws are drawn.  A dashed circle of
 * `radius` is added when radius > 0 (labelled with circle_label). */
DALE_API dale_status dale_plot_eigs(const char *dir, const char *name, const char *csv,
                                    long max_draws, double radius, const char *circle_label,
                                    const char *title, int run, int *plotted);

/* Histogram as boxes (paper Fig. 3 D–F): csv columns lo,hi,density; logy
 * non-zero for a logarithmic y axis (empty bins are left out). */
DALE_API dale_status dale_plot_hist(const char *dir, const char *name, const char *csv,
                                    int logy, const char *title, const char *xlabel,
                                    int run, int *plotted);
/* The same histogram with, where inset_csv is non-NULL, a second panel
 * inside it drawing inset_csv (the same columns) over [0, inset_hi] with a
 * linear y axis (the paper's Figs. 5D-F and 6D-F: a log-y histogram with
 * an inset of the bulk in [0, 8]).  inset_csv NULL: dale_plot_hist. */
DALE_API dale_status dale_plot_hist_inset(const char *dir, const char *name, const char *csv,
                                          const char *inset_csv, double inset_hi, int logy,
                                          const char *title, const char *xlabel, int run, int *plotted);

/* Heat map of a regular grid (paper Fig. 7B): csv whose columns xcol, ycol,
 * zcol (1-based) hold x, y and the value, one row per cell; each cell is
 * labelled with its value. */
DALE_API dale_status dale_plot_heatmap(const char *dir, const char *name, const char *csv,
                                       int xcol, int ycol, int zcol, const char *title,
                                       const char *xlabel, const char *ylabel,
                                       const char *zlabel, int run, int *plotted);

/* Psychometric curves (dale psychometric): csv columns
 * curve,context,modality,cued,coherence,trials,chose2,p_chose2 (curve
 * 0-based), one row per curve and signed coherence; curve k (< ncurves <= 8)
 * is drawn as its points, labelled labels[k], and its fitted logistic
 * 1/(1 + exp(-(intercept[k] + slope[k] x))) (a non-finite parameter
 * draws as 0). */
DALE_API dale_status dale_plot_psychometric(const char *dir, const char *name, const char *csv, size_t ncurves,
                                            const char *const *labels, const double *intercept,
                                            const double *slope, const char *title, const char *xlabel, int run,
                                            int *plotted);
/* Titles and axis labels of a curve or scatter figure (any may be NULL:
 * empty), and logarithmic axes.  The strings are written into the script
 * in single quotes (where gnuplot expands nothing: no backquote command,
 * no macro), a quote as the typographic apostrophe U+2019 and a line break
 * as a space, and drawn as plain text (noenhanced): a user's group name
 * cannot end the string and run gnuplot commands. */
typedef struct dale_plot_labels {
    const char *title, *xlabel, *ylabel;
    int logx, logy; /* non-zero: that axis logarithmic (x <= 0 is left out) */
    int key_below;  /* non-zero: the key under the plot (else outside, right) */
} dale_plot_labels;

/* Learning curves with mean ± sd bands (paper Figs. 2, 5, 6, 10, 11).  csv
 * (in DIR) has a header line and the columns group_index (0..ngroups-1),
 * x, mean, sd, n, group, rows of one group together and in x order; groups[g]
 * names curve g in the key.  Each group has its own colour (Okabe–Ito,
 * distinguishable with colour blindness) and dash pattern (grey-scale);
 * the key sits outside the plot so it covers no data.  Errors:
 * DALE_ERR_ARG (name or csv not a plain file name of letters, digits,
 * '.', '_', '-'; no groups), DALE_ERR_NOMEM, DALE_ERR_IO, and those of
 * dale_plot_run. */
DALE_API dale_status dale_plot_curves(const char *dir, const char *name, const char *csv,
                                      const char *const *groups, size_t ngroups,
                                      const dale_plot_labels *lab, int run, int *plotted);

/* The least-squares line drawn in a scatter and the r and p in its key
 * (the numbers of dale_linregress, dale/stats.h, copied by the caller). */
typedef struct dale_plot_fit {
    double slope, intercept, r, p;
} dale_plot_fit;

/* Scatter of points by group with the least-squares line of all points
 * (paper Figs. 5C, 6C, 7C, 12, 13): csv columns group_index, x, y, group,
 * run.  fit (may be NULL, or hold a NaN slope: no line) gives the line and
 * the r and p written in the key.  Errors as dale_plot_curves. */
DALE_API dale_status dale_plot_scatter(const char *dir, const char *name, const char *csv,
                                       const char *const *groups, size_t ngroups,
                                       const dale_plot_fit *fit, const dale_plot_labels *lab,
                                       int run, int *plotted);

/* Bars with ± sd error bars, one per cell (paper Fig. 4, Tables 1-3): csv
 * columns index (0, 1, ...), mean, sd, n, label; the labels are read from
 * the data file as tick labels.  Errors as dale_plot_curves. */
DALE_API dale_status dale_plot_bars(const char *dir, const char *name, const char *csv,
                                    const dale_plot_labels *lab, int run, int *plotted);

/* dale_plot_bars with significance marks: a sixth csv column, mark, is
 * written as text just above each bar's error bar (e.g. "*", "**", "***";
 * "" draws nothing; quote every mark: gnuplot draws an unquoted empty field
 * as a stray glyph).  Errors as dale_plot_curves. */
DALE_API dale_status dale_plot_bars_marked(const char *dir, const char *name, const char *csv,
                                           const dale_plot_labels *lab, int run, int *plotted);

/* Heat map over a grid of cells drawn at their row and column (paper
 * Fig. 7: size x inhibitory fraction, whose values need not be evenly
 * spaced): csv columns xi (0..nx-1), yi (0..ny-1), x, y, value; xticks[xi]
 * and yticks[yi] label the columns and rows; each cell is labelled with
 * its value.  Errors as dale_plot_curves (and an empty grid). */
DALE_API dale_status dale_plot_cells(const char *dir, const char *name, const char *csv,
                                     const char *const *xticks, size_t nx,
                                     const char *const *yticks, size_t ny, const char *zlabel,
                                     const dale_plot_labels *lab, int run, int *plotted);

/* A few trials of a cognitive task (pdm, cdm, dms), one panel each: the
 * probability of each output (softmax of the readout) over time as solid
 * lines and its target (1 where the trial asks for that output) as dashed
 * lines of the same colour.  csv columns: trial (0..ntrials-1), step, time,
 * p_0..p_{nout-1}, target_0..target_{nout-1}; outputs[u] names output u in
 * the key, panels[k] (may be NULL) titles panel k.  1 <= ntrials <= 8.
 * Width 700 per panel up to 1400, height 640.  Errors as dale_plot_curves. */
DALE_API dale_status dale_plot_trials(const char *dir, const char *name, const char *csv, size_t ntrials,
                                      size_t nout, const char *const *outputs, const char *const *panels,
                                      const dale_plot_labels *lab, int run, int *plotted);

/* Hidden-unit rates over one trial: csv columns step, time, then the rate
 * of each unit, the nE excitatory units first and then the nI inhibitory
 * ones; with ei non-zero E units are drawn red and I units blue (the
 * paper's Fig. 1 convention), else every unit grey (a network without
 * E/I populations).  1100 x 650.  Errors as dale_plot_curves. */
DALE_API dale_status dale_plot_rates(const char *dir, const char *name, const char *csv, size_t nE, size_t nI,
                                     int ei, const dale_plot_labels *lab, int run, int *plotted);

#ifdef __cplusplus
}
#endif
#endif
