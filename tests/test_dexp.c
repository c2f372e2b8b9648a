/* test_dexp.c — dale's own exp and log (linalg/dexp.c) and the softmax
 * cross-entropy of the `numerics = dale` arithmetic that uses them.
 *
 * Accuracy against glibc's exp and log: the largest relative error over
 * random and edge arguments must stay below 4e-16 (under 2 ulp; the
 * measured maximum is printed) for exp's results in the normal range
 * (x in [-708, 709.78]) and for log over [1e-300, 1e300]; exp's subnormal
 * results (x down to -745.1) must be within 2^-1074 of glibc's, and its
 * special values (0 below -745.2, +inf above 709.8, NaN) must match.
 * Bit identity: dalei_exp_array and dalei_exp_row on every instruction-set
 * path this CPU runs give the bits of the scalar reference, for row lengths
 * around the 8-lane blocks, NaN and infinite logits included.
 * The cross-entropy: dale_loss_ce_num / dale_loss_ce_weighted_num with
 * DALE_NUMERICS_DALE agree with the libm route to round-off and give the
 * same bits on every path; their gradient matches finite differences of
 * their own loss.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/rng.h"
#include "dale/train.h"
#include "linalg/dexp.h"
#include "linalg/kernels.h"

static dale_rng rng;

static double urand(double a, double b) { return a + (b - a) * dale_rng_uniform01(&rng); }

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static void test_exp_accuracy(void)
{
    double worst = 0, worst_x = 0, sub_worst = 0;
    size_t n = 0;
    for (int i = 0; i < 2000000; i++) {
        double x;
        if (i < 1000000) x = urand(-708.0, 709.78);
        else if (i < 1900000) x = urand(-2.0, 2.0) * pow(10.0, urand(-12.0, 1.0));
        else x = urand(-745.1, -708.0);
        double got = dalei_exp(x), want = exp(x);
        if (want >= DBL_MIN) {
            double rel = fabs(got - want) / want;
            if (rel > worst) { worst = rel; worst_x = x; }
            n++;
        } else {
            double ab = fabs(got - want);
            if (ab > sub_worst) sub_worst = ab;
        }
    }
    /* integers and halves, the reduction's edges */
    for (int k = -1021; k <= 1023; k++) {
        double x = (double)k * 0.6931471805599453;
        double got = dalei_exp(x), want = exp(x);
        double rel = fabs(got - want) / want;
        if (rel > worst) { worst = rel; worst_x = x; }
    }
    printf("exp: max relative error %.3g (at x = %.17g) over %zu normal results; subnormal max |error| %.3g\n",
           worst, worst_x, n, sub_worst);
    CHECK(worst < 4e-16, "exp relative error %.3g at %.17g", worst, worst_x);
    CHECK(sub_worst <= 0x1p-1074, "exp subnormal error %.3g", sub_worst);
    CHECK(dalei_exp(0.0) == 1.0, "exp(0) = %.17g", dalei_exp(0.0));
    CHECK(dalei_exp(-745.2) == 0.0 && dalei_exp(-1e300) == 0.0 && dalei_exp(-(double)INFINITY) == 0.0,
          "exp underflow to 0");
    CHECK(dalei_exp(709.8) == (double)INFINITY && dalei_exp(1e300) == (double)INFINITY &&
              dalei_exp((double)INFINITY) == (double)INFINITY,
          "exp overflow to inf");
    CHECK(isnan(dalei_exp((double)NAN)), "exp(NaN)");
}

static void test_log_accuracy(void)
{
    double worst = 0, worst_x = 0;
    for (int i = 0; i < 1000000; i++) {
        double x = i < 500000 ? pow(10.0, urand(-300.0, 300.0)) : urand(0.5, 2.0);
        double got = dalei_log(x), want = log(x);
        if (want == 0) {
            CHECK(got == 0, "log(1) = %g", got);
            continue;
        }
        double rel = fabs(got - want) / fabs(want);
        if (rel > worst) { worst = rel; worst_x = x; }
    }
    double sub = dalei_log(0x1p-1060);
    printf("log: max relative error %.3g (at x = %.17g)\n", worst, worst_x);
    CHECK(worst < 4e-16, "log relative error %.3g at %.17g", worst, worst_x);
    CHECK(fabs(sub - log(0x1p-1060)) / fabs(log(0x1p-1060)) < 4e-16, "log subnormal %.17g", sub);
    CHECK(dalei_log(1.0) == 0.0, "log(1)");
    CHECK(dalei_log(0.0) == -(double)INFINITY && dalei_log((double)INFINITY) == (double)INFINITY, "log(0), log(inf)");
    CHECK(isnan(dalei_log(-1.0)) && isnan(dalei_log((double)NAN)), "log of negative / NaN");
}

/* Every path against the scalar reference, bit for bit. */
static void test_paths(void)
{
    int best = dalei_smm_force(DALEI_SMM_AVX512);
    enum { N = 203 };
    double x[N], y[N];
    float z[N];
    double e0[N], e1[N];
    for (size_t i = 0; i < N; i++) x[i] = urand(-800.0, 720.0);
    x[5] = (double)NAN;
    x[6] = (double)INFINITY;
    x[7] = -(double)INFINITY;
    x[8] = -0.0;
    for (int path = 0; path <= best; path++) {
        dalei_smm_force(path);
        size_t bad = 0;
        for (size_t n = 0; n <= N; n += n < 20 ? 1 : 61) {
            memset(y, 0, sizeof y);
            dalei_exp_array(x, y, n);
            for (size_t i = 0; i < n; i++) bad += !same_bits(y[i], dalei_exp(x[i]));
            for (size_t i = n; i < N; i++) bad += y[i] != 0.0; /* nothing written past n */
        }
        CHECK(bad == 0, "path %s: %zu exp values differ from the scalar reference", dalei_smm_path_name(path), bad);
        /* rows: lengths around the 8-lane blocks, logits of both signs */
        bad = 0;
        for (size_t m = 0; m <= 40; m++) {
            for (int rep = 0; rep < 3; rep++) {
                for (size_t j = 0; j < m; j++) z[j] = (float)urand(-30.0, 30.0);
                if (rep == 1 && m > 3) z[m / 2] = -(float)INFINITY;
                if (rep == 2 && m > 3) z[m - 2] = (float)NAN;
                double shift = m ? (double)z[0] : 0.0;
                double s0 = dalei_exp_row_naive(z, m, shift, e0);
                double s1 = dalei_exp_row(z, m, shift, e1);
                bad += !same_bits(s0, s1) && !(isnan(s0) && isnan(s1));
                for (size_t j = 0; j < m; j++) bad += !same_bits(e0[j], e1[j]) && !(isnan(e0[j]) && isnan(e1[j]));
                bad += !same_bits(s1, dalei_exp_row(z, m, shift, NULL)) && !isnan(s1);
            }
        }
        CHECK(bad == 0, "path %s: %zu row values differ from the scalar reference", dalei_smm_path_name(path), bad);
    }
    dalei_smm_force(DALEI_SMM_AUTO);
}

/* A batch of logits with labels and weights (some 0). */
static void make_batch(float *z, int32_t *lab, float *w, size_t N, size_t m, double scale)
{
    for (size_t k = 0; k < N * m; k++) z[k] = (float)(urand(-1.0, 1.0) * scale);
    for (size_t r = 0; r < N; r++) {
        lab[r] = (int32_t)(dale_rng_uniform01(&rng) * (double)m);
        if ((size_t)lab[r] >= m) lab[r] = (int32_t)m - 1;
        w[r] = r % 5 == 3 ? 0.0f : (float)urand(0.2, 2.0);
    }
}

static void test_ce(void)
{
    const size_t N = 37, m = 1001;
    float *z = malloc(N * m * sizeof(float)), *d0 = malloc(N * m * sizeof(float)), *d1 = malloc(N * m * sizeof(float));
    float *d2 = malloc(N * m * sizeof(float)), w[37];
    int32_t lab[37];
    make_batch(z, lab, w, N, m, 8.0);
    size_t c0 = 0, c1 = 0;
    double l0 = dale_loss_ce(z, lab, N, m, d0, &c0);
    double l1 = dale_loss_ce_num(DALE_NUMERICS_DALE, z, lab, N, m, d1, &c1);
    CHECK(fabs(l0 - l1) <= 1e-13 * fabs(l0), "ce loss: libm %.17g, dale %.17g", l0, l1);
    CHECK(c0 == c1, "ce hits %zu vs %zu", c0, c1);
    check_close("ce gradient, dale vs libm", d1, d0, N * m, 1e-12, 1e-6);
    CHECK(dale_loss_ce_num(DALE_NUMERICS_BLAS, z, lab, N, m, d2, NULL) == l0 && !memcmp(d2, d0, N * m * sizeof(float)),
          "numerics blas is dale_loss_ce");
    size_t n0 = 0, n1 = 0;
    double W0 = 0, W1 = 0;
    double wl0 = dale_loss_ce_weighted(z, lab, w, N, m, d0, &c0, &n0, &W0);
    double wl1 = dale_loss_ce_weighted_num(DALE_NUMERICS_DALE, z, lab, w, N, m, d1, &c1, &n1, &W1);
    CHECK(fabs(wl0 - wl1) <= 1e-13 * fabs(wl0) && c0 == c1 && n0 == n1 && W0 == W1,
          "weighted ce: libm %.17g, dale %.17g", wl0, wl1);
    check_close("weighted ce gradient, dale vs libm", d1, d0, N * m, 1e-12, 1e-6);
    /* same bits on every path: d1 holds the weighted gradient, du the unweighted */
    float *du = malloc(N * m * sizeof(float));
    dale_loss_ce_num(DALE_NUMERICS_DALE, z, lab, N, m, du, NULL);
    int best = dalei_smm_force(DALEI_SMM_AVX512);
    for (int path = 0; path <= best; path++) {
        dalei_smm_force(path);
        double l2 = dale_loss_ce_num(DALE_NUMERICS_DALE, z, lab, N, m, d2, NULL);
        CHECK(same_bits(l1, l2) && !memcmp(d2, du, N * m * sizeof(float)), "ce on path %s",
              dalei_smm_path_name(path));
        double l3 = dale_loss_ce_weighted_num(DALE_NUMERICS_DALE, z, lab, w, N, m, d2, NULL, NULL, NULL);
        CHECK(same_bits(wl1, l3) && !memcmp(d2, d1, N * m * sizeof(float)), "weighted ce on path %s",
              dalei_smm_path_name(path));
    }
    free(du);
    dalei_smm_force(DALEI_SMM_AUTO);
    /* gradient = finite differences of the loss itself (one row, float logits moved in double) */
    const size_t mg = 13;
    float zg[13], dg[13];
    int32_t yg = 4;
    for (size_t j = 0; j < mg; j++) zg[j] = (float)urand(-3.0, 3.0);
    dale_loss_ce_num(DALE_NUMERICS_DALE, zg, &yg, 1, mg, dg, NULL);
    double worst = 0;
    for (size_t j = 0; j < mg; j++) {
        float keep = zg[j];
        const float h = 1e-2f;
        zg[j] = keep + h;
        double lp = dale_loss_ce_num(DALE_NUMERICS_DALE, zg, &yg, 1, mg, NULL, NULL);
        zg[j] = keep - h;
        double lm = dale_loss_ce_num(DALE_NUMERICS_DALE, zg, &yg, 1, mg, NULL, NULL);
        zg[j] = keep;
        double fd = (lp - lm) / (2.0 * (double)h), err = fabs(fd - (double)dg[j]);
        if (err > worst) worst = err;
    }
    CHECK(worst < 1e-4, "ce gradient vs central differences: max error %.3g", worst);
    /* a NaN logit gives a NaN loss, as on the libm route */
    z[3] = (float)NAN;
    CHECK(isnan(dale_loss_ce_num(DALE_NUMERICS_DALE, z, lab, N, m, d1, NULL)), "NaN logit -> NaN loss");
    free(z);
    free(d0);
    free(d1);
    free(d2);
}

/* The argmax behind the hit count: the first index of the largest logit,
 * NaN entries skipped as by the scalar loop `z[j] > z[arg]`, ties, signed
 * zeros and infinities, at every position around the 8-lane blocks. */
static void test_argmax(void)
{
    size_t bad = 0, cases = 0;
    float z[41];
    const float specials[] = {0.0f, -0.0f, (float)NAN, (float)INFINITY, -(float)INFINITY, 1.0f, 1.0f};
    for (size_t m = 1; m <= 41; m++)
        for (int rep = 0; rep < 40; rep++) {
            for (size_t j = 0; j < m; j++) z[j] = (float)(int)urand(-3.0, 3.0); /* many ties */
            for (int k = 0; k < rep % 4; k++)
                z[(size_t)urand(0.0, (double)m) % m] = specials[(size_t)urand(0.0, 7.0) % 7];
            size_t arg = 0;
            for (size_t j = 1; j < m; j++)
                if (z[j] > z[arg]) arg = j;
            int32_t y = (int32_t)arg;
            size_t hit = 0;
            dale_loss_ce_num(DALE_NUMERICS_DALE, z, &y, 1, m, NULL, &hit);
            bad += hit != 1;
            if (arg + 1 < m && z[arg + 1] != z[arg]) {
                y = (int32_t)arg + 1;
                dale_loss_ce_num(DALE_NUMERICS_DALE, z, &y, 1, m, NULL, &hit);
                bad += hit != 0;
            }
            cases++;
        }
    CHECK(bad == 0, "argmax differs from the scalar loop in %zu of %zu rows", bad, cases);
}

/* The rows of a large softmax shared among 1, 2 and 3 threads: the same
 * loss, gradient and hit count bits as one thread. */
static void test_ce_threads(void)
{
    const size_t N = 300, m = 1000;
    float *z = malloc(N * m * sizeof(float)), *d1 = malloc(N * m * sizeof(float)),
          *d2 = malloc(N * m * sizeof(float));
    int32_t *y = malloc(N * sizeof(int32_t));
    for (size_t i = 0; i < N * m; i++) z[i] = (float)dale_rng_normal(&rng, 0, 3);
    for (size_t r = 0; r < N; r++) y[r] = (int32_t)dale_rng_below(&rng, m);
    size_t c1 = 0, c2 = 0;
    dalei_kernels_set_threads(1);
    double l1 = dale_loss_ce_num(DALE_NUMERICS_DALE, z, y, N, m, d1, &c1);
    for (int th = 2; th <= 3; th++) {
        dalei_kernels_set_threads(th);
        double l2 = dale_loss_ce_num(DALE_NUMERICS_DALE, z, y, N, m, d2, &c2);
        CHECK(memcmp(&l1, &l2, sizeof l1) == 0 && c1 == c2, "softmax on %d threads: loss %.17g vs %.17g, hits %zu vs %zu",
              th, l2, l1, c2, c1);
        CHECK(memcmp(d1, d2, N * m * sizeof(float)) == 0, "softmax on %d threads: gradient differs", th);
        double l3 = dale_loss_ce_num(DALE_NUMERICS_DALE, z, y, N, m, NULL, &c2);
        CHECK(memcmp(&l1, &l3, sizeof l1) == 0 && c1 == c2, "softmax on %d threads without gradient", th);
    }
    dalei_kernels_set_threads(1);
    free(z);
    free(d1);
    free(d2);
    free(y);
}

int main(void)
{
    dale_rng_seed(&rng, 17);
    test_ce_threads();
    test_exp_accuracy();
    test_log_accuracy();
    test_paths();
    test_ce();
    test_argmax();
    return check_done("dexp");
}
