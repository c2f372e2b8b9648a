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
#include "dale/config.h"
#include "dale/eval.h"
#include "dale/npy.h"
#include "dale/task.h"
#include "dale/trainer.h"
#include "dale/model.h"
#include "dale/select.h"
#include "dale/spectrum.h"
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
          "    every trial) and, for pdm, cdm and dms, trial trajectories;\n"
          "  - a sweep directory (dale sweep, dale reproduce): the table of `dale results`\n"
          "    (per cell mean ± sd, selected hyper-parameters, statistical tests, with\n"
          "    the spec's analysis settings), learning curves per cell, the NSE\n"
          "    trajectories, the scatter of the analysis' corr key against the reported\n"
          "    metric with its regression (Figs. 5-7), heat maps over two numeric group\n"
          "    keys (Fig. 7), bars with significance marks (* p < 0.05, ** p < 0.01,\n"
          "    *** p < 0.001 against the analysis' reference cell), or lines over the\n"
          "    numeric key where cells are grouped by a categorical and a numeric key or\n"
          "    labelled 'CATEGORY KEY=NUMBER' (Fig. 9), psychometric figures of pdm/cdm\n"
          "    runs, trial trajectories of pdm/cdm/dms runs (output probabilities with\n"
          "    the targets, hidden rates E red / I blue), and every run's resolved config.\n"
          "    Analysis keys read by the report only (no run id changes): \"logx\": true\n"
          "    draws the curves over a log update axis; \"svals\": HI draws each cell's\n"
          "    singular values of W at initialisation, log-y, with an inset over [0, HI]\n"
          "    (0: none); \"paper\": {source, what, unit, cells, notes} puts the paper's\n"
          "    numbers in a marked column \"paper\" of the table and its statements in a\n"
          "    marked box (docs/figures.md).\n"
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

/* The paper's value of a results row (the "cells" of the analysis' "paper"
 * object, keyed by the row's first ngroup fields joined with ","): a
 * number, or [mean, sd], or a text; written into out with unit, numbers
 * with `decimals` decimals (< 0: 6 significant digits).  0 found. */
static int paper_cell(const cJSON *pcells, const char *key, const char *unit, int decimals, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(pcells, key);
    const char *u = unit ? unit : "";
    const char *sp = *u && strcmp(u, "%") ? " " : "";
    char a[64], b[64];
    if (cJSON_IsNumber(v)) {
        if (decimals >= 0) dalei_sfmt(a, sizeof a, "%.*f", decimals, v->valuedouble);
        else dalei_sfmt(a, sizeof a, "%.6g", v->valuedouble);
        dalei_sfmt(out, cap, "%s%s%s", a, sp, u);
    } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(v, 0)) &&
               cJSON_IsNumber(cJSON_GetArrayItem(v, 1))) {
        double m = cJSON_GetArrayItem(v, 0)->valuedouble, sd = cJSON_GetArrayItem(v, 1)->valuedouble;
        if (decimals >= 0) {
            dalei_sfmt(a, sizeof a, "%.*f", decimals, m);
            dalei_sfmt(b, sizeof b, "%.*f", decimals, sd);
        } else {
            dalei_sfmt(a, sizeof a, "%.6g", m);
            dalei_sfmt(b, sizeof b, "%.6g", sd);
        }
        dalei_sfmt(out, cap, "%s ± %s%s%s", a, b, sp, u);
    }
    else if (cJSON_IsString(v)) dalei_sfmt(out, cap, "%s", v->valuestring);
    else return 1;
    return 0;
}

/* A CSV file (header + rows; fields may be double-quoted) as an HTML table;
 * numbers right-aligned and shown with 4 significant digits.  pcells (may
 * be NULL): the paper's values by cell (paper_cell): a last column
 * "paper" (class "paper", headed by phead) holds the value of each row whose
 * first ngroup fields name one, "-" elsewhere. */
static int csv_table_paper(FILE *f, const char *path, const char *caption, const cJSON *pcells, int ngroup,
                           const char *unit, int decimals, const char *phead)
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
            char key[1024] = "";
            int col = 0;
            fputs("<tr>", f);
            for (char *q = p;; col++) {
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
                if (col < ngroup) {
                    size_t l = strlen(key);
                    dalei_sfmt(key + l, sizeof key - l, "%s%s", col ? "," : "", field);
                }
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
            if (pcells) {
                char pv[256];
                if (!row) {
                    fputs("<th class=\"paper\">", f);
                    h(f, phead);
                    fputs("</th>", f);
                } else {
                    fputs("<td class=\"paper\">", f);
                    h(f, paper_cell(pcells, key, unit, decimals, pv, sizeof pv) ? "-" : pv);
                    fputs("</td>", f);
                }
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
    "details{margin:.3em 0}.grid3{display:flex;flex-wrap:wrap;gap:0 1%}.grid3 figure{width:32%;margin:.4em 0}\n"
    "th.paper,td.paper{background:#e6eef8;font-style:italic}div.paper{background:#eef3fa;border:1px solid #9db5d6;"
    "padding:.2em .8em;margin:.6em 0 1.2em}.paper-mark{font-weight:bold;color:#2a4d7f}\n"
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

/* What the paper says (the analysis' "paper" object): where the table has
 * the paper's column, what its numbers are and where they come from; then
 * each of its "notes" (numbers quoted in the text, or what the paper's
 * figure shows where it gives no numbers), each marked as the paper's. */
static void paper_notes(FILE *f, const cJSON *paper, int column)
{
    const cJSON *notes = cJSON_GetObjectItemCaseSensitive(paper, "notes");
    int nn = cJSON_IsArray(notes) ? cJSON_GetArraySize(notes) : 0;
    if (!column && !nn) return;
    fputs("<div class=\"paper\" id=\"paper-numbers\"><p><b>The paper&#39;s numbers</b> (copied from the paper, "
          "not computed by dale; never used to tune anything)",
          f);
    if (column) {
        fputs(": the column <i>paper</i> of the table holds ", f);
        h(f, jstr(paper, "what") ? jstr(paper, "what") : "the paper's value of each cell");
        fputs(" from ", f);
        h(f, jstr(paper, "source") ? jstr(paper, "source") : "the paper");
        fputs("; &quot;-&quot;: the paper gives no number for that cell", f);
    }
    fputs(".</p>\n", f);
    if (nn) {
        fputs("<ul>\n", f);
        for (const cJSON *it = notes->child; it; it = it->next)
            if (cJSON_IsString(it)) {
                fputs("<li><span class=\"paper-mark\">paper:</span> ", f);
                h(f, it->valuestring);
                fputs("</li>\n", f);
            }
        fputs("</ul>\n", f);
    }
    fputs("</div>\n", f);
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

/* Trial trajectories of a run of a cognitive task (pdm, cdm, dms): its
 * first TRAJ_TRIALS test trials as `dale eval RUN --trials N` runs them
 * (final parameters, the evaluation's noise where the run has it on): the
 * outputs' probabilities over time with the targets (PREFIX_out), and the
 * hidden rates of the first layer in the first trial, E units red and I
 * units blue (PREFIX_rates).  Returns 1 when something was drawn. */
#define TRAJ_TRIALS 3
static int trajectories(FILE *f, const char *run, const char *out, const char *prefix, const char *label,
                        int no_render)
{
    dale_run_config c;
    char path[4400];
    dale_config_defaults(&c);
    dalei_sfmt(path, sizeof path, "%s/config.json", run);
    if (dale_config_load_json(&c, path) || dale_config_resolve(&c)) return 0;
    if (strcmp(c.task, "pdm") && strcmp(c.task, "cdm") && strcmp(c.task, "dms")) return 0;
    dale_task *task = NULL;
    dale_net *net = NULL;
    dale_npz *z = NULL;
    dale_trials tr;
    memset(&tr, 0, sizeof tr);
    int drawn = 0;
    dalei_sfmt(path, sizeof path, "%s/final.npz", run);
    if (dale_task_from_config(&c, &task) || dale_net_from_config(&c, task, &net) || dale_npz_open(path, &z) ||
        dale_params_load(net, z, path))
        goto fail;
    size_t N = task->count[DALE_SPLIT_TEST] < TRAJ_TRIALS ? task->count[DALE_SPLIT_TEST] : TRAJ_TRIALS;
    if (!N || !task->trial) goto done;
    if (!strcmp(c.eval_noise, "on")) { /* as dale eval: the test split's fixed noise sample */
        dale_rng nr;
        dale_noise_stream(c.seed, 1, (uint64_t)DALE_SPLIT_TEST, &nr);
        dale_net_set_noise(net, &nr);
    }
    if (dale_trials_run(net, task, DALE_SPLIT_TEST, 0, N, N, 1, &tr) || !tr.trial) goto fail;
    const size_t T = tr.T, O = tr.output, n = tr.hidden;
    const double dt = c.dt > 0 ? c.dt : 1.0;
    char csvn[300], name[300];
    dalei_sfmt(name, sizeof name, "%s_out", prefix);
    dalei_sfmt(csvn, sizeof csvn, "%s.csv", name);
    dalei_sfmt(path, sizeof path, "%s/%s", out, csvn);
    FILE *o = fopen(path, "wb");
    if (!o || O < 1 || O > 8) { if (o) fclose(o); goto done; }
    fprintf(o, "trial,step,time_ms");
    for (size_t u = 0; u < O; u++) fprintf(o, ",p%zu", u);
    for (size_t u = 0; u < O; u++) fprintf(o, ",target%zu", u);
    fputc('\n', o);
    char panel[TRAJ_TRIALS][200];
    const char *pp[TRAJ_TRIALS];
    for (size_t i = 0; i < N; i++) {
        const dale_trial *q = &tr.trial[i];
        size_t len = q->len && q->len <= T ? q->len : T;
        for (size_t t = 0; t < len; t++) {
            const float *y = tr.out + (i * T + t) * O;
            double m = y[0], sum = 0, pr[8];
            for (size_t u = 1; u < O; u++) m = fmax(m, (double)y[u]);
            for (size_t u = 0; u < O; u++) sum += (pr[u] = exp((double)y[u] - m));
            fprintf(o, "%zu,%zu,%.6g", i, t, (double)(t + 1) * dt);
            for (size_t u = 0; u < O; u++) fprintf(o, ",%.6g", pr[u] / sum);
            int32_t want = tr.yi ? tr.yi[i * T + t] : -1;
            for (size_t u = 0; u < O; u++) fprintf(o, ",%d", want == (int32_t)u);
            fputc('\n', o);
        }
        char coh[80] = "";
        if (!strcmp(c.task, "pdm")) dalei_sfmt(coh, sizeof coh, "coherence %+.3g %%, ", q->coh[0]);
        else if (!strcmp(c.task, "cdm"))
            dalei_sfmt(coh, sizeof coh, "context %d, coherence %+.3g / %+.3g %%, ", q->context, q->coh[0], q->coh[1]);
        else if (q->stim[0] >= 0) dalei_sfmt(coh, sizeof coh, "stimuli %d / %d, ", q->stim[0], q->stim[1]);
        int ch = tr.choice ? tr.choice[i] : -1;
        char chs[40];
        if (ch < 0) dalei_sfmt(chs, sizeof chs, "fixation broken");
        else dalei_sfmt(chs, sizeof chs, "chose %d", ch + 1);
        dalei_sfmt(panel[i], sizeof panel[i], "trial %zu: %sanswer %d, %s", i + 1, coh, q->truth + 1, chs);
        pp[i] = panel[i];
    }
    if (fclose(o)) goto done;
    const char *outs[8];
    char ob[8][40];
    for (size_t u = 0; u < O; u++) {
        if (u == 0) dalei_sfmt(ob[u], sizeof ob[u], "output 0: fixation");
        else dalei_sfmt(ob[u], sizeof ob[u], "output %zu: choice %zu", u, u);
        outs[u] = ob[u];
    }
    char title[400];
    dalei_sfmt(title, sizeof title, "%s: %s, %s, the first %zu test trials", label, c.model, c.task, N);
    dale_plot_labels lab = {.title = title, .xlabel = "time (ms)", .ylabel = "p(output)"};
    int pl = 0;
    if (!dale_plot_trials(out, name, csvn, N, O, outs, pp, &lab, !no_render, &pl)) {
        char cap[900];
        dalei_sfmt(cap, sizeof cap,
                   "Trials of %s (%s on %s, test split, final parameters, as dale eval --trials runs them): the "
                   "probability of each output (softmax of the readout) over time, solid, and the target, dashed "
                   "(1 where the trial asks for that output: fixation until the decision period, then the answer); "
                   "time = step x dt (%g ms)",
                   label, c.model, c.task, dt);
        figure(f, out, name, cap);
        drawn = 1;
    }
    if (tr.h && n) {
        size_t nE = 0, nI = 0;
        dale_net_ei_units(net, 0, &nE, &nI);
        int ei = strcmp(c.model, "rnn") != 0 && nI > 0 && nE + nI == n;
        if (!ei) { nE = n; nI = 0; }
        dalei_sfmt(name, sizeof name, "%s_rates", prefix);
        dalei_sfmt(csvn, sizeof csvn, "%s.csv", name);
        dalei_sfmt(path, sizeof path, "%s/%s", out, csvn);
        o = fopen(path, "wb");
        if (!o) goto done;
        fprintf(o, "step,time_ms");
        for (size_t j = 0; j < n; j++) fprintf(o, ",%s%zu", ei && j >= nE ? "i" : "e", j);
        fputc('\n', o);
        size_t len = tr.trial[0].len && tr.trial[0].len <= T ? tr.trial[0].len : T;
        for (size_t t = 0; t < len; t++) {
            fprintf(o, "%zu,%.6g", t, (double)(t + 1) * dt);
            for (size_t j = 0; j < n; j++) fprintf(o, ",%.5g", (double)tr.h[t * n + j]);
            fputc('\n', o);
        }
        if (fclose(o)) goto done;
        dalei_sfmt(title, sizeof title, "%s: hidden rates in trial 1 (%zu E, %zu I)", label, nE, nI);
        dale_plot_labels lr = {.title = title, .xlabel = "time (ms)", .ylabel = "rate (hidden state h)"};
        if (!dale_plot_rates(out, name, csvn, nE, nI, ei, &lr, !no_render, &pl)) {
            char cap[600];
            if (ei)
                dalei_sfmt(cap, sizeof cap,
                           "Hidden rates of %s's first layer in trial 1: %zu excitatory units red, %zu inhibitory "
                           "units blue (the paper's Fig. 1 colours)",
                           label, nE, nI);
            else
                dalei_sfmt(cap, sizeof cap, "Hidden rates of %s's first layer in trial 1 (%zu units, grey: %s has no "
                           "separate E and I units)", label, n, c.model);
            figure(f, out, name, cap);
            drawn = 1;
        }
    }
    goto done;
fail:
    fputs("<p class=\"note\">No trial trajectories for ", f);
    h(f, label);
    fputs(": ", f);
    h(f, dale_last_error());
    fputs("</p>\n", f);
done:
    dale_trials_free(&tr);
    dale_npz_close(z);
    dale_net_free(net);
    dale_task_free(task);
    return drawn;
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
    {
        long pos = ftell(f);
        fputs("<h2>Trial trajectories</h2>\n", f);
        if (!trajectories(f, dir, out, "trials", "this run", no_render) && pos >= 0) {
            fflush(f);
            if (ftruncate(fileno(f), pos) == 0) fseek(f, pos, SEEK_SET);
        }
    }
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

/* The cell of a run: its values of the group keys ("label": sweep.json's
 * label, else config.json's value), joined with ", ". */
static void run_cell(const char *run, const char *group, char *out, size_t cap)
{
    cJSON *cfg = read_json(run, "config.json"), *sj = read_json(run, "sweep.json");
    char keys[512];
    dalei_sfmt(keys, sizeof keys, "%s", group && *group ? group : "label");
    out[0] = '\0';
    char *save = NULL;
    for (char *k = strtok_r(keys, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
        char v[256];
        if (!strcmp(k, "label")) dalei_sfmt(v, sizeof v, "%s", jstr(sj, "label") ? jstr(sj, "label") : "-");
        else jval(cJSON_GetObjectItemCaseSensitive(cfg, k), v, sizeof v);
        size_t l = strlen(out);
        dalei_sfmt(out + l, cap - l, "%s%s", l ? ", " : "", v);
    }
    cJSON_Delete(cfg);
    cJSON_Delete(sj);
}

/* The note in place of a cell's histogram when its W cannot be drawn. */
static void svals_note(FILE *f, const char *cell)
{
    fputs("<p class=\"note\">No singular values for ", f);
    h(f, cell);
    fputs(": ", f);
    h(f, dale_last_error());
    fputs("</p>\n", f);
}

/* Histograms of the singular values of W at initialisation, one per cell
 * (the analysis' "svals": the paper's Figs. 3 D-F, 5 D-F, 6 D-F, 15): the
 * first run of each cell gives the network (its config.json) and the first
 * seed; 20 draws (10 for n > 300), log-y over [0, max sigma], and where
 * inset > 0 a second panel over [0, inset] on a linear axis.  Files
 * svals_K.csv, svals_K_inset.csv, svals_K.{gp,png,svg}, K = 0, 1, ... in
 * the order the cells first appear; at most 24 cells. */
static void svals_figures(FILE *f, const dalecli_runs *rs, const char *out, const char *group, double inset,
                          int no_render)
{
    char cellk[24][512];
    size_t nc = 0;
    fputs("<h2>Singular values of W at initialisation</h2>\n<div class=\"grid3\">\n", f);
    for (size_t i = 0; i < rs->n && nc < 24; i++) {
        const char *rd = dalecli_run_dir(rs, i);
        char cell[512];
        run_cell(rd, group, cell, sizeof cell);
        size_t c = 0;
        while (c < nc && strcmp(cellk[c], cell)) c++;
        if (c < nc) continue;
        dalei_sfmt(cellk[nc++], sizeof cellk[0], "%s", cell);
        dale_run_config rc;
        dale_net_config nc0;
        char path[4400];
        dale_config_defaults(&rc);
        dalei_sfmt(path, sizeof path, "%s/config.json", rd);
        if (dale_config_load_json(&rc, path) || dale_config_resolve(&rc) || dale_config_net(&rc, 1, 1, 0.0, &nc0)) {
            svals_note(f, cell);
            continue;
        }
        size_t k = nc0.hidden > 300 ? 10 : 20;
        dale_spectrum_job job = {&nc0, rc.seed, k};
        dale_spectrum_set set;
        memset(&set, 0, sizeof set);
        if (dale_spectrum_sample(&job, 1, DALE_SPEC_KEEP | DALE_SPEC_NO_EIG, 1, &set)) {
            svals_note(f, cell);
            continue;
        }
        size_t nv = set.inits * set.n, bins = 60;
        double smax = 0, hist[60];
        for (size_t d = 0; d < set.inits; d++) smax = fmax(smax, set.sum[d].sigma_max);
        double hi = smax > 0 ? smax * 1.0000001 : 1.0;
        char name[64], csvn[64], csvi[64], title[700];
        dalei_sfmt(name, sizeof name, "svals_%zu", nc - 1);
        dalei_sfmt(csvn, sizeof csvn, "%s.csv", name);
        dalei_sfmt(csvi, sizeof csvi, "%s_inset.csv", name);
        int okw = 1;
        for (int pass = 0; pass < 2 && okw; pass++) {
            double top = pass ? inset : hi;
            if (pass && !(inset > 0)) break;
            FILE *o;
            dalei_sfmt(path, sizeof path, "%s/%s", out, pass ? csvi : csvn);
            if (dale_histogram(set.svals, nv, 0.0, top, bins, hist, NULL) || !(o = fopen(path, "wb"))) {
                okw = 0;
                break;
            }
            fprintf(o, "lo,hi,density\n");
            for (size_t b = 0; b < bins; b++)
                fprintf(o, "%.10g,%.10g,%.10g\n", top * (double)b / (double)bins, top * (double)(b + 1) / (double)bins,
                        hist[b]);
            okw = fclose(o) == 0;
        }
        dalei_sfmt(title, sizeof title, "%s: %s n = %zu (%zu E / %zu I), %zu draws", cell, dale_model_name(nc0.type),
                   set.n, set.nE, set.nI, set.inits);
        int pl = 0;
        if (okw && !dale_plot_hist_inset(out, name, csvn, inset > 0 ? csvi : NULL, inset, 1, title, "singular value",
                                         !no_render, &pl)) {
            double m1 = 0, m2 = 0; /* NSE and sigma_max, means over the draws */
            for (size_t d = 0; d < set.inits; d++) {
                m1 += set.sum[d].nse / (double)set.inits;
                m2 += set.sum[d].sigma_max / (double)set.inits;
            }
            char cap[900];
            dalei_sfmt(cap, sizeof cap,
                       "Singular values of the recurrent W at initialisation, %s: %zu draws (seeds %llu-%llu) of "
                       "the cell's network, density over [0, %.3g] on a log y axis%s; NSE %.3f, sigma_max %.3g "
                       "(means over the draws)",
                       cell, set.inits, (unsigned long long)rc.seed, (unsigned long long)(rc.seed + set.inits - 1), hi,
                       inset > 0 ? "; inset: the values in the inset's range on a linear axis (paper Figs. 5-6 D-F: "
                                   "[0, 8])"
                                 : "",
                       m1, m2);
            figure(f, out, name, cap);
        }
        dale_spectrum_set_free(&set);
    }
    fputs("</div>\n", f);
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
    /* the paper's numbers beside ours: the analysis' "paper" object (data for the report only) */
    const cJSON *paper = cJSON_GetObjectItemCaseSensitive(an, "paper");
    const cJSON *pcells = cJSON_GetObjectItemCaseSensitive(paper, "cells");
    if (!cJSON_IsObject(pcells) || !pcells->child) pcells = NULL;
    char phead[300];
    dalei_sfmt(phead, sizeof phead, "paper (%s)", jstr(paper, "source") ? jstr(paper, "source") : "the paper");
    int ngk = 1;
    for (const char *q = group ? group : ""; *q; q++) ngk += *q == ',';
    const cJSON *pdec = cJSON_GetObjectItemCaseSensitive(paper, "decimals");
    const int decimals =
        cJSON_IsNumber(pdec) && pdec->valuedouble >= 0 && pdec->valuedouble <= 12 ? (int)pdec->valuedouble : -1;
    if (rr == 0) csv_table_paper(f, cells, "Results per cell", pcells, ngk, jstr(paper, "unit"), decimals, phead);
    else fputs("<p class=\"note\">dale results failed; see results-log.txt.</p>\n", f);
    paper_notes(f, paper, rr == 0 && pcells != NULL);
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
    {
        /* "svals": HI in the analysis: singular-value histograms per cell, inset over [0, HI] (0: none) */
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(an, "svals");
        if (cJSON_IsNumber(sv) && sv->valuedouble >= 0) svals_figures(f, &rs, out, group, sv->valuedouble, no_render);
        else if (cJSON_IsTrue(sv)) svals_figures(f, &rs, out, group, 0.0, no_render);
    }
    {
        /* trial trajectories of cognitive-task runs: the first run of each cell, up to 9 */
        char cellk[9][512];
        size_t nck = 0;
        long pos = ftell(f);
        int any = 0;
        fputs("<h2>Trial trajectories</h2>\n", f);
        for (size_t i = 0; i < rs.n && nck < 9; i++) {
            const char *rd = dalecli_run_dir(&rs, i);
            char cell[512], pre[64];
            run_cell(rd, group, cell, sizeof cell);
            size_t c = 0;
            while (c < nck && strcmp(cellk[c], cell)) c++;
            if (c < nck) continue;
            dalei_sfmt(pre, sizeof pre, "trials_%zu", nck);
            dalei_sfmt(cellk[nck++], sizeof cellk[0], "%s", cell);
            any |= trajectories(f, rd, out, pre, cell, no_render);
        }
        if (!any && pos >= 0) {
            fflush(f);
            if (ftruncate(fileno(f), pos) == 0) fseek(f, pos, SEEK_SET);
        }
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
