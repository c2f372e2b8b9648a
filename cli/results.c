/* results.c — `dale results DIR`: per-cell tables (mean ± sd over seeds),
 * hyper-parameter selection on validation data, statistics.
 *
 * Cells are the distinct values of the --group keys (config keys or
 * "label").  Inside a cell, runs with equal --hp values (default lr, clip)
 * form one configuration; the configuration with the lowest mean --select
 * metric over its runs (seeds) at --at wins (a run without a finite value
 * counts as +inf, so diverged settings lose; equal mean errors are broken
 * by the mean loss of the same split).  When no run of the cell has
 * the validation metric (no validation split: seqMNIST's reference split)
 * the test metric is used for selection and the output says so, as the
 * reference does.  The reported metric is the test counterpart of --select
 * (val_err → test_err), for the selected configuration's runs.
 * Defaults come from the sweep's spec.json "analysis" object; flags win.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "dale/spectrum.h"
#include "dale/stats.h"
#include "dale/sweep.h"

#define MAXK 8
static const char *const metric_names[6] = {"train_loss", "train_err", "val_loss", "val_err", "test_loss", "test_err"};

typedef struct rrow {
    dale_store_row *r;
    cJSON *cfg;
    char g[MAXK][64]; /* group values */
    char h[MAXK][64]; /* hp values */
} rrow;

typedef struct cell {
    size_t *idx, n;   /* rows of the cell */
    size_t *sel, ns;  /* rows of the selected configuration */
    double sel_mean;
    int used_test;    /* selection fell back to the test metric */
    int report;       /* metric index reported */
    double mean, sd, nse;
    size_t ndiv;      /* selected runs that diverged */
} cell;

static int split_keys(const char *s, char keys[MAXK][64])
{
    int n = 0;
    while (s && *s && n < MAXK) {
        const char *c = strchr(s, ',');
        size_t l = c ? (size_t)(c - s) : strlen(s);
        if (l > 63) l = 63;
        memcpy(keys[n], s, l);
        keys[n][l] = '\0';
        if (l) n++;
        s = c ? c + 1 : NULL;
    }
    return n;
}

static void key_value(const rrow *w, const char *k, char *out, size_t cap)
{
    if (!strcmp(k, "label")) { snprintf(out, cap, "%s", w->r->label); return; }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(w->cfg, k);
    if (cJSON_IsString(v)) snprintf(out, cap, "%s", v->valuestring);
    else if (cJSON_IsNumber(v)) snprintf(out, cap, "%.6g", v->valuedouble);
    else snprintf(out, cap, "-");
}

static int metric_index(const char *s)
{
    for (int i = 0; i < 6; i++)
        if (!strcmp(s, metric_names[i])) return i;
    return -1;
}

static double row_metric(const rrow *w, const char *name, int mi)
{
    if (mi >= 0) return w->r->m[mi];
    if (!strcmp(name, "nse0")) return w->r->nse0;
    if (!strcmp(name, "smax0")) return w->r->smax0;
    if (!strcmp(name, "rho0")) return w->r->rho0;
    if (!strcmp(name, "wall_s")) return w->r->wall_s;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(w->cfg, name);
    return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

static int cmp_val(const char *a, const char *b)
{
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea != a && !*ea && eb != b && !*eb) return x < y ? -1 : x > y;
    return strcmp(a, b);
}

static int ngroup;
static rrow *g_rows;
static int cmp_cells(const void *pa, const void *pb)
{
    const cell *a = pa, *b = pb;
    for (int k = 0; k < ngroup; k++) {
        int c = cmp_val(g_rows[a->idx[0]].g[k], g_rows[b->idx[0]].g[k]);
        if (c) return c;
    }
    return 0;
}

/* Mean and sd (ddof 1) of the finite values of x; x is scratch (the finite
 * values are moved to its front). */
static void finite_mean_sd(double *x, size_t n, double *m, double *sd)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) x[k++] = x[i];
    dale_mean_sd(x, k, 1, m, sd);
}

static void results_usage(FILE *f)
{
    fputs("usage: dale results SWEEP_DIR [options]\n\n"
          "Tables of a sweep from SWEEP_DIR/results.sqlite: per cell (--group) the selected\n"
          "hyper-parameters and the reported metric, mean ± sd (ddof 1) over seeds.\n"
          "Defaults come from the sweep spec's \"analysis\" object, then these flags:\n\n"
          "  --select M      selection metric: val_err | val_loss | test_err | test_loss |\n"
          "                  train_err | train_loss (default val_err; falls back to the test\n"
          "                  metric without a validation split, and to the loss where the\n"
          "                  task has no error, e.g. adding)\n"
          "  --report M      reported metric (default: the test counterpart of --select;\n"
          "                  also nse0, smax0, rho0 = cell 0 at init, wall_s)\n"
          "  --at last|U     read metrics at the last evaluation or at update <= U (default last)\n"
          "  --group K,K     cell keys: config keys or label (default label)\n"
          "  --hp K,K        hyper-parameters selected per cell (default lr,clip)\n"
          "  --test T,T      welch,mannwhitney: each cell against the --vs cell (default none)\n"
          "  --vs K=V        the reference cell for --test (default: the first cell)\n"
          "  --corr X        Pearson, Spearman and linear regression of X (e.g. nse0)\n"
          "                  against the reported metric over the selected runs\n"
          "  --where K=V,..  only runs whose config key (or label) K has value V\n"
          "  --csv | --json  machine-readable cells instead of the table\n"
          "  --rebuild       rebuild the store from the run directories first\n",
          f);
}

int cmd_results(int argc, char **argv)
{
    const char *dir = NULL, *select = NULL, *report = NULL, *at_s = NULL, *group = NULL, *hp = NULL, *test = NULL,
               *vs = NULL, *corr = NULL, *where = NULL;
    int csv = 0, json = 0, rebuild = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { results_usage(stdout); return 0; }
        else if (!strcmp(a, "--select") && has) select = argv[++i];
        else if (!strcmp(a, "--report") && has) report = argv[++i];
        else if (!strcmp(a, "--at") && has) at_s = argv[++i];
        else if (!strcmp(a, "--group") && has) group = argv[++i];
        else if (!strcmp(a, "--hp") && has) hp = argv[++i];
        else if (!strcmp(a, "--test") && has) test = argv[++i];
        else if (!strcmp(a, "--vs") && has) vs = argv[++i];
        else if (!strcmp(a, "--corr") && has) corr = argv[++i];
        else if (!strcmp(a, "--where") && has) where = argv[++i];
        else if (!strcmp(a, "--csv")) csv = 1;
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--rebuild")) rebuild = 1;
        else if (a[0] == '-') {
            fprintf(stderr, "dale results: unknown option or missing value '%s' (see dale results --help)\n", a);
            return 2;
        } else if (!dir) dir = a;
        else { fprintf(stderr, "dale results: unexpected argument '%s'\n", a); return 2; }
    }
    if (!dir) { results_usage(stderr); return 2; }
    /* analysis defaults from the spec */
    char path[4200];
    snprintf(path, sizeof path, "%s/spec.json", dir);
    cJSON *spec = NULL;
    FILE *sf = fopen(path, "rb");
    if (sf) {
        static char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf - 1, sf);
        buf[n] = '\0';
        fclose(sf);
        spec = cJSON_Parse(buf);
    }
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(spec, "analysis");
#define DEF(var, key)                                                   \
    if (!var) {                                                         \
        const cJSON *v_ = cJSON_GetObjectItemCaseSensitive(an, key);    \
        if (cJSON_IsString(v_)) var = v_->valuestring;                  \
    }
    DEF(select, "select") DEF(report, "report") DEF(at_s, "at") DEF(group, "group") DEF(hp, "hp")
    DEF(test, "test") DEF(vs, "vs") DEF(corr, "corr") DEF(where, "where")
#undef DEF
    if (!select) select = "val_err";
    if (!group) group = "label";
    if (!hp) hp = "lr,clip";
    long at = -1;
    if (at_s && strcmp(at_s, "last")) {
        char *end;
        at = strtol(at_s, &end, 10);
        if (*end || at < 0) { fprintf(stderr, "dale results: --at expects last or an update number\n"); cJSON_Delete(spec); return 2; }
    }
    int si = metric_index(select);
    if (si < 0) { fprintf(stderr, "dale results: --select: unknown metric '%s'\n", select); cJSON_Delete(spec); return 2; }
    dale_store *st = NULL;
    dale_store_row *rows = NULL;
    size_t n = 0;
    int rc = 1;
    rrow *w = NULL;
    cell *cells = NULL;
    size_t nc = 0;
    if (dale_store_open(dir, &st)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
    if (rebuild) {
        size_t cnt;
        if (dale_store_rebuild(st, dir, &cnt)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
        fprintf(stderr, "rebuilt %s/results.sqlite from %zu run directories\n", dir, cnt);
    }
    if (dale_store_load(st, at, &rows, &n)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
    char gk[MAXK][64], hk[MAXK][64];
    ngroup = split_keys(group, gk);
    int nhp = split_keys(hp, hk);
    w = calloc(n ? n : 1, sizeof *w);
    cells = calloc(n ? n : 1, sizeof *cells);
    if (!w || !cells) goto done;
    size_t nw = 0, nbad = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].status, "ok") && strcmp(rows[i].status, "diverged")) { nbad++; continue; }
        /* A diverged run has no metrics at or after its divergence: its
         * last logged row predates it, so it must not stand for the run.
         * Its metrics are NaN (+inf in selection; not in mean ± sd; counted
         * in the "div" column). */
        if (!strcmp(rows[i].status, "diverged"))
            for (int m = 0; m < 6; m++) rows[i].m[m] = (double)NAN;
        rrow *x = &w[nw++];
        x->r = &rows[i];
        x->cfg = cJSON_Parse(rows[i].config);
        /* --where K=V,K=V: keep runs whose every K has the value V */
        int keep = 1;
        char wk[MAXK][64];
        int nwh = split_keys(where, wk);
        for (int k = 0; k < nwh && keep; k++) {
            char *eq = strchr(wk[k], '='), got[64];
            if (!eq) continue;
            *eq = '\0';
            key_value(x, wk[k], got, sizeof got);
            keep = cmp_val(got, eq + 1) == 0;
        }
        if (!keep) {
            cJSON_Delete(x->cfg);
            x->cfg = NULL;
            nw--;
            nbad++;
            continue;
        }
        for (int k = 0; k < ngroup; k++) key_value(x, gk[k], x->g[k], sizeof x->g[k]);
        for (int k = 0; k < nhp; k++) key_value(x, hk[k], x->h[k], sizeof x->h[k]);
    }
    /* cells */
    for (size_t i = 0; i < nw; i++) {
        size_t c = 0;
        for (; c < nc; c++) {
            int same = 1;
            for (int k = 0; k < ngroup && same; k++) same = !strcmp(w[cells[c].idx[0]].g[k], w[i].g[k]);
            if (same) break;
        }
        if (c == nc) {
            cells[nc].idx = calloc(nw, sizeof(size_t));
            cells[nc].sel = calloc(nw, sizeof(size_t));
            if (!cells[nc].idx || !cells[nc].sel) goto done;
            nc++;
        }
        cells[c].idx[cells[c].n++] = i;
    }
    g_rows = w;
    qsort(cells, nc, sizeof *cells, cmp_cells);
    int any_test_sel = 0;
    double *vals = calloc(nw ? nw : 1, sizeof(double));
    if (!vals) goto done;
    for (size_t c = 0; c < nc; c++) {
        cell *ce = &cells[c];
        int sidx = si;
        /* fall back: no validation values at all -> test; no error -> loss */
        int have = 0;
        for (size_t j = 0; j < ce->n; j++) have |= isfinite(w[ce->idx[j]].r->m[sidx]);
        if (!have && (sidx == 2 || sidx == 3)) { sidx += 2; ce->used_test = 1; any_test_sel = 1; }
        have = 0;
        for (size_t j = 0; j < ce->n; j++) have |= isfinite(w[ce->idx[j]].r->m[sidx]);
        if (!have && sidx % 2 == 1) sidx -= 1;
        ce->report = report ? metric_index(report) : (sidx >= 2 ? (sidx % 2) + 4 : sidx);
        if (!report && ce->report == 5) {
            have = 0;
            for (size_t j = 0; j < ce->n; j++) have |= isfinite(w[ce->idx[j]].r->m[5]);
            if (!have) ce->report = 4;
        }
        /* configurations by hp values */
        double best = (double)INFINITY, best_tie = (double)INFINITY;
        size_t best_first = ce->idx[0];
        /* equal mean errors (a cell at chance everywhere) are told apart by
         * the mean of the same split's loss */
        int tie = sidx % 2 == 1 ? sidx - 1 : -1;
        for (size_t j = 0; j < ce->n; j++) {
            rrow *a = &w[ce->idx[j]];
            int first = 1;
            for (size_t q = 0; q < j && first; q++) {
                int same = 1;
                for (int k = 0; k < nhp && same; k++) same = !strcmp(w[ce->idx[q]].h[k], a->h[k]);
                if (same) first = 0;
            }
            if (!first) continue;
            double s = 0, sl = 0;
            size_t cnt = 0;
            for (size_t q = 0; q < ce->n; q++) {
                int same = 1;
                for (int k = 0; k < nhp && same; k++) same = !strcmp(w[ce->idx[q]].h[k], a->h[k]);
                if (!same) continue;
                double v = w[ce->idx[q]].r->m[sidx], vt = tie >= 0 ? w[ce->idx[q]].r->m[tie] : 0;
                s += isfinite(v) ? v : (double)INFINITY;
                sl += isfinite(vt) ? vt : (double)INFINITY;
                cnt++;
            }
            double m = s / (double)cnt, mt = sl / (double)cnt;
            if (m < best || (m == best && mt < best_tie) || (isinf(best) && isinf(m) && j == 0)) {
                best = m;
                best_tie = mt;
                best_first = ce->idx[j];
            }
        }
        ce->sel_mean = best;
        for (size_t q = 0; q < ce->n; q++) {
            int same = 1;
            for (int k = 0; k < nhp && same; k++) same = !strcmp(w[ce->idx[q]].h[k], w[best_first].h[k]);
            if (same) ce->sel[ce->ns++] = ce->idx[q];
        }
        for (size_t q = 0; q < ce->ns; q++)
            vals[q] = report && ce->report < 0 ? row_metric(&w[ce->sel[q]], report, -1) : w[ce->sel[q]].r->m[ce->report];
        finite_mean_sd(vals, ce->ns, &ce->mean, &ce->sd);
        for (size_t q = 0; q < ce->ns; q++) ce->ndiv += !strcmp(w[ce->sel[q]].r->status, "diverged");
        double sd_unused;
        for (size_t q = 0; q < ce->ns; q++) vals[q] = w[ce->sel[q]].r->nse0;
        finite_mean_sd(vals, ce->ns, &ce->nse, &sd_unused);
    }
    const char *rep_name = nc ? (cells[0].report >= 0 ? metric_names[cells[0].report] : report) : "-";
    if (!json && !csv) {
        printf("sweep %s: %zu runs (%zu not finished, failed or filtered out: not in the table); select %s at %s; report %s\n",
               dir, n, nbad, select, at < 0 ? "the last evaluation" : at_s, rep_name);
        if (any_test_sel)
            printf("note: no validation split in these runs: hyper-parameters were selected on the TEST metric "
                   "(as the reference does for seqMNIST)\n");
    }
    int gw[MAXK]; /* column widths of the group keys */
    for (int k = 0; k < ngroup; k++) {
        gw[k] = (int)strlen(gk[k]);
        for (size_t c = 0; c < nc; c++) {
            int l = (int)strlen(w[cells[c].sel[0]].g[k]);
            if (l > gw[k]) gw[k] = l;
        }
        if (gw[k] > 40) gw[k] = 40;
    }
    if (csv) {
        for (int k = 0; k < ngroup; k++) printf("%s,", gk[k]);
        for (int k = 0; k < nhp; k++) printf("%s,", hk[k]);
        printf("n,diverged,selected_on,select_mean,metric,mean,sd,nse0_mean\n");
    } else if (!json) {
        for (int k = 0; k < ngroup; k++) printf("%-*s ", gw[k], gk[k]);
        for (int k = 0; k < nhp; k++) printf("%-10s ", hk[k]);
        printf("%3s  %-22s  %-9s  %-6s  %s\n", "n", "reported (mean ± sd)", "selection", "NSE0", "diverged");
    } else printf("{\"dir\": \"%s\", \"select\": \"%s\", \"cells\": [\n", dir, select);
    for (size_t c = 0; c < nc; c++) {
        cell *ce = &cells[c];
        const rrow *s0 = &w[ce->sel[0]];
        const char *mn = ce->report >= 0 ? metric_names[ce->report] : report;
        if (csv) {
            for (int k = 0; k < ngroup; k++) printf("%s,", s0->g[k]);
            for (int k = 0; k < nhp; k++) printf("%s,", s0->h[k]);
            printf("%zu,%zu,%s,%.9g,%s,%.9g,%.9g,%.9g\n", ce->ns - ce->ndiv, ce->ndiv, ce->used_test ? "test" : select, ce->sel_mean, mn,
                   ce->mean, ce->sd, ce->nse);
        } else if (json) {
            printf("  {");
            for (int k = 0; k < ngroup; k++) printf("\"%s\": \"%s\", ", gk[k], s0->g[k]);
            for (int k = 0; k < nhp; k++) printf("\"%s\": \"%s\", ", hk[k], s0->h[k]);
            char jm[3][32];
            const double jv[3] = {ce->mean, ce->sd, ce->nse};
            for (int k = 0; k < 3; k++) {
                if (isfinite(jv[k])) snprintf(jm[k], sizeof jm[k], "%.9g", jv[k]);
                else snprintf(jm[k], sizeof jm[k], "null");
            }
            printf("\"n\": %zu, \"diverged\": %zu, \"selected_on\": \"%s\", \"metric\": \"%s\", \"mean\": %s, \"sd\": %s, "
                   "\"nse0\": %s, \"values\": [",
                   ce->ns - ce->ndiv, ce->ndiv, ce->used_test ? "test" : select, mn, jm[0], jm[1], jm[2]);
            for (size_t q = 0; q < ce->ns; q++) {
                double v = ce->report >= 0 ? w[ce->sel[q]].r->m[ce->report] : row_metric(&w[ce->sel[q]], report, -1);
                if (isfinite(v)) printf("%s%.9g", q ? ", " : "", v);
                else printf("%snull", q ? ", " : "");
            }
            printf("], \"seeds\": [");
            for (size_t q = 0; q < ce->ns; q++) printf("%s%.0f", q ? ", " : "", row_metric(&w[ce->sel[q]], "seed", -1));
            printf("]}%s\n", c + 1 < nc ? "," : "");
        } else {
            for (int k = 0; k < ngroup; k++) printf("%-*.*s ", gw[k], gw[k], s0->g[k]);
            for (int k = 0; k < nhp; k++) printf("%-10.10s ", s0->h[k]);
            char ms[64];
            snprintf(ms, sizeof ms, "%.4g ± %.3g", ce->mean, ce->sd);
            printf("%3zu  %-22s  %-9s  %.4f  %zu\n", ce->ns - ce->ndiv, ms, ce->used_test ? "on test" : "", ce->nse,
                   ce->ndiv);
        }
    }
    if (json) printf("]}\n");
    /* statistics */
    if (test && *test && nc > 1 && !json) {
        size_t ref = 0;
        if (vs) {
            char key[64], val[64];
            const char *eq = strchr(vs, '=');
            if (eq) {
                snprintf(key, sizeof key, "%.*s", (int)(eq - vs), vs);
                snprintf(val, sizeof val, "%s", eq + 1);
            } else {
                snprintf(key, sizeof key, "%s", gk[0]);
                snprintf(val, sizeof val, "%s", vs);
            }
            size_t c = 0;
            for (; c < nc; c++) {
                char got[64];
                key_value(&w[cells[c].sel[0]], key, got, sizeof got);
                if (!strcmp(got, val)) break;
            }
            if (c == nc) { fprintf(stderr, "dale results: --vs %s matches no cell\n", vs); rc = 2; goto done; }
            ref = c;
        }
        double *xr = calloc(nw, sizeof(double)), *xc = calloc(nw, sizeof(double));
        if (!xr || !xc) { free(xr); free(xc); goto done; }
        size_t nr = 0;
        for (size_t q = 0; q < cells[ref].ns; q++) {
            double v = w[cells[ref].sel[q]].r->m[cells[ref].report];
            if (isfinite(v)) xr[nr++] = v;
        }
        char rlab[200] = "";
        for (int k = 0; k < ngroup; k++)
            snprintf(rlab + strlen(rlab), sizeof rlab - strlen(rlab), "%s%s", k ? "," : "", w[cells[ref].sel[0]].g[k]);
        printf("%stests of %s, each cell vs '%s':\n", csv ? "# " : "", rep_name, rlab);
        for (size_t c = 0; c < nc; c++) {
            if (c == ref) continue;
            size_t m = 0;
            for (size_t q = 0; q < cells[c].ns; q++) {
                double v = w[cells[c].sel[q]].r->m[cells[c].report];
                if (isfinite(v)) xc[m++] = v;
            }
            char lab[200] = "";
            for (int k = 0; k < ngroup; k++)
                snprintf(lab + strlen(lab), sizeof lab - strlen(lab), "%s%s", k ? "," : "", w[cells[c].sel[0]].g[k]);
            if (strstr(test, "welch")) {
                double t, df, p;
                if (dale_welch_t(xc, m, xr, nr, &t, &df, &p) == DALE_OK)
                    printf("%s  welch        %-24s t = %8.3f  df = %6.2f  p = %.3g\n", csv ? "#" : "", lab, t, df, p);
                else printf("%s  welch        %-24s n/a (%s)\n", csv ? "#" : "", lab, dale_last_error());
            }
            if (strstr(test, "mann")) {
                double u, p;
                int ex;
                if (dale_mann_whitney(xc, m, xr, nr, &u, &p, &ex) == DALE_OK)
                    printf("%s  mann-whitney %-24s U = %6.1f  p = %.3g (%s)\n", csv ? "#" : "", lab, u, p,
                           ex ? "exact" : "normal approx.");
                else printf("%s  mann-whitney %-24s n/a\n", csv ? "#" : "", lab);
            }
        }
        free(xr);
        free(xc);
    }
    if (corr && *corr && !json) {
        double *x = calloc(nw ? nw : 1, sizeof(double)), *y = calloc(nw ? nw : 1, sizeof(double));
        size_t m = 0;
        for (size_t c = 0; x && y && c < nc; c++)
            for (size_t q = 0; q < cells[c].ns; q++) {
                double a = row_metric(&w[cells[c].sel[q]], corr, metric_index(corr));
                double b = w[cells[c].sel[q]].r->m[cells[c].report];
                if (isfinite(a) && isfinite(b)) { x[m] = a; y[m] = b; m++; }
            }
        double r, p, rs, ps;
        dale_linreg lr;
        if (x && y && !dale_pearson(x, y, m, &r, &p) && !dale_spearman(x, y, m, &rs, &ps) &&
            !dale_linregress(x, y, m, &lr)) {
            printf("%scorrelation of %s with %s over %zu selected runs:\n", csv ? "# " : "", corr, rep_name, m);
            printf("%s  pearson r = %.4f (p = %.3g)   spearman rho = %.4f (p = %.3g)\n", csv ? "#" : "", r, p, rs, ps);
            printf("%s  linregress: slope = %.5g ± %.3g, intercept = %.5g, r = %.4f, p = %.3g\n", csv ? "#" : "",
                   lr.slope, lr.stderr_slope, lr.intercept, lr.r, lr.p);
        } else printf("%scorrelation of %s: not computable over %zu runs\n", csv ? "# " : "", corr, m);
        free(x);
        free(y);
    }
    free(vals);
    rc = 0;
done:
    for (size_t c = 0; cells && c < nc; c++) { free(cells[c].idx); free(cells[c].sel); }
    free(cells);
    for (size_t i = 0; w && i < n; i++) cJSON_Delete(w[i].cfg);
    free(w);
    dale_store_rows_free(rows, n);
    dale_store_close(st);
    cJSON_Delete(spec);
    return rc;
}
