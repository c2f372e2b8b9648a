/* results.c — `dale results DIR`: per-cell tables (mean ± sd over seeds)
 * of the hyper-parameters selected on validation data (dale/select.h), and
 * statistics between cells.  Defaults come from the sweep's spec.json
 * "analysis" object; flags win.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "dale/select.h"
#include "dale/stats.h"
#include "dale/sweep.h"
#include "internal.h"

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
    char *spec_text = dalei_read_text(path, (size_t)1 << 24); /* the limit of dale_sweep_load */
    cJSON *spec = spec_text ? cJSON_Parse(spec_text) : NULL;
    dalei_free(spec_text);
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
    if (dale_metric_index(select) < 0) {
        fprintf(stderr, "dale results: --select: unknown metric '%s'\n", select);
        cJSON_Delete(spec);
        return 2;
    }
    dale_store *st = NULL;
    dale_store_row *rows = NULL;
    size_t n = 0;
    int rc = 1;
    dale_selection *sel = NULL;
    if (dale_store_open(dir, &st)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
    if (rebuild) {
        size_t cnt;
        if (dale_store_rebuild(st, dir, &cnt)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
        fprintf(stderr, "rebuilt %s/results.sqlite from %zu run directories\n", dir, cnt);
    }
    if (dale_store_load(st, at, &rows, &n)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
    const dale_select_options so = {.select = select, .report = report, .group = group, .hp = hp, .where = where};
    if (dale_select(rows, n, &so, &sel)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
    const dale_select_row *w = sel->rows;
    const dale_select_cell *cells = sel->cells;
    const size_t nc = sel->ncells, nw = sel->nrows, nbad = sel->nbad;
    const int ngroup = sel->ngroup, nhp = sel->nhp, any_test_sel = sel->any_test;
    char(*gk)[64] = sel->gk, (*hk)[64] = sel->hk;
    const char *rep_name = nc ? (cells[0].report >= 0 ? dale_metric_name(cells[0].report) : report) : "-";
    if (!json && !csv) {
        printf("sweep %s: %zu runs (%zu not finished, failed or filtered out: not in the table); select %s at %s; report %s\n",
               dir, n, nbad, select, at < 0 ? "the last evaluation" : at_s, rep_name);
        if (any_test_sel)
            printf("note: no validation split in these runs: hyper-parameters were selected on the TEST metric "
                   "(as the reference does for seqMNIST)\n");
    }
    int gw[DALE_SELECT_MAXK]; /* column widths of the group keys */
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
        const dale_select_cell *ce = &cells[c];
        const dale_select_row *s0 = &w[ce->sel[0]];
        const char *mn = ce->report >= 0 ? dale_metric_name(ce->report) : report;
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
                double v = ce->report >= 0 ? w[ce->sel[q]].r->m[ce->report] : dale_select_row_metric(&w[ce->sel[q]], report, -1);
                if (isfinite(v)) printf("%s%.9g", q ? ", " : "", v);
                else printf("%snull", q ? ", " : "");
            }
            printf("], \"seeds\": [");
            for (size_t q = 0; q < ce->ns; q++) printf("%s%.0f", q ? ", " : "", dale_select_row_metric(&w[ce->sel[q]], "seed", -1));
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
                dale_select_key_value(&w[cells[c].sel[0]], key, got, sizeof got);
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
                double a = dale_select_row_metric(&w[cells[c].sel[q]], corr, dale_metric_index(corr));
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
    rc = 0;
done:
    dale_selection_free(sel);
    dale_store_rows_free(rows, n);
    dale_store_close(st);
    cJSON_Delete(spec);
    return rc;
}
