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
    char text[8192];
    int len = snprintf(text, sizeof text,
                       "# %s.gp - written by dale; re-plot with: gnuplot %s.gp (in this directory)\n"
                       "set datafile separator ','\n"
                       "set terminal pngcairo size %d,%d enhanced font 'DejaVu Sans,11'\n"
                       "set output '%s.png'\n"
                       "%s"
                       "set terminal svg size %d,%d enhanced font 'DejaVu Sans,11' background rgb 'white'\n"
                       "set output '%s.svg'\n"
                       "replot\n"
                       "unset output\n",
                       name, name, width, height, name, body, width, height, name);
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
    char t[256], c[256], x[256], body[4096];
    clean(title, t, sizeof t);
    clean(csv, c, sizeof c);
    clean(xlabel, x, sizeof x);
    snprintf(body, sizeof body,
             "set title '%s'\n"
             "set xlabel '%s'\nset ylabel 'density'\n"
             "%s"
             "set grid ytics lc rgb '#dddddd'\n"
             "set style fill solid 0.7 border lc rgb '#1f4e79'\n"
             "set key off\n"
             "plot '%s' skip 1 using (($1+$2)/2):(%s):($2-$1) with boxes lc rgb '#1f77b4'\n",
             t, x, logy ? "set logscale y\n" : "set yrange [0:*]\n", c,
             logy ? "$3 > 0 ? $3 : 1/0" : "$3");
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
