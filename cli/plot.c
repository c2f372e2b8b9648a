/* plot.c — `dale plot`: learning curves of runs (mean ± sd over the runs of
 * each group, from their metrics.csv) and scatters of a sweep (one value per
 * run from the results store, with the least-squares line, Pearson r and
 * its p-value).  Each figure is NAME.csv (the data drawn), NAME.gp (the
 * gnuplot script), NAME.png and NAME.svg in --out (dale/report.h).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "dale/report.h"
#include "dale/select.h"
#include "dale/stats.h"
#include "dale/sweep.h"
#include "internal.h"

static void plot_usage(FILE *f)
{
    fputs("usage: dale plot RUN_OR_SWEEP... [--metric M] [options]     learning curves\n"
          "       dale plot SWEEP_DIR --x K --y M [options]             scatter + regression\n\n"
          "Learning curves: every RUN (a directory with metrics.csv and config.json, as\n"
          "written by dale train) and every run of every SWEEP (SWEEP/runs/*, SWEEP/NAME)\n"
          "given; runs are grouped (--group) and each group is drawn as the mean over its\n"
          "runs (seeds) at each evaluation with a band of ± one standard deviation (ddof 1;\n"
          "0 where one run has the value).\n"
          "Scatter: one point per finished run of SWEEP_DIR (from its results.sqlite, built\n"
          "from the run directories when missing), coloured by --group, with the least-\n"
          "squares line over all points, Pearson r and its two-sided p-value in the key.\n\n"
          "  --metric M      curves: a metrics.csv column (default: test_err, or test_loss\n"
          "                  where the runs have no error, e.g. adding; nse_cell0,\n"
          "                  smax_cell0, rho_cell0 give the spectra along training)\n"
          "  --group K,K     config keys or label that split runs into groups (default:\n"
          "                  label when every run has one (sweeps), else the config keys\n"
          "                  whose values differ between the runs, seed aside)\n"
          "  --x K           scatter: x value per run: nse0, smax0, rho0 (cell 0 at init),\n"
          "                  train_loss ... test_err (at the last evaluation), wall_s, or a\n"
          "                  numeric config key (lr, hidden, ...)\n"
          "  --y M           scatter: y value per run, as --x (default test_err)\n"
          "  --selected      scatter: only the runs of the configuration `dale results`\n"
          "                  selects per group (its --corr line) instead of every run\n"
          "  --logx          logarithmic x axis (x <= 0, e.g. update 0, left out)\n"
          "  --logy          logarithmic y axis\n"
          "  --out DIR       where the figure goes (default plots)\n"
          "  --name NAME     file names NAME.csv/.gp/.png/.svg (default curves_M or\n"
          "                  scatter_Y_vs_X; letters, digits, '.', '_', '-')\n"
          "  --title T       the figure's title (default: what is drawn)\n"
          "  --no-render     write the data and the script only, do not run gnuplot\n\n"
          "Re-plot after editing the script: cd DIR && gnuplot NAME.gp (docs/figures.md).\n"
          "Exit status: 0 written; 1 a run cannot be read, gnuplot failed; 2 usage error\n"
          "(unknown option or metric, no runs, a directory that is not a run).\n",
          f);
}

/* ------------------------------------------------------------ runs */

typedef struct prun {
    char dir[4096];
    char label[64];
    cJSON *config;
    char **cols;     /* metrics.csv header */
    size_t ncols;
    double *v;       /* rows x ncols */
    size_t nrows;
} prun;

static void prun_clear(prun *r)
{
    cJSON_Delete(r->config);
    for (size_t i = 0; i < r->ncols; i++) dalei_free(r->cols[i]);
    dalei_free(r->cols);
    dalei_free(r->v);
    memset(r, 0, sizeof *r);
}

void dalecli_runs_free(dalecli_runs *rs)
{
    if (!rs) return;
    for (size_t i = 0; i < rs->n; i++) prun_clear(&((prun *)rs->r)[i]);
    dalei_free(rs->r);
    rs->r = NULL;
    rs->n = rs->cap = 0;
}

const char *dalecli_run_dir(const dalecli_runs *rs, size_t i) { return ((const prun *)rs->r)[i].dir; }

static int is_file(const char *dir, const char *name)
{
    char p[4400];
    struct stat sb;
    dalei_sfmt(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Parse metrics.csv of run r. */
static int read_metrics(prun *r)
{
    char p[4400];
    dalei_sfmt(p, sizeof p, "%s/metrics.csv", r->dir);
    char *text = dalei_read_text(p, (size_t)1 << 30);
    if (!text) { fprintf(stderr, "dale plot: cannot read %s\n", p); return 1; }
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (!line) { fprintf(stderr, "dale plot: %s is empty\n", p); dalei_free(text); return 1; }
    size_t nc = 1;
    for (char *q = line; *q; q++) nc += *q == ',';
    r->cols = dalei_calloc(nc, sizeof *r->cols);
    if (!r->cols) { dalei_free(text); return 1; }
    char *s2 = NULL;
    for (char *tok = strtok_r(line, ",\r", &s2); tok && r->ncols < nc; tok = strtok_r(NULL, ",\r", &s2))
        r->cols[r->ncols++] = dalei_strdup(tok);
    size_t cap = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        if (r->nrows == cap) {
            cap = cap ? cap * 2 : 64;
            double *nv = dalei_realloc(r->v, cap * r->ncols, sizeof(double));
            if (!nv) { dalei_free(text); return 1; }
            r->v = nv;
        }
        double *row = r->v + r->nrows * r->ncols;
        char *q = line;
        for (size_t c = 0; c < r->ncols; c++) {
            char *end;
            row[c] = strtod(q, &end);
            if (end == q) row[c] = NAN;
            q = strchr(end, ',');
            if (!q) { for (c++; c < r->ncols; c++) row[c] = NAN; break; }
            q++;
        }
        r->nrows++;
    }
    dalei_free(text);
    return 0;
}

static int add_run(dalecli_runs *rs, const char *dir)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        prun *nr = dalei_realloc(rs->r, cap, sizeof(prun));
        if (!nr) return 1;
        rs->r = nr;
        rs->cap = cap;
    }
    prun *r = &((prun *)rs->r)[rs->n];
    memset(r, 0, sizeof *r);
    dalei_sfmt(r->dir, sizeof r->dir, "%s", dir);
    char p[4400];
    dalei_sfmt(p, sizeof p, "%s/config.json", dir);
    char *t = dalei_read_text(p, (size_t)1 << 22);
    r->config = t ? cJSON_Parse(t) : NULL;
    dalei_free(t);
    if (!cJSON_IsObject(r->config)) {
        fprintf(stderr, "dale plot: %s is not a run's config (a JSON object)\n", p);
        prun_clear(r);
        return 1;
    }
    dalei_sfmt(p, sizeof p, "%s/sweep.json", dir);
    t = dalei_read_text(p, (size_t)1 << 22);
    cJSON *sj = t ? cJSON_Parse(t) : NULL;
    dalei_free(t);
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(sj, "label");
    if (cJSON_IsString(lab)) dalei_sfmt(r->label, sizeof r->label, "%s", lab->valuestring);
    cJSON_Delete(sj);
    if (read_metrics(r)) { prun_clear(r); return 1; }
    rs->n++;
    return 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The run directories below a sweep directory: SWEEP/runs/ID and SWEEP/NAME
 * (those holding config.json and metrics.csv; runs/ID.stale-N aside), by name. */
static int add_sweep(dalecli_runs *rs, const char *dir, size_t *added)
{
    static const char *const sub[2] = {"runs", ""};
    *added = 0;
    for (int s = 0; s < 2; s++) {
        char d[4200];
        if (sub[s][0]) dalei_sfmt(d, sizeof d, "%s/%s", dir, sub[s]);
        else dalei_sfmt(d, sizeof d, "%s", dir);
        DIR *dp = opendir(d);
        if (!dp) continue;
        char **names = NULL;
        size_t nn = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(dp))) {
            if (e->d_name[0] == '.' || strstr(e->d_name, ".stale-")) continue;
            char rd[4400];
            dalei_sfmt(rd, sizeof rd, "%s/%s", d, e->d_name);
            if (!is_file(rd, "config.json") || !is_file(rd, "metrics.csv")) continue;
            if (nn == cap) {
                cap = cap ? cap * 2 : 64;
                char **nw = dalei_realloc(names, cap, sizeof *names);
                if (!nw) break;
                names = nw;
            }
            names[nn++] = dalei_strdup(rd);
        }
        closedir(dp);
        if (nn) qsort(names, nn, sizeof *names, cmp_name);
        int bad = 0;
        for (size_t i = 0; i < nn; i++) {
            if (!bad && names[i] && add_run(rs, names[i])) bad = 1;
            else if (!bad) (*added)++;
            dalei_free(names[i]);
        }
        dalei_free(names);
        if (bad) return 1;
    }
    return 0;
}

size_t dalecli_runs_keep(dalecli_runs *rs, char (*ids)[17], size_t nids)
{
    prun *r = rs->r;
    size_t k = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const char *b = strrchr(r[i].dir, '/');
        b = b ? b + 1 : r[i].dir;
        int keep = 0;
        for (size_t j = 0; j < nids && !keep; j++) keep = !strcmp(ids[j], b);
        if (keep) {
            if (k != i) {
                prun tmp = r[k];
                r[k] = r[i];
                r[i] = tmp;
            }
            k++;
        }
    }
    for (size_t i = k; i < rs->n; i++) prun_clear(&r[i]);
    rs->n = k;
    return k;
}

int dalecli_runs_collect(char *const *paths, size_t npaths, dalecli_runs *rs, const char *who)
{
    memset(rs, 0, sizeof *rs);
    for (size_t i = 0; i < npaths; i++) {
        const char *p = paths[i];
        if (!is_dir(p)) {
            fprintf(stderr, "dale %s: %s: no such directory\n", who, p);
            dalecli_runs_free(rs);
            return 2;
        }
        if (is_file(p, "metrics.csv") && is_file(p, "config.json")) {
            if (add_run(rs, p)) { dalecli_runs_free(rs); return 1; }
            continue;
        }
        size_t added = 0;
        if (add_sweep(rs, p, &added)) { dalecli_runs_free(rs); return 1; }
        char rd[4200];
        dalei_sfmt(rd, sizeof rd, "%s/runs", p);
        if (!added && is_dir(rd)) {
            fprintf(stderr, "dale %s: no run of the sweep %s has metrics.csv yet (failed before its first "
                    "evaluation, or not started: see dale results %s)\n", who, p, p);
            dalecli_runs_free(rs);
            return 1;
        }
        if (!added) {
            fprintf(stderr, "dale %s: %s is not a run directory (no metrics.csv and config.json) nor a sweep "
                    "directory (no runs/ID or NAME subdirectories holding them)\n", who, p);
            dalecli_runs_free(rs);
            return 2;
        }
    }
    if (!rs->n) {
        fprintf(stderr, "dale %s: no runs given\n", who);
        return 2;
    }
    return 0;
}

/* An axis label for a metric or key: what it is, in words. */
const char *dalecli_axis_label(const char *k, char *buf, size_t cap)
{
    static const char *const map[][2] = {
        {"update", "parameter updates"},
        {"train_loss", "training loss"}, {"train_err", "training error (%)"},
        {"val_loss", "validation loss"}, {"val_err", "validation error (%)"},
        {"test_loss", "test loss"}, {"test_err", "test error (%)"},
        {"nse0", "NSE of W at initialisation"}, {"smax0", "σ_max of W at initialisation"},
        {"rho0", "spectral radius ρ of W at initialisation"},
        {"nse_cell0", "NSE of W (normalised SVD entropy)"}, {"smax_cell0", "σ_max of W (largest singular value)"},
        {"rho_cell0", "ρ of W (spectral radius)"}, {"wall_s", "wall time (s)"},
        {"lr", "learning rate η"}, {"hidden", "hidden units"}, {"ei_ratio", "E/I ratio (excitatory per inhibitory)"},
        {"inhib", "inhibitory fraction"}, {"rho", "initial spectral radius ρ"}, {"clip", "gradient clipping threshold"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(k, map[i][0])) {
            dalei_sfmt(buf, cap, "%s (%s)", map[i][1], k);
            return buf;
        }
    dalei_sfmt(buf, cap, "%s", k);
    return buf;
}

/* ------------------------------------------------------------ groups */

/* Keys that never split runs into groups by default: the replicate seed and
 * where and by what a run ran. */
static int ignored_key(const char *k)
{
    static const char *const ig[] = {"seed", "out", "data", "dale_version", "dale_commit", "threads",
                                     "max_memory_gb", NULL};
    for (int i = 0; ig[i]; i++)
        if (!strcmp(k, ig[i])) return 1;
    return 0;
}

/* The value of key k of run r as text ("label": its sweep label). */
static void key_value(const prun *r, const char *k, char *out, size_t cap)
{
    if (!strcmp(k, "label")) { dalei_sfmt(out, cap, "%s", r->label[0] ? r->label : "-"); return; }
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(r->config, k);
    if (cJSON_IsString(it)) dalei_sfmt(out, cap, "%s", it->valuestring);
    else if (cJSON_IsNumber(it)) dalei_sfmt(out, cap, "%.6g", it->valuedouble);
    else if (cJSON_IsBool(it)) dalei_sfmt(out, cap, "%s", cJSON_IsTrue(it) ? "true" : "false");
    else dalei_sfmt(out, cap, "-");
}

/* The default group keys: label when every run has one, else the config
 * keys whose values differ (seed and the keys above aside), comma-joined;
 * "" when nothing differs. */
static void default_group(const dalecli_runs *rs, char *out, size_t cap)
{
    const prun *r = rs->r;
    size_t lab = 0;
    for (size_t i = 0; i < rs->n; i++) lab += r[i].label[0] != '\0';
    out[0] = '\0';
    if (lab == rs->n) { dalei_sfmt(out, cap, "label"); return; }
    for (const cJSON *it = r[0].config->child; it; it = it->next) {
        if (!it->string || ignored_key(it->string)) continue;
        char a[256], b[256];
        key_value(&r[0], it->string, a, sizeof a);
        for (size_t i = 1; i < rs->n; i++) {
            key_value(&r[i], it->string, b, sizeof b);
            if (strcmp(a, b)) {
                size_t l = strlen(out);
                dalei_sfmt(out + l, cap - l, "%s%s", l ? "," : "", it->string);
                break;
            }
        }
    }
}

/* Numeric-aware comparison of two values. */
static int cmp_value(const char *a, const char *b)
{
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea != a && !*ea && eb != b && !*eb && x != y) return x < y ? -1 : 1;
    return strcmp(a, b);
}

typedef struct pgroup {
    char name[512];
    char vals[DALE_SELECT_MAXK][128];
    size_t *runs, n;
} pgroup;

static int ngk_sort; /* keys compared by cmp_group (qsort takes no context) */
static int cmp_group(const void *a, const void *b)
{
    const pgroup *x = a, *y = b;
    for (int k = 0; k < ngk_sort; k++) {
        int c = cmp_value(x->vals[k], y->vals[k]);
        if (c) return c;
    }
    return 0;
}

/* Split rs into groups by the comma-separated keys (NULL/"": one group). */
static int make_groups(const dalecli_runs *rs, const char *keys, pgroup **out, size_t *ng)
{
    char kb[1024], *kv[DALE_SELECT_MAXK];
    int nk = 0;
    dalei_sfmt(kb, sizeof kb, "%s", keys ? keys : "");
    char *save = NULL;
    for (char *t = strtok_r(kb, ",", &save); t && nk < DALE_SELECT_MAXK; t = strtok_r(NULL, ",", &save)) kv[nk++] = t;
    pgroup *g = dalei_calloc(rs->n, sizeof *g);
    if (!g) return 1;
    size_t n = 0;
    const prun *r = rs->r;
    for (size_t i = 0; i < rs->n; i++) {
        char vals[DALE_SELECT_MAXK][128];
        for (int k = 0; k < nk; k++) key_value(&r[i], kv[k], vals[k], sizeof vals[k]);
        size_t j = 0;
        for (; j < n; j++) {
            int same = 1;
            for (int k = 0; k < nk && same; k++) same = !strcmp(g[j].vals[k], vals[k]);
            if (same) break;
        }
        if (j == n) {
            memcpy(g[n].vals, vals, sizeof vals);
            g[n].runs = dalei_calloc(rs->n, sizeof(size_t));
            if (!g[n].runs) {
                for (size_t q = 0; q < n; q++) dalei_free(g[q].runs);
                dalei_free(g);
                return 1;
            }
            char *nm = g[n].name;
            nm[0] = '\0';
            for (int k = 0; k < nk; k++) {
                size_t l = strlen(nm);
                if (!strcmp(kv[k], "label")) dalei_sfmt(nm + l, sizeof g[n].name - l, "%s%s", k ? ", " : "", vals[k]);
                else dalei_sfmt(nm + l, sizeof g[n].name - l, "%s%s = %s", k ? ", " : "", kv[k], vals[k]);
            }
            if (!nk) {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(r[i].config, "model");
                dalei_sfmt(nm, sizeof g[n].name, "%s", cJSON_IsString(m) ? m->valuestring : "runs");
            }
            n++;
        }
        g[j].runs[g[j].n++] = i;
    }
    ngk_sort = nk;
    qsort(g, n, sizeof *g, cmp_group);
    *out = g;
    *ng = n;
    return 0;
}

static void groups_free(pgroup *g, size_t n)
{
    for (size_t i = 0; g && i < n; i++) dalei_free(g[i].runs);
    dalei_free(g);
}

static long col_index(const prun *r, const char *name)
{
    for (size_t c = 0; c < r->ncols; c++)
        if (!strcmp(r->cols[c], name)) return (long)c;
    return -1;
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void csv_put(FILE *f, const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) { fputs(v, f); return; }
    fputc('"', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
    }
    fputc('"', f);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int make_out_dir(const char *dir)
{
    char p[4096];
    dalei_sfmt(p, sizeof p, "%s", dir);
    for (char *q = p + 1; *q; q++)
        if (*q == '/') {
            *q = '\0';
            mkdir(p, 0777);
            *q = '/';
        }
    if (mkdir(p, 0777) != 0 && !is_dir(p)) {
        fprintf(stderr, "dale plot: cannot create %s\n", dir);
        return 1;
    }
    return 0;
}

static int valid_name(const char *s)
{
    if (!*s || *s == '.' || strlen(s) > 200) return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static void say_written(const dalecli_plot_opts *o, const char *name, int plotted)
{
    if (o->quiet) return;
    printf("wrote %s/%s.csv and %s/%s.gp", o->out, name, o->out, name);
    if (plotted) printf(", %s/%s.png, %s/%s.svg\n", o->out, name, o->out, name);
    else printf(" (%s)\n", o->no_render ? "--no-render" : "gnuplot not installed: no images");
}

int dalecli_plot_curves(const dalecli_runs *rs, const dalecli_plot_opts *o, char *name_out, size_t cap)
{
    const prun *r = rs->r;
    const char *metric = o->metric;
    /* default metric: the first with a value somewhere */
    static const char *const defaults[] = {"test_err", "test_loss", "val_err", "val_loss", "train_loss", NULL};
    for (int d = 0; !metric && defaults[d]; d++)
        for (size_t i = 0; i < rs->n && !metric; i++) {
            long c = col_index(&r[i], defaults[d]);
            for (size_t q = 0; c >= 0 && q < r[i].nrows && !metric; q++)
                if (isfinite(r[i].v[q * r[i].ncols + (size_t)c])) metric = defaults[d];
        }
    if (!metric) metric = "test_err";
    int any_col = 0, any_val = 0;
    for (size_t i = 0; i < rs->n; i++) {
        long c = col_index(&r[i], metric);
        if (c < 0) continue;
        any_col = 1;
        for (size_t q = 0; q < r[i].nrows && !any_val; q++) any_val = isfinite(r[i].v[q * r[i].ncols + (size_t)c]);
    }
    if ((!any_col || !any_val) && o->skip_missing) return 3;
    if (!any_col || !any_val) {
        char avail[1024] = "";
        for (size_t c = 0; c < r[0].ncols; c++) {
            if (!strcmp(r[0].cols[c], "update") || !strcmp(r[0].cols[c], "epoch")) continue;
            int has = 0;
            for (size_t q = 0; q < r[0].nrows && !has; q++) has = isfinite(r[0].v[q * r[0].ncols + c]);
            size_t l = strlen(avail);
            dalei_sfmt(avail + l, sizeof avail - l, "%s%s%s", l ? ", " : "", r[0].cols[c], has ? "" : " (empty)");
        }
        if (!any_col)
            fprintf(stderr, "dale plot: --metric: no column '%s' in %s/metrics.csv; the columns are: %s\n", metric,
                    r[0].dir, avail);
        else
            fprintf(stderr, "dale plot: --metric %s has no value in any run (a task without that split or "
                    "error); the columns are: %s\n", metric, avail);
        return 2;
    }
    char gbuf[1024];
    const char *gk = o->group;
    if (!gk) {
        default_group(rs, gbuf, sizeof gbuf);
        gk = gbuf;
    }
    pgroup *g = NULL;
    size_t ng = 0;
    if (make_groups(rs, gk, &g, &ng)) { fprintf(stderr, "dale plot: out of memory\n"); return 1; }
    int unset = 0;
    for (int k = 0; k < ngk_sort && ng == 1 && o->group; k++) unset |= !strcmp(g[0].vals[k], "-");
    if (unset)
        fprintf(stderr, "dale plot: warning: --group %s: a key is set in no run (not a config key, or label "
                "outside a sweep): it splits nothing\n", o->group);
    char name[256];
    if (o->name) dalei_sfmt(name, sizeof name, "%s", o->name);
    else dalei_sfmt(name, sizeof name, "curves_%s", metric);
    for (char *p = name; *p; p++)
        if (!valid_name((char[]){*p, 0})) *p = '_';
    if (name_out) dalei_sfmt(name_out, cap, "%s", name);
    int rc = 1;
    if (make_out_dir(o->out)) { groups_free(g, ng); return 1; }
    char path[4400], csv[300];
    dalei_sfmt(csv, sizeof csv, "%s.csv", name);
    dalei_sfmt(path, sizeof path, "%s/%s", o->out, csv);
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "dale plot: cannot write %s\n", path); groups_free(g, ng); return 1; }
    fprintf(f, "group_index,update,mean,sd,n,group\n");
    double *xs = NULL, *vals = NULL;
    size_t nxs = 0;
    for (size_t i = 0; i < rs->n; i++) nxs += r[i].nrows;
    xs = dalei_alloc(nxs ? nxs : 1, sizeof(double));
    vals = dalei_alloc(rs->n ? rs->n : 1, sizeof(double));
    if (!xs || !vals) goto done;
    for (size_t gi = 0; gi < ng; gi++) {
        size_t nx = 0;
        for (size_t k = 0; k < g[gi].n; k++) {
            const prun *ru = &r[g[gi].runs[k]];
            long cu = col_index(ru, "update");
            for (size_t q = 0; cu >= 0 && q < ru->nrows; q++) xs[nx++] = ru->v[q * ru->ncols + (size_t)cu];
        }
        qsort(xs, nx, sizeof *xs, cmp_double);
        for (size_t a = 0; a < nx; a++) {
            if (a && xs[a] == xs[a - 1]) continue;
            size_t m = 0;
            for (size_t k = 0; k < g[gi].n; k++) {
                const prun *ru = &r[g[gi].runs[k]];
                long cu = col_index(ru, "update"), cm = col_index(ru, metric);
                if (cu < 0 || cm < 0) continue;
                for (size_t q = 0; q < ru->nrows; q++)
                    if (ru->v[q * ru->ncols + (size_t)cu] == xs[a]) {
                        double v = ru->v[q * ru->ncols + (size_t)cm];
                        if (isfinite(v)) vals[m++] = v;
                        break;
                    }
            }
            if (!m) continue;
            double mean = 0, ss = 0;
            for (size_t k = 0; k < m; k++) mean += vals[k];
            mean /= (double)m;
            for (size_t k = 0; k < m; k++) ss += (vals[k] - mean) * (vals[k] - mean);
            double sd = m > 1 ? sqrt(ss / (double)(m - 1)) : 0.0;
            fprintf(f, "%zu,%.17g,%.17g,%.17g,%zu,", gi, xs[a], mean, sd, m);
            csv_put(f, g[gi].name);
            fputc('\n', f);
        }
    }
    if (fclose(f)) { f = NULL; fprintf(stderr, "dale plot: cannot write %s\n", path); goto done; }
    f = NULL;
    {
        const char **gn = dalei_alloc(ng, sizeof *gn);
        if (!gn) goto done;
        for (size_t gi = 0; gi < ng; gi++) gn[gi] = g[gi].name;
        char title[600];
        if (o->title) dalei_sfmt(title, sizeof title, "%s", o->title);
        else dalei_sfmt(title, sizeof title, "%s: mean ± sd over runs (%zu run%s, %zu group%s)", metric, rs->n,
                        rs->n == 1 ? "" : "s", ng, ng == 1 ? "" : "s");
        char yl[200];
        const dale_plot_labels lab = {.title = title, .xlabel = "parameter updates", .ylabel =
                                      dalecli_axis_label(metric, yl, sizeof yl), .logx = o->logx, .logy = o->logy};
        int plotted = 0;
        dale_status st = dale_plot_curves(o->out, name, csv, gn, ng, &lab, !o->no_render, &plotted);
        dalei_free(gn);
        if (st) { fprintf(stderr, "dale plot: %s\n", dale_last_error()); goto done; }
        say_written(o, name, plotted);
    }
    rc = 0;
done:
    if (f) fclose(f);
    dalei_free(xs);
    dalei_free(vals);
    groups_free(g, ng);
    return rc;
}

/* ------------------------------------------------------------ scatter */

/* Does a selected row have a value of name (metric, nse0..., numeric key)? */
static double row_value(const dale_select_row *w, const char *name)
{
    return dale_select_row_metric(w, name, dale_metric_index(name));
}

int dalecli_plot_scatter(const char *dir, const dalecli_plot_opts *o, dale_linreg *fit_out, size_t *npoints,
                         char *name_out, size_t cap)
{
    const char *xk = o->x, *yk = o->y ? o->y : "test_err";
    if (fit_out) fit_out->slope = NAN;
    if (!is_dir(dir)) { fprintf(stderr, "dale plot: %s: no such directory\n", dir); return 2; }
    char path[4400];
    dalei_sfmt(path, sizeof path, "%s/results.sqlite", dir);
    struct stat sb;
    int created = stat(path, &sb) != 0;
    dale_store *st = NULL;
    dale_store_row *rows = NULL;
    size_t n = 0;
    dale_selection *sel = NULL;
    int rc = 1;
    double *x = NULL, *y = NULL;
    size_t *gi = NULL;
    FILE *f = NULL;
    if (created) {
        /* do not leave a store in a directory that has no runs */
        dalecli_runs probe;
        char *pv[1] = {(char *)dir};
        int prc = dalecli_runs_collect(pv, 1, &probe, "plot");
        dalecli_runs_free(&probe);
        if (prc) return prc;
    }
    if (dale_store_open(dir, &st)) { fprintf(stderr, "dale plot: %s\n", dale_last_error()); goto done; }
    if (created) {
        size_t cnt;
        if (dale_store_rebuild(st, dir, &cnt)) { fprintf(stderr, "dale plot: %s\n", dale_last_error()); goto done; }
    }
    if (dale_store_load(st, -1, &rows, &n)) { fprintf(stderr, "dale plot: %s\n", dale_last_error()); goto done; }
    const dale_select_options so = {.select = o->select, .group = o->group ? o->group : "label", .hp = o->hp};
    if (dale_select(rows, n, &so, &sel)) { fprintf(stderr, "dale plot: %s\n", dale_last_error()); goto done; }
    if (!sel->nrows) {
        fprintf(stderr, "dale plot: %s: no finished run (status ok or diverged)\n", dir);
        rc = 2;
        goto done;
    }
    /* each value must exist somewhere */
    const char *ks[2] = {xk, yk};
    for (int k = 0; k < 2; k++) {
        int has = 0;
        for (size_t i = 0; i < sel->nrows && !has; i++) has = isfinite(row_value(&sel->rows[i], ks[k]));
        if (!has) {
            fprintf(stderr, "dale plot: --%s %s has no value in any run of %s; available: train_loss, train_err, "
                    "val_loss, val_err, test_loss, test_err (at the last evaluation; those the task has), nse0, "
                    "smax0, rho0 (cell 0 at init), wall_s, or a numeric config key (lr, clip, hidden, ...)\n",
                    k ? "y" : "x", ks[k], dir);
            rc = 2;
            goto done;
        }
    }
    size_t nw = sel->nrows;
    x = dalei_alloc(nw, sizeof *x);
    y = dalei_alloc(nw, sizeof *y);
    gi = dalei_alloc(nw, sizeof *gi);
    if (!x || !y || !gi) goto done;
    size_t m = 0;
    dalei_sfmt(path, sizeof path, "%s", o->out);
    if (make_out_dir(o->out)) goto done;
    char name[256], csv[300];
    if (o->name) dalei_sfmt(name, sizeof name, "%s", o->name);
    else dalei_sfmt(name, sizeof name, "scatter_%s_vs_%s", yk, xk);
    for (char *p = name; *p; p++)
        if (!valid_name((char[]){*p, 0})) *p = '_';
    if (name_out) dalei_sfmt(name_out, cap, "%s", name);
    dalei_sfmt(csv, sizeof csv, "%s.csv", name);
    dalei_sfmt(path, sizeof path, "%s/%s", o->out, csv);
    f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "dale plot: cannot write %s\n", path); goto done; }
    fprintf(f, "group_index,%s,%s,group,run\n", xk, yk);
    const char **gn = dalei_calloc(sel->ncells ? sel->ncells : 1, sizeof *gn);
    char(*gnames)[256] = dalei_calloc(sel->ncells ? sel->ncells : 1, sizeof *gnames);
    if (!gn || !gnames) { dalei_free(gn); dalei_free(gnames); goto done; }
    for (size_t c = 0; c < sel->ncells; c++) {
        const dale_select_cell *ce = &sel->cells[c];
        const dale_select_row *s0 = &sel->rows[ce->idx[0]];
        for (int k = 0; k < sel->ngroup; k++) {
            size_t l = strlen(gnames[c]);
            if (!strcmp(sel->gk[k], "label")) dalei_sfmt(gnames[c] + l, 256 - l, "%s%s", k ? ", " : "", s0->g[k]);
            else dalei_sfmt(gnames[c] + l, 256 - l, "%s%s = %s", k ? ", " : "", sel->gk[k], s0->g[k]);
        }
        gn[c] = gnames[c];
        size_t cnt = o->selected ? ce->ns : ce->n;
        for (size_t q = 0; q < cnt; q++) {
            const dale_select_row *w = &sel->rows[o->selected ? ce->sel[q] : ce->idx[q]];
            double a = row_value(w, xk), b = row_value(w, yk);
            if (!isfinite(a) || !isfinite(b)) continue;
            x[m] = a;
            y[m] = b;
            m++;
            fprintf(f, "%zu,%.17g,%.17g,", c, a, b);
            csv_put(f, gnames[c]);
            fprintf(f, ",%s\n", w->r->id);
        }
    }
    int bad = fclose(f) != 0;
    f = NULL;
    if (bad) { fprintf(stderr, "dale plot: cannot write %s\n", path); dalei_free(gn); dalei_free(gnames); goto done; }
    dale_linreg lr = {NAN, NAN, NAN, NAN, NAN, NAN};
    if (m >= 3 && dale_linregress(x, y, m, &lr) == DALE_OK) {
        double r2, p2;
        if (dale_pearson(x, y, m, &r2, &p2) == DALE_OK) { lr.r = r2; lr.p = p2; }
    } else {
        lr.slope = NAN;
        fprintf(stderr, "dale plot: no regression line over %zu point%s (%s)\n", m, m == 1 ? "" : "s",
                m < 3 ? "it needs 3" : dale_last_error());
    }
    if (fit_out) *fit_out = lr;
    if (npoints) *npoints = m;
    /* the statistics beside the data */
    dalei_sfmt(path, sizeof path, "%s/%s_stats.txt", o->out, name);
    FILE *sf = fopen(path, "wb");
    if (sf) {
        fprintf(sf, "x = %s\ny = %s\nn = %zu\nslope = %.17g\nintercept = %.17g\npearson_r = %.17g\np = %.17g\n"
                    "stderr_slope = %.17g\nstderr_intercept = %.17g\n",
                xk, yk, m, lr.slope, lr.intercept, lr.r, lr.p, lr.stderr_slope, lr.stderr_intercept);
        fclose(sf);
    }
    char title[600];
    if (o->title) dalei_sfmt(title, sizeof title, "%s", o->title);
    else dalei_sfmt(title, sizeof title, "%s vs %s (%zu runs%s)", yk, xk, m, o->selected ? ", selected" : "");
    char xl[200], yl[200];
    const dale_plot_labels lab = {.title = title, .xlabel = dalecli_axis_label(xk, xl, sizeof xl),
                                  .ylabel = dalecli_axis_label(yk, yl, sizeof yl), .logx = o->logx, .logy = o->logy,
                                  .key_below = 1};
    int plotted = 0;
    dale_plot_fit pf = {lr.slope, lr.intercept, lr.r, lr.p};
    dale_status pst = dale_plot_scatter(o->out, name, csv, gn, sel->ncells, &pf, &lab, !o->no_render, &plotted);
    dalei_free(gn);
    dalei_free(gnames);
    if (pst) { fprintf(stderr, "dale plot: %s\n", dale_last_error()); goto done; }
    say_written(o, name, plotted);
    if (!o->quiet && isfinite(lr.slope))
        printf("%s vs %s over %zu runs: pearson r = %.4f (p = %.3g), slope = %.5g, intercept = %.5g\n", yk, xk, m,
               lr.r, lr.p, lr.slope, lr.intercept);
    rc = 0;
done:
    if (f) fclose(f);
    dalei_free(x);
    dalei_free(y);
    dalei_free(gi);
    dale_selection_free(sel);
    dale_store_rows_free(rows, n);
    dale_store_close(st);
    return rc;
}

/* ------------------------------------------------------------ command */

int cmd_plot(int argc, char **argv)
{
    dalecli_plot_opts o;
    memset(&o, 0, sizeof o);
    o.out = "plots";
    char **pos = dalei_calloc((size_t)argc + 1, sizeof *pos);
    if (!pos) return 1;
    size_t npos = 0;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { plot_usage(stdout); rc = 0; goto out; }
        else if (!strcmp(a, "--metric") && has) o.metric = argv[++i];
        else if (!strcmp(a, "--group") && has) o.group = argv[++i];
        else if (!strcmp(a, "--x") && has) o.x = argv[++i];
        else if (!strcmp(a, "--y") && has) o.y = argv[++i];
        else if (!strcmp(a, "--out") && has) o.out = argv[++i];
        else if (!strcmp(a, "--name") && has) o.name = argv[++i];
        else if (!strcmp(a, "--title") && has) o.title = argv[++i];
        else if (!strcmp(a, "--logx")) o.logx = 1;
        else if (!strcmp(a, "--logy")) o.logy = 1;
        else if (!strcmp(a, "--selected")) o.selected = 1;
        else if (!strcmp(a, "--no-render")) o.no_render = 1;
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "dale plot: unknown option or missing value '%s' (see dale plot --help)\n", a);
            goto out;
        } else pos[npos++] = argv[i];
    }
    if (!npos) { fprintf(stderr, "dale plot: no runs given\n"); plot_usage(stderr); goto out; }
    if (o.name && !valid_name(o.name)) {
        fprintf(stderr, "dale plot: --name '%s': use letters, digits, '.', '_', '-' (it names files)\n", o.name);
        goto out;
    }
    if (!*o.out) { fprintf(stderr, "dale plot: --out is empty\n"); goto out; }
    if (o.x || o.y) {
        if (!o.x) { fprintf(stderr, "dale plot: --y needs --x (scatter of a sweep)\n"); goto out; }
        if (o.metric) { fprintf(stderr, "dale plot: --metric draws curves; a scatter takes --x and --y\n"); goto out; }
        if (npos != 1) { fprintf(stderr, "dale plot: a scatter takes one sweep directory, got %zu\n", npos); goto out; }
        rc = dalecli_plot_scatter(pos[0], &o, NULL, NULL, NULL, 0);
        goto out;
    }
    if (o.selected) { fprintf(stderr, "dale plot: --selected is for a scatter (--x)\n"); goto out; }
    dalecli_runs rs;
    rc = dalecli_runs_collect(pos, npos, &rs, "plot");
    if (rc) goto out;
    rc = dalecli_plot_curves(&rs, &o, NULL, 0);
    dalecli_runs_free(&rs);
out:
    dalei_free(pos);
    return rc;
}
