/* test_adding.c — the adding problem (paper Sec. 6.2.1, dale/task.h).
 *
 * Every sequence of every split is fetched and checked: exactly two marks
 * (1.0) at distinct positions, all other marks 0.0, values in [0, 1), target
 * = the sum of the two marked values.  The time-major layout (T, B, 2) is
 * checked element by element by comparing a batch of arbitrary indices
 * (repeats included) with the same samples fetched one at a time.  Splits:
 * reference 9000/0/1000 and paper 8000/1000/1000 for N = 10000, and the two
 * share one data set (the paper split's validation block is the reference
 * train block's tail).  Same data_seed → identical data, another → different.
 * Marked positions are uniform over all T positions (chi-square on the
 * position counts and on the unordered pairs: no half-split constraint).
 * Bad configs, out-of-range indices and allocation failures give clean
 * errors and no leaks.  Run from the repository root.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/task.h"
#include "internal.h"

#define NSEQ 10000
#define TLEN 20

static dale_task *make_task(size_t N, size_t T, size_t n_test, uint64_t seed, int paper)
{
    dale_adding_config c = {.N = N, .T = T, .n_test = n_test, .data_seed = seed, .paper_split = paper};
    dale_task *t = NULL;
    dale_status st = dale_task_adding_create(&c, &t);
    CHECK(st == DALE_OK, "adding create (N %zu, T %zu, test %zu, paper %d) -> %d: %s", N, T,
          n_test, paper, st, dale_last_error());
    return st == DALE_OK ? t : NULL;
}

/* Fetch samples idx[0..B) of split into x (T, B, 2) and y (B). */
static dale_status fetch(dale_task *t, dale_split split, const size_t *idx, size_t B, float *x,
                         float *y)
{
    return t->batch(t, split, idx, B, x, y, NULL);
}

/* Per-sequence invariants of a fetched batch; accumulates mark counts. */
typedef struct stats {
    size_t pos[TLEN];         /* marks at each position */
    size_t pair[TLEN][TLEN];  /* unordered pairs (p < q) */
    size_t first_half_both, second_half_both, vals;
    double vsum;
} stats;

static void check_batch(const char *label, const float *x, const float *y, size_t T, size_t B,
                        size_t base, stats *st)
{
    size_t bad_marks = 0, bad_vals = 0, bad_target = 0;
    for (size_t b = 0; b < B; b++) {
        size_t marks[3], nm = 0, other = 0;
        for (size_t t = 0; t < T; t++) {
            float v = x[(t * B + b) * 2], mk = x[(t * B + b) * 2 + 1];
            if (!(v >= 0.0f && v < 1.0f)) bad_vals++;
            if (st) {
                st->vsum += (double)v;
                st->vals++;
            }
            if (mk == 1.0f) {
                if (nm < 3) marks[nm] = t;
                nm++;
            } else if (mk != 0.0f) {
                other++;
            }
        }
        if (nm != 2 || other) {
            if (bad_marks++ < 3)
                printf("  %s: sample %zu has %zu marks (%zu non-0/1)\n", label, base + b, nm, other);
            continue;
        }
        size_t p = marks[0], q = marks[1]; /* p < q by construction of the scan */
        float want = x[(p * B + b) * 2] + x[(q * B + b) * 2];
        if (y[b] != want) {
            if (bad_target++ < 3)
                printf("  %s: sample %zu target %.9g want %.9g\n", label, base + b, (double)y[b],
                       (double)want);
        }
        if (st && T == TLEN) {
            st->pos[p]++;
            st->pos[q]++;
            st->pair[p][q]++;
            st->first_half_both += q < T / 2;
            st->second_half_both += p >= T / 2;
        }
    }
    CHECK(bad_marks == 0, "%s: %zu samples without exactly two distinct 0/1 marks", label, bad_marks);
    CHECK(bad_vals == 0, "%s: %zu values outside [0, 1)", label, bad_vals);
    CHECK(bad_target == 0, "%s: %zu targets != sum of the marked values", label, bad_target);
}

/* Fetch a whole split in chunks into xs (count, T, 2) sample-major and ys
 * (count), checking invariants on the way. */
static void fetch_split(dale_task *t, dale_split split, float *xs, float *ys, stats *st,
                        const char *label)
{
    size_t T = t->T, n = t->count[split], chunk = 1000;
    size_t *idx = malloc(chunk * sizeof *idx);
    float *x = malloc(chunk * T * 2 * sizeof *x), *y = malloc(chunk * sizeof *y);
    if (!idx || !x || !y) abort();
    for (size_t base = 0; base < n; base += chunk) {
        size_t B = n - base < chunk ? n - base : chunk;
        for (size_t b = 0; b < B; b++) idx[b] = base + b;
        CHECK_OK(fetch(t, split, idx, B, x, y));
        check_batch(label, x, y, T, B, base, st);
        for (size_t b = 0; b < B; b++) {
            for (size_t k = 0; k < T; k++)
                for (size_t c = 0; c < 2; c++)
                    xs[((base + b) * T + k) * 2 + c] = x[(k * B + b) * 2 + c];
            ys[base + b] = y[b];
        }
    }
    free(idx);
    free(x);
    free(y);
}

static void test_metadata_and_splits(void)
{
    dale_task *r = make_task(NSEQ, TLEN, 1000, 7, 0), *p = make_task(NSEQ, TLEN, 1000, 7, 1);
    if (!r || !p) {
        dale_task_free(r);
        dale_task_free(p);
        return;
    }
    CHECK(strcmp(r->name, "adding") == 0, "name '%s'", r->name);
    CHECK(r->T == TLEN && r->input == 2 && r->output == 1, "T %zu input %zu output %zu", r->T,
          r->input, r->output);
    CHECK(r->loss == DALE_LOSS_MSE_LAST, "loss %d want MSE at the last step", (int)r->loss);
    CHECK(r->count[DALE_SPLIT_TRAIN] == 9000 && r->count[DALE_SPLIT_VAL] == 0 &&
              r->count[DALE_SPLIT_TEST] == 1000,
          "reference split %zu/%zu/%zu want 9000/0/1000", r->count[0], r->count[1], r->count[2]);
    CHECK(p->count[DALE_SPLIT_TRAIN] == 8000 && p->count[DALE_SPLIT_VAL] == 1000 &&
              p->count[DALE_SPLIT_TEST] == 1000,
          "paper split %zu/%zu/%zu want 8000/1000/1000", p->count[0], p->count[1], p->count[2]);

    /* Whole data set through both splittings. */
    size_t S = TLEN * 2;
    float *rx = malloc(NSEQ * S * sizeof *rx), *ry = malloc(NSEQ * sizeof *ry);
    float *px = malloc(NSEQ * S * sizeof *px), *py = malloc(NSEQ * sizeof *py);
    stats *st = calloc(1, sizeof *st);
    if (!rx || !ry || !px || !py || !st) abort();
    fetch_split(r, DALE_SPLIT_TRAIN, rx, ry, st, "ref train");
    fetch_split(r, DALE_SPLIT_TEST, rx + 9000 * S, ry + 9000, st, "ref test");
    fetch_split(p, DALE_SPLIT_TRAIN, px, py, NULL, "paper train");
    fetch_split(p, DALE_SPLIT_VAL, px + 8000 * S, py + 8000, NULL, "paper val");
    fetch_split(p, DALE_SPLIT_TEST, px + 9000 * S, py + 9000, NULL, "paper test");
    /* One data set: ref train = paper train ++ paper val; both tests = last 1000. */
    CHECK(memcmp(rx, px, NSEQ * S * sizeof *rx) == 0 && memcmp(ry, py, NSEQ * sizeof *ry) == 0,
          "paper split does not partition the same sequences as the reference split in order");
    /* Distinct sequences: no two consecutive sequences identical. */
    size_t dup = 0;
    for (size_t s = 1; s < NSEQ; s++) dup += memcmp(rx + s * S, rx + (s - 1) * S, S * sizeof *rx) == 0;
    CHECK(dup == 0, "%zu sequences equal to their predecessor", dup);

    /* Positions uniform over all T: 2N marks, expected 2N/T each; chi-square
     * with T−1 = 19 dof, P(χ² > 50) ≈ 1e-4. */
    double e = 2.0 * NSEQ / TLEN, chi = 0;
    for (size_t k = 0; k < TLEN; k++) chi += ((double)st->pos[k] - e) * ((double)st->pos[k] - e) / e;
    CHECK(chi < 50.0, "mark positions not uniform: chi2 %.1f (19 dof)", chi);
    /* Unordered pairs uniform over all C(T, 2) = 190: dof 189, mean 189,
     * sd √378 ≈ 19.4; bound mean + 5 sd. */
    double ep = (double)NSEQ / (TLEN * (TLEN - 1) / 2), chp = 0;
    size_t empty = 0;
    for (size_t a = 0; a < TLEN; a++)
        for (size_t b = a + 1; b < TLEN; b++) {
            double o = (double)st->pair[a][b];
            chp += (o - ep) * (o - ep) / ep;
            empty += st->pair[a][b] == 0;
        }
    CHECK(chp < 189.0 + 5.0 * sqrt(378.0), "mark pairs not uniform: chi2 %.1f (189 dof)", chp);
    CHECK(empty == 0, "%zu position pairs never marked", empty);
    /* No half-split constraint: both marks in one half happens ≈ 2·C(10,2)/C(20,2) = 47 %. */
    double fb = (double)st->first_half_both / NSEQ, sb = (double)st->second_half_both / NSEQ;
    double want_half = 45.0 / 190.0, se = sqrt(want_half * (1 - want_half) / NSEQ);
    CHECK(fabs(fb - want_half) < 5 * se && fabs(sb - want_half) < 5 * se,
          "both marks in the first / second half: %.4f / %.4f want %.4f", fb, sb, want_half);
    /* Values U[0, 1): mean 1/2 with se √(1/12/(N T)). */
    double vm = st->vsum / (double)st->vals;
    CHECK(fabs(vm - 0.5) < 5 * sqrt(1.0 / 12.0 / (double)st->vals), "mean value %.5f want 0.5", vm);
    /* Targets: mean 1, and every target in [0, 2). */
    double tsum = 0;
    size_t tbad = 0;
    for (size_t s = 0; s < NSEQ; s++) {
        tsum += (double)ry[s];
        tbad += !(ry[s] >= 0.0f && ry[s] < 2.0f);
    }
    CHECK(tbad == 0, "%zu targets outside [0, 2)", tbad);
    CHECK(fabs(tsum / NSEQ - 1.0) < 5 * sqrt(2.0 / 12.0 / NSEQ), "mean target %.4f want 1",
          tsum / NSEQ);
    free(rx);
    free(ry);
    free(px);
    free(py);
    free(st);
    dale_task_free(r);
    dale_task_free(p);
}

/* Layout: a batch of arbitrary indices (repeats, reverse order) is the
 * time-major interleave of the same samples fetched one at a time. */
static void test_layout(void)
{
    dale_task *t = make_task(3000, 13, 500, 99, 0);
    if (!t) return;
    static const size_t idx[7] = {2499, 0, 17, 1234, 17, 3, 2000};
    const size_t B = 7, T = 13;
    float x[7 * 13 * 2], y[7], x1[13 * 2], y1;
    for (size_t k = 0; k < sizeof x / sizeof x[0]; k++) x[k] = NAN;
    for (size_t k = 0; k < B; k++) y[k] = NAN;
    CHECK_OK(fetch(t, DALE_SPLIT_TRAIN, idx, B, x, y));
    check_batch("layout batch", x, y, T, B, 0, NULL);
    size_t bad = 0;
    for (size_t b = 0; b < B; b++) {
        CHECK_OK(fetch(t, DALE_SPLIT_TRAIN, &idx[b], 1, x1, &y1));
        for (size_t k = 0; k < T; k++)
            for (size_t c = 0; c < 2; c++)
                if (x[(k * B + b) * 2 + c] != x1[k * 2 + c]) {
                    if (bad++ < 4)
                        printf("  layout: x[t=%zu, b=%zu, %zu] = %g, single fetch %g\n", k, b, c,
                               (double)x[(k * B + b) * 2 + c], (double)x1[k * 2 + c]);
                }
        bad += y[b] != y1;
    }
    CHECK(bad == 0, "batch layout differs from single-sample fetches in %zu places", bad);
    CHECK(memcmp(x + 2 * 2, x + 4 * 2, 2 * sizeof *x) == 0, "repeated index 17 differs at t=0");
    /* Samples differ from each other (indices 0 and 3 of the batch). */
    size_t same = 0;
    for (size_t k = 0; k < T; k++) same += x[(k * B + 1) * 2] == x[(k * B + 5) * 2];
    CHECK(same < T, "samples 0 and 3 have identical values");
    /* Test split index 0 is sequence N − n_test: differs from train index 0. */
    float xt[13 * 2], yt;
    size_t zero = 0;
    CHECK_OK(fetch(t, DALE_SPLIT_TEST, &zero, 1, xt, &yt));
    CHECK_OK(fetch(t, DALE_SPLIT_TRAIN, &zero, 1, x1, &y1));
    CHECK(memcmp(xt, x1, sizeof xt) != 0, "test sample 0 equals train sample 0");
    dale_task_free(t);
}

static void test_seeds(void)
{
    dale_task *a = make_task(2000, TLEN, 200, 5, 0), *b = make_task(2000, TLEN, 200, 5, 0),
              *c = make_task(2000, TLEN, 200, 6, 0);
    if (a && b && c) {
        size_t n = 1800;
        size_t *idx = malloc(n * sizeof *idx);
        float *xa = malloc(n * TLEN * 2 * sizeof *xa), *xb = malloc(n * TLEN * 2 * sizeof *xb),
              *xc = malloc(n * TLEN * 2 * sizeof *xc);
        float *ya = malloc(n * sizeof *ya), *yb = malloc(n * sizeof *yb), *yc = malloc(n * sizeof *yc);
        if (!idx || !xa || !xb || !xc || !ya || !yb || !yc) abort();
        for (size_t k = 0; k < n; k++) idx[k] = (k * 7919) % n;
        CHECK_OK(fetch(a, DALE_SPLIT_TRAIN, idx, n, xa, ya));
        CHECK_OK(fetch(b, DALE_SPLIT_TRAIN, idx, n, xb, yb));
        CHECK_OK(fetch(c, DALE_SPLIT_TRAIN, idx, n, xc, yc));
        CHECK(memcmp(xa, xb, n * TLEN * 2 * sizeof *xa) == 0 && memcmp(ya, yb, n * sizeof *ya) == 0,
              "same data_seed gave different batches");
        size_t same = 0;
        for (size_t k = 0; k < n * TLEN * 2; k += 2) same += xa[k] == xc[k];
        CHECK(same < n * TLEN / 100, "data_seed 5 and 6 share %zu of %zu values", same, n * TLEN);
        CHECK(memcmp(ya, yc, n * sizeof *ya) != 0, "data_seed 5 and 6 gave the same targets");
        free(idx);
        free(xa);
        free(xb);
        free(xc);
        free(ya);
        free(yb);
        free(yc);
    }
    dale_task_free(a);
    dale_task_free(b);
    dale_task_free(c);
    /* T = 2: both positions are always marked. */
    dale_task *t = make_task(50, 2, 10, 1, 1);
    if (t) {
        size_t idx[30];
        float x[2 * 30 * 2], y[30];
        for (size_t k = 0; k < 30; k++) idx[k] = k;
        CHECK_OK(fetch(t, DALE_SPLIT_TRAIN, idx, 30, x, y));
        check_batch("T=2", x, y, 2, 30, 0, NULL);
        size_t bad = 0;
        for (size_t k = 0; k < 30 * 2; k++) bad += x[k * 2 + 1] != 1.0f;
        CHECK(bad == 0, "T = 2: %zu unmarked positions", bad);
        dale_task_free(t);
    }
}

static void expect_arg(size_t N, size_t T, size_t n_test, int paper, const char *what)
{
    long live = dalei_alloc_live();
    dale_adding_config c = {.N = N, .T = T, .n_test = n_test, .data_seed = 1, .paper_split = paper};
    dale_task *t = (dale_task *)&c; /* must be reset to NULL */
    dale_status st = dale_task_adding_create(&c, &t);
    CHECK(st == DALE_ERR_ARG, "%s: status %d want DALE_ERR_ARG", what, st);
    CHECK(t == NULL, "%s: *out not NULL on failure", what);
    CHECK(dale_last_error()[0] != '\0', "%s: no error message", what);
    if (st == DALE_OK) dale_task_free(t);
    CHECK(dalei_alloc_live() == live, "%s: leak", what);
}

static void test_errors(void)
{
    long live0 = dalei_alloc_live();
    expect_arg(100, 1, 10, 0, "T = 1");
    expect_arg(100, 0, 10, 0, "T = 0");
    expect_arg(1000, TLEN, 1000, 0, "N = n_test (reference)");
    expect_arg(999, TLEN, 1000, 0, "N < n_test");
    expect_arg(2000, TLEN, 1000, 1, "N = 2 n_test (paper)");
    expect_arg(100, TLEN, 0, 0, "n_test = 0");
    /* Smallest valid sizes. */
    dale_task *t = make_task(11, TLEN, 10, 1, 0), *p = make_task(21, TLEN, 10, 1, 1);
    CHECK(t && t->count[0] == 1, "N = n_test + 1 should give one training sequence");
    CHECK(p && p->count[0] == 1 && p->count[1] == 10, "paper N = 2 n_test + 1: %zu train",
          p ? p->count[0] : 0);
    dale_task_free(p);
    dale_task_free(t);

    /* Out-of-range sample indices: an error, not a crash or a read past the split. */
    t = make_task(100, TLEN, 10, 3, 0);
    if (t) {
        float x[3 * TLEN * 2], y[3];
        size_t bad_tr[3] = {0, 90, 1}, bad_te[1] = {10}, bad_big[1] = {(size_t)-1}, zero = 0;
        CHECK(fetch(t, DALE_SPLIT_TRAIN, bad_tr, 3, x, y) == DALE_ERR_ARG, "train index 90 of 90");
        CHECK(strstr(dale_last_error(), "90") != NULL, "message '%s' lacks the index",
              dale_last_error());
        CHECK(fetch(t, DALE_SPLIT_TEST, bad_te, 1, x, y) == DALE_ERR_ARG, "test index 10 of 10");
        CHECK(fetch(t, DALE_SPLIT_TRAIN, bad_big, 1, x, y) == DALE_ERR_ARG, "index SIZE_MAX");
        CHECK(fetch(t, DALE_SPLIT_VAL, &zero, 1, x, y) == DALE_ERR_ARG,
              "validation index 0 with no validation split");
        /* The task still works afterwards. */
        size_t ok[2] = {89, 9};
        CHECK_OK(fetch(t, DALE_SPLIT_TRAIN, ok, 1, x, y));
        CHECK_OK(fetch(t, DALE_SPLIT_TEST, ok + 1, 1, x, y));
        dale_task_free(t);
    }
    dale_task_free(NULL);
    CHECK(dalei_alloc_live() == live0, "errors leaked %ld allocations", dalei_alloc_live() - live0);

    /* Allocation failure at every call of create. */
    long live = dalei_alloc_live();
    int reached = 0;
    for (long k = 1; k <= 50 && !reached; k++) {
        dale_adding_config c = {.N = 30, .T = 5, .n_test = 5, .data_seed = 2, .paper_split = 1};
        dale_task *tk = (dale_task *)&c;
        dalei_alloc_fail_at(k);
        dale_status st = dale_task_adding_create(&c, &tk);
        dalei_alloc_fail_at(0);
        CHECK(st == DALE_OK || st == DALE_ERR_NOMEM, "fail at %ld -> %d", k, st);
        CHECK(st == DALE_OK || tk == NULL, "fail at %ld: *out not NULL", k);
        reached = st == DALE_OK;
        if (st == DALE_OK) dale_task_free(tk);
        CHECK(dalei_alloc_live() == live, "fail at %ld: %ld allocations leaked", k,
              dalei_alloc_live() - live);
    }
    CHECK(reached, "adding create never succeeded under failure injection");
}

int main(void)
{
    long live = dalei_alloc_live();
    test_metadata_and_splits();
    test_layout();
    test_seeds();
    test_errors();
    CHECK(dalei_alloc_live() == live, "leaked %ld allocations overall", dalei_alloc_live() - live);
    return check_done("test_adding");
}
