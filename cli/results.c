/* results.c — `dale results DIR`: per-cell tables (mean ± sd over seeds)
 * of the hyper-parameters selected per cell (dale/select.h; the note says
 * on which metric and split, and is absent when nothing was selected), and
 * statistics between cells.  Defaults come from the sweep's spec.json
 * "analysis" object; flags win.  --csv keeps stdout pure CSV (statistics
 * go to stderr).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
          "  --csv | --json  machine-readable cells instead of the table (--csv: only CSV on\n"
          "                  stdout; --test and --corr lines go to stderr)\n"
          "  --rebuild       rebuild the store from the run directories first: SWEEP_DIR/runs/*\n"
          "                  and any SWEEP_DIR/NAME with config.json and result.json (plain\n"
          "                  `dale train --out SWEEP_DIR/NAME` runs; labelled NAME).  Without a\n"
          "                  results.sqlite in SWEEP_DIR it is built this way in any case.\n\n"
          "Group, hp and where keys read the value that ran (config.json), and where\n"
          "config.json keeps an option unset, the value the sweep spec gave: --group inhib\n"
          "reads inhib as set (config.json folds it into ei_ratio), or 1/(1 + ei_ratio).\n"
          "A group key with one value in every run, or none, is reported on stderr.\n\n"
          "Exit status: 0 tables printed; 1 the store cannot be read or built, or no run\n"
          "directory was found; 2 usage error (unknown option or metric, --vs matching no\n"
          "cell).\n",
          f);
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void csv_field(const char *v)
{
    if (!strpbrk(v, ",\"\r\n")) { fputs(v, stdout); return; }
    putchar('"');
    for (const char *p = v; *p; p++) {
        if (*p == '"') putchar('"');
        putchar(*p);
    }
    putchar('"');
}

/* Is t a JSON number as written (-?int frac? exp?)? */
static int json_number_text(const char *t)
{
    const char *p = t;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (*p >= '0' && *p <= '9') p++;
    else return 0;
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!(*p >= '0' && *p <= '9')) return 0;
        while (*p >= '0' && *p <= '9') p++;
    }
    return *p == '\0';
}

/* A key's value as JSON: a number as a number, "-" (unset) as null, text
 * as an escaped string. */
static void json_value(const char *v)
{
    if (!strcmp(v, "-")) fputs("null", stdout);
    else if (json_number_text(v)) fputs(v, stdout);
    else {
        char e[400];
        dalei_json_escape(v, e, sizeof e);
        printf("\"%s\"", e);
    }
}

static void json_string(const char *v)
{
    char e[9000];
    dalei_json_escape(v, e, sizeof e);
    printf("\"%s\"", e);
}

static void json_num(double x)
{
    if (isfinite(x)) printf("%.9g", x);
    else fputs("null", stdout);
}

static const char *split_of(int m) { return m < 2 ? "training" : m < 4 ? "validation" : "test"; }

/* What selection did, one line per metric it used; nothing when every cell
 * ran one configuration (nothing was selected). */
static void selection_notes(const dale_selection *sel, const char *hp, const char *select)
{
    if (!sel->nselected) return;
    int want_err = dale_metric_index(select) % 2 == 1;
    for (int m = 0; m < 6; m++) {
        size_t k = 0, seq = 0;
        for (size_t c = 0; c < sel->ncells; c++) {
            const dale_select_cell *ce = &sel->cells[c];
            if (ce->nconf < 2 || ce->sel_metric != m) continue;
            k++;
            char task[64];
            dale_select_key_value(&sel->rows[ce->idx[0]], "task", task, sizeof task);
            seq += !strcmp(task, "seqmnist");
        }
        if (!k) continue;
        printf("note: selected per cell: the %s values with the lowest mean %s over seeds (%s split%s)", hp,
               dale_metric_name(m), split_of(m), want_err && m % 2 == 0 ? "; the task has no error rate" : "");
        if (k < sel->ncells) {
            size_t single = 0;
            for (size_t c = 0; c < sel->ncells; c++) single += sel->cells[c].nconf < 2;
            printf(", in %zu of %zu cells%s", k, sel->ncells,
                   single == sel->ncells - k ? " (the others ran one configuration: nothing to select)" : "");
        }
        printf("\n");
        if (m >= 4 && dale_metric_index(select) < 4)
            printf("note: no validation split in these runs: the selection used the test split that is also "
                   "reported, so the reported values are optimistic%s\n",
                   seq == k ? " (the paper's reference code does this for sequential MNIST)" : "");
    }
}

/* The reported value of selected run q of cell ce.  A metric of metrics.csv
 * has an index (ce->report >= 0); nse0, smax0, rho0 and wall_s have none
 * (-1) and are read by name, as the table's mean and sd are: indexing m[]
 * with -1 read past the array, so the tests and the correlation of
 * `--report nse0` (an init-only sweep's metric) used garbage. */
static double reported(const dale_select_row *w, const dale_select_cell *ce, size_t q, const char *report)
{
    if (ce->report < 0 && !report) return (double)NAN;
    return dale_select_row_metric(&w[ce->sel[q]], report, ce->report);
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
    int group_chosen = group != NULL;
    DEF(group, "group")
    group_chosen |= group != NULL;
    DEF(select, "select") DEF(report, "report") DEF(at_s, "at") DEF(hp, "hp")
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
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "dale results: %s: no such directory\n", dir);
        goto done;
    }
    snprintf(path, sizeof path, "%s/results.sqlite", dir);
    int created = stat(path, &sb) != 0;
    if (!rebuild && created) {
        /* no store yet (plain `dale train` runs): build it */
        fprintf(stderr, "dale results: no results.sqlite in %s: building it from the run directories\n", dir);
        rebuild = 1;
    }
    if (dale_store_open(dir, &st)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
    if (rebuild) {
        size_t cnt;
        if (dale_store_rebuild(st, dir, &cnt)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
        if (cnt == 0) {
            fprintf(stderr, "dale results: no run directories in %s (a run directory holds config.json and "
                    "result.json, as %s/runs/ID of a sweep or %s/NAME of `dale train --out`)\n", dir, dir, dir);
            if (created) { /* leave no empty store behind */
                dale_store_close(st);
                st = NULL;
                static const char *const sfx[3] = {"", "-wal", "-shm"};
                for (int k = 0; k < 3; k++) {
                    char f[4300];
                    snprintf(f, sizeof f, "%s%s", path, sfx[k]);
                    remove(f);
                }
            }
            goto done;
        }
        fprintf(stderr, "rebuilt %s/results.sqlite from %zu run directories\n", dir, cnt);
    }
    if (dale_store_load(st, at, &rows, &n)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
    /* a smoke-test scale's numbers test the pipeline: say so above and below the table */
    char kind[32], instead[700], smoke[900] = "";
    if (dale_store_get_meta(st, "scale_kind", kind, sizeof kind) && !strcmp(kind, "smoke"))
        snprintf(smoke, sizeof smoke, "SMOKE TEST: these numbers test the pipeline, not the paper's claim; use %s\n",
                 dale_store_get_meta(st, "scale_instead", instead, sizeof instead) ? instead : "the paper scale");
    const dale_select_options so = {.select = select, .report = report, .group = group, .hp = hp, .where = where};
    if (dale_select(rows, n, &so, &sel)) { fprintf(stderr, "dale results: %s\n", dale_last_error()); goto done; }
    const dale_select_row *w = sel->rows;
    const dale_select_cell *cells = sel->cells;
    const size_t nc = sel->ncells, nw = sel->nrows, nbad = sel->nbad;
    const int ngroup = sel->ngroup, nhp = sel->nhp;
    char(*gk)[64] = sel->gk, (*hk)[64] = sel->hk;
    const char *rep_name = nc ? (cells[0].report >= 0 ? dale_metric_name(cells[0].report) : report) : "-";
    /* group keys that split nothing (the wrong key, or a typo) */
    for (int k = 0; group_chosen && nw > 1 && k < ngroup; k++) {
        if (sel->gconst[k] == 1)
            fprintf(stderr, "dale results: warning: group key '%s' has one value (%s) in every run: it splits nothing\n",
                    gk[k], w[0].g[k]);
        else if (sel->gconst[k] == 2)
            fprintf(stderr, "dale results: warning: group key '%s' is not set in any run (no option or given value of "
                    "that name): it splits nothing\n", gk[k]);
    }
    if (smoke[0]) fputs(smoke, csv || json ? stderr : stdout);
    if (!json && !csv) {
        printf("sweep %s: %zu runs (%zu not finished, failed or filtered out: not in the table); metrics at %s; "
               "report %s\n",
               dir, n, nbad, at < 0 ? "the last evaluation" : at_s, rep_name);
        selection_notes(sel, hp, select);
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
        printf("n,diverged,selected_on,select_mean,metric,mean,sd,nse0_mean,configs\n");
    } else if (!json) {
        for (int k = 0; k < ngroup; k++) printf("%-*s ", gw[k], gk[k]);
        for (int k = 0; k < nhp; k++) printf("%-10s ", hk[k]);
        printf("%3s  %-22s  %-9s  %-6s  %s\n", "n", "reported (mean ± sd)", "configs", "NSE0", "diverged");
    } else {
        printf("{\"dir\": ");
        json_string(dir);
        printf(", \"select\": ");
        json_string(select);
        printf(", \"cells\": [\n");
    }
    for (size_t c = 0; c < nc; c++) {
        const dale_select_cell *ce = &cells[c];
        const dale_select_row *s0 = &w[ce->sel[0]];
        const char *mn = ce->report >= 0 ? dale_metric_name(ce->report) : report;
        /* what selection used: nothing when the cell ran one configuration */
        const char *on = ce->nconf > 1 ? dale_metric_name(ce->sel_metric) : "none";
        if (csv) {
            for (int k = 0; k < ngroup; k++) { csv_field(s0->g[k]); putchar(','); }
            for (int k = 0; k < nhp; k++) { csv_field(s0->h[k]); putchar(','); }
            printf("%zu,%zu,%s,", ce->ns - ce->ndiv, ce->ndiv, on);
            if (ce->nconf > 1) printf("%.9g", ce->sel_mean);
            putchar(',');
            csv_field(mn);
            printf(",%.9g,%.9g,%.9g,%zu\n", ce->mean, ce->sd, ce->nse, ce->nconf);
        } else if (json) {
            printf("  {");
            for (int k = 0; k < ngroup; k++) {
                json_string(gk[k]);
                printf(": ");
                json_value(s0->g[k]);
                printf(", ");
            }
            for (int k = 0; k < nhp; k++) {
                json_string(hk[k]);
                printf(": ");
                json_value(s0->h[k]);
                printf(", ");
            }
            printf("\"n\": %zu, \"diverged\": %zu, \"configs\": %zu, \"selected_on\": \"%s\", \"select_mean\": ",
                   ce->ns - ce->ndiv, ce->ndiv, ce->nconf, on);
            json_num(ce->nconf > 1 ? ce->sel_mean : (double)NAN);
            printf(", \"metric\": ");
            json_string(mn);
            printf(", \"mean\": ");
            json_num(ce->mean);
            printf(", \"sd\": ");
            json_num(ce->sd);
            printf(", \"nse0\": ");
            json_num(ce->nse);
            printf(", \"values\": [");
            for (size_t q = 0; q < ce->ns; q++) {
                double v = reported(w, ce, q, report);
                printf("%s", q ? ", " : "");
                json_num(v);
            }
            printf("], \"seeds\": [");
            for (size_t q = 0; q < ce->ns; q++) {
                double sd = dale_select_row_metric(&w[ce->sel[q]], "seed", -1);
                printf("%s", q ? ", " : "");
                if (isfinite(sd)) printf("%.0f", sd);
                else printf("null");
            }
            printf("]}%s\n", c + 1 < nc ? "," : "");
        } else {
            for (int k = 0; k < ngroup; k++) printf("%-*.*s ", gw[k], gw[k], s0->g[k]);
            for (int k = 0; k < nhp; k++) printf("%-10.10s ", s0->h[k]);
            char ms[64], cf[32];
            snprintf(ms, sizeof ms, "%.4g ± %.3g", ce->mean, ce->sd);
            snprintf(cf, sizeof cf, "%zu%s", ce->nconf, ce->used_test ? " (test)" : "");
            printf("%3zu  %-22s  %-9s  %.4f  %zu\n", ce->ns - ce->ndiv, ms, cf, ce->nse, ce->ndiv);
        }
    }
    if (json) printf("]}\n");
    fflush(stdout);
    FILE *sf = csv ? stderr : stdout; /* --csv keeps stdout pure CSV */
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
            double v = reported(w, &cells[ref], q, report);
            if (isfinite(v)) xr[nr++] = v;
        }
        char rlab[200] = "";
        for (int k = 0; k < ngroup; k++)
            snprintf(rlab + strlen(rlab), sizeof rlab - strlen(rlab), "%s%s", k ? "," : "", w[cells[ref].sel[0]].g[k]);
        fprintf(sf, "tests of %s, each cell vs '%s':\n", rep_name, rlab);
        for (size_t c = 0; c < nc; c++) {
            if (c == ref) continue;
            size_t m = 0;
            for (size_t q = 0; q < cells[c].ns; q++) {
                double v = reported(w, &cells[c], q, report);
                if (isfinite(v)) xc[m++] = v;
            }
            char lab[200] = "";
            for (int k = 0; k < ngroup; k++)
                snprintf(lab + strlen(lab), sizeof lab - strlen(lab), "%s%s", k ? "," : "", w[cells[c].sel[0]].g[k]);
            if (strstr(test, "welch")) {
                double t, df, p;
                if (dale_welch_t(xc, m, xr, nr, &t, &df, &p) == DALE_OK)
                    fprintf(sf, "  welch        %-24s t = %8.3f  df = %6.2f  p = %.3g\n", lab, t, df, p);
                else fprintf(sf, "  welch        %-24s n/a (%s)\n", lab, dale_last_error());
            }
            if (strstr(test, "mann")) {
                double u, p;
                int ex;
                if (dale_mann_whitney(xc, m, xr, nr, &u, &p, &ex) == DALE_OK)
                    fprintf(sf, "  mann-whitney %-24s U = %6.1f  p = %.3g (%s)\n", lab, u, p,
                            ex ? "exact" : "normal approx.");
                else fprintf(sf, "  mann-whitney %-24s n/a\n", lab);
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
                double b = reported(w, &cells[c], q, report);
                if (isfinite(a) && isfinite(b)) { x[m] = a; y[m] = b; m++; }
            }
        double r, p, rs, ps;
        dale_linreg lr;
        if (x && y && !dale_pearson(x, y, m, &r, &p) && !dale_spearman(x, y, m, &rs, &ps) &&
            !dale_linregress(x, y, m, &lr)) {
            fprintf(sf, "correlation of %s with %s over %zu selected runs:\n", corr, rep_name, m);
            fprintf(sf, "  pearson r = %.4f (p = %.3g)   spearman rho = %.4f (p = %.3g)\n", r, p, rs, ps);
            fprintf(sf, "  linregress: slope = %.5g ± %.3g, intercept = %.5g, r = %.4f, p = %.3g\n", lr.slope,
                    lr.stderr_slope, lr.intercept, lr.r, lr.p);
        } else fprintf(sf, "correlation of %s: not computable over %zu runs\n", corr, m);
        free(x);
        free(y);
    }
    if (smoke[0]) {
        fflush(stdout);
        fputs(smoke, csv || json ? stderr : stdout);
    }
    rc = 0;
done:
    dale_selection_free(sel);
    dale_store_rows_free(rows, n);
    dale_store_close(st);
    cJSON_Delete(spec);
    return rc;
}
