/* test_init.c — initialisation invariants of dale_net_init over many seeds.
 *
 * Paper Sec. 2.2 and docs/reference-behaviour.md.  What is checked, per family:
 *   E/I split   every (N, r) of the E/I split table and the p-grid ratios.
 *   ColEI       ρ(W_eff) = ρ after rescaling; column signs of W, of deeper
 *               U, of dense/readout W; first-layer U > 0; zero diagonal (or
 *               not); biases 0; the ColEI init scales σE, σI as sample means of the
 *               unscaled matrices (deeper U, dense, readout) and of the
 *               first-layer U (1/√d); E/I balance of the recurrent rows;
 *               the I/E magnitude ratio nE/nI; mean NSE per ratio (NSE table recipe).
 *   DANN        factors ≥ 0; EI rows sum to 1; IE rows = column-mean row of
 *               EE; W_eff = EE − mean_col(EE) (column sums 0); Var·n = 1/3;
 *               ρ, σ_max, NSE (NSE table recipe); readout variance 2/n_in; m = 1
 *               readout exactly 0; the random-W_IE variant's σ_max.
 *   RNN         bounds ±1/√n, Var·n = 1/3, NSE, He readout, He input option.
 *   All         determinism by seed; every parameter written by init; bad
 *               configs → DALE_ERR_ARG naming the field; allocation failure
 *               at every call of create + plan + init, without leaks.
 *
 * Statistical tolerances are stated next to each check as a multiple (≥ 4)
 * of the standard error of the estimate under the reference distribution, so a
 * fixed-seed run passes with a wide margin yet a swapped σE/σI, a wrong sign
 * convention or a wrong variance fails by many standard errors.
 * Run from the repository root.  Keep it under a few seconds.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/linalg.h"
#include "dale/model.h"
#include "dale/rng.h"
#include "dale/spectral.h"
#include "internal.h"

#define SENTINEL 12345.0f /* theta is filled with this before init */
#define PI_D 3.14159265358979323846
#define COLEI_C ((2.0 * PI_D - 1.0) / (2.0 * PI_D))

/* ------------------------------------------------------------- helpers */

static dale_net_config make_cfg(dale_model_type type, size_t d, size_t n, size_t m, double ratio)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = type;
    c.input = d;
    c.hidden = n;
    c.output = m;
    c.ei_ratio = ratio;
    return c;
}

/* Create, poison theta, init from `seed`; checks that init wrote every
 * parameter entry (no SENTINEL survives).  NULL on failure (recorded). */
static dale_net *make_net(const dale_net_config *c, uint64_t seed)
{
    dale_net *net = NULL;
    dale_status st = dale_net_create(c, &net);
    CHECK(st == DALE_OK, "create (%s, n %zu) -> %d: %s", dale_model_name(c->type), c->hidden,
          st, dale_last_error());
    if (st) return NULL;
    float *th = dale_net_theta(net);
    size_t size = dale_net_size(net);
    for (size_t k = 0; k < size; k++) th[k] = SENTINEL;
    dale_rng rng;
    dale_rng_seed(&rng, seed);
    st = dale_net_init(net, &rng);
    CHECK(st == DALE_OK, "init (%s, seed %llu) -> %d: %s", dale_model_name(c->type),
          (unsigned long long)seed, st, dale_last_error());
    if (st) {
        dale_net_free(net);
        return NULL;
    }
    size_t left = 0;
    for (size_t k = 0; k < size; k++) left += th[k] == SENTINEL;
    CHECK(left == 0, "%s seed %llu: %zu theta entries not written by init",
          dale_model_name(c->type), (unsigned long long)seed, left);
    return net;
}

/* Raw parameter by name (rows, cols out); NULL + failure if absent. */
static const float *par(dale_net *net, const char *name, size_t *rows, size_t *cols)
{
    int i = dale_net_find(net, name);
    CHECK(i >= 0, "parameter %s missing", name);
    if (i < 0) return NULL;
    const dale_param *p = dale_net_param(net, (size_t)i);
    if (rows) *rows = p->rows;
    if (cols) *cols = p->cols;
    return dale_net_theta(net) + p->offset;
}

/* Biases all exactly 0 (unless skip_first: the first cell's bias), and every
 * DALE_P_NONNEG parameter ≥ 0. */
static void check_table(dale_net *net, const char *label, int skip_first_bias)
{
    const float *th = dale_net_theta(net);
    size_t bad_bias = 0, bad_neg = 0;
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *p = dale_net_param(net, i);
        const float *v = th + p->offset;
        size_t cnt = p->rows * p->cols;
        if (p->flags & DALE_P_BIAS) {
            if (skip_first_bias && strcmp(p->name, "cell0.b") == 0) continue;
            for (size_t k = 0; k < cnt; k++) bad_bias += v[k] != 0.0f;
        }
        if (p->flags & DALE_P_NONNEG)
            for (size_t k = 0; k < cnt; k++) bad_neg += !(v[k] >= 0.0f);
    }
    CHECK(bad_bias == 0, "%s: %zu bias entries not 0 after init", label, bad_bias);
    CHECK(bad_neg == 0, "%s: %zu entries of non-negative parameters < 0", label, bad_neg);
}

static double *to_double(const float *a, size_t count)
{
    double *d = malloc(count * sizeof *d);
    if (!d) abort();
    for (size_t k = 0; k < count; k++) d[k] = (double)a[k];
    return d;
}

static float *fbuf(size_t count)
{
    float *p = malloc((count ? count : 1) * sizeof *p);
    if (!p) abort();
    return p;
}

/* Running sum for means / variances. */
typedef struct acc {
    double n, s, ss;
} acc;
static void acc_add(acc *a, double x)
{
    a->n += 1;
    a->s += x;
    a->ss += x * x;
}
static double acc_mean(const acc *a) { return a->s / a->n; }
static double acc_sd(const acc *a)
{
    double m = acc_mean(a);
    double v = (a->ss - a->n * m * m) / (a->n - 1);
    return v > 0 ? sqrt(v) : 0.0;
}

/* Sample of exponential magnitudes with expected mean `want`: the mean must
 * be within 4.5 standard errors (sd of Exp = its mean); with enough samples
 * the coefficient of variation must be ≈ 1 (a uniform family has 1/√3). */
static void check_exp_sample(const char *label, const acc *a, double want)
{
    double mean = acc_mean(a), se = want / sqrt(a->n);
    CHECK(fabs(mean - want) <= 4.5 * se, "%s: mean %.6f want %.6f (se %.2g, n %.0f)", label, mean,
          want, se, a->n);
    if (a->n >= 2000) {
        /* Var of the sample sd of Exp: ≈ 2 σ²/(4n)·(kurt−1) with kurt 9 → se(CV) ≈ √(2/n). */
        double cv = acc_sd(a) / mean;
        CHECK(fabs(cv - 1.0) <= 5.0 * sqrt(2.0 / a->n), "%s: coefficient of variation %.4f want 1",
              label, cv);
    }
}

static double colei_sigma_e(size_t ne, size_t ni)
{
    double e = (double)ne, i = (double)ni;
    return sqrt(1.0 / (COLEI_C * (e + e * e / i)));
}

/* Column signs of a (rows, cols) effective ColEI matrix with the split of
 * its input width: E columns ≥ 0, the last nI columns ≤ 0; off-diagonal
 * entries strictly signed (Exp draws are > 0 almost surely).  Accumulates
 * |entries| of E / I columns (off-diagonal when square_diag). */
static void check_colsigns(const char *label, const float *M, size_t rows, size_t cols,
                           double ratio, int square_diag, acc *ae, acc *ai)
{
    size_t ne, ni, bad = 0;
    dale_ei_split(cols, ratio, &ne, &ni);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            if (square_diag && i == j) continue;
            float v = M[i * cols + j];
            if (j < ne ? !(v > 0.0f) : !(v < 0.0f)) bad++;
            if (j < ne) { if (ae) acc_add(ae, (double)v); }
            else if (ai) acc_add(ai, -(double)v);
        }
    CHECK(bad == 0, "%s: %zu entries with the wrong column sign (split %zu E / %zu I)", label, bad,
          ne, ni);
}

/* ------------------------------------------------------------- E/I split */

static void test_ei_split(void)
{
    static const size_t Ns[6] = {10, 28, 100, 300, 500, 1000};
    static const double rs[3] = {99, 9, 1};
    /* E/I split table: nE for r = 99, 9, 1 */
    static const size_t ne_tab[6][3] = {{9, 9, 5},       {27, 25, 14},    {99, 90, 50},
                                        {297, 270, 150}, {495, 450, 250}, {990, 900, 500}};
    for (size_t a = 0; a < 6; a++)
        for (size_t b = 0; b < 3; b++) {
            size_t ne = 0, ni = 0;
            dale_ei_split(Ns[a], rs[b], &ne, &ni);
            CHECK(ne == ne_tab[a][b] && ni == Ns[a] - ne_tab[a][b],
                  "split(%zu, %g) = %zu/%zu want %zu/%zu", Ns[a], rs[b], ne, ni, ne_tab[a][b],
                  Ns[a] - ne_tab[a][b]);
        }
    /* p = linspace(0.01, 0.5, 10) (NumPy: start + k*step, last = stop), r = 1/p − 1. */
    static const size_t ni100[10] = {1, 7, 12, 18, 23, 29, 34, 40, 45, 50};
    static const size_t ni1000[10] = {10, 65, 119, 174, 228, 283, 337, 392, 446, 500};
    double step = (0.5 - 0.01) / 9.0;
    for (size_t k = 0; k < 10; k++) {
        double p = k == 9 ? 0.5 : 0.01 + (double)k * step;
        double r = 1.0 / p - 1.0;
        size_t ne, ni;
        dale_ei_split(100, r, &ne, &ni);
        CHECK(ni == ni100[k] && ne + ni == 100, "grid N=100 p=%.4f r=%.4f: %zu/%zu want nI %zu", p,
              r, ne, ni, ni100[k]);
        dale_ei_split(1000, r, &ne, &ni);
        CHECK(ni == ni1000[k] && ne + ni == 1000, "grid N=1000 p=%.4f r=%.4f: %zu/%zu want nI %zu",
              p, r, ne, ni, ni1000[k]);
    }
    /* nE + nI = N and nI = ceil(N/(r+1)) over a sweep. */
    static const double sweep[8] = {0.37, 1, 2.5, 3, 7.4112, 9, 14.5172, 1e6};
    size_t bad = 0;
    for (size_t N = 1; N <= 1200; N++)
        for (size_t k = 0; k < 8; k++) {
            size_t ne, ni;
            dale_ei_split(N, sweep[k], &ne, &ni);
            size_t want = (size_t)ceil((double)N / (sweep[k] + 1.0));
            if (ne + ni != N || ni != want || ni < 1) bad++;
        }
    CHECK(bad == 0, "split sweep: %zu (N, r) pairs with nE + nI != N or nI != ceil", bad);
}

/* ----------------------------------------------------------------- ColEI */

typedef struct colei_case {
    const char *label;
    size_t d, n, m, layers, dense; /* dense: width of one dense layer, 0 = none */
    double ratio;
    int seeds;
    double nse_want, nse_tol; /* nse_tol 0: no NSE check */
} colei_case;

static void colei_check(const colei_case *cc)
{
    dale_net_config c = make_cfg(DALE_MODEL_COLEI, cc->d, cc->n, cc->m, cc->ratio);
    c.layers = cc->layers;
    if (cc->dense) {
        c.ndense = 1;
        c.dense[0] = cc->dense;
    }
    size_t n = cc->n, ne, ni;
    dale_ei_split(n, cc->ratio, &ne, &ni);
    size_t top = cc->dense ? cc->dense : n, tne, tni;
    dale_ei_split(top, cc->ratio, &tne, &tni);
    double se_n = colei_sigma_e(ne, ni), si_n = se_n * (double)ne / (double)ni;
    double se_t = colei_sigma_e(tne, tni), si_t = se_t * (double)tne / (double)tni;

    acc u0 = {0}, ue = {0}, ui = {0}, de = {0}, di = {0}, oe = {0}, oi = {0}, nse = {0};
    double zsum = 0, ratio_sum = 0;
    int zcount = 0, rcount = 0;
    char lab[96];
    float *W = fbuf(n * n), *U = fbuf(n * (cc->d > n ? cc->d : n)), *O = fbuf(cc->m * top);
    for (int s = 0; s < cc->seeds; s++) {
        dale_net *net = make_net(&c, 1000 + (uint64_t)s);
        if (!net) continue;
        snprintf(lab, sizeof lab, "%s seed %d", cc->label, s);
        check_table(net, lab, 0);
        for (size_t k = 0; k < cc->layers; k++) {
            size_t dk = k == 0 ? cc->d : n;
            CHECK_OK(dale_net_effective(net, k, W, U));
            snprintf(lab, sizeof lab, "%s seed %d cell %zu", cc->label, s, k);
            /* ρ(W_eff) = ρ: W_pos is float32, so the rescaled radius is off by
             * the rounding of the entries only (~1e-7 relative). */
            double *Wd = to_double(W, n * n), rho = 0;
            CHECK_OK(dale_spectral_radius(Wd, n, &rho));
            CHECK(fabs(rho - c.rho) <= 1e-6 * c.rho, "%s: rho %.9f want %.9f", lab, rho, c.rho);
            free(Wd);
            size_t diag_bad = 0;
            for (size_t i = 0; i < n; i++) diag_bad += W[i * n + i] != 0.0f;
            CHECK(diag_bad == 0, "%s: %zu non-zero diagonal entries with zero_diag", lab,
                  diag_bad);
            acc we = {0}, wi = {0};
            check_colsigns(lab, W, n, n, cc->ratio, 1, &we, &wi);
            if (k == 0) {
                size_t bad = 0;
                for (size_t e = 0; e < n * dk; e++) {
                    bad += !(U[e] > 0.0f);
                    acc_add(&u0, (double)U[e]);
                }
                CHECK(bad == 0, "%s: %zu first-layer U entries not > 0", lab, bad);
            } else {
                snprintf(lab, sizeof lab, "%s seed %d cell %zu U", cc->label, s, k);
                check_colsigns(lab, U, n, n, cc->ratio, 0, &ue, &ui);
            }
            if (k == 0 && n >= 50) {
                /* E/I balance of the rows.  Row sums are independent across
                 * rows; z = mean / (sd/√n) is invariant to the ρ rescaling
                 * and ≈ N(0, 1) when E[row sum] = 0 (zero diagonal keeps the
                 * row average balanced: −nE σE + nI σI = 0).  Averaged over S
                 * seeds: sd 1/√S. */
                acc rs = {0};
                for (size_t i = 0; i < n; i++) {
                    double r = 0;
                    for (size_t j = 0; j < n; j++) r += (double)W[i * n + j];
                    acc_add(&rs, r);
                }
                zsum += acc_mean(&rs) / (acc_sd(&rs) / sqrt((double)n));
                zcount++;
            }
            if (k == 0) {
                /* mean |I weight| / mean E weight = σI/σE = nE/nI (scale-free). */
                ratio_sum += acc_mean(&wi) / acc_mean(&we);
                rcount++;
                dale_spectrum_summary sm;
                CHECK_OK(dale_spectrum_summarize_f32(W, n, &sm));
                acc_add(&nse, sm.nse);
            }
        }
        if (cc->dense) {
            /* Dense W_pos (dense, n): unscaled, split from n.  Signs are not
             * visible through dale_net_effective, so check the magnitudes. */
            size_t r, cl;
            const float *D = par(net, "dense0.W_pos", &r, &cl);
            if (D && r == cc->dense && cl == n)
                for (size_t i = 0; i < r; i++)
                    for (size_t j = 0; j < cl; j++) acc_add(j < ne ? &de : &di, (double)D[i * cl + j]);
        }
        CHECK_OK(dale_net_effective(net, cc->layers, O, NULL));
        snprintf(lab, sizeof lab, "%s seed %d readout", cc->label, s);
        check_colsigns(lab, O, cc->m, top, cc->ratio, 0, &oe, &oi);
        dale_net_free(net);
    }
    free(W);
    free(U);
    free(O);

    snprintf(lab, sizeof lab, "%s first-layer U ~ Exp(1/sqrt(d))", cc->label);
    check_exp_sample(lab, &u0, 1.0 / sqrt((double)cc->d));
    if (cc->layers > 1) {
        snprintf(lab, sizeof lab, "%s deeper U E columns (sigma_E)", cc->label);
        check_exp_sample(lab, &ue, se_n);
        snprintf(lab, sizeof lab, "%s deeper U I columns (sigma_I)", cc->label);
        check_exp_sample(lab, &ui, si_n);
    }
    if (cc->dense) {
        snprintf(lab, sizeof lab, "%s dense E columns (sigma_E)", cc->label);
        check_exp_sample(lab, &de, se_n);
        snprintf(lab, sizeof lab, "%s dense I columns (sigma_I)", cc->label);
        check_exp_sample(lab, &di, si_n);
    }
    snprintf(lab, sizeof lab, "%s readout E columns (sigma_E)", cc->label);
    check_exp_sample(lab, &oe, se_t);
    snprintf(lab, sizeof lab, "%s readout I columns (sigma_I)", cc->label);
    check_exp_sample(lab, &oi, si_t);

    if (zcount) {
        double zbar = zsum / zcount;
        CHECK(fabs(zbar) <= 4.0 / sqrt((double)zcount),
              "%s: row sums unbalanced: mean z %.3f over %d seeds (bound %.3f)", cc->label, zbar,
              zcount, 4.0 / sqrt((double)zcount));
    }
    if (rcount) {
        /* Per seed the ratio's relative se is √(1/#I + 1/#E) (Exp: sd = mean). */
        double cnt_i = (double)(n * ni - ni), cnt_e = (double)(n * ne - ne);
        double rel_se = sqrt(1.0 / cnt_i + 1.0 / cnt_e) / sqrt((double)rcount);
        double want = (double)ne / (double)ni, got = ratio_sum / rcount;
        CHECK(fabs(got / want - 1.0) <= 4.5 * rel_se,
              "%s: mean|I|/mean E = %.4f want nE/nI = %.4f (rel se %.3g)", cc->label, got, want,
              rel_se);
    }
    if (cc->nse_tol > 0) {
        CHECK(fabs(acc_mean(&nse) - cc->nse_want) <= cc->nse_tol,
              "%s: mean NSE %.4f want %.3f +- %.3f (%d seeds)", cc->label, acc_mean(&nse),
              cc->nse_want, cc->nse_tol, cc->seeds);
    }
}

static void test_colei(void)
{
    /* the ColEI init section's numeric σ values, checked against the formula used above */
    CHECK(fabs(colei_sigma_e(90, 10) - 0.036351) < 2e-6 &&
              fabs(colei_sigma_e(9, 1) * 9 - 1.034578) < 2e-6 &&
              fabs(colei_sigma_e(99, 1) * 99 - 1.085075) < 2e-6,
          "sigma formula disagrees with the reference sigma values");
    static const colei_case cases[] = {
        /* label           d   n    m  L  dense r   seeds  NSE (code recipe) */
        {"colei n100 r9", 28, 100, 10, 1, 0, 9.0, 30, 0.798, 0.02},
        {"colei n100 r1", 28, 100, 10, 1, 0, 1.0, 20, 0.921, 0.02},
        {"colei n100 r99", 28, 100, 10, 1, 0, 99.0, 20, 0.509, 0.03},
        {"colei n10 r9", 2, 10, 10, 1, 0, 9.0, 40, 0, 0},
        {"colei 2-layer+dense", 28, 100, 10, 2, 30, 9.0, 30, 0, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) colei_check(&cases[k]);

    /* zero_diag = 0: the diagonal carries draws; another ρ is honoured. */
    dale_net_config c = make_cfg(DALE_MODEL_COLEI, 28, 100, 10, 9.0);
    c.zero_diag = 0;
    c.rho = 0.8;
    float *W = fbuf(100 * 100);
    for (int s = 0; s < 3; s++) {
        dale_net *net = make_net(&c, 77 + (uint64_t)s);
        if (!net) continue;
        CHECK_OK(dale_net_effective(net, 0, W, NULL));
        size_t zeros = 0;
        for (size_t i = 0; i < 100; i++) zeros += W[i * 100 + i] == 0.0f;
        CHECK(zeros == 0, "zero_diag = 0: %zu zero diagonal entries", zeros);
        double *Wd = to_double(W, 100 * 100), rho = 0;
        CHECK_OK(dale_spectral_radius(Wd, 100, &rho));
        CHECK(fabs(rho - 0.8) <= 1e-6 * 0.8, "rho option: %.9f want 0.8", rho);
        free(Wd);
        dale_net_free(net);
    }
    free(W);

    /* Bias centering (option; reference default off): first-layer b = −√d x̄. */
    c = make_cfg(DALE_MODEL_COLEI, 2, 10, 1, 9.0);
    c.layers = 2;
    c.bias_centering = 1;
    c.input_mean = 0.3;
    dale_net *net = make_net(&c, 5);
    if (net) {
        size_t r;
        const float *b0 = par(net, "cell0.b", &r, NULL), *b1 = par(net, "cell1.b", NULL, NULL);
        float want = (float)(-sqrt(2.0) * 0.3);
        size_t bad = 0;
        for (size_t i = 0; b0 && b1 && i < r; i++) bad += b0[i] != want || b1[i] != 0.0f;
        CHECK(bad == 0, "bias centering: %zu wrong entries (want cell0.b = %g, cell1.b = 0)", bad,
              (double)want);
        check_table(net, "bias centering", 1);
        dale_net_free(net);
    }
}

/* ------------------------------------------------------------------ DANN */

/* max |row sum − 1| of a (rows, cols) matrix */
static double rowsum_dev(const float *M, size_t rows, size_t cols)
{
    double worst = 0;
    for (size_t i = 0; i < rows; i++) {
        double s = 0;
        for (size_t j = 0; j < cols; j++) s += (double)M[i * cols + j];
        worst = fmax(worst, fabs(s - 1.0));
    }
    return worst;
}

/* Column means of EE (rows, cols) into mean[cols]. */
static void col_means(const float *EE, size_t rows, size_t cols, double *mean)
{
    for (size_t j = 0; j < cols; j++) {
        double s = 0;
        for (size_t i = 0; i < rows; i++) s += (double)EE[i * cols + j];
        mean[j] = s / (double)rows;
    }
}

/* Checks one DANN map named prefix.{X}_EE/_IE/_EI with effective M (rows,
 * cols): EI rows sum to 1; (mean_row) every IE row = column means of EE and
 * M = EE − 1·mean_col(EE), column sums 0.  Returns Σ M² / (rows·cols). */
static double dann_map_check(dale_net *net, const char *label, const char *prefix, const char *X,
                             const float *M, size_t rows, size_t cols, size_t ni, int mean_row)
{
    char nm[48];
    size_t r1, c1, r2, c2, r3, c3;
    snprintf(nm, sizeof nm, "%s.%s_EE", prefix, X);
    const float *EE = par(net, nm, &r1, &c1);
    snprintf(nm, sizeof nm, "%s.%s_IE", prefix, X);
    const float *IE = par(net, nm, &r2, &c2);
    snprintf(nm, sizeof nm, "%s.%s_EI", prefix, X);
    const float *EI = par(net, nm, &r3, &c3);
    if (!EE || !IE || !EI) return NAN;
    CHECK(r1 == rows && c1 == cols && r2 == ni && c2 == cols && r3 == rows && c3 == ni,
          "%s %s: factor shapes EE %zux%zu IE %zux%zu EI %zux%zu (want n %zu, d %zu, nI %zu)",
          label, X, r1, c1, r2, c2, r3, c3, rows, cols, ni);
    if (r1 != rows || c1 != cols || r2 != ni || c2 != cols || r3 != rows || c3 != ni) return NAN;
    double dev = rowsum_dev(EI, rows, ni);
    CHECK(dev <= 1e-5, "%s %s_EI: rows sum to 1 +- %.3g", label, X, dev);
    double *mean = malloc(cols * sizeof *mean);
    if (!mean) abort();
    col_means(EE, rows, cols, mean);
    double ss = 0, worst_ie = 0, worst_m = 0, worst_cs = 0;
    for (size_t j = 0; j < cols; j++) {
        double cs = 0, ca = 0;
        for (size_t i = 0; i < rows; i++) {
            double v = (double)M[i * cols + j];
            ss += v * v;
            cs += v;
            ca += fabs(v);
            if (mean_row)
                worst_m = fmax(worst_m, fabs(v - ((double)EE[i * cols + j] - mean[j])) /
                                            (fabs(mean[j]) + 1e-30));
        }
        if (mean_row) {
            for (size_t k = 0; k < ni; k++)
                worst_ie = fmax(worst_ie, fabs((double)IE[k * cols + j] - mean[j]) /
                                              (fabs(mean[j]) + 1e-30));
            worst_cs = fmax(worst_cs, ca > 0 ? fabs(cs) / ca : 0.0);
        }
    }
    free(mean);
    if (mean_row) {
        /* float32 storage: relative errors of a few ulps */
        CHECK(worst_ie <= 1e-6, "%s %s_IE rows != column means of %s_EE (rel %.3g)", label, X, X,
              worst_ie);
        CHECK(worst_m <= 1e-5, "%s %s_eff != EE - mean_col(EE) (rel to mean %.3g)", label, X,
              worst_m);
        CHECK(worst_cs <= 1e-5, "%s %s_eff column sums not 0: |sum|/sum|.| = %.3g", label, X,
              worst_cs);
    }
    return ss / (double)(rows * cols);
}

static void test_dann(void)
{
    const size_t d = 28, n = 100, m = 10;
    const int S = 24;
    dale_net_config c = make_cfg(DALE_MODEL_DANN, d, n, m, 9.0); /* nI = 10, readout mI = 1 */
    float *W = fbuf(n * n), *U = fbuf(n * d), *O = fbuf(m * n);
    acc vw = {0}, vu = {0}, vo = {0}, rho = {0}, nse = {0}, smax = {0};
    char lab[64];
    for (int s = 0; s < S; s++) {
        dale_net *net = make_net(&c, 2000 + (uint64_t)s);
        if (!net) continue;
        snprintf(lab, sizeof lab, "dann seed %d", s);
        check_table(net, lab, 0);
        CHECK_OK(dale_net_effective(net, 0, W, U));
        CHECK_OK(dale_net_effective(net, 1, O, NULL));
        acc_add(&vw, dann_map_check(net, lab, "cell0", "W", W, n, n, 10, 1) * (double)n);
        acc_add(&vu, dann_map_check(net, lab, "cell0", "U", U, n, d, 10, 1) * (double)n);
        acc_add(&vo, dann_map_check(net, lab, "out", "W", O, m, n, 1, 1) * (double)n);
        size_t bound_bad = 0;
        dale_spectrum_summary sm;
        CHECK_OK(dale_spectrum_summarize_f32(W, n, &sm));
        /* Per-seed ρ: a loose sanity band; the mean is checked below. */
        bound_bad += !(sm.rho > 0.45 && sm.rho < 0.8);
        CHECK(bound_bad == 0, "%s: rho %.4f outside (0.45, 0.8)", lab, sm.rho);
        acc_add(&rho, sm.rho);
        acc_add(&nse, sm.nse);
        acc_add(&smax, sm.sigma_max);
        dale_net_free(net);
    }
    /* Var·n estimates: Σ M²/(#entries) has expectation ν/n = 1/(3n) (W, U)
     * and 2/n_in (readout).  Per-seed relative se ≈ √(8/#entries) (centred
     * Exp: kurtosis 9): W 0.028, U 0.053, readout 0.089; over 24 seeds
     * 0.006, 0.011, 0.018 → bounds 3 %, 5.5 %, 9 % (≈ 5 se). */
    CHECK(fabs(acc_mean(&vw) * 3.0 - 1.0) <= 0.03, "dann Var(W)*n = %.4f want 1/3", acc_mean(&vw));
    CHECK(fabs(acc_mean(&vu) * 3.0 - 1.0) <= 0.055, "dann Var(U)*n = %.4f want 1/3", acc_mean(&vu));
    CHECK(fabs(acc_mean(&vo) / 2.0 - 1.0) <= 0.09, "dann Var(W_out)*n_in = %.4f want 2",
          acc_mean(&vo));
    CHECK(acc_mean(&rho) >= 0.55 && acc_mean(&rho) <= 0.68, "dann mean rho %.4f not in [0.55, 0.68]",
          acc_mean(&rho));
    CHECK(fabs(acc_mean(&nse) - 0.949) <= 0.01, "dann mean NSE %.4f want 0.949 +- 0.01",
          acc_mean(&nse));
    CHECK(fabs(acc_mean(&smax) - 1.175) <= 0.08, "dann mean sigma_max %.4f want 1.175 +- 0.08",
          acc_mean(&smax));

    /* Random W_IE (code default; PTB, ρ-sweep): iid Exp(s), so column sums
     * no longer vanish and a mean component raises σ_max to ≈ 2.06. */
    c.dann_wie_random = 1;
    acc rsmax = {0}, rnse = {0};
    for (int s = 0; s < 20; s++) {
        dale_net *net = make_net(&c, 3000 + (uint64_t)s);
        if (!net) continue;
        snprintf(lab, sizeof lab, "dann random seed %d", s);
        check_table(net, lab, 0);
        CHECK_OK(dale_net_effective(net, 0, W, U));
        dann_map_check(net, lab, "cell0", "W", W, n, n, 10, 0);
        dann_map_check(net, lab, "cell0", "U", U, n, d, 10, 1); /* U stays mean-row */
        size_t r, cl;
        const float *IE = par(net, "cell0.W_IE", &r, &cl);
        size_t equal_rows = 0;
        for (size_t k = 1; IE && k < r; k++) equal_rows += memcmp(IE, IE + k * cl, cl * sizeof *IE) == 0;
        CHECK(equal_rows == 0, "%s: W_IE rows are copies (not iid)", lab);
        dale_spectrum_summary sm;
        CHECK_OK(dale_spectrum_summarize_f32(W, n, &sm));
        acc_add(&rsmax, sm.sigma_max);
        acc_add(&rnse, sm.nse);
        dale_net_free(net);
    }
    CHECK(fabs(acc_mean(&rsmax) - 2.06) <= 0.15, "dann random W_IE: mean sigma_max %.4f want 2.06",
          acc_mean(&rsmax));
    CHECK(fabs(acc_mean(&rnse) - 0.946) <= 0.015, "dann random W_IE: mean NSE %.4f want 0.946",
          acc_mean(&rnse));

    /* m = 1 (adding): the mean row of a one-row W_EE is the row itself, so
     * the readout is exactly 0 at init (docs/reference-behaviour.md, DANN init). */
    dale_net_config a = make_cfg(DALE_MODEL_DANN, 2, 10, 1, 9.0);
    for (int s = 0; s < 5; s++) {
        dale_net *net = make_net(&a, 4000 + (uint64_t)s);
        if (!net) continue;
        float o[10], w[100], u[20];
        CHECK_OK(dale_net_effective(net, 1, o, NULL));
        size_t nz = 0;
        for (size_t j = 0; j < 10; j++) nz += o[j] != 0.0f;
        CHECK(nz == 0, "dann m=1 seed %d: %zu readout entries not exactly 0", s, nz);
        const float *ei = par(net, "out.W_EI", NULL, NULL);
        CHECK(ei && ei[0] == 1.0f, "dann m=1: out.W_EI = %g want 1", ei ? (double)ei[0] : -1.0);
        const float *ee = par(net, "out.W_EE", NULL, NULL);
        size_t zero_ee = 0;
        for (size_t j = 0; ee && j < 10; j++) zero_ee += !(ee[j] > 0.0f);
        CHECK(zero_ee == 0, "dann m=1: out.W_EE has %zu non-positive entries", zero_ee);
        /* n = 10 → nI = max(10 // 10, 1) = 1: W_EI is a column of ones */
        CHECK_OK(dale_net_effective(net, 0, w, u));
        snprintf(lab, sizeof lab, "dann adding seed %d", s);
        dann_map_check(net, lab, "cell0", "W", w, 10, 10, 1, 1);
        dann_map_check(net, lab, "cell0", "U", u, 10, 2, 1, 1);
        check_table(net, lab, 0);
        dale_net_free(net);
    }
    free(W);
    free(U);
    free(O);
}

/* ------------------------------------------------------------------- RNN */

static void test_rnn(void)
{
    const size_t d = 28, n = 100, m = 10;
    const int S = 20;
    dale_net_config c = make_cfg(DALE_MODEL_RNN, d, n, m, 9.0);
    c.layers = 2;
    float *W = fbuf(n * n), *U = fbuf(n * n), *O = fbuf(m * n);
    const double bound = 1.0 / sqrt((double)n);
    acc vw = {0}, vo = {0}, mw = {0}, nse = {0}, smax = {0};
    char lab[64];
    for (int s = 0; s < S; s++) {
        dale_net *net = make_net(&c, 5000 + (uint64_t)s);
        if (!net) continue;
        snprintf(lab, sizeof lab, "rnn seed %d", s);
        check_table(net, lab, 0);
        for (size_t k = 0; k < 2; k++) {
            size_t dk = k ? n : d, out = 0;
            CHECK_OK(dale_net_effective(net, k, W, U));
            for (size_t e = 0; e < n * n; e++) out += !(fabs((double)W[e]) <= bound * (1 + 1e-6));
            for (size_t e = 0; e < n * dk; e++) out += !(fabs((double)U[e]) <= bound * (1 + 1e-6));
            CHECK(out == 0, "%s cell %zu: %zu entries outside +-1/sqrt(n)", lab, k, out);
            if (k == 0) {
                double ss = 0, sum = 0;
                for (size_t e = 0; e < n * n; e++) {
                    ss += (double)W[e] * (double)W[e];
                    sum += (double)W[e];
                }
                acc_add(&vw, ss / (double)(n * n) * (double)n);
                acc_add(&mw, sum / (double)(n * n));
                dale_spectrum_summary sm;
                CHECK_OK(dale_spectrum_summarize_f32(W, n, &sm));
                acc_add(&nse, sm.nse);
                acc_add(&smax, sm.sigma_max);
            }
        }
        CHECK_OK(dale_net_effective(net, 2, O, NULL));
        double ss = 0;
        for (size_t e = 0; e < m * n; e++) ss += (double)O[e] * (double)O[e];
        acc_add(&vo, ss / (double)(m * n) * (double)n);
        dale_net_free(net);
    }
    /* U[−b, b]: Var = b²/3 = 1/(3n); per-seed rel se √(0.8/10⁴) ≈ 0.009,
     * /√20 → 0.002: bound 1.5 %.  Mean 0 with se b/√(3·10⁴·20). */
    CHECK(fabs(acc_mean(&vw) * 3.0 - 1.0) <= 0.015, "rnn Var(W)*n = %.4f want 1/3", acc_mean(&vw));
    CHECK(fabs(acc_mean(&mw)) <= 5.0 * bound / sqrt(3.0 * (double)(n * n) * S), "rnn mean(W) = %.3g",
          acc_mean(&mw));
    /* He normal: per-seed rel se √(2/1000) = 0.045, /√20 → 0.01: bound 5 %. */
    CHECK(fabs(acc_mean(&vo) / 2.0 - 1.0) <= 0.05, "rnn Var(W_out)*n = %.4f want 2", acc_mean(&vo));
    CHECK(fabs(acc_mean(&nse) - 0.954) <= 0.01, "rnn mean NSE %.4f want 0.954 +- 0.01",
          acc_mean(&nse));
    CHECK(fabs(acc_mean(&smax) - 1.145) <= 0.06, "rnn mean sigma_max %.4f want 1.145 +- 0.06",
          acc_mean(&smax));

    /* rnn_input_he: first-layer U ~ N(0, 2/d); W and deeper U unchanged. */
    c.rnn_input_he = 1;
    acc vu = {0};
    size_t beyond = 0;
    for (int s = 0; s < S; s++) {
        dale_net *net = make_net(&c, 6000 + (uint64_t)s);
        if (!net) continue;
        CHECK_OK(dale_net_effective(net, 0, W, U));
        double ss = 0;
        for (size_t e = 0; e < n * d; e++) {
            ss += (double)U[e] * (double)U[e];
            beyond += fabs((double)U[e]) > bound;
        }
        acc_add(&vu, ss / (double)(n * d) * (double)d);
        size_t out = 0;
        for (size_t e = 0; e < n * n; e++) out += !(fabs((double)W[e]) <= bound * (1 + 1e-6));
        CHECK_OK(dale_net_effective(net, 1, W, U));
        for (size_t e = 0; e < n * n; e++) out += !(fabs((double)U[e]) <= bound * (1 + 1e-6));
        CHECK(out == 0, "rnn he seed %d: %zu W / deeper-U entries outside +-1/sqrt(n)", s, out);
        dale_net_free(net);
    }
    /* Normal: per-seed rel se √(2/2800) = 0.027, /√20 → 0.006: bound 3 %. */
    CHECK(fabs(acc_mean(&vu) / 2.0 - 1.0) <= 0.03, "rnn he: Var(U)*d = %.4f want 2", acc_mean(&vu));
    CHECK(beyond > (size_t)S * n * d / 2, "rnn he: only %zu U entries beyond 1/sqrt(n)", beyond);
    free(W);
    free(U);
    free(O);
}

/* ----------------------------------------------------------- determinism */

static void test_determinism(void)
{
    for (int t = 0; t < DALE_MODEL_COUNT; t++) {
        dale_net_config c = make_cfg((dale_model_type)t, 5, 20, 3, 4.0);
        c.layers = 2;
        c.ndense = 1;
        c.dense[0] = 12;
        dale_net *a = make_net(&c, 42), *b = make_net(&c, 42), *x = make_net(&c, 43);
        if (a && b && x) {
            size_t bytes = dale_net_size(a) * sizeof(float);
            CHECK(memcmp(dale_net_theta(a), dale_net_theta(b), bytes) == 0,
                  "%s: same seed gave different theta", dale_model_name(c.type));
            CHECK(memcmp(dale_net_theta(a), dale_net_theta(x), bytes) != 0,
                  "%s: seeds 42 and 43 gave identical theta", dale_model_name(c.type));
            /* Re-initialising the same net from the same seed reproduces it. */
            dale_rng r;
            dale_rng_seed(&r, 42);
            CHECK_OK(dale_net_init(x, &r));
            CHECK(memcmp(dale_net_theta(a), dale_net_theta(x), bytes) == 0,
                  "%s: re-init from seed 42 differs", dale_model_name(c.type));
        }
        dale_net_free(a);
        dale_net_free(b);
        dale_net_free(x);
    }
}

/* ---------------------------------------------------------- bad configs */

static void expect_arg(const dale_net_config *c, const char *field, const char *what)
{
    long live = dalei_alloc_live();
    dale_net *net = (dale_net *)&net; /* must be reset to NULL */
    dale_clear_error();
    dale_status st = dale_net_create(c, &net);
    CHECK(st == DALE_ERR_ARG, "%s: status %d want DALE_ERR_ARG (%s)", what, st, dale_last_error());
    CHECK(net == NULL, "%s: *out not NULL on failure", what);
    CHECK(strstr(dale_last_error(), field) != NULL, "%s: message '%s' does not name '%s'", what,
          dale_last_error(), field);
    if (st == DALE_OK) dale_net_free(net);
    CHECK(dalei_alloc_live() == live, "%s: leak (%ld live, was %ld)", what, dalei_alloc_live(),
          live);
}

static void test_bad_configs(void)
{
    long live0 = dalei_alloc_live();
    for (int t = 0; t < DALE_MODEL_COUNT; t++) {
        dale_net_config base = make_cfg((dale_model_type)t, 4, 10, 2, 9.0), c;
        c = base; c.hidden = 0; expect_arg(&c, "hidden", "hidden 0");
        c = base; c.input = 0; expect_arg(&c, "input", "input 0");
        c = base; c.output = 0; expect_arg(&c, "output", "output 0");
        c = base; c.layers = 0; expect_arg(&c, "layers", "layers 0");
        c = base; c.ei_ratio = 0; expect_arg(&c, "ratio", "ratio 0");
        c = base; c.ei_ratio = -1; expect_arg(&c, "ratio", "ratio -1");
        c = base; c.ei_ratio = (double)NAN; expect_arg(&c, "ratio", "ratio NaN");
        c = base; c.ei_ratio = (double)INFINITY; expect_arg(&c, "ratio", "ratio inf");
        c = base; c.ndense = DALE_MAX_DENSE + 1; expect_arg(&c, "dense", "too many dense");
        c = base; c.ndense = 1; c.dense[0] = 0; expect_arg(&c, "dense", "dense width 0");
    }
    dale_net_config c = make_cfg(DALE_MODEL_COLEI, 4, 1, 2, 9.0);
    expect_arg(&c, "ratio", "colei hidden 1 (nE = 0)");
    c = make_cfg(DALE_MODEL_COLEI, 4, 10, 2, 1e-9); /* nI = ceil(10/1.000000001) = 10, nE = 0 */
    expect_arg(&c, "ratio", "colei ratio 1e-9 (nE = 0)");
    c = make_cfg(DALE_MODEL_COLEI, 4, 10, 2, 9.0);
    c.ndense = 1;
    c.dense[0] = 1;
    expect_arg(&c, "ratio", "colei dense width 1");
    c = make_cfg(DALE_MODEL_COLEI, 4, 10, 2, 9.0);
    c.rho = 0;
    expect_arg(&c, "rho", "colei rho 0");
    c = make_cfg(DALE_MODEL_DANN, 4, 1, 2, 9.0);
    expect_arg(&c, "hidden", "dann hidden 1");
    c = make_cfg(DALE_MODEL_RNN, 4, 10, 2, 9.0);
    c.numerator = 0;
    expect_arg(&c, "numerator", "rnn numerator 0");
    c = make_cfg((dale_model_type)7, 4, 10, 2, 9.0);
    expect_arg(&c, "type", "model type 7");

    /* A huge ratio still leaves one I unit (nI = ceil > 0): valid. */
    c = make_cfg(DALE_MODEL_COLEI, 4, 10, 2, 1e12);
    dale_net *net = make_net(&c, 1);
    if (net) {
        float W[100];
        CHECK_OK(dale_net_effective(net, 0, W, NULL));
        size_t bad = 0;
        for (size_t i = 0; i < 10; i++) bad += i != 9 && !(W[i * 10 + 9] < 0.0f);
        CHECK(bad == 0, "colei ratio 1e12: last column should be the one I column");
        dale_net_free(net);
    }
    /* dale_net_effective with a layer out of range. */
    c = make_cfg(DALE_MODEL_RNN, 4, 10, 2, 9.0);
    net = make_net(&c, 1);
    if (net) {
        float W[100];
        CHECK(dale_net_effective(net, 2, W, NULL) == DALE_ERR_ARG, "effective(2) of a 1-cell net");
        dale_net_free(net);
    }
    CHECK(dalei_alloc_live() == live0, "bad configs leaked %ld allocations",
          dalei_alloc_live() - live0);
}

/* ------------------------------------------------------ allocation sweep */

static void test_alloc_failures(void)
{
    for (int t = 0; t < DALE_MODEL_COUNT; t++) {
        dale_net_config c = make_cfg((dale_model_type)t, 3, 12, 2, 3.0);
        c.layers = 2;
        c.ndense = 1;
        c.dense[0] = 8;
        long live = dalei_alloc_live();
        int reached = 0;
        long k;
        for (k = 1; k <= 2000 && !reached; k++) {
            dale_net *net = (dale_net *)&net;
            dale_rng rng;
            dale_rng_seed(&rng, 9);
            dalei_alloc_fail_at(k);
            dale_status st = dale_net_create(&c, &net);
            const char *where = "create";
            if (st == DALE_OK) {
                st = dale_net_plan(net, 4, 3);
                where = "plan";
            } else {
                CHECK(net == NULL, "%s fail at %ld: *out not NULL", dale_model_name(c.type), k);
                net = NULL;
            }
            if (st == DALE_OK) {
                st = dale_net_init(net, &rng);
                where = "init";
            }
            dalei_alloc_fail_at(0);
            CHECK(st == DALE_OK || st == DALE_ERR_NOMEM, "%s fail at %ld: %s -> %d (%s)",
                  dale_model_name(c.type), k, where, st, dale_last_error());
            reached = st == DALE_OK;
            dale_net_free(net);
            CHECK(dalei_alloc_live() == live, "%s fail at %ld (%s): %ld allocations leaked",
                  dale_model_name(c.type), k, where, dalei_alloc_live() - live);
        }
        CHECK(reached, "%s: create+plan+init never succeeded under failure injection",
              dale_model_name(c.type));
        CHECK(k > 3, "%s: suspiciously few allocations (%ld)", dale_model_name(c.type), k - 1);
    }
}

int main(void)
{
    long live = dalei_alloc_live();
    test_ei_split();
    test_colei();
    test_dann();
    test_rnn();
    test_determinism();
    test_bad_configs();
    test_alloc_failures();
    CHECK(dalei_alloc_live() == live, "leaked %ld allocations overall", dalei_alloc_live() - live);
    return check_done("test_init");
}
