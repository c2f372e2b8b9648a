/* test_select.c — hyper-parameter selection (dale/select.h) on hand-made
 * store rows, and the duration format of the sweep runner.
 *
 * 1. Two cells (label A, B) x two learning rates x two seeds: the lr with
 *    the lower mean validation error wins per cell; the reported metric is
 *    test_err with its mean and sd (ddof 1); cells sorted by label.
 * 2. A diverged run counts as +inf in selection and is left out of mean ±
 *    sd (counted in ndiv); failed runs are not taken (nbad).
 * 3. No validation values: selection falls back to the test metric
 *    (used_test, any_test); where=label=B keeps one cell.
 * 4. Unknown select metric: DALE_ERR_ARG.  Every allocation failing in
 *    turn: DALE_ERR_NOMEM, nothing leaked.  dale_format_duration.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dale/runner.h"
#include "dale/select.h"
#include "internal.h"
#include "check.h"

static void row(dale_store_row *r, const char *label, double lr, int seed, const char *status, double val_err,
                double test_err)
{
    memset(r, 0, sizeof *r);
    snprintf(r->label, sizeof r->label, "%s", label);
    snprintf(r->status, sizeof r->status, "%s", status);
    char cfg[128];
    snprintf(cfg, sizeof cfg, "{\"lr\": %g, \"clip\": 1, \"seed\": %d}", lr, seed);
    r->config = dalei_strdup(cfg);
    for (int m = 0; m < 6; m++) r->m[m] = (double)NAN;
    r->m[3] = val_err;
    r->m[2] = val_err; /* val_loss, for the tie-break */
    r->m[5] = test_err;
    r->m[4] = test_err;
    r->nse0 = 0.5;
}

static void free_rows(dale_store_row *r, size_t n)
{
    for (size_t i = 0; i < n; i++) dalei_free(r[i].config);
}

static void test_selection(void)
{
    dale_store_row r[10];
    /* cell B first in the input: the output sorts it after A */
    row(&r[0], "B", 0.1, 0, "ok", 0.30, 0.31);
    row(&r[1], "B", 0.1, 1, "ok", 0.32, 0.35);
    row(&r[2], "B", 0.01, 0, "ok", 0.20, 0.21);
    row(&r[3], "B", 0.01, 1, "diverged", 0.10, 0.10); /* +inf: lr 0.01 loses in B */
    row(&r[4], "A", 0.1, 0, "ok", 0.40, 0.41);
    row(&r[5], "A", 0.1, 1, "ok", 0.40, 0.43);
    row(&r[6], "A", 0.01, 0, "ok", 0.10, 0.12);
    row(&r[7], "A", 0.01, 1, "ok", 0.20, 0.16);
    row(&r[8], "A", 0.01, 2, "failed", 0.0, 0.0);
    row(&r[9], "A", 0.01, 3, "running", 0.0, 0.0);
    dale_select_options o = {0};
    dale_selection *s = NULL;
    CHECK_OK(dale_select(r, 10, &o, &s));
    if (s) {
        CHECK(s->nrows == 8 && s->nbad == 2, "rows %zu, bad %zu", s->nrows, s->nbad);
        CHECK(s->ncells == 2, "cells %zu", s->ncells);
        const dale_select_cell *a = &s->cells[0], *b = &s->cells[1];
        CHECK(!strcmp(s->rows[a->idx[0]].g[0], "A") && !strcmp(s->rows[b->idx[0]].g[0], "B"), "sorted by label");
        CHECK(a->ns == 2 && !strcmp(s->rows[a->sel[0]].h[0], "0.01"), "A selects lr 0.01 (%s)", s->rows[a->sel[0]].h[0]);
        CHECK(fabs(a->sel_mean - 0.15) < 1e-12, "A selection mean %g", a->sel_mean);
        CHECK(a->report == 5 && !strcmp(dale_metric_name(a->report), "test_err"), "reports test_err");
        CHECK(fabs(a->mean - 0.14) < 1e-12 && fabs(a->sd - sqrt(0.0008)) < 1e-12, "A mean %g sd %g", a->mean, a->sd);
        CHECK(!strcmp(s->rows[b->sel[0]].h[0], "0.1") && b->ndiv == 0, "B: the diverged lr loses");
        CHECK(!a->used_test && !s->any_test, "validation values present: no fallback");
        char v[64];
        dale_select_key_value(&s->rows[0], "seed", v, sizeof v);
        CHECK(!strcmp(v, "0"), "key value %s", v);
        CHECK(dale_select_row_metric(&s->rows[0], "nse0", -1) == 0.5, "row metric nse0");
        CHECK(isnan(dale_select_row_metric(&s->rows[0], "nope", -1)), "absent metric NaN");
    }
    dale_selection_free(s);
    /* all validation values gone: select on test; where keeps cell B */
    for (int i = 0; i < 10; i++) r[i].m[2] = r[i].m[3] = (double)NAN;
    o.where = "label=B";
    CHECK_OK(dale_select(r, 10, &o, &s));
    if (s) {
        CHECK(s->ncells == 1 && s->cells[0].used_test && s->any_test, "test fallback in the one cell");
        CHECK(s->nbad == 6, "where filters A out (bad %zu)", s->nbad);
    }
    dale_selection_free(s);
    o.select = "val_nope";
    dale_status st = dale_select(r, 10, &o, &s);
    CHECK(st == DALE_ERR_ARG && s == NULL, "unknown select metric: %d", (int)st);
    /* every allocation of a selection failing in turn */
    o.select = NULL;
    o.where = NULL;
    long live = dalei_alloc_live();
    int nomem = 0, k;
    for (k = 1; k < 100; k++) {
        dalei_alloc_fail_at(k);
        st = dale_select(r, 10, &o, &s);
        dalei_alloc_fail_at(0);
        dale_selection_free(s);
        s = NULL;
        if (st == DALE_OK) break;
        nomem += st == DALE_ERR_NOMEM;
    }
    CHECK(k > 1 && nomem == k - 1, "allocation failures: %d of %d gave NOMEM", nomem, k - 1);
    CHECK(dalei_alloc_live() == live, "no leak after failures (%ld vs %ld)", dalei_alloc_live(), live);
    CHECK(dale_metric_index("test_loss") == 4 && dale_metric_index("x") == -1 && !dale_metric_name(6), "metric names");
    free_rows(r, 10);
}

static void test_duration(void)
{
    char b[32];
    dale_format_duration(187.4, b, sizeof b);
    CHECK(!strcmp(b, "3m07s"), "187.4 s: %s", b);
    dale_format_duration(3900, b, sizeof b);
    CHECK(!strcmp(b, "1h05m"), "3900 s: %s", b);
    dale_format_duration(-1, b, sizeof b);
    CHECK(!strcmp(b, "0m00s"), "negative: %s", b);
    dale_format_duration((double)NAN, b, sizeof b);
    CHECK(!strcmp(b, "0m00s"), "NaN: %s", b);
}

int main(void)
{
    test_selection();
    test_duration();
    CHECK(dalei_alloc_live() == 0, "no leaks (%ld live)", dalei_alloc_live());
    return check_done("test_select");
}
