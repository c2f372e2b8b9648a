/* test_rng.c — the seeded generator and its distributions.
 *
 * 1. Known-answer vectors for splitmix64 seeding and xoshiro256** (published
 *    reference values), determinism, distinct seeds, fork.
 * 2. Ranges of uniform01/uniform/below, a chi-square test of below(), a
 *    modulo-bias probe, and shuffle producing permutations.
 * 3. Distribution checks against exact values from SciPy (see the table).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "dale/rng.h"
#include "internal.h"
#include "check.h"

/* ---- known answers and determinism -------------------------------------- */

static void test_known_answers(void)
{
    /* splitmix64 from x = 0 yields e220a8397b1dcdaf, 6e789e6aa1b965f4,
     * 06c45d188009454f, f88bb8a8724c81ec (the reference sequence); seed 0
     * must put exactly these words in the state. */
    static const uint64_t sm0[4] = {
        UINT64_C(0xE220A8397B1DCDAF), UINT64_C(0x6E789E6AA1B965F4),
        UINT64_C(0x06C45D188009454F), UINT64_C(0xF88BB8A8724C81EC)};
    dale_rng r;
    dale_rng_seed(&r, 0);
    for (int i = 0; i < 4; i++)
        CHECK(r.s[i] == sm0[i], "seed 0: s[%d] = %016llx", i, (unsigned long long)r.s[i]);

    /* xoshiro256** from state {1, 2, 3, 4}: reference outputs. */
    static const uint64_t x1234[4] = {11520u, 0u, 1509978240u, UINT64_C(1215971899390074240)};
    r.s[0] = 1; r.s[1] = 2; r.s[2] = 3; r.s[3] = 4;
    for (int i = 0; i < 4; i++) {
        uint64_t v = dale_rng_next(&r);
        CHECK(v == x1234[i], "xoshiro output %d = %llu", i, (unsigned long long)v);
    }
}

static void test_determinism(void)
{
    dale_rng a, b, c;
    dale_rng_seed(&a, 12345);
    dale_rng_seed(&b, 12345);
    dale_rng_seed(&c, 12346);
    int same_ab = 1, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = dale_rng_next(&a), y = dale_rng_next(&b), z = dale_rng_next(&c);
        if (x != y) same_ab = 0;
        if (x == z) same_ac++;
    }
    CHECK(same_ab, "same seed must give the same stream");
    CHECK(same_ac == 0, "seeds 12345 and 12346 agreed on %d of 1000 outputs", same_ac);

    /* Mixed distribution calls are reproducible too (normal cache included). */
    dale_rng_seed(&a, 7);
    dale_rng_seed(&b, 7);
    int same_mix = 1;
    for (int i = 0; i < 500; i++) {
        double x = dale_rng_normal(&a, 0, 1) + dale_rng_gamma(&a, 0.7, 1.0) + dale_rng_exponential(&a, 2);
        double y = dale_rng_normal(&b, 0, 1) + dale_rng_gamma(&b, 0.7, 1.0) + dale_rng_exponential(&b, 2);
        if (x != y) same_mix = 0;
    }
    CHECK(same_mix, "mixed draws must be reproducible");

    /* Fork: leaves the parent alone, is deterministic, differs by label and
     * from the parent's own stream. */
    dale_rng p, f1, f1b, f2, pcopy;
    dale_rng_seed(&p, 99);
    dale_rng_next(&p);
    pcopy = p;
    dale_rng_fork(&p, 1, &f1);
    dale_rng_fork(&p, 1, &f1b);
    dale_rng_fork(&p, 2, &f2);
    CHECK(memcmp(p.s, pcopy.s, sizeof p.s) == 0, "fork must not advance the parent");
    int eq11 = 1, eq12 = 0, eq1p = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = dale_rng_next(&f1), y = dale_rng_next(&f1b), z = dale_rng_next(&f2);
        uint64_t w = dale_rng_next(&p);
        if (x != y) eq11 = 0;
        if (x == z) eq12++;
        if (x == w) eq1p++;
    }
    CHECK(eq11, "fork with the same label must be reproducible");
    CHECK(eq12 == 0, "forks with labels 1 and 2 agreed %d times", eq12);
    CHECK(eq1p == 0, "fork agreed with its parent %d times", eq1p);

    /* Reseeding drops a pending cached normal. */
    dale_rng_seed(&a, 5);
    double first = dale_rng_normal(&a, 0, 1);
    dale_rng_seed(&a, 5);
    CHECK(dale_rng_normal(&a, 0, 1) == first, "seed must reset the normal cache");
}

/* ---- ranges, below(), shuffle ------------------------------------------- */

static void test_ranges(void)
{
    dale_rng r;
    dale_rng_seed(&r, 2024);
    int ok01 = 1, okab = 1;
    double lo = 1, hi = 0;
    for (int i = 0; i < 100000; i++) {
        double u = dale_rng_uniform01(&r);
        if (!(u >= 0.0 && u < 1.0)) ok01 = 0;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
        double v = dale_rng_uniform(&r, -2.5, 4.0);
        if (!(v >= -2.5 && v < 4.0)) okab = 0;
    }
    CHECK(ok01, "uniform01 left [0, 1)");
    CHECK(okab, "uniform(-2.5, 4) left its range");
    CHECK(lo < 1e-4 && hi > 1 - 1e-4, "uniform01 does not fill [0,1): min %g max %g", lo, hi);

    CHECK(dale_rng_below(&r, 0) == 0, "below(0) must be 0");
    CHECK(dale_rng_below(&r, 1) == 0, "below(1) must be 0");
    CHECK(isnan(dale_rng_gamma(&r, 0.0, 1.0)), "gamma shape 0 must be NaN");
    CHECK(isnan(dale_rng_gamma(&r, 1.0, -1.0)), "gamma scale -1 must be NaN");
}

static void test_below(void)
{
    /* Chi-square goodness of fit over K = 10 cells with N = 100000 draws:
     * with 9 degrees of freedom P(chi2 > 27.88) = 0.001, so a correct
     * generator fails this (fixed-seed) test with probability 1e-3. */
    enum { K = 10, N = 100000 };
    dale_rng r;
    dale_rng_seed(&r, 31337);
    long cnt[K] = {0};
    int inrange = 1;
    for (int i = 0; i < N; i++) {
        uint64_t v = dale_rng_below(&r, K);
        if (v >= K) { inrange = 0; continue; }
        cnt[v]++;
    }
    CHECK(inrange, "below(10) returned a value >= 10");
    double chi2 = 0, e = (double)N / K;
    for (int k = 0; k < K; k++) chi2 += ((double)cnt[k] - e) * ((double)cnt[k] - e) / e;
    CHECK(chi2 < 27.88, "below(10) chi-square %g exceeds the 0.1%% point 27.88", chi2);

    /* Modulo-bias probe: with n = 3·2^62, a plain x % n would put results
     * below 2^62 with probability 1/2 instead of 1/3.  The fraction over
     * 60000 draws has standard error sqrt(2/9/60000) = 0.0019. */
    const uint64_t n = UINT64_C(3) << 62;
    long low = 0;
    int inrange_big = 1;
    for (int i = 0; i < 60000; i++) {
        uint64_t v = dale_rng_below(&r, n);
        if (v >= n) inrange_big = 0;
        if (v < (UINT64_C(1) << 62)) low++;
    }
    double frac = (double)low / 60000.0;
    CHECK(inrange_big, "below(3*2^62) out of range");
    CHECK(fabs(frac - 1.0 / 3.0) < 0.01, "below(3*2^62): fraction in the first third %g, want 1/3", frac);
}

static void test_shuffle(void)
{
    enum { N = 257 };
    size_t a[N];
    dale_rng r;
    dale_rng_seed(&r, 8);
    for (size_t i = 0; i < N; i++) a[i] = i;
    int seen[N] = {0}, moved = 0, perm = 1;
    dale_rng_shuffle(&r, a, N);
    for (size_t i = 0; i < N; i++) {
        if (a[i] >= N || seen[a[i]]) { perm = 0; break; }
        seen[a[i]] = 1;
        if (a[i] != i) moved++;
    }
    CHECK(perm, "shuffle did not produce a permutation");
    CHECK(moved > N / 2, "shuffle moved only %d of %d elements", moved, N);
    dale_rng_shuffle(&r, a, 0); /* n = 0 and 1 are no-ops */
    size_t one = 42;
    dale_rng_shuffle(&r, &one, 1);
    CHECK(one == 42, "shuffle of one element changed it");

    /* Each of the 6 orders of 3 elements is equally likely: 60000 shuffles,
     * chi-square with 5 degrees of freedom, 0.1% point 20.52. */
    long cnt[6] = {0};
    for (int it = 0; it < 60000; it++) {
        size_t b[3] = {0, 1, 2};
        dale_rng_shuffle(&r, b, 3);
        cnt[b[0] * 2 + (b[1] > b[2] ? 1 : 0)]++; /* b[0] and the order of the rest */
    }
    double chi2 = 0;
    for (int k = 0; k < 6; k++) chi2 += ((double)cnt[k] - 10000.0) * ((double)cnt[k] - 10000.0) / 10000.0;
    CHECK(chi2 < 20.52, "shuffle of 3: chi-square %g over the 6 orders", chi2);
}

/* ---- distributions vs SciPy --------------------------------------------- */

/* Reference values printed by tools/ref/rng_quantiles.py (scipy.stats exact
 * ppf/mean/var/kurtosis, NumPy parameterisations); do not edit by hand. */
#define NPROB 7
static const double probs[NPROB] = {0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99};

typedef struct ref_dist {
    double q[NPROB]; /* true quantiles at probs */
    double mean, var, kurt; /* kurt is the excess kurtosis */
} ref_dist;

static const ref_dist refs[5] = {
/* exponential(scale=0.5) */
{{0.005025167927, 0.05268025783, 0.1438410362, 0.3465735903, 0.6931471806, 1.151292546, 2.302585093}, 0.5, 0.25, 6},
/* normal(mu=1, sd=2) */
{{-3.652695748, -1.563103131, -0.3489795004, 1, 2.3489795, 3.563103131, 5.652695748}, 1, 4, 0},
/* uniform(-1, 3) */
{{-0.96, -0.6, 0, 1, 2, 2.6, 2.96}, 1, 1.333333333, -1.2},
/* gamma(shape=0.5, scale=2) */
{{0.0001570878579, 0.01579077409, 0.1015310443, 0.4549364231, 1.323303697, 2.705543454, 6.634896601}, 1, 2, 12},
/* gamma(shape=3, scale=0.7) */
{{0.3052316156, 0.7714457298, 1.209109593, 1.87184222, 2.744281442, 3.725624236, 5.88416284}, 2.1, 1.47, 2},
};
static const char *const ref_names[5] = {
    "exponential(0.5)", "normal(1, 2)", "uniform(-1, 3)", "gamma(0.5, 2)", "gamma(3, 0.7)"};

static double draw(dale_rng *r, int which)
{
    switch (which) {
    case 0: return dale_rng_exponential(r, 0.5);
    case 1: return dale_rng_normal(r, 1.0, 2.0);
    case 2: return dale_rng_uniform(r, -1.0, 3.0);
    case 3: return dale_rng_gamma(r, 0.5, 2.0);
    default: return dale_rng_gamma(r, 3.0, 0.7);
    }
}

/* Tolerances are Z = 5 standard errors of each statistic for n samples:
 *  - quantiles: instead of the sample quantile (whose error depends on the
 *    density) we test the empirical CDF at the true quantile q_p.  The count
 *    of samples <= q_p is Binomial(n, p), so its fraction has standard error
 *    sqrt(p(1-p)/n) (0.00022 at p = 0.01, 0.0011 at p = 0.5 for n = 2e5);
 *  - mean: standard error sqrt(var/n);
 *  - variance: standard error var * sqrt((2 + excess kurtosis)/n), the
 *    large-sample variance of the sample variance.
 * With Z = 5 a correct sampler fails one of the 45 checks with probability
 * ~3e-5; a scale/rate mix-up, sd/variance mix-up or a wrong gamma branch
 * moves these statistics by tens to hundreds of standard errors. */
static void test_distributions(void)
{
    enum { N = 200000 };
    const double Z = 5.0;
    double *x = dalei_alloc(N, sizeof *x);
    CHECK(x != NULL, "allocating %d samples", N);
    if (!x) return;
    for (int d = 0; d < 5; d++) {
        dale_rng r;
        dale_rng_seed(&r, 1000u + (uint64_t)d);
        double sum = 0;
        for (int i = 0; i < N; i++) {
            x[i] = draw(&r, d);
            sum += x[i];
        }
        double mean = sum / N, ss = 0;
        for (int i = 0; i < N; i++) ss += (x[i] - mean) * (x[i] - mean);
        double var = ss / (N - 1);
        const ref_dist *ref = &refs[d];

        double se_mean = sqrt(ref->var / N);
        CHECK(fabs(mean - ref->mean) <= Z * se_mean, "%s: mean %.6g want %.6g (tol %.3g)",
              ref_names[d], mean, ref->mean, Z * se_mean);
        double se_var = ref->var * sqrt((2.0 + ref->kurt) / N);
        CHECK(fabs(var - ref->var) <= Z * se_var, "%s: variance %.6g want %.6g (tol %.3g)",
              ref_names[d], var, ref->var, Z * se_var);
        for (int k = 0; k < NPROB; k++) {
            long below = 0;
            for (int i = 0; i < N; i++) below += x[i] <= ref->q[k];
            double frac = (double)below / N;
            double se = sqrt(probs[k] * (1 - probs[k]) / N);
            CHECK(fabs(frac - probs[k]) <= Z * se,
                  "%s: P(X <= %.6g) = %.5f, want %.2f (tol %.2g)", ref_names[d], ref->q[k], frac,
                  probs[k], Z * se);
        }
    }
    dalei_free(x);
}

/* dale_rng_standard_normals is count calls of dale_rng_normal(r, 0, 1), bit
 * for bit, whatever the count (odd, even, across its blocks of 64 pairs)
 * and whether a cached value is pending, and leaves r as they leave it. */
static void test_standard_normals(void)
{
    static const size_t counts[] = {0, 1, 2, 3, 7, 64, 127, 128, 129, 130, 255, 1000, 3201};
    static double a[3300], b[3300];
    int bad = 0, badstate = 0, badnext = 0, ncases = 0;
    for (int pre = 0; pre < 2; pre++)
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            size_t n = counts[c];
            dale_rng r1, r2;
            dale_rng_seed(&r1, 99 + c);
            if (pre) (void)dale_rng_normal(&r1, 0.0, 1.0); /* a cached value pending */
            r2 = r1;
            for (size_t k = 0; k < n; k++) a[k] = dale_rng_normal(&r1, 0.0, 1.0);
            dale_rng_standard_normals(&r2, b, n);
            if (n && memcmp(a, b, n * sizeof *a) != 0) bad++;
            if (memcmp(r1.s, r2.s, sizeof r1.s) != 0 || r1.has_cached != r2.has_cached ||
                (r1.has_cached && memcmp(&r1.cached_normal, &r2.cached_normal, sizeof(double)) != 0))
                badstate++;
            for (int k = 0; k < 5; k++) {
                double x = dale_rng_normal(&r1, 0.5, 2.0), y = dale_rng_normal(&r2, 0.5, 2.0);
                if (memcmp(&x, &y, sizeof x) != 0) badnext++;
            }
            ncases++;
        }
    CHECK(bad == 0, "standard_normals differs from dale_rng_normal calls in %d of %d cases", bad, ncases);
    CHECK(badstate == 0, "standard_normals leaves another state in %d of %d cases", badstate, ncases);
    CHECK(badnext == 0, "the draws after standard_normals differ in %d cases", badnext);
    /* -0.0: the call returns 0.0 + 1.0 * x, so neither ever gives -0.0 */
    dale_rng z;
    dale_rng_seed(&z, 1);
    z.has_cached = 1;
    z.cached_normal = -0.0;
    double v;
    dale_rng_standard_normals(&z, &v, 1);
    CHECK(v == 0.0 && !signbit(v), "a cached -0.0 comes out as +0.0, as from dale_rng_normal (got %g)", v);
}

int main(void)
{
    test_known_answers();
    test_determinism();
    test_ranges();
    test_below();
    test_shuffle();
    test_distributions();
    test_standard_normals();
    return check_done("test_rng");
}
