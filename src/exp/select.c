/* select.c — hyper-parameter selection over the runs of a sweep
 * (dale/select.h): cells, configurations, the selected one's statistics. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dale/select.h"
#include "dale/spectrum.h"
#include "internal.h"

static const char *const metric_names[6] = {"train_loss", "train_err", "val_loss", "val_err", "test_loss", "test_err"};

const char *dale_metric_name(int i) { return i >= 0 && i < 6 ? metric_names[i] : NULL; }

int dale_metric_index(const char *s)
{
    for (int i = 0; s && i < 6; i++)
        if (!strcmp(s, metric_names[i])) return i;
    return -1;
}

static int split_keys(const char *s, char keys[DALE_SELECT_MAXK][64])
{
    int n = 0;
    while (s && *s && n < DALE_SELECT_MAXK) {
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

/* An option left unset in config.json: -1 for numbers, "auto" for text
 * (config.json holds resolved values, so this is inhib, which resolution
 * folds into ei_ratio, or an option an older dale did not resolve). */
static int unset_value(const cJSON *v)
{
    return !v || (cJSON_IsNumber(v) && v->valuedouble == -1) || (cJSON_IsString(v) && !strcmp(v->valuestring, "auto")) ||
           (!cJSON_IsNumber(v) && !cJSON_IsString(v) && !cJSON_IsBool(v));
}

/* The value of key k of a run: config.json's (what ran), unless it holds
 * the key unset, then the value the sweep spec gave; inhib with neither is
 * the fraction its ei_ratio stands for, 1/(1 + ei_ratio).  NULL: none.
 * *derived gets that fraction. */
static const cJSON *key_json(const dale_select_row *w, const char *k, double *derived, int *have_derived)
{
    *have_derived = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(w->config, k);
    if (!unset_value(v)) return v;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(w->given, k);
    if (g && !unset_value(g)) return g;
    if (!strcmp(k, "inhib")) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(w->config, "ei_ratio");
        if (cJSON_IsNumber(r) && r->valuedouble > 0) {
            *derived = 1.0 / (1.0 + r->valuedouble);
            *have_derived = 1;
            return NULL;
        }
    }
    return v;
}

void dale_select_key_value(const dale_select_row *w, const char *k, char *out, size_t cap)
{
    if (!strcmp(k, "label")) { snprintf(out, cap, "%s", w->r->label); return; }
    double d;
    int hd;
    const cJSON *v = key_json(w, k, &d, &hd);
    if (hd) snprintf(out, cap, "%.6g", d);
    else if (cJSON_IsString(v)) snprintf(out, cap, "%s", v->valuestring);
    else if (cJSON_IsNumber(v)) snprintf(out, cap, "%.6g", v->valuedouble);
    else if (cJSON_IsBool(v)) snprintf(out, cap, "%s", cJSON_IsTrue(v) ? "on" : "off");
    else snprintf(out, cap, "-");
}

double dale_select_row_metric(const dale_select_row *w, const char *name, int mi)
{
    if (mi >= 0) return w->r->m[mi];
    if (!strcmp(name, "nse0")) return w->r->nse0;
    if (!strcmp(name, "smax0")) return w->r->smax0;
    if (!strcmp(name, "rho0")) return w->r->rho0;
    if (!strcmp(name, "wall_s")) return w->r->wall_s;
    double d;
    int hd;
    const cJSON *v = key_json(w, name, &d, &hd);
    if (hd) return d;
    return cJSON_IsNumber(v) ? v->valuedouble : (double)NAN;
}

/* Numbers numerically, anything else as text. */
static int cmp_val(const char *a, const char *b)
{
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea != a && !*ea && eb != b && !*eb) return x < y ? -1 : x > y;
    return strcmp(a, b);
}

static int sort_ngroup;
static const dale_select_row *sort_rows;
static int cmp_cells(const void *pa, const void *pb)
{
    const dale_select_cell *a = pa, *b = pb;
    for (int k = 0; k < sort_ngroup; k++) {
        int c = cmp_val(sort_rows[a->idx[0]].g[k], sort_rows[b->idx[0]].g[k]);
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

void dale_selection_free(dale_selection *s)
{
    if (!s) return;
    for (size_t c = 0; s->cells && c < s->ncells; c++) {
        dalei_free(s->cells[c].idx);
        dalei_free(s->cells[c].sel);
    }
    dalei_free(s->cells);
    for (size_t i = 0; s->rows && i < s->nrows; i++) {
        cJSON_Delete(s->rows[i].config);
        cJSON_Delete(s->rows[i].given);
    }
    dalei_free(s->rows);
    dalei_free(s);
}

/* The runs taken in: finished, and passing --where. */
static void take_rows(dale_selection *s, dale_store_row *rows, size_t n, const dale_select_options *o)
{
    char wk[DALE_SELECT_MAXK][64];
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].status, "ok") && strcmp(rows[i].status, "diverged")) { s->nbad++; continue; }
        /* A diverged run has no metrics at or after its divergence: its
         * last logged row predates it, so it must not stand for the run.
         * Its metrics are NaN (+inf in selection; not in mean ± sd; counted
         * as diverged). */
        if (!strcmp(rows[i].status, "diverged"))
            for (int m = 0; m < 6; m++) rows[i].m[m] = (double)NAN;
        dale_select_row *x = &s->rows[s->nrows++];
        x->r = &rows[i];
        x->config = cJSON_Parse(rows[i].config);
        x->given = rows[i].given ? cJSON_Parse(rows[i].given) : NULL;
        /* where K=V,K=V: keep runs whose every K has the value V */
        int keep = 1;
        int nwh = split_keys(o->where, wk);
        for (int k = 0; k < nwh && keep; k++) {
            char *eq = strchr(wk[k], '='), got[64];
            if (!eq) continue;
            *eq = '\0';
            dale_select_key_value(x, wk[k], got, sizeof got);
            keep = cmp_val(got, eq + 1) == 0;
        }
        if (!keep) {
            cJSON_Delete(x->config);
            cJSON_Delete(x->given);
            x->config = x->given = NULL;
            s->nrows--;
            s->nbad++;
            continue;
        }
        for (int k = 0; k < s->ngroup; k++) dale_select_key_value(x, s->gk[k], x->g[k], sizeof x->g[k]);
        for (int k = 0; k < s->nhp; k++) dale_select_key_value(x, s->hk[k], x->h[k], sizeof x->h[k]);
    }
}

static int same_hp(const dale_selection *s, size_t a, size_t b)
{
    for (int k = 0; k < s->nhp; k++)
        if (strcmp(s->rows[a].h[k], s->rows[b].h[k])) return 0;
    return 1;
}

/* Select in one cell on metric si; vals is scratch of nrows. */
static void select_cell(dale_selection *s, dale_select_cell *ce, int si, const char *report, double *vals)
{
    const dale_select_row *w = s->rows;
    int sidx = si;
    /* fall back: no validation values at all -> test; no error -> loss */
    int have = 0;
    for (size_t j = 0; j < ce->n; j++) have |= isfinite(w[ce->idx[j]].r->m[sidx]);
    int fell_back = 0;
    if (!have && (sidx == 2 || sidx == 3)) { sidx += 2; fell_back = 1; }
    have = 0;
    for (size_t j = 0; j < ce->n; j++) have |= isfinite(w[ce->idx[j]].r->m[sidx]);
    if (!have && sidx % 2 == 1) sidx -= 1;
    ce->sel_metric = sidx;
    /* configurations: distinct hp values */
    for (size_t j = 0; j < ce->n; j++) {
        int first = 1;
        for (size_t q = 0; q < j && first; q++)
            if (same_hp(s, ce->idx[q], ce->idx[j])) first = 0;
        ce->nconf += (size_t)first;
    }
    if (fell_back && ce->nconf > 1) { ce->used_test = 1; s->any_test = 1; }
    if (ce->nconf > 1) s->nselected++;
    ce->report = report ? dale_metric_index(report) : (sidx >= 2 ? (sidx % 2) + 4 : sidx);
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
        int first = 1;
        for (size_t q = 0; q < j && first; q++)
            if (same_hp(s, ce->idx[q], ce->idx[j])) first = 0;
        if (!first) continue;
        double sum = 0, sl = 0;
        size_t cnt = 0;
        for (size_t q = 0; q < ce->n; q++) {
            if (!same_hp(s, ce->idx[q], ce->idx[j])) continue;
            double v = w[ce->idx[q]].r->m[sidx], vt = tie >= 0 ? w[ce->idx[q]].r->m[tie] : 0;
            sum += isfinite(v) ? v : (double)INFINITY;
            sl += isfinite(vt) ? vt : (double)INFINITY;
            cnt++;
        }
        double m = sum / (double)cnt, mt = sl / (double)cnt;
        if (m < best || (m == best && mt < best_tie) || (isinf(best) && isinf(m) && j == 0)) {
            best = m;
            best_tie = mt;
            best_first = ce->idx[j];
        }
    }
    ce->sel_mean = best;
    for (size_t q = 0; q < ce->n; q++)
        if (same_hp(s, ce->idx[q], best_first)) ce->sel[ce->ns++] = ce->idx[q];
    for (size_t q = 0; q < ce->ns; q++)
        vals[q] = report && ce->report < 0 ? dale_select_row_metric(&w[ce->sel[q]], report, -1)
                                           : w[ce->sel[q]].r->m[ce->report];
    finite_mean_sd(vals, ce->ns, &ce->mean, &ce->sd);
    for (size_t q = 0; q < ce->ns; q++) ce->ndiv += !strcmp(w[ce->sel[q]].r->status, "diverged");
    double sd_unused;
    for (size_t q = 0; q < ce->ns; q++) vals[q] = w[ce->sel[q]].r->nse0;
    finite_mean_sd(vals, ce->ns, &ce->nse, &sd_unused);
}

dale_status dale_select(dale_store_row *rows, size_t n, const dale_select_options *o, dale_selection **out)
{
    *out = NULL;
    const char *select = o->select ? o->select : "val_err";
    int si = dale_metric_index(select);
    if (si < 0) return DALE_FAIL(DALE_ERR_ARG, "unknown selection metric '%s'", select);
    dale_selection *s = dalei_calloc(1, sizeof *s);
    if (!s) return DALE_ERR_NOMEM;
    s->report = o->report;
    s->ngroup = split_keys(o->group ? o->group : "label", s->gk);
    s->nhp = split_keys(o->hp ? o->hp : "lr,clip", s->hk);
    s->rows = dalei_calloc(n ? n : 1, sizeof *s->rows);
    s->cells = dalei_calloc(n ? n : 1, sizeof *s->cells);
    double *vals = NULL;
    if (!s->rows || !s->cells) goto nomem;
    take_rows(s, rows, n, o);
    size_t nw = s->nrows;
    /* cells */
    for (size_t i = 0; i < nw; i++) {
        size_t c = 0;
        for (; c < s->ncells; c++) {
            int same = 1;
            for (int k = 0; k < s->ngroup && same; k++) same = !strcmp(s->rows[s->cells[c].idx[0]].g[k], s->rows[i].g[k]);
            if (same) break;
        }
        if (c == s->ncells) {
            s->cells[c].idx = dalei_calloc(nw, sizeof(size_t));
            s->cells[c].sel = dalei_calloc(nw, sizeof(size_t));
            s->ncells++;
            if (!s->cells[c].idx || !s->cells[c].sel) goto nomem;
        }
        s->cells[c].idx[s->cells[c].n++] = i;
    }
    sort_ngroup = s->ngroup;
    sort_rows = s->rows;
    qsort(s->cells, s->ncells, sizeof *s->cells, cmp_cells);
    vals = dalei_calloc(nw ? nw : 1, sizeof(double));
    if (!vals) goto nomem;
    for (size_t c = 0; c < s->ncells; c++) select_cell(s, &s->cells[c], si, o->report, vals);
    /* group keys that split nothing: one value in every run, or none */
    for (int k = 0; k < s->ngroup && nw > 0; k++) {
        int same = 1;
        for (size_t i = 1; i < nw && same; i++) same = !strcmp(s->rows[i].g[k], s->rows[0].g[k]);
        s->gconst[k] = !same ? 0 : strcmp(s->rows[0].g[k], "-") ? 1 : 2;
    }
    dalei_free(vals);
    *out = s;
    return DALE_OK;
nomem:
    dalei_free(vals);
    dale_selection_free(s);
    return DALE_ERR_NOMEM;
}
