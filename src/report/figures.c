/* figures.c — gnuplot scripts for the spectrum figures, and running gnuplot.
 *
 * Each script sets up the plot once and renders it twice (pngcairo, then
 * svg via `replot`), so the two images cannot disagree.  Scripts name their
 * CSV by its plain file name: they are run with DIR as working directory
 * and stay valid when a user moves DIR.  Strings from callers (titles,
 * labels) are put inside single quotes with any quote removed.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dale/report.h"
#include "internal.h"

/* Copy s into buf (cap bytes) without single quotes or newlines. */
static const char *clean(const char *s, char *buf, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; s && s[i] && j + 1 < cap; i++)
        if (s[i] != '\'' && s[i] != '\n' && s[i] != '\\') buf[j++] = s[i];
    buf[j] = '\0';
    return buf;
}

dale_status dale_plot_run(const char *dir, const char *name, int *plotted)
{
    char script[512], log[512];
    *plotted = 0;
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(log, sizeof log, "%s.log", name);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return DALE_FAIL(DALE_ERR_IO, "cannot start gnuplot: %s", strerror(errno));
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        if (chdir(dir) != 0) _exit(126);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        char *argv[] = {"gnuplot", script, NULL};
        execvp("gnuplot", argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return DALE_FAIL(DALE_ERR_IO, "waiting for gnuplot: %s", strerror(errno));
    char logpath[1024];
    snprintf(logpath, sizeof logpath, "%s/%s", dir, log);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (code == 127) { /* not installed: data and script stay, no images */
        remove(logpath);
        return DALE_OK;
    }
    if (code == 126) return DALE_FAIL(DALE_ERR_IO, "%s: cannot enter directory for gnuplot", dir);
    if (code != 0)
        return DALE_FAIL(DALE_ERR_FORMAT, "gnuplot failed on %s/%s (exit %d); see %s", dir, script,
                         code, logpath);
    remove(logpath);
    *plotted = 1;
    return DALE_OK;
}

/* Write DIR/NAME.gp: the header, the body (setup + one plot command) and
 * the two terminals; then run it. */
static dale_status write_and_run(const char *dir, const char *name, const char *body, int run,
                                 int *plotted, int width, int height)
{
    *plotted = 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.gp", dir, name);
    char text[16384];
    /* replot repeats only the last plot of a multiplot: such a body is
     * written again for the SVG */
    const int multi = strstr(body, "set multiplot") != NULL;
    int len = snprintf(text, sizeof text,
                       "# %s.gp - written by dale; re-plot with: gnuplot %s.gp (in this directory)\n"
                       "set datafile separator ','\n"
                       "set terminal pngcairo size %d,%d enhanced font 'DejaVu Sans,11'\n"
                       "set output '%s.png'\n"
                       "%s"
                       "set terminal svg size %d,%d enhanced font 'DejaVu Sans,11' background rgb 'white'\n"
                       "set output '%s.svg'\n"
                       "%s"
                       "unset output\n",
                       name, name, width, height, name, body, width, height, name, multi ? body : "replot\n");
    if (len < 0 || (size_t)len >= sizeof text)
        return DALE_FAIL(DALE_ERR_ARG, "%s: gnuplot script too long", path);
    dale_status st = dalei_write_file_atomic(path, text, (size_t)len);
    if (st || !run) return st;
    return dale_plot_run(dir, name, plotted);
}

dale_status dale_plot_eigs(const char *dir, const char *name, const char *csv, long max_draws,
                           double radius, const char *circle_label, const char *title,
                           int run, int *plotted)
{
    char t[256], c[256], lab[256], body[4096];
    clean(title, t, sizeof t);
    clean(csv, c, sizeof c);
    clean(circle_label, lab, sizeof lab);
    snprintf(body, sizeof body,
             "set title '%s'\n"
             "set size ratio -1\n"
             "set xlabel 'Re {/Symbol l}'\nset ylabel 'Im {/Symbol l}'\n"
             "set grid lc rgb '#dddddd'\n"
             "set key top right opaque\n"
             "r = %.17g\n"
             "if (r > 0) { set object 1 circle at 0,0 size r fs empty border lc rgb '#d62728' dt 2 lw 2 front }\n"
             "plot '%s' skip 1 using ($1 < %ld ? $2 : 1/0):3 with points pt 7 ps 0.35 lc rgb '#1f77b4' "
             "title 'eigenvalues', \\\n"
             "     NaN with lines dt 2 lw 2 lc rgb '#d62728' title '%s'\n",
             t, radius > 0 ? radius : 0.0, c, max_draws, radius > 0 ? lab : "");
    return write_and_run(dir, name, body, run, plotted, 800, 760);
}

dale_status dale_plot_hist(const char *dir, const char *name, const char *csv, int logy,
                           const char *title, const char *xlabel, int run, int *plotted)
{
    return dale_plot_hist_inset(dir, name, csv, NULL, 0, logy, title, xlabel, run, plotted);
}

dale_status dale_plot_hist_inset(const char *dir, const char *name, const char *csv, const char *inset_csv,
                                 double inset_hi, int logy, const char *title, const char *xlabel, int run,
                                 int *plotted)
{
    if (inset_csv && (!(inset_hi > 0) || !isfinite(inset_hi)))
        return DALE_FAIL(DALE_ERR_ARG, "%s: the inset's range [0, %g] is empty", name, inset_hi);
    char t[256], c[256], ci[256], x[256], body[4096];
    clean(title, t, sizeof t);
    clean(csv, c, sizeof c);
    clean(inset_csv, ci, sizeof ci);
    clean(xlabel, x, sizeof x);
    int k = snprintf(body, sizeof body,
                     "%s"
                     "set title '%s'\n"
                     "set xlabel '%s'\nset ylabel 'density'\n"
                     "%s"
                     "set grid ytics lc rgb '#dddddd'\n"
                     "set style fill solid 0.7 border lc rgb '#1f4e79'\n"
                     "set key off\n"
                     "plot '%s' skip 1 using (($1+$2)/2):(%s):($2-$1) with boxes lc rgb '#1f77b4'\n",
                     inset_csv ? "set multiplot\nset origin 0, 0\nset size 1, 1\nunset object 1\nset autoscale x\n"
                               "set xlabel offset 0, 0\nset yrange [*:*]\n"
                               : "",
                     t, x, logy ? "set logscale y\n" : "set yrange [0:*]\n", c,
                     logy ? "$3 > 0 ? $3 : 1/0" : "$3");
    /* the inset: a second panel over [0, inset_hi], linear y, on white */
    if (inset_csv && k > 0 && (size_t)k < sizeof body)
        snprintf(body + k, sizeof body - (size_t)k,
                 "set origin 0.46, 0.42\nset size 0.5, 0.45\n"
                 "unset title\nunset logscale y\nset yrange [0:*]\nset xrange [0:%.17g]\n"
                 "set xlabel 'in [0, %g]' offset 0, 0.5\nset ylabel ''\n"
                 "set object 1 rectangle from graph 0, graph 0 to graph 1, graph 1 behind fc rgb 'white' fs solid 1.0\n"
                 "plot '%s' skip 1 using (($1+$2)/2):3:($2-$1) with boxes lc rgb '#d62728'\n"
                 "unset multiplot\n",
                 inset_hi, inset_hi, ci);
    return write_and_run(dir, name, body, run, plotted, 800, 560);
}

dale_status dale_plot_heatmap(const char *dir, const char *name, const char *csv, int xcol,
                              int ycol, int zcol, const char *title, const char *xlabel,
                              const char *ylabel, const char *zlabel, int run, int *plotted)
{
    char t[256], c[256], x[256], y[256], z[256], body[4096];
    clean(title, t, sizeof t);
    clean(csv, c, sizeof c);
    clean(xlabel, x, sizeof x);
    clean(ylabel, y, sizeof y);
    clean(zlabel, z, sizeof z);
    snprintf(body, sizeof body,
             "set title '%s'\n"
             "set xlabel '%s'\nset ylabel '%s'\nset cblabel '%s'\n"
             "set palette defined (0 '#2c7bb6', 0.5 '#ffffbf', 1 '#d7191c')\n"
             "set key off\n"
             "set autoscale fix\n"
             "set offsets graph 0.0, graph 0.0, graph 0.0, graph 0.0\n"
             "plot '%s' skip 1 using %d:%d:%d with image, \\\n"
             "     '' skip 1 using %d:%d:(sprintf('%%.2f', column(%d))) with labels font ',8' tc rgb 'black'\n",
             t, x, y, z, c, xcol, ycol, zcol, xcol, ycol, zcol);
    return write_and_run(dir, name, body, run, plotted, 900, 720);
}

dale_status dale_plot_psychometric(const char *dir, const char *name, const char *csv, size_t ncurves,
                                   const char *const *labels, const double *intercept, const double *slope,
                                   const char *title, const char *xlabel, int run, int *plotted)
{
    static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                         "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
    static const int pts[] = {7, 5, 9, 11, 13, 15, 7, 5}; /* filled circle, square, triangles, ... */
    *plotted = 0;
    if (ncurves == 0 || ncurves > 8) return DALE_FAIL(DALE_ERR_ARG, "psychometric figure: 1 to 8 curves (got %zu)", ncurves);
    char t[256], c[256], x[256], body[6144];
    clean(title, t, sizeof t);
    clean(csv, c, sizeof c);
    clean(xlabel, x, sizeof x);
    size_t k = (size_t)snprintf(body, sizeof body,
                                "set title '%s'\n"
                                "set xlabel '%s'\nset ylabel 'fraction choosing option 2'\n"
                                "set yrange [-0.03:1.03]\n"
                                "set grid lc rgb '#dddddd'\n"
                                "set key outside right top\n"
                                "set samples 400\n",
                                t, x);
    for (size_t i = 0; i < ncurves && k < sizeof body; i++) {
        double a = isfinite(intercept[i]) ? intercept[i] : 0.0, b = isfinite(slope[i]) ? slope[i] : 0.0;
        k += (size_t)snprintf(body + k, sizeof body - k, "f%zu(x) = 1 / (1 + exp(-(%.17g + %.17g * x)))\n", i, a, b);
    }
    for (size_t i = 0; i < ncurves && k < sizeof body; i++) {
        char lab[128];
        clean(labels[i], lab, sizeof lab);
        k += (size_t)snprintf(body + k, sizeof body - k,
                              "%s'%s' skip 1 using ($1 == %zu ? $5 : 1/0):8 with points pt %d ps %.1f lc rgb '%s' "
                              "title '%s', \\\n     f%zu(x) with lines lw 2 dt %d lc rgb '%s' notitle%s",
                              i == 0 ? "plot " : "     ", c, i, pts[i], 1.6 - 0.15 * (double)i, colors[i], lab, i,
                              (int)(i % 2) + 1, colors[i], i + 1 < ncurves ? ", \\\n" : "\n");
    }
    if (k >= sizeof body) return DALE_FAIL(DALE_ERR_ARG, "%s/%s.gp: gnuplot script too long", dir, name);
    return write_and_run(dir, name, body, run, plotted, ncurves > 1 ? 1100 : 820, 600);
}

/* ------------------------------------------------ curves and scatters */

/* A growing script text. */
typedef struct gp_text {
    char *s;
    size_t n, cap;
    int err;
} gp_text;

static void gp_add(gp_text *t, const char *fmt, ...) DALEI_PRINTF(2, 3);
static void gp_add(gp_text *t, const char *fmt, ...)
{
    if (t->err) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { t->err = 1; return; }
        if (t->s && t->n + (size_t)k < t->cap) { t->n += (size_t)k; return; }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)k;
        char *s = dalei_realloc(t->s, cap, 1);
        if (!s) { t->err = 1; return; }
        t->s = s;
        t->cap = cap;
    }
}

/* Append s as a gnuplot single-quoted string.  Inside single quotes gnuplot
 * expands nothing (no backquote command substitution, no @macros, no
 * backslash escapes, all of which happen inside double quotes); only a
 * single quote would end the string, and gnuplot's doubled '' is not read
 * as a quote at a string's start, so a quote in s is written as the
 * typographic apostrophe U+2019, which looks the same in a figure.  Line
 * breaks (which would end the command) become spaces. */
static void gp_quote(gp_text *t, const char *s)
{
    gp_add(t, "'");
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '\'') gp_add(t, "\xe2\x80\x99");
        else if (*p == '\n' || *p == '\r') gp_add(t, " ");
        else gp_add(t, "%c", *p);
    }
    gp_add(t, "'");
}

/* Okabe–Ito: told apart with colour blindness; each group also has its
 * own dash pattern and point shape, so they survive grey-scale printing. */
static const char *const palette[8] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                       "#E69F00", "#56B4E9", "#000000", "#999999"};
static const int points[8] = {7, 5, 9, 13, 11, 15, 1, 2};

/* A file name dale writes into a script: letters, digits, . _ - only. */
static int plain_name(const char *s)
{
    if (!s || !*s || *s == '.' || strlen(s) > 200) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static void gp_header(gp_text *t, const char *name, int w, int h, const dale_plot_labels *lab)
{
    gp_add(t, "# %s.gp - written by dale; re-plot with: gnuplot %s.gp (in this directory)\n"
              "# Restyle freely: colours (lc rgb), line widths (lw), dash types (dt), the key\n"
              "# position (set key), the size (set terminal ... size W,H).\n"
              "set datafile separator ','\n"
              "set terminal pngcairo size %d,%d noenhanced font 'DejaVu Sans,13'\n"
              "set output '%s.png'\n",
              name, name, w, h, name);
    gp_add(t, "set title ");
    gp_quote(t, lab && lab->title ? lab->title : "");
    gp_add(t, "\nset xlabel ");
    gp_quote(t, lab && lab->xlabel ? lab->xlabel : "");
    gp_add(t, "\nset ylabel ");
    gp_quote(t, lab && lab->ylabel ? lab->ylabel : "");
    gp_add(t, "\nset grid lc rgb '#dddddd'\n"
              "set border lw 1.2\n"
              "set datafile missing 'nan'\n"
              "set autoscale xfix\n"
              "set offsets graph 0.02, graph 0.02, graph 0.05, graph 0.05\n");
    if (lab && lab->key_below) gp_add(t, "set key below horizontal Left reverse noenhanced samplen 3 width 2\n");
    else gp_add(t, "set key outside right top vertical Left reverse noenhanced samplen 3\n");
    if (lab && lab->logx) gp_add(t, "set logscale x\n");
    if (lab && lab->logy) gp_add(t, "set logscale y\n");
}

static dale_status gp_finish(gp_text *t, const char *dir, const char *name, int w, int h, int run,
                             int *plotted)
{
    gp_add(t, "set terminal svg size %d,%d noenhanced font 'DejaVu Sans,13' background rgb 'white'\n"
              "set output '%s.svg'\n"
              "replot\n"
              "unset output\n",
              w, h, name);
    if (t->err) {
        dalei_free(t->s);
        return DALE_FAIL(DALE_ERR_NOMEM, "%s/%s.gp: out of memory writing the gnuplot script", dir, name);
    }
    char path[4200];
    dalei_sfmt(path, sizeof path, "%s/%s.gp", dir, name);
    dale_status st = dalei_write_file_atomic(path, t->s, t->n);
    dalei_free(t->s);
    if (st || !run) return st;
    return dale_plot_run(dir, name, plotted);
}

dale_status dale_plot_curves(const char *dir, const char *name, const char *csv,
                             const char *const *groups, size_t ngroups,
                             const dale_plot_labels *lab, int run, int *plotted)
{
    if (plotted) *plotted = 0;
    if (!plain_name(name) || !plain_name(csv))
        return DALE_FAIL(DALE_ERR_ARG, "figure name '%s' / data file '%s': use letters, digits, '.', '_', '-'",
                         name ? name : "", csv ? csv : "");
    if (ngroups == 0) return DALE_FAIL(DALE_ERR_ARG, "%s: no curves to draw", name);
    gp_text t = {0};
    gp_header(&t, name, 1100, 650, lab);
    gp_add(&t, "set style fill transparent solid 0.20 noborder\n"
               "# %s columns: group_index, x, mean, sd, n, group; the band is mean +- sd over runs\n",
           csv);
    const char *xv = lab && lab->logx ? "($2 > 0 ? $2 : NaN)" : "$2";
    gp_add(&t, "plot \\\n");
    for (size_t g = 0; g < ngroups; g++)
        gp_add(&t, "  '%s' skip 1 using ($1 == %zu ? %s : NaN):($3 - $4):($3 + $4) with filledcurves "
                   "lc rgb '%s' notitle, \\\n",
               csv, g, xv, palette[g % 8]);
    for (size_t g = 0; g < ngroups; g++) {
        gp_add(&t, "  '%s' skip 1 using ($1 == %zu ? %s : NaN):3 with lines lw 2.5 dt %zu lc rgb '%s' title ",
               csv, g, xv, g % 5 + 1, palette[g % 8]);
        gp_quote(&t, groups[g]);
        gp_add(&t, "%s", g + 1 < ngroups ? ", \\\n" : "\n");
    }
    return gp_finish(&t, dir, name, 1100, 650, run, plotted);
}

dale_status dale_plot_scatter(const char *dir, const char *name, const char *csv,
                              const char *const *groups, size_t ngroups, const dale_plot_fit *fit,
                              const dale_plot_labels *lab, int run, int *plotted)
{
    if (plotted) *plotted = 0;
    if (!plain_name(name) || !plain_name(csv))
        return DALE_FAIL(DALE_ERR_ARG, "figure name '%s' / data file '%s': use letters, digits, '.', '_', '-'",
                         name ? name : "", csv ? csv : "");
    if (ngroups == 0) return DALE_FAIL(DALE_ERR_ARG, "%s: no points to draw", name);
    gp_text t = {0};
    gp_header(&t, name, 1000, 650, lab);
    gp_add(&t, "# %s columns: group_index, x, y, group, run\n", csv);
    int line = fit && isfinite(fit->slope) && isfinite(fit->intercept);
    if (line)
        gp_add(&t, "slope = %.17g\nintercept = %.17g\nr = %.17g\np = %.17g\nf(x) = slope * x + intercept\n",
               fit->slope, fit->intercept, fit->r, fit->p);
    gp_add(&t, "plot \\\n");
    for (size_t g = 0; g < ngroups; g++) {
        gp_add(&t, "  '%s' skip 1 using ($1 == %zu ? $2 : NaN):3 with points pt %d ps 1.4 lc rgb '%s' title ",
               csv, g, points[g % 8], palette[g % 8]);
        gp_quote(&t, groups[g]);
        gp_add(&t, "%s", g + 1 < ngroups || line ? ", \\\n" : "\n");
    }
    if (line)
        gp_add(&t, "  f(x) with lines lw 2 dt 2 lc rgb '#444444' "
                   "title sprintf('least squares, r = %%.3f, p = %%.3g', r, p)\n");
    return gp_finish(&t, dir, name, 1000, 650, run, plotted);
}

static dale_status plot_bars(const char *dir, const char *name, const char *csv, const dale_plot_labels *lab,
                             int marked, int run, int *plotted)
{
    if (plotted) *plotted = 0;
    if (!plain_name(name) || !plain_name(csv))
        return DALE_FAIL(DALE_ERR_ARG, "figure name '%s' / data file '%s': use letters, digits, '.', '_', '-'",
                         name ? name : "", csv ? csv : "");
    gp_text t = {0};
    gp_header(&t, name, 1100, 650, lab);
    gp_add(&t, "# %s columns: index, mean, sd, n, label; the error bar is ± sd over runs\n"
               "set key off\n"
               "set style fill solid 0.75 border lc rgb '#1f1f1f'\n"
               "set boxwidth 0.65\n"
               "set xtics rotate by -30 left noenhanced\n"
               "set offsets 0, 0, graph 0.05, 0\n"
               "stats '%s' skip 1 using 1 nooutput\n"
               "set xrange [-0.6:STATS_max + 0.6]\n"
               "set yrange [0:*]\n"
               "plot '%s' skip 1 using 1:2:3:xtic(5) with boxerrorbars lc rgb '%s' lw 1.5",
           csv, csv, csv, palette[0]);
    if (marked)
        gp_add(&t, ", \\\n     '' skip 1 using 1:($2 + ($3 == $3 ? $3 : 0)):(stringcolumn(6)) with labels "
                   "offset 0, 0.9 font ',18' tc rgb '#1f1f1f' noenhanced");
    gp_add(&t, "\n");
    return gp_finish(&t, dir, name, 1100, 650, run, plotted);
}

dale_status dale_plot_bars(const char *dir, const char *name, const char *csv, const dale_plot_labels *lab,
                           int run, int *plotted)
{
    return plot_bars(dir, name, csv, lab, 0, run, plotted);
}

dale_status dale_plot_bars_marked(const char *dir, const char *name, const char *csv, const dale_plot_labels *lab,
                                  int run, int *plotted)
{
    return plot_bars(dir, name, csv, lab, 1, run, plotted);
}

dale_status dale_plot_cells(const char *dir, const char *name, const char *csv, const char *const *xticks,
                            size_t nx, const char *const *yticks, size_t ny, const char *zlabel,
                            const dale_plot_labels *lab, int run, int *plotted)
{
    if (plotted) *plotted = 0;
    if (!plain_name(name) || !plain_name(csv))
        return DALE_FAIL(DALE_ERR_ARG, "figure name '%s' / data file '%s': use letters, digits, '.', '_', '-'",
                         name ? name : "", csv ? csv : "");
    if (!nx || !ny) return DALE_FAIL(DALE_ERR_ARG, "%s: an empty grid (%zu x %zu)", name, nx, ny);
    gp_text t = {0};
    gp_header(&t, name, 900, 720, lab);
    gp_add(&t, "# %s columns: xi, yi, x, y, value (xi, yi: the cell's column and row)\n"
               "set key off\nunset grid\nset offsets 0, 0, 0, 0\n"
               "set palette defined (0 '#2c7bb6', 0.5 '#ffffbf', 1 '#d7191c')\n"
               "set cblabel ",
           csv);
    gp_quote(&t, zlabel);
    gp_add(&t, "\nset xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\nset xtics (", nx - 1, ny - 1);
    for (size_t i = 0; i < nx; i++) {
        gp_quote(&t, xticks[i]);
        gp_add(&t, " %zu%s", i, i + 1 < nx ? ", " : ")\n");
    }
    gp_add(&t, "set ytics (");
    for (size_t i = 0; i < ny; i++) {
        gp_quote(&t, yticks[i]);
        gp_add(&t, " %zu%s", i, i + 1 < ny ? ", " : ")\n");
    }
    gp_add(&t, "plot '%s' skip 1 using 1:2:5 with image, \\\n"
               "     '' skip 1 using 1:2:(sprintf('%%.3g', $5)) with labels font ',10' tc rgb 'black'\n",
           csv);
    return gp_finish(&t, dir, name, 900, 720, run, plotted);
}

/* The plot commands of one trial panel per trial (dale_plot_trials). */
static void trials_body(gp_text *t, const char *csv, size_t ntrials, size_t nout, const char *const *outputs,
                        const char *const *panels)
{
    for (size_t k = 0; k < ntrials; k++) {
        gp_add(t, "set title ");
        gp_quote(t, panels && panels[k] ? panels[k] : "");
        gp_add(t, "\n%s", k ? "set key off\n"
                             : "set key at screen 0.5, screen 0.01 center bottom vertical Left reverse samplen 3\n");
        gp_add(t, "plot \\\n");
        for (size_t u = 0; u < nout; u++) {
            gp_add(t, "  '%s' skip 1 using ($1 == %zu ? $3 : NaN):%zu with lines lw 2.5 dt 1 lc rgb '%s' title ", csv,
                   k, 4 + u, palette[u % 8]);
            gp_quote(t, outputs[u]);
            gp_add(t, ", \\\n");
        }
        for (size_t u = 0; u < nout; u++)
            gp_add(t, "  '%s' skip 1 using ($1 == %zu ? $3 : NaN):%zu with lines lw 1.5 dt 2 lc rgb '%s' notitle, \\\n",
                   csv, k, 4 + nout + u, palette[u % 8]);
        gp_add(t, "  NaN with lines lw 1.5 dt 2 lc rgb '#000000' title 'target (dashed, same colour)'\n");
    }
}

dale_status dale_plot_trials(const char *dir, const char *name, const char *csv, size_t ntrials, size_t nout,
                             const char *const *outputs, const char *const *panels, const dale_plot_labels *lab,
                             int run, int *plotted)
{
    if (plotted) *plotted = 0;
    if (!plain_name(name) || !plain_name(csv))
        return DALE_FAIL(DALE_ERR_ARG, "figure name '%s' / data file '%s': use letters, digits, '.', '_', '-'",
                         name ? name : "", csv ? csv : "");
    if (ntrials == 0 || ntrials > 8 || nout == 0)
        return DALE_FAIL(DALE_ERR_ARG, "%s: %zu trials and %zu outputs (expected 1-8 trials, outputs >= 1)", name,
                         ntrials, nout);
    const int w = (int)(ntrials < 3 ? 700 * ntrials : 1400), ht = 640;
    gp_text t = {0};
    gp_add(&t, "# %s.gp - written by dale; re-plot with: gnuplot %s.gp (in this directory)\n"
               "# %s columns: trial, step, time, the outputs' probabilities (softmax of the readout), then\n"
               "# the target of each output (1 for the output the trial asks for at that step, else 0)\n"
               "set datafile separator ','\nset datafile missing 'nan'\n"
               "set grid lc rgb '#dddddd'\nset border lw 1.2\nset yrange [-0.05:1.05]\n",
           name, name, csv);
    gp_add(&t, "set xlabel ");
    gp_quote(&t, lab && lab->xlabel ? lab->xlabel : "");
    gp_add(&t, "\nset ylabel ");
    gp_quote(&t, lab && lab->ylabel ? lab->ylabel : "");
    gp_add(&t, "\n");
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0)
            gp_add(&t, "set terminal pngcairo size %d,%d noenhanced font 'DejaVu Sans,13'\nset output '%s.png'\n", w,
                   ht, name);
        else
            gp_add(&t, "set terminal svg size %d,%d noenhanced font 'DejaVu Sans,13' background rgb 'white'\n"
                       "set output '%s.svg'\nset key default\n",
                   w, ht, name);
        gp_add(&t, "set multiplot layout 1,%zu margins 0.06, 0.98, 0.34, 0.88 spacing 0.04, 0 title ", ntrials);
        gp_quote(&t, lab && lab->title ? lab->title : "");
        gp_add(&t, "\n");
        trials_body(&t, csv, ntrials, nout, outputs, panels);
        gp_add(&t, "unset multiplot\nunset output\n");
    }
    if (t.err) {
        dalei_free(t.s);
        return DALE_FAIL(DALE_ERR_NOMEM, "%s/%s.gp: out of memory writing the gnuplot script", dir, name);
    }
    char path[4200];
    dalei_sfmt(path, sizeof path, "%s/%s.gp", dir, name);
    dale_status st = dalei_write_file_atomic(path, t.s, t.n);
    dalei_free(t.s);
    if (st || !run) return st;
    return dale_plot_run(dir, name, plotted);
}

dale_status dale_plot_rates(const char *dir, const char *name, const char *csv, size_t nE, size_t nI, int ei,
                            const dale_plot_labels *lab, int run, int *plotted)
{
    if (plotted) *plotted = 0;
    if (!plain_name(name) || !plain_name(csv))
        return DALE_FAIL(DALE_ERR_ARG, "figure name '%s' / data file '%s': use letters, digits, '.', '_', '-'",
                         name ? name : "", csv ? csv : "");
    if (nE + nI == 0) return DALE_FAIL(DALE_ERR_ARG, "%s: no units to draw", name);
    gp_text t = {0};
    gp_header(&t, name, 1100, 650, lab);
    gp_add(&t, "# %s columns: step, time, then the rate of each hidden unit (E units first, then I)\n", csv);
    const char *ce = ei ? "#D55E00" : "#555555", *ci = "#0072B2";
    gp_add(&t, "plot \\\n");
    if (nE)
        gp_add(&t, "  for [j=1:%zu] '%s' skip 1 using 2:(column(2 + j)) with lines lw 1 lc rgb '%s' notitle, \\\n"
                   "  NaN with lines lw 2.5 lc rgb '%s' title '%s'%s\n",
               nE, csv, ce, ce, ei ? "excitatory (E) units" : "hidden units", nI ? ", \\" : "");
    if (nI)
        gp_add(&t, "  for [j=%zu:%zu] '%s' skip 1 using 2:(column(2 + j)) with lines lw 1 lc rgb '%s' notitle, \\\n"
                   "  NaN with lines lw 2.5 lc rgb '%s' title 'inhibitory (I) units'\n",
               nE + 1, nE + nI, csv, ci, ci);
    return gp_finish(&t, dir, name, 1100, 650, run, plotted);
}
