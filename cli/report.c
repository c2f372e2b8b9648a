/* report.c — `dale report DIR --out OUT`: one static HTML page (OUT/index.html)
 * with the figures and tables of a run directory, a sweep directory or what
 * `dale reproduce` wrote.  The page needs no network: the figures sit beside
 * it (relative links), the style is inline and the only script is an inline
 * one that records in the page whether every image loaded (what the browser
 * test reads back).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "dale/report.h"
#include "dale/select.h"
#include "dale/sweep.h"
#include "dale/version.h"
#include "internal.h"

static void report_usage(FILE *f)
{
    fputs("usage: dale report DIR [--out OUT] [--no-render] [--quiet]\n\n"
          "Writes OUT/index.html: what was run (resolved configs, dale version and commit,\n"
          "machine, date, scale), the figures (each also as .svg with its .csv and .gp\n"
          "beside it in OUT) and the tables, for\n"
          "  - a run directory (dale train --out): its config, result, learning curves of\n"
          "    every loss and error it logged and the spectra along training (NSE,\n"
          "    sigma_max, rho of cell 0 at each evaluation) and, for pdm and cdm, the\n"
          "    psychometric figure of dale psychometric (a note where fixation broke in\n"
          "    every trial);\n"
          "  - a sweep directory (dale sweep, dale reproduce): the table of `dale results`\n"
          "    (per cell mean ± sd, selected hyper-parameters, statistical tests, with\n"
          "    the spec's analysis settings), learning curves per cell, the NSE\n"
          "    trajectories, the scatter of the analysis' corr key against the reported\n"
          "    metric with its regression (Figs. 5-7), heat maps over two numeric group\n"
          "    keys (Fig. 7), bars with significance marks (* p < 0.05, ** p < 0.01,\n"
          "    *** p < 0.001 against the analysis' reference cell), or lines over the\n"
          "    numeric key where cells are grouped by a categorical and a numeric key or\n"
          "    labelled 'CATEGORY KEY=NUMBER' (Fig. 9), psychometric figures of pdm/cdm\n"
          "    runs, and every run's resolved config.  The analysis key \"logx\": true\n"
          "    draws the curves over a log update axis.\n"
          "The page is self-contained and works offline (no external URL).\n\n"
          "  --out OUT       where the page and its figures go (default DIR/report)\n"
          "  --no-render     do not run gnuplot (data and scripts only; no images)\n"
          "  --quiet         no list of written files\n\n"
          "Exit status: 0 written; 1 a file cannot be read or written; 2 usage error (not\n"
          "a run or sweep directory).\n",
          f);
}

/* ------------------------------------------------------------ html */

static void h(FILE *f, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*p, f);
        }
    }
}

static int is_file(const char *dir, const char *name)
{
    char p[4400];
    struct stat sb;
    dalei_sfmt(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static cJSON *read_json(const char *dir, const char *name)
{
    char p[4400];
    dalei_sfmt(p, sizeof p, "%s/%s", dir, name);
    char *t = dalei_read_text(p, (size_t)1 << 24);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    dalei_free(t);
    return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* A JSON value as text for a table cell. */
static void jval(const cJSON *it, char *out, size_t cap)
{
    if (cJSON_IsString(it)) dalei_sfmt(out, cap, "%s", it->valuestring);
    else if (cJSON_IsNumber(it)) dalei_sfmt(out, cap, "%.6g", it->valuedouble);
    else if (cJSON_IsBool(it)) dalei_sfmt(out, cap, "%s", cJSON_IsTrue(it) ? "true" : "false");
    else if (cJSON_IsNull(it)) dalei_sfmt(out, cap, "-");
    else {
        char *t = cJSON_PrintUnformatted(it);
        dalei_sfmt(out, cap, "%s", t ? t : "?");
        cJSON_free(t);
    }
}

/* A key/value table of a JSON object. */
static void json_table(FILE *f, const cJSON *o, const char *caption)
{
    fputs("<table class=\"kv\">", f);
    if (caption) { fputs("<caption>", f); h(f, caption); fputs("</caption>", f); }
    for (const cJSON *it = o ? o->child : NULL; it; it = it->next) {
        char v[1024];
        jval(it, v, sizeof v);
        fputs("<tr><th>", f);
        h(f, it->string);
        fputs("</th><td>", f);
        h(f, v);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* A CSV file (header + rows; fields may be double-quoted) as an HTML table;
 * numbers right-aligned and shown with 4 significant digits. */
static int csv_table(FILE *f, const char *path, const char *caption)
{
    char *t = dalei_read_text(path, (size_t)1 << 24);
    if (!t || !*t) { dalei_free(t); return 0; }
    fputs("<table class=\"grid\">", f);
    if (caption) { fputs("<caption>", f); h(f, caption); fputs("</caption>", f); }
    int row = 0;
    for (char *p = t; *p;) {
        char *e = strchr(p, '\n');
        if (e) *e = '\0';
        if (*p) {
            fputs("<tr>", f);
            for (char *q = p;;) {
                char field[1024];
                size_t n = 0;
                if (*q == '"') {
                    q++;
                    while (*q && !(q[0] == '"' && q[1] != '"')) {
                        if (q[0] == '"') q++;
                        if (n + 1 < sizeof field) field[n++] = *q;
                        q++;
                    }
                    if (*q == '"') q++;
                } else
                    while (*q && *q != ',' && *q != '\r') {
                        if (n + 1 < sizeof field) field[n++] = *q;
                        q++;
                    }
                field[n] = '\0';
                char *end;
                double v = strtod(field, &end);
                int num = row && n && end != field && !*end;
                fputs(row ? (num ? "<td class=\"n\">" : "<td>") : "<th>", f);
                if (num && (v != floor(v) || fabs(v) >= 1e6)) fprintf(f, "%.4g", v);
                else h(f, field);
                fputs(row ? "</td>" : "</th>", f);
                if (*q != ',') break;
                q++;
            }
            fputs("</tr>\n", f);
            row++;
        }
        if (!e) break;
        p = e + 1;
    }
    fputs("</table>\n", f);
    dalei_free(t);
    return row;
}

static void pre_file(FILE *f, const char *path)
{
    char *t = dalei_read_text(path, (size_t)1 << 22);
    if (t && *t) {
        fputs("<pre>", f);
        h(f, t);
        fputs("</pre>\n", f);
    }
    dalei_free(t);
}

static void figure(FILE *f, const char *out, const char *name, const char *caption)
{
    char png[300];
    dalei_sfmt(png, sizeof png, "%s.png", name);
    fputs("<figure>", f);
    if (is_file(out, png)) {
        fprintf(f, "<a href=\"%s.svg\"><img src=\"%s.png\" alt=\"", name, name);
        h(f, caption);
        fputs("\"></a>", f);
    } else
        fputs("<p class=\"note\">(no image: gnuplot did not run; the data and the script are beside this page)</p>", f);
    fputs("<figcaption>", f);
    h(f, caption);
    fprintf(f, " <span class=\"files\">[<a href=\"%s.svg\">svg</a> · <a href=\"%s.csv\">data</a> · "
               "<a href=\"%s.gp\">gnuplot script</a>]</span></figcaption></figure>\n",
            name, name, name);
}

static const char *style =
    "<style>\n"
    "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222}\n"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\n"
    "table{border-collapse:collapse;margin:.6em 0 1.2em}th,td{border:1px solid #ccc;padding:.2em .5em;"
    "font-size:.92em;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "th{background:#f2f2f2}caption{text-align:left;font-weight:bold;padding:.3em 0}\n"
    "figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.92em;color:#444}\n"
    ".files{white-space:nowrap}.smoke{background:#fff3cd;border:1px solid #e0b000;padding:.6em}\n"
    ".note{color:#666}pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.88em}\n"
    "details{margin:.3em 0}\n"
    "</style>\n";

/* Records in the page how many images there are, how many failed to load
 * and how many script errors happened (read back by tests/test_report.sh
 * through a headless browser's --dump-dom). */
static const char *check_script =
    "<script>\n"
    "var daleErrors=0;window.addEventListener('error',function(){daleErrors++;},true);\n"
    "window.addEventListener('load',function(){var im=document.images,bad=[];\n"
    "for(var i=0;i<im.length;i++){if(!(im[i].complete&&im[i].naturalWidth>0))bad.push(im[i].getAttribute('src'));}\n"
    "var d=document.createElement('p');d.id='dale-image-check';d.className='note';\n"
    "d.setAttribute('data-images',im.length);d.setAttribute('data-broken',bad.length);\n"
    "d.setAttribute('data-errors',daleErrors);\n"
    "d.textContent='images: '+im.length+', not loaded: '+bad.length+(bad.length?' ('+bad.join(', ')+')':'');\n"
    "document.body.appendChild(d);});\n"
    "</script>\n";

static void head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", f);
    h(f, title);
    fputs("</title>\n", f);
    fputs(style, f);
    fputs(check_script, f);
    fputs("</head><body>\n<h1>", f);
    h(f, title);
    fputs("</h1>\n", f);
}

/* What ran where: dale version, commits of the runs, machine, date. */
static void provenance(FILE *f, const char *dir, const char *commits)
{
    struct utsname u;
    char host[300] = "?";
    if (uname(&u) == 0) dalei_sfmt(host, sizeof host, "%s %s (%s)", u.nodename, u.release, u.machine);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    time_t now = time(NULL);
    struct tm tmv;
    char date[64] = "?";
    if (gmtime_r(&now, &tmv)) strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", &tmv);
    fputs("<table class=\"kv\"><caption>What was run</caption>\n<tr><th>directory</th><td>", f);
    h(f, dir);
    fprintf(f, "</td></tr>\n<tr><th>report written by</th><td>dale %s (commit %s)</td></tr>\n", dale_version(),
            dale_git_commit());
    fputs("<tr><th>runs made by (dale commit)</th><td>", f);
    h(f, commits);
    fputs("</td></tr>\n<tr><th>machine</th><td>", f);
    h(f, host);
    fprintf(f, ", %ld CPUs</td></tr>\n<tr><th>report date</th><td>%s</td></tr>\n", ncpu, date);
}

static int self_exe(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0) return -1;
    buf[n] = '\0';
    return 0;
}

static int mkdirs(const char *dir)
{
    char p[4096];
    struct stat sb;
    dalei_sfmt(p, sizeof p, "%s", dir);
    for (char *q = p + 1; *q; q++)
        if (*q == '/') {
            *q = '\0';
            mkdir(p, 0777);
            *q = '/';
        }
    if (mkdir(p, 0777) != 0 && !(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))) return -1;
    return 0;
}

/* The distinct dale_commit values of the runs' result.json, comma-joined. */
static void run_commits(const char *const *dirs, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        cJSON *r = read_json(dirs[i], "result.json");
        const char *c = jstr(r, "dale_commit");
        if (c && !strstr(out, c)) {
            size_t l = strlen(out);
            dalei_sfmt(out + l, cap - l, "%s%s", l ? ", " : "", c);
        }
        cJSON_Delete(r);
    }
    if (!out[0]) dalei_sfmt(out, cap, "?");
}

/* Curves of one metric; returns 1 when the figure was made. */
static int curves(FILE *f, const dalecli_runs *rs, const char *out, const char *metric, const char *group,
                  int logx, int logy, const char *caption, int no_render)
{
    dalecli_plot_opts o;
    memset(&o, 0, sizeof o);
    o.metric = metric;
    o.group = group;
    o.out = out;
    o.logx = logx;
    o.logy = logy;
    o.quiet = 1;
    o.no_render = no_render;
    o.skip_missing = 1; /* a metric the task lacks (adding: no error) is no figure, and no error */
    char name[256];
    if (dalecli_plot_curves(rs, &o, name, sizeof name)) return 0;
    figure(f, out, name, caption);
    return 1;
}

/* Learning curves and spectra along training (what both pages show). */
static void training_figures(FILE *f, const dalecli_runs *rs, const char *out, const char *group, int logx,
                             int no_render, const char *who)
{
    static const char *const ms[] = {"test_err", "test_loss", "val_err", "val_loss", "train_err", "train_loss"};
    fputs("<h2>Learning curves</h2>\n", f);
    int any = 0;
    for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
        char cap[400];
        dalei_sfmt(cap, sizeof cap, "%s along training, %s (mean ± sd over seeds where a group has several runs)%s",
                   ms[k], who, logx ? "; logarithmic update axis (the analysis' logx), update 0 left out" : "");
        any += curves(f, rs, out, ms[k], group, logx, 0, cap, no_render);
    }
    if (!any) fputs("<p class=\"note\">No loss or error was logged.</p>\n", f);
    fputs("<h2>Spectra along training</h2>\n<p>Normalised SVD entropy (NSE), largest singular value "
          "σ<sub>max</sub> and spectral radius ρ of the first layer's recurrent matrix at each evaluation "
          "(metrics.csv nse_cell0, smax_cell0, rho_cell0).</p>\n",
          f);
    static const char *const sp[] = {"nse_cell0", "smax_cell0", "rho_cell0"};
    for (size_t k = 0; k < 3; k++) {
        char cap[300];
        dalei_sfmt(cap, sizeof cap, "%s along training, %s%s", sp[k], who,
                   logx ? "; logarithmic update axis, update 0 left out" : "");
        curves(f, rs, out, sp[k], group, logx, 0, cap, no_render);
    }
}

/* The runs' resolved configs: the options every run shares, then one row
 * per run with the options that differ between runs. */
static void config_tables(FILE *f, const char *const *dirs, size_t n)
{
    if (!n) return;
    cJSON **c = dalei_calloc(n, sizeof *c);
    cJSON **sj = dalei_calloc(n, sizeof *sj);
    if (!c || !sj) { dalei_free(c); dalei_free(sj); return; }
    for (size_t i = 0; i < n; i++) {
        c[i] = read_json(dirs[i], "config.json");
        sj[i] = read_json(dirs[i], "sweep.json");
    }
    cJSON *same = cJSON_CreateObject();
    const char *diff[256];
    size_t nd = 0;
    for (const cJSON *it = c[0] ? c[0]->child : NULL; it; it = it->next) {
        if (!strcmp(it->string, "out")) {
            if (nd < 256) diff[nd++] = it->string;
            continue;
        }
        char a[1024], b[1024];
        jval(it, a, sizeof a);
        int differs = 0;
        for (size_t i = 1; i < n && !differs; i++) {
            jval(cJSON_GetObjectItemCaseSensitive(c[i], it->string), b, sizeof b);
            differs = strcmp(a, b) != 0;
        }
        if (differs) { if (nd < 256) diff[nd++] = it->string; }
        else if (same) cJSON_AddItemToObject(same, it->string, cJSON_Duplicate(it, 1));
    }
    json_table(f, same, "Options every run shares (config.json)");
    cJSON_Delete(same);
    fputs("<table class=\"grid\"><caption>Options that differ between runs</caption><tr><th>label</th>", f);
    for (size_t k = 0; k < nd; k++) { fputs("<th>", f); h(f, diff[k]); fputs("</th>", f); }
    fputs("</tr>\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        h(f, jstr(sj[i], "label") ? jstr(sj[i], "label") : "-");
        fputs("</td>", f);
        for (size_t k = 0; k < nd; k++) {
            char v[1024];
            jval(cJSON_GetObjectItemCaseSensitive(c[i], diff[k]), v, sizeof v);
            fputs("<td>", f);
            h(f, v);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    for (size_t i = 0; i < n; i++) { cJSON_Delete(c[i]); cJSON_Delete(sj[i]); }
    dalei_free(c);
    dalei_free(sj);
}

/* ------------------------------------------------------------ pages */

/* The psychometric figure of a pdm or cdm run (what dale psychometric
 * writes) in OUT/SUB/, or a note where fixation broke in every trial. */
static void psychometric(FILE *f, const char *run, const char *out, const char *sub, const char *label,
                         int no_render)
{
    cJSON *cfg = read_json(run, "config.json");
    const char *task = jstr(cfg, "task");
    int neuro = task && (!strcmp(task, "pdm") || !strcmp(task, "cdm"));
    char tname[32];
    dalei_sfmt(tname, sizeof tname, "%s", task ? task : "");
    cJSON_Delete(cfg);
    if (!neuro) return;
    char dir[4400], name[400], cap[800];
    dalei_sfmt(dir, sizeof dir, "%s/%s", out, sub);
    dalei_sfmt(name, sizeof name, "%s/psychometric", sub);
    cli_run_flags fl;
    memset(&fl, 0, sizeof fl);
    fl.run = run;
    fl.out = dir;
    int rc = dalecli_psychometric(&fl, 1, !no_render);
    if (rc == 0) {
        dalei_sfmt(cap, sizeof cap,
                   "Psychometric curve%s of %s (%s, test split, final parameters): the fraction of trials choosing "
                   "option 2 against the signed coherence, with the fitted logistic; trials with fixation broken "
                   "left out (as dale psychometric; fits in %s/psychometric_fit.csv)",
                   strcmp(tname, "cdm") ? "" : "s, one per context and modality", label, tname, sub);
        figure(f, out, name, cap);
    } else if (rc == 3) {
        fputs("<p class=\"note\">No psychometric curve for ", f);
        h(f, label);
        fputs(": fixation broke in every trial of the test split, so the network made no choice to plot.</p>\n", f);
    } else {
        fputs("<p class=\"note\">No psychometric curve for ", f);
        h(f, label);
        fputs(": dale psychometric failed (", f);
        h(f, dale_last_error());
        fputs(").</p>\n", f);
    }
}

static int report_run(const char *dir, const char *out, int no_render)
{
    dalecli_runs rs;
    char *pv[1] = {(char *)dir};
    int rc = dalecli_runs_collect(pv, 1, &rs, "report");
    if (rc) return rc;
    char path[4400];
    dalei_sfmt(path, sizeof path, "%s/index.html", out);
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "dale report: cannot write %s\n", path); dalecli_runs_free(&rs); return 1; }
    cJSON *cfg = read_json(dir, "config.json"), *res = read_json(dir, "result.json");
    char title[600];
    dalei_sfmt(title, sizeof title, "dale run: %s %s on %s", jstr(cfg, "model") ? jstr(cfg, "model") : "?",
               "", jstr(cfg, "task") ? jstr(cfg, "task") : "?");
    head(f, title);
    const char *dirs[1] = {dir};
    char commits[256];
    run_commits(dirs, 1, commits, sizeof commits);
    provenance(f, dir, commits);
    fputs("</table>\n", f);
    if (res) json_table(f, res, "Result (result.json)");
    training_figures(f, &rs, out, "", 0, no_render, "this run");
    psychometric(f, dir, out, "psychometric", "this run", no_render);
    fputs("<h2>Configuration</h2>\n", f);
    json_table(f, cfg, "Resolved run options (config.json)");
    fputs("</body></html>\n", f);
    cJSON_Delete(cfg);
    cJSON_Delete(res);
    dalecli_runs_free(&rs);
    if (fclose(f)) { fprintf(stderr, "dale report: cannot write %s\n", path); return 1; }
    return 0;
}

/* Run `dale results DIR ARGS...` with stdout to out_path, stderr to log. */
static int run_results(const char *dir, const char *const *extra, const char *out_path, const char *log_path)
{
    char self[4096];
    if (self_exe(self, sizeof self)) return 127;
    char *argv[16];
    int n = 0;
    argv[n++] = self;
    argv[n++] = "results";
    argv[n++] = (char *)dir;
    for (int i = 0; extra && extra[i] && n < 15; i++) argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    remove(log_path);
    return dalei_run_program(argv, out_path, log_path);
}

/* Split one CSV line in place into at most max fields (double quotes
 * handled); returns the count. */
static int csv_split(char *line, char **fv, int max)
{
    int k = 0;
    char *p = line;
    while (k < max) {
        if (*p == '"') {
            char *w = ++p;
            fv[k++] = w;
            while (*p && !(p[0] == '"' && p[1] != '"')) {
                if (p[0] == '"') p++;
                *w++ = *p++;
            }
            if (*p == '"') p++;
            *w = '\0';
            if (*p != ',') break;
            p++;
        } else {
            fv[k++] = p;
            char *c = strchr(p, ',');
            if (!c) break;
            *c = '\0';
            p = c + 1;
        }
    }
    return k;
}

/* The p of test `name` ("welch", "mann-whitney") of cell lab against the
 * reference in the tests `dale results` printed; 0 found, 1 not. */
static int test_p(const char *tests, const char *name, const char *lab, double *p)
{
    size_t nl = strlen(name), ll = strlen(lab);
    for (const char *q = tests; q && *q;) {
        const char *e = strchr(q, '\n');
        size_t len = e ? (size_t)(e - q) : strlen(q);
        if (len > 2 + nl && !strncmp(q, "  ", 2) && !strncmp(q + 2, name, nl) && q[2 + nl] == ' ') {
            const char *a = q + 2 + nl;
            while (*a == ' ') a++;
            /* the label runs to the statistic (" t = " or " U = "), padded with spaces */
            const char *z = NULL;
            for (const char *c = a; c + 5 <= q + len; c++)
                if (!strncmp(c, " t = ", 5) || !strncmp(c, " U = ", 5)) { z = c; break; }
            while (z && z > a && z[-1] == ' ') z--;
            const char *pp = NULL;
            for (const char *c = a; c + 4 <= q + len; c++)
                if (!strncmp(c, "p = ", 4)) pp = c + 4;
            if (z && pp && (size_t)(z - a) == ll && !strncmp(a, lab, ll)) {
                char *end;
                double v = strtod(pp, &end);
                if (end != pp && v == v) { *p = v; return 0; }
            }
        }
        if (!e) break;
        q = e + 1;
    }
    return 1;
}

/* The significance mark of p: *** < 0.001, ** < 0.01, * < 0.05, else "". */
static const char *stars(double p)
{
    return p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : "";
}

/* Bars of the reported metric per cell with ± sd (Fig. 4, Tables 1-3);
 * tests (may be NULL): what dale results printed about its tests, whose p
 * against the reference cell put significance marks on the bars. */
static void bars(FILE *f, const char *out, const char *cells_csv, int ngroup, const char *tests, int no_render)
{
    /* which test marks the bars: Welch's where it ran, else Mann-Whitney's */
    const char *tname = NULL, *tlong = NULL;
    char ref[256] = "";
    if (tests && strstr(tests, "\n  welch ")) { tname = "welch"; tlong = "Welch's t-test"; }
    else if (tests && strstr(tests, "\n  mann-whitney ")) { tname = "mann-whitney"; tlong = "the Mann-Whitney U test"; }
    if (tname) {
        const char *r = strstr(tests, "each cell vs '");
        const char *re = r ? strstr(r + 14, "':") : NULL;
        if (re && (size_t)(re - r - 14) < sizeof ref) dalei_sfmt(ref, sizeof ref, "%.*s", (int)(re - r - 14), r + 14);
    }
    char *t = dalei_read_text(cells_csv, (size_t)1 << 24);
    if (!t) return;
    char *nl = strchr(t, '\n');
    if (!nl) { dalei_free(t); return; }
    *nl = '\0';
    char *cols[64];
    int nc = csv_split(t, cols, 64), im = -1, isd = -1, in = -1, imet = -1;
    for (int i = 0; i < nc; i++) {
        if (!strcmp(cols[i], "mean")) im = i;
        if (!strcmp(cols[i], "sd")) isd = i;
        if (!strcmp(cols[i], "n")) in = i;
        if (!strcmp(cols[i], "metric")) imet = i;
    }
    if (im < 0 || isd < 0 || in < 0 || ngroup < 1 || ngroup > in) { dalei_free(t); return; }
    char path[4400], metric[64] = "";
    dalei_sfmt(path, sizeof path, "%s/bars.csv", out);
    FILE *b = fopen(path, "wb");
    if (!b) { dalei_free(t); return; }
    fprintf(b, tname ? "index,mean,sd,n,label,mark\n" : "index,mean,sd,n,label\n");
    int rows = 0, nmarked = 0;
    for (char *p = nl + 1; *p;) {
        char *e = strchr(p, '\n');
        if (e) *e = '\0';
        char *fv[64];
        int k = csv_split(p, fv, 64);
        if (k > im && k > isd && *p) {
            char lab[512] = "", tlab[512] = "";
            for (int g = 0; g < ngroup; g++) {
                size_t l = strlen(lab), l2 = strlen(tlab);
                dalei_sfmt(lab + l, sizeof lab - l, "%s%s", g ? " / " : "", fv[g]);
                dalei_sfmt(tlab + l2, sizeof tlab - l2, "%s%s", g ? "," : "", fv[g]);
            }
            for (char *q = lab; *q; q++)
                if (*q == ',' || *q == '"' || *q == '\r') *q = ' ';
            fprintf(b, "%d,%s,%s,%s,%s", rows, fv[im], fv[isd], fv[in], lab);
            if (tname) {
                double pv;
                const char *m = test_p(tests, tname, tlab, &pv) ? "" : stars(pv);
                nmarked += *m != 0;
                fprintf(b, ",\"%s\"", m); /* quoted: gnuplot draws an empty field as a stray glyph */
            }
            fputc('\n', b);
            if (imet >= 0 && imet < k) dalei_sfmt(metric, sizeof metric, "%s", fv[imet]);
            rows++;
        }
        if (!e) break;
        p = e + 1;
    }
    fclose(b);
    dalei_free(t);
    if (!rows) { remove(path); return; }
    char title[300], yl[200];
    dalei_sfmt(title, sizeof title, "%s per cell: mean ± sd over the selected runs", metric);
    const dale_plot_labels lab = {.title = title, .xlabel = "", .ylabel = dalecli_axis_label(metric, yl, sizeof yl)};
    int pl = 0;
    char cap[1200];
    dalei_sfmt(cap, sizeof cap, "The reported metric per cell, mean ± sd over the runs of the selected configuration "
               "(paper Fig. 4 for the transplant experiment, Tables 1-3)");
    if (tname) {
        size_t l = strlen(cap);
        dalei_sfmt(cap + l, sizeof cap - l, ". Marks above a bar: %s of the cell against the reference cell '%s' "
                   "(the tests under the table): * p < 0.05, ** p < 0.01, *** p < 0.001; no mark: p ≥ 0.05 or "
                   "no test (%d of %d cells marked)", tlong, ref, nmarked, rows);
    }
    if (!(tname ? dale_plot_bars_marked : dale_plot_bars)(out, "bars", "bars.csv", &lab, !no_render, &pl))
        figure(f, out, "bars", cap);
}

/* A number and nothing else (strtod, whole string). */
static int numeric(const char *v, double *x)
{
    char *e;
    if (!v || !*v) return 0;
    *x = strtod(v, &e);
    return *e == '\0' && *x == *x;
}

typedef struct line_pt {
    char cat[256];
    double x;
    const char *mean, *sd, *n;
} line_pt;

static int line_pt_cmp(const void *a, const void *b)
{
    const line_pt *p = a, *q = b;
    int c = strcmp(p->cat, q->cat);
    return c ? c : (p->x > q->x) - (p->x < q->x);
}

/* The reported metric against a numeric key, one line (± sd band) per
 * category (Fig. 9: error against rho per model), where the cells are
 * grouped by one numeric key and one categorical key, or by one label
 * that reads "CATEGORY KEY=NUMBER" with the same KEY in every cell (fig9's
 * "ColEI rad=0.4").  Returns 1 drawn (in place of the bars), else 0. */
static int lines(FILE *f, const char *out, const char *cells_csv, const char *group, int ngroup, int no_render)
{
    if (ngroup != 1 && ngroup != 2) return 0;
    char *t = dalei_read_text(cells_csv, (size_t)1 << 24);
    if (!t) return 0;
    int drawn = 0;
    line_pt *pt = NULL;
    char *(*rv)[64] = NULL; /* the cells' fields, pointing into t */
    char *nl = strchr(t, '\n');
    if (!nl) goto done;
    *nl = '\0';
    char *cols[64];
    int nc = csv_split(t, cols, 64), im = -1, isd = -1, in = -1;
    char metric[64] = "", xkey[128] = "";
    for (int i = 0; i < nc; i++) {
        if (!strcmp(cols[i], "mean")) im = i;
        if (!strcmp(cols[i], "sd")) isd = i;
        if (!strcmp(cols[i], "n")) in = i;
    }
    if (im < 0 || isd < 0 || in < 0 || ngroup > in) goto done;
    size_t np = 0;
    int num[2] = {1, 1}, keyed = ngroup == 1;
    rv = dalei_calloc(4096, sizeof *rv);
    if (!rv) goto done;
    for (char *p = nl + 1; *p && np < 4096;) {
        char *e = strchr(p, '\n');
        if (e) *e = '\0';
        int k = csv_split(p, rv[np], 64);
        if (k > im && k > isd && k > in && *p) {
            double x;
            for (int g = 0; g < ngroup; g++) num[g] &= numeric(rv[np][g], &x);
            if (keyed) {
                const char *sp = strrchr(rv[np][0], ' '), *eq = sp ? strchr(sp, '=') : NULL;
                char key[128];
                if (!eq || !numeric(eq + 1, &x) || (size_t)(eq - sp - 1) >= sizeof key || eq == sp + 1) keyed = 0;
                else {
                    dalei_sfmt(key, sizeof key, "%.*s", (int)(eq - sp - 1), sp + 1);
                    if (!*xkey) dalei_sfmt(xkey, sizeof xkey, "%s", key);
                    else if (strcmp(xkey, key)) keyed = 0;
                }
            }
            np++;
        }
        if (!e) break;
        p = e + 1;
    }
    int xi = -1; /* the numeric group column (two keys) */
    if (ngroup == 2 && num[0] != num[1]) xi = num[0] ? 0 : 1;
    if (np < 2 || (ngroup == 2 && xi < 0) || (ngroup == 1 && !keyed)) goto done;
    pt = dalei_calloc(np, sizeof *pt);
    if (!pt) goto done;
    for (size_t r = 0; r < np; r++) {
        if (ngroup == 2) {
            dalei_sfmt(pt[r].cat, sizeof pt[r].cat, "%s", rv[r][1 - xi]);
            numeric(rv[r][xi], &pt[r].x);
        } else {
            const char *sp = strrchr(rv[r][0], ' ');
            dalei_sfmt(pt[r].cat, sizeof pt[r].cat, "%.*s", (int)(sp - rv[r][0]), rv[r][0]);
            numeric(strchr(sp, '=') + 1, &pt[r].x);
        }
        for (char *q = pt[r].cat; *q; q++)
            if (*q == ',' || *q == '"' || *q == '\r') *q = ' ';
        pt[r].mean = rv[r][im];
        pt[r].sd = rv[r][isd];
        pt[r].n = rv[r][in];
    }
    qsort(pt, np, sizeof *pt, line_pt_cmp);
    const char *gn[64];
    size_t ng = 0;
    int multi = 0; /* some category has two x values or more */
    for (size_t r = 0; r < np; r++) {
        if (r == 0 || strcmp(pt[r].cat, pt[r - 1].cat)) {
            if (ng == 64) goto done;
            gn[ng++] = pt[r].cat;
        } else multi = 1;
    }
    if (!multi) goto done;
    if (ngroup == 2) {
        const char *c = strchr(group, ',');
        dalei_sfmt(xkey, sizeof xkey, "%.*s", xi ? (int)strlen(c + 1) : (int)(c - group), xi ? c + 1 : group);
    }
    char path[4400];
    dalei_sfmt(path, sizeof path, "%s/lines.csv", out);
    FILE *b = fopen(path, "wb");
    if (!b) goto done;
    fprintf(b, "group_index,x,mean,sd,n,group\n");
    for (size_t r = 0, g = 0; r < np; r++) {
        if (r && strcmp(pt[r].cat, pt[r - 1].cat)) g++;
        fprintf(b, "%zu,%.9g,%s,%s,%s,%s\n", g, pt[r].x, pt[r].mean, *pt[r].sd ? pt[r].sd : "0", pt[r].n, pt[r].cat);
    }
    if (fclose(b)) goto done;
    {
        char *m2 = dalei_read_text(cells_csv, (size_t)1 << 24); /* the metric's name, second row */
        char *l2 = m2 ? strchr(m2, '\n') : NULL;
        if (l2) {
            char *fv[64], *e2 = strchr(l2 + 1, '\n');
            if (e2) *e2 = '\0';
            int k = csv_split(l2 + 1, fv, 64);
            for (int i = 0; i < nc && i < k; i++)
                if (!strcmp(cols[i], "metric")) dalei_sfmt(metric, sizeof metric, "%s", fv[i]);
        }
        dalei_free(m2);
    }
    char title[300], yl[200], cap[800];
    dalei_sfmt(title, sizeof title, "%s against %s: mean ± sd over the selected runs", metric, xkey);
    const dale_plot_labels lab = {.title = title, .xlabel = xkey, .ylabel = dalecli_axis_label(metric, yl, sizeof yl)};
    int pl = 0;
    if (!dale_plot_curves(out, "lines", "lines.csv", gn, ng, &lab, !no_render, &pl)) {
        char per[200];
        if (ngroup == 2) dalei_sfmt(per, sizeof per, "%.*s", xi ? (int)(strchr(group, ',') - group) : 200,
                                    xi ? group : strchr(group, ',') + 1);
        else dalei_sfmt(per, sizeof per, "label (its text before '%s=')", xkey);
        dalei_sfmt(cap, sizeof cap, "The reported metric (%s) against %s, one line per %s with a band of ± sd over "
                   "the runs of the selected configuration of each cell (paper Fig. 9: error against the spectral "
                   "radius per model)", metric, xkey, per);
        figure(f, out, "lines", cap);
        drawn = 1;
    }
done:
    dalei_free(rv);
    dalei_free(pt);
    dalei_free(t);
    return drawn;
}

static int cmp_num_str(const void *a, const void *b)
{
    double x = strtod(*(char *const *)a, NULL), y = strtod(*(char *const *)b, NULL);
    return x < y ? -1 : x > y;
}

/* The index of v among vals[n], appended when new. */
static size_t value_index(char **vals, size_t *n, const char *v)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(vals[i], v)) return i;
    vals[*n] = dalei_strdup(v);
    return (*n)++;
}

/* Heat maps of the reported metric and of the NSE at init over the first
 * two group keys of results.csv (Fig. 7), cells at their row and column. */
static void heatmaps(FILE *f, const char *out, const char *cells_csv, int no_render)
{
    char *t = dalei_read_text(cells_csv, (size_t)1 << 24);
    if (!t) return;
    size_t nl_count = 0;
    for (char *q = t; *q; q++) nl_count += *q == '\n';
    char **lines = dalei_calloc(nl_count + 1, sizeof *lines);
    char **xv = dalei_calloc(nl_count + 1, sizeof *xv), **yv = dalei_calloc(nl_count + 1, sizeof *yv);
    char *cols[64], metric[64] = "metric";
    size_t nlines = 0, nx = 0, ny = 0;
    int nc = 0, im = -1, inse = -1, imet = -1, numeric = 1;
    if (!lines || !xv || !yv) goto done;
    for (char *save = NULL, *l = strtok_r(t, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) lines[nlines++] = l;
    if (nlines < 2) goto done;
    nc = csv_split(lines[0], cols, 64);
    for (int i = 0; i < nc; i++) {
        if (!strcmp(cols[i], "mean")) im = i;
        if (!strcmp(cols[i], "nse0_mean")) inse = i;
        if (!strcmp(cols[i], "metric")) imet = i;
    }
    if (im < 2 || inse < 2) goto done;
    char *fv[64];
    for (size_t i = 1; i < nlines; i++) {
        char *copy = dalei_strdup(lines[i]);
        int k = copy ? csv_split(copy, fv, 64) : 0;
        if (k > inse) {
            char *e1, *e2;
            strtod(fv[0], &e1);
            strtod(fv[1], &e2);
            if (e1 == fv[0] || *e1 || e2 == fv[1] || *e2) numeric = 0;
            value_index(xv, &nx, fv[0]);
            value_index(yv, &ny, fv[1]);
            if (imet >= 0 && imet < k) dalei_sfmt(metric, sizeof metric, "%s", fv[imet]);
        }
        dalei_free(copy);
    }
    if (!numeric || nx < 1 || ny < 2) goto done;
    qsort(xv, nx, sizeof *xv, cmp_num_str);
    qsort(yv, ny, sizeof *yv, cmp_num_str);
    static const char *const names[2] = {"heat_metric", "heat_nse0"};
    for (int h2 = 0; h2 < 2; h2++) {
        char path[4400];
        dalei_sfmt(path, sizeof path, "%s/%s.csv", out, names[h2]);
        FILE *o = fopen(path, "wb");
        if (!o) continue;
        fprintf(o, "xi,yi,%s,%s,%s\n", cols[0], cols[1], h2 ? "nse0_mean" : metric);
        for (size_t i = 1; i < nlines; i++) {
            char *copy = dalei_strdup(lines[i]);
            int k = copy ? csv_split(copy, fv, 64) : 0;
            if (k > inse) {
                size_t xi = 0, yi = 0;
                while (xi < nx && strcmp(xv[xi], fv[0])) xi++;
                while (yi < ny && strcmp(yv[yi], fv[1])) yi++;
                fprintf(o, "%zu,%zu,%s,%s,%s\n", xi, yi, fv[0], fv[1], fv[h2 ? inse : im]);
            }
            dalei_free(copy);
        }
        fclose(o);
        char title[300], zl[200], csvn[64];
        dalei_sfmt(csvn, sizeof csvn, "%s.csv", names[h2]);
        if (h2) dalei_sfmt(title, sizeof title, "NSE of W at initialisation (mean per cell)");
        else dalei_sfmt(title, sizeof title, "%s (mean over the selected runs of each cell)", metric);
        char xl[200], yl[200];
        const dale_plot_labels lab = {.title = title, .xlabel = dalecli_axis_label(cols[0], xl, sizeof xl),
                                      .ylabel = dalecli_axis_label(cols[1], yl, sizeof yl)};
        int pl = 0;
        if (!dale_plot_cells(out, names[h2], csvn, (const char *const *)xv, nx, (const char *const *)yv, ny,
                             h2 ? "NSE" : dalecli_axis_label(metric, zl, sizeof zl), &lab, !no_render, &pl))
            figure(f, out, names[h2], h2 ? "NSE at initialisation over the two group keys (paper Fig. 7A)"
                                         : "The reported metric over the two group keys (paper Fig. 7B)");
    }
done:
    for (size_t i = 0; i < nx; i++) dalei_free(xv[i]);
    for (size_t i = 0; i < ny; i++) dalei_free(yv[i]);
    dalei_free(xv);
    dalei_free(yv);
    dalei_free(lines);
    dalei_free(t);
}

/* Keep in rs the runs of the configuration selected in each cell (the
 * analysis' select, group, hp); returns how many, 0 when nothing could be
 * selected (rs is then unchanged). */
static size_t selected_ids(const char *dir, const cJSON *an, dalecli_runs *rs)
{
    dale_store *st = NULL;
    dale_store_row *rows = NULL;
    size_t n = 0, k = 0;
    dale_selection *sel = NULL;
    char(*ids)[17] = NULL;
    if (dale_store_open(dir, &st) || dale_store_load(st, -1, &rows, &n)) goto done;
    const dale_select_options so = {.select = jstr(an, "select"), .group = jstr(an, "group"), .hp = jstr(an, "hp"),
                                    .where = jstr(an, "where")};
    if (dale_select(rows, n, &so, &sel)) goto done;
    ids = dalei_calloc(sel->nrows ? sel->nrows : 1, sizeof *ids);
    if (!ids) goto done;
    for (size_t c = 0; c < sel->ncells; c++)
        for (size_t q = 0; q < sel->cells[c].ns; q++)
            dalei_sfmt(ids[k++], sizeof ids[0], "%s", sel->rows[sel->cells[c].sel[q]].r->id);
    if (k) k = dalecli_runs_keep(rs, ids, k);
done:
    dalei_free(ids);
    dale_selection_free(sel);
    dale_store_rows_free(rows, n);
    dale_store_close(st);
    return k;
}

static int report_sweep(const char *dir, const char *out, int no_render)
{
    dalecli_runs rs;
    char *pv[1] = {(char *)dir};
    int rc = dalecli_runs_collect(pv, 1, &rs, "report");
    if (rc) return rc;
    cJSON *spec = read_json(dir, "spec.json"), *scale = read_json(dir, "scale.json");
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(spec, "analysis");
    const char *group = jstr(an, "group"), *corr = jstr(an, "corr"), *report_m = jstr(an, "report");
    /* "logx": true in the analysis: learning curves over a logarithmic update axis (the paper's Fig. 2) */
    const int logx = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(an, "logx"));
    const char *name = jstr(spec, "name"), *desc = jstr(spec, "description");
    char path[4400];
    dalei_sfmt(path, sizeof path, "%s/index.html", out);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "dale report: cannot write %s\n", path);
        cJSON_Delete(spec);
        cJSON_Delete(scale);
        dalecli_runs_free(&rs);
        return 1;
    }
    char title[600];
    dalei_sfmt(title, sizeof title, "dale sweep %s%s%s", name ? name : dir, desc ? ": " : "", desc ? desc : "");
    head(f, title);
    const char *kind = jstr(scale, "kind");
    if (kind && !strcmp(kind, "smoke")) {
        fputs("<p class=\"smoke\"><b>SMOKE TEST</b>: these numbers test the pipeline, not the paper's claim (scale ", f);
        h(f, jstr(scale, "scale"));
        fputs(": ", f);
        h(f, jstr(scale, "note"));
        fputs("). See <code>dale reproduce --list</code> for the scale that can support the claim.</p>\n", f);
    }
    const char **dirs = dalei_calloc(rs.n ? rs.n : 1, sizeof *dirs);
    char commits[512] = "?";
    for (size_t i = 0; dirs && i < rs.n; i++) dirs[i] = dalecli_run_dir(&rs, i);
    if (dirs) run_commits(dirs, rs.n, commits, sizeof commits);
    provenance(f, dir, commits);
    fprintf(f, "<tr><th>runs</th><td>%zu</td></tr>\n", rs.n);
    if (scale) {
        fputs("<tr><th>scale</th><td>", f);
        h(f, jstr(scale, "scale"));
        fputs(" (", f);
        h(f, kind);
        fputs("): ", f);
        h(f, jstr(scale, "note"));
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    /* tables: dale results with the spec's analysis */
    char cells[4400], txt[4400], log[4400], log2[4400];
    dalei_sfmt(cells, sizeof cells, "%s/results.csv", out);
    dalei_sfmt(txt, sizeof txt, "%s/results.txt", out);
    dalei_sfmt(log, sizeof log, "%s/results-tests.txt", out);
    dalei_sfmt(log2, sizeof log2, "%s/results-log.txt", out);
    static const char *const csv_args[] = {"--csv", NULL};
    int rr = run_results(dir, csv_args, cells, log);
    run_results(dir, NULL, txt, log2);
    fputs("<h2>Results</h2>\n<p>Per cell: the hyper-parameters selected on validation data (where the sweep "
          "ran several), the number of runs (seeds), the reported metric's mean and sd (ddof 1) over them, "
          "and the mean NSE at initialisation (<code>dale results</code> with the sweep's analysis settings; "
          "<a href=\"results.csv\">CSV</a>).</p>\n",
          f);
    if (rr == 0) csv_table(f, cells, "Results per cell");
    else fputs("<p class=\"note\">dale results failed; see results-log.txt.</p>\n", f);
    fputs("<details open><summary>Statistical tests and the table as <code>dale results</code> prints it"
          "</summary>\n",
          f);
    pre_file(f, txt);
    fputs("</details>\n", f);
    char *tests = dalei_read_text(log, (size_t)1 << 22);
    remove(log);
    remove(log2);
    /* figures */
    fputs("<h2>Figures</h2>\n", f);
    if (corr) {
        dalecli_plot_opts o;
        memset(&o, 0, sizeof o);
        o.x = corr;
        o.y = report_m;
        o.group = group;
        o.select = jstr(an, "select");
        o.hp = jstr(an, "hp");
        o.out = out;
        o.selected = 1;
        o.quiet = 1;
        o.no_render = no_render;
        char nm[256];
        dale_linreg fit;
        size_t np = 0;
        if (!o.y) {
            /* the reported metric: the test counterpart of the selection metric */
            const char *s = o.select ? o.select : "val_err";
            static char yb[64];
            dalei_sfmt(yb, sizeof yb, "%s", s);
            if (!strncmp(yb, "val_", 4)) dalei_sfmt(yb, sizeof yb, "test_%s", s + 4);
            o.y = yb;
        }
        if (!dalecli_plot_scatter(dir, &o, &fit, &np, nm, sizeof nm)) {
            char cap[600];
            dalei_sfmt(cap, sizeof cap,
                       "%s against %s over the runs of the selected configuration of each cell (%zu runs), "
                       "least-squares line: Pearson r = %.3f, p = %.3g (paper Figs. 5C, 6C, 7C)",
                       o.y, corr, np, fit.r, fit.p);
            figure(f, out, nm, cap);
        }
    }
    {
        int ng = 1;
        for (const char *q = group ? group : ""; *q; q++) ng += *q == ',';
        if (!lines(f, out, cells, group, ng, no_render)) bars(f, out, cells, ng, tests, no_render);
        dalei_free(tests);
    }
    if (group && strchr(group, ',')) heatmaps(f, out, cells, no_render);
    /* "init_spectra": "lin" | "log": eigenvalues and singular values of W at init per cell (Figs. 3, 14, 15) */
    if (jstr(an, "init_spectra"))
        dalecli_init_spectra(f, &rs, group, !strcmp(jstr(an, "init_spectra"), "log"), out, !no_render, figure);
    {
        /* curves of the selected configuration of each cell, as the table */
        dalecli_runs sel;
        char *pv2[1] = {(char *)dir};
        if (dalecli_runs_collect(pv2, 1, &sel, "report") == 0) {
            size_t nsel = selected_ids(dir, an, &sel);
            if (nsel && nsel < rs.n)
                fprintf(f, "<p class=\"note\">Curves of the %zu runs of the configuration selected in each cell "
                           "(of %zu runs).</p>\n", nsel, rs.n);
            training_figures(f, nsel ? &sel : &rs, out, group, logx, no_render, "per cell");
            dalecli_runs_free(&sel);
        } else training_figures(f, &rs, out, group, logx, no_render, "per cell");
    }
    /* psychometric curves of the pdm / cdm runs: the first 8 */
    for (size_t i = 0; i < rs.n && i < 8; i++) {
        const char *rd = dalecli_run_dir(&rs, i), *b = strrchr(rd, '/');
        char sub[300];
        dalei_sfmt(sub, sizeof sub, "psychometric-%s", b ? b + 1 : rd);
        psychometric(f, rd, out, sub, b ? b + 1 : rd, no_render);
    }
    /* configs */
    fputs("<h2>Resolved configurations</h2>\n", f);
    if (spec) {
        char *t = cJSON_Print(spec);
        fputs("<details><summary>Sweep spec (spec.json)</summary><pre>", f);
        h(f, t);
        fputs("</pre></details>\n", f);
        cJSON_free(t);
    }
    config_tables(f, dirs, rs.n);
    dalei_free(dirs);
    fputs("</body></html>\n", f);
    cJSON_Delete(spec);
    cJSON_Delete(scale);
    dalecli_runs_free(&rs);
    if (fclose(f)) { fprintf(stderr, "dale report: cannot write %s\n", path); return 1; }
    return 0;
}

int dalecli_report(const char *dir, const char *out, int no_render, int quiet)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "dale report: %s: no such directory\n", dir);
        return 2;
    }
    if (mkdirs(out)) { fprintf(stderr, "dale report: cannot create %s\n", out); return 1; }
    int rc;
    if (is_file(dir, "metrics.csv") && is_file(dir, "config.json")) rc = report_run(dir, out, no_render);
    else rc = report_sweep(dir, out, no_render);
    if (!rc && !quiet) printf("wrote %s/index.html\n", out);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    int no_render = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { report_usage(stdout); return 0; }
        else if (!strcmp(a, "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(a, "--no-render")) no_render = 1;
        else if (!strcmp(a, "--quiet")) quiet = 1;
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "dale report: unknown option or missing value '%s' (see dale report --help)\n", a);
            return 2;
        } else if (!dir) dir = a;
        else { fprintf(stderr, "dale report: unexpected argument '%s'\n", a); return 2; }
    }
    if (!dir) { report_usage(stderr); return 2; }
    char ob[4200];
    if (!out) {
        dalei_sfmt(ob, sizeof ob, "%s/report", dir);
        out = ob;
    }
    if (!*out) { fprintf(stderr, "dale report: --out is empty\n"); return 2; }
    return dalecli_report(dir, out, no_render, quiet);
}
