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

#ifdef __cplusplus
}
#endif
#endif
