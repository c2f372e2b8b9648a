/* test_plot.c — the figure functions of dale/report.h drawn by gnuplot:
 * each PNG is an image of the size its script asks and not blank (pixel
 * variance), each SVG is complete; group names with quotes and gnuplot
 * commands are drawn as text (the script runs nothing); names that are not
 * plain file names are refused.  The image checks are skipped, saying so,
 * without gnuplot. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "dale/image.h"
#include "dale/report.h"

static void write_text(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL, "cannot write %s", p);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* PNG of w x h whose grey values vary (not a blank canvas). */
/* The text of dir/name into buf (cap bytes, NUL-terminated); the bytes read
 * (0 when the file is missing). */
static size_t read_text(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *g = fopen(path, "r");
    size_t got = g ? fread(buf, 1, cap - 1, g) : 0;
    buf[got] = 0;
    if (g) fclose(g);
    return got;
}

static void check_png(const char *dir, const char *name, size_t w, size_t h)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s.png", dir, name);
    dale_image im;
    CHECK_OK(dale_image_load(p, 1, &im));
    if (!im.data) return;
    CHECK(im.w == w && im.h == h, "%s is %zu x %zu, want %zu x %zu", p, im.w, im.h, w, h);
    double s = 0, ss = 0, n = (double)(im.w * im.h);
    size_t dark = 0;
    for (size_t i = 0; i < im.w * im.h; i++) {
        double v = im.data[i];
        s += v;
        ss += v * v;
        dark += im.data[i] < 128;
    }
    double var = ss / n - (s / n) * (s / n);
    CHECK(var > 50.0, "%s: pixel variance %g: blank?", p, var);
    CHECK(dark > 1000, "%s: %zu dark pixels: nothing drawn?", p, dark);
    dale_image_free(&im);
    snprintf(p, sizeof p, "%s/%s.svg", dir, name);
    FILE *f = fopen(p, "rb");
    CHECK(f != NULL, "no %s", p);
    if (!f) return;
    char *buf = calloc(1, 1 << 22);
    size_t k = buf ? fread(buf, 1, (1 << 22) - 1, f) : 0;
    fclose(f);
    CHECK(buf && strstr(buf, "<svg") && strstr(buf, "</svg>"), "%s: not a complete SVG (%zu bytes)", p, k);
    free(buf);
}

int main(void)
{
    char dir[] = "/tmp/dale-test-plot.XXXXXX";
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    int have_gp = system("command -v gnuplot >/dev/null 2>&1") == 0;
    if (!have_gp) printf("skip images: gnuplot not installed (scripts/install-deps.sh)\n");
    write_text(dir, "c.csv",
               "group_index,update,mean,sd,n,group\n"
               "0,0,1.0,0.1,2,a\n0,10,0.6,0.1,2,a\n0,20,0.4,0.05,2,a\n0,30,0.3,0.05,2,a\n"
               "1,0,1.0,0.2,2,b\n1,10,0.8,0.2,2,b\n1,20,0.7,0.1,2,b\n1,30,0.65,0.1,2,b\n");
    /* quotes at the start and inside, a backquote command, a macro */
    const char *groups[2] = {"it's \"A\" `touch PWNED` @x", "''; system('touch PWNED'); print '"};
    dale_plot_labels lab = {.title = "curves \"`touch PWNED`\" '\n x", .xlabel = "updates", .ylabel = "loss",
                            .logx = 1};
    int plotted = -1;
    CHECK_OK(dale_plot_curves(dir, "c", "c.csv", groups, 2, &lab, have_gp, &plotted));
    CHECK(plotted == have_gp, "plotted %d", plotted);
    char p[512];
    snprintf(p, sizeof p, "%s/PWNED", dir);
    struct stat sb;
    CHECK(stat(p, &sb) != 0 && stat("PWNED", &sb) != 0, "a group name ran a gnuplot command");
    if (have_gp) check_png(dir, "c", 1100, 650);

    write_text(dir, "s.csv",
               "group_index,x,y,group,run\n0,1,2.1,g,r0\n0,2,3.9,g,r1\n1,3,6.2,h,r2\n1,4,7.8,h,r3\n");
    dale_plot_fit fit = {.slope = 1.94, .intercept = 0.1, .r = 0.99, .p = 0.01};
    const char *sg[2] = {"g", "h"};
    dale_plot_labels sl = {.title = "scatter", .xlabel = "x", .ylabel = "y", .key_below = 1};
    CHECK_OK(dale_plot_scatter(dir, "s", "s.csv", sg, 2, &fit, &sl, have_gp, &plotted));
    if (have_gp) check_png(dir, "s", 1000, 650);

    write_text(dir, "b.csv", "index,mean,sd,n,label\n0,0.5,0.1,3,one\n1,0.7,0.05,3,two\n2,0.2,0.02,3,three\n");
    dale_plot_labels bl = {.title = "bars", .ylabel = "error"};
    CHECK_OK(dale_plot_bars(dir, "b", "b.csv", &bl, have_gp, &plotted));
    if (have_gp) check_png(dir, "b", 1100, 650);
    /* marked bars: the marks are drawn as labels (an empty mark is no label); unmarked bars have none */
    write_text(dir, "bm.csv", "index,mean,sd,n,label,mark\n0,0.5,0.1,3,one,\"\"\n1,0.7,0.05,3,two,\"***\"\n2,0.2,nan,1,three,\"*\"\n");
    CHECK_OK(dale_plot_bars_marked(dir, "bm", "bm.csv", &bl, have_gp, &plotted));
    if (have_gp) check_png(dir, "bm", 1100, 650);
    {
        char buf[8192];
        read_text(dir, "bm.gp", buf, sizeof buf);
        CHECK(strstr(buf, "stringcolumn(6)") && strstr(buf, "with labels"), "marked bars: no labels in bm.gp");
        size_t got = read_text(dir, "b.gp", buf, sizeof buf);
        CHECK(got > 0 && !strstr(buf, "with labels"), "unmarked bars: labels in b.gp");
    }

    write_text(dir, "h.csv", "xi,yi,hidden,ei_ratio,err\n0,0,100,1,80\n0,1,100,9,60\n1,0,300,1,70\n1,1,300,9,50\n");
    const char *xt[2] = {"100", "300"}, *yt[2] = {"1", "9"};
    dale_plot_labels hl = {.title = "cells", .xlabel = "hidden", .ylabel = "ei_ratio"};
    CHECK_OK(dale_plot_cells(dir, "h", "h.csv", xt, 2, yt, 2, "error", &hl, have_gp, &plotted));
    if (have_gp) check_png(dir, "h", 900, 720);
    CHECK(dale_plot_cells(dir, "h", "h.csv", xt, 0, yt, 2, "error", &hl, 0, &plotted) == DALE_ERR_ARG,
          "an empty grid accepted");

    /* trials of a cognitive task: one panel per trial, outputs solid and targets dashed; the PNG and
     * the SVG both hold every panel (the script draws the multiplot once per terminal, not by replot) */
    write_text(dir, "t.csv",
               "trial,step,time_ms,p0,p1,p2,target0,target1,target2\n"
               "0,0,20,0.9,0.05,0.05,1,0,0\n0,1,40,0.8,0.1,0.1,1,0,0\n0,2,60,0.1,0.8,0.1,0,1,0\n"
               "1,0,20,0.9,0.05,0.05,1,0,0\n1,1,40,0.7,0.1,0.2,1,0,0\n1,2,60,0.2,0.1,0.7,0,0,1\n");
    const char *outs[3] = {"fixation", "choice 1", "it's `touch PWNED`"}, *panels[2] = {"trial 1", "trial '2'"};
    dale_plot_labels tl = {.title = "trials", .xlabel = "time (ms)", .ylabel = "p(output)"};
    CHECK_OK(dale_plot_trials(dir, "t", "t.csv", 2, 3, outs, panels, &tl, have_gp, &plotted));
    if (have_gp) check_png(dir, "t", 1400, 640);
    {
        char buf[16384];
        read_text(dir, "t.gp", buf, sizeof buf);
        size_t nm = 0, nd = 0;
        for (const char *q = buf; (q = strstr(q, "set multiplot layout 1,2")); q++) nm++;
        for (const char *q = buf; (q = strstr(q, "dt 2 lc rgb")); q++) nd++;
        CHECK(nm == 2 && !strstr(buf, "replot"), "trials: the multiplot is not drawn once per terminal (%zu)", nm);
        CHECK(nd == 2 * 2 * (3 + 1), "trials: %zu dashed lines, want 3 targets and the key's per panel and terminal",
              nd);
        CHECK(strstr(buf, "using ($1 == 1 ? $3 : NaN):9 with lines lw 1.5 dt 2") != NULL, "trials: target column");
    }
    CHECK(dale_plot_trials(dir, "t", "t.csv", 0, 3, outs, panels, &tl, 0, &plotted) == DALE_ERR_ARG, "0 trials");
    /* hidden rates: E units red, I units blue; without E/I every unit grey */
    write_text(dir, "r.csv", "step,time_ms,e0,e1,e2,i3\n0,20,0.1,0.2,0.3,0.2\n1,40,0.5,0.1,0.6,0.9\n"
                             "2,60,0.4,0.0,0.9,0.5\n");
    dale_plot_labels rl = {.title = "rates", .xlabel = "time (ms)", .ylabel = "rate"};
    CHECK_OK(dale_plot_rates(dir, "r", "r.csv", 3, 1, 1, &rl, have_gp, &plotted));
    if (have_gp) check_png(dir, "r", 1100, 650);
    {
        char buf[8192];
        read_text(dir, "r.gp", buf, sizeof buf);
        CHECK(strstr(buf, "for [j=1:3] 'r.csv' skip 1 using 2:(column(2 + j)) with lines lw 1 lc rgb '#D55E00'") &&
                  strstr(buf, "for [j=4:4] 'r.csv' skip 1 using 2:(column(2 + j)) with lines lw 1 lc rgb '#0072B2'"),
              "rates: E units 1-3 red, I unit 4 blue in r.gp");
        CHECK_OK(dale_plot_rates(dir, "r", "r.csv", 4, 0, 0, &rl, 0, &plotted));
        read_text(dir, "r.gp", buf, sizeof buf);
        CHECK(strstr(buf, "#555555") && !strstr(buf, "#D55E00") && !strstr(buf, "#0072B2"), "rates: no E/I, not grey");
    }
    CHECK(stat(p, &sb) != 0 && stat("PWNED", &sb) != 0, "an output name ran a gnuplot command");

    /* names that would leave the directory or need quoting are refused */
    CHECK(dale_plot_curves(dir, "../c", "c.csv", groups, 2, &lab, 0, &plotted) == DALE_ERR_ARG, "../c accepted");
    CHECK(dale_plot_scatter(dir, "s", "s'.csv", sg, 2, &fit, &sl, 0, &plotted) == DALE_ERR_ARG, "s'.csv accepted");
    CHECK(dale_plot_curves(dir, "c", "c.csv", groups, 0, &lab, 0, &plotted) == DALE_ERR_ARG, "no groups accepted");

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (check_fail_count) printf("kept %s for a look\n", dir); /* the scripts and gnuplot's log */
    else if (system(cmd) != 0) printf("note: could not remove %s\n", dir);
    return check_done("test_plot");
}
