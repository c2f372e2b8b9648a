/* rng.c — xoshiro256** generator and the distributions built on it.
 *
 * The generator state is four 64-bit words (never all zero).  Seeding runs a
 * splitmix64 sequence from the 64-bit seed, which spreads nearby seeds (0, 1,
 * 2, ...) over unrelated regions of the state space.  Every distribution
 * below is written in terms of dale_rng_next/dale_rng_uniform01 only and uses
 * no platform RNG, so a stream is bit-for-bit reproducible wherever libm's
 * log/sqrt/sin/cos/pow agree (they are correctly rounded or nearly so on
 * every platform we target; the integer stream itself is exact everywhere).
 */
#include <math.h>
#include "dale/rng.h"

/* ---- splitmix64 and xoshiro256** ---------------------------------------- */

/* One splitmix64 step: advance the Weyl sequence x by the golden-ratio
 * increment and return its mixed value.  The two multiply-xorshift rounds
 * make every output bit depend on every input bit. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void dale_rng_seed(dale_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    /* xoshiro's only forbidden state is all zeros.  Four consecutive
     * splitmix64 outputs are (practically) never all zero, but keep the
     * invariant unconditional. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = 1;
    r->cached_normal = 0.0;
    r->has_cached = 0;
}

/* xoshiro256**: output = rotl(s1 * 5, 7) * 9, then the linear engine
 * update (xor-shift of the four words, rotate of the last). */
static inline uint64_t xoshiro_next(uint64_t *s)
{
    const uint64_t out = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint64_t dale_rng_next(dale_rng *r) { return xoshiro_next(r->s); }

/* The child seed is a splitmix64 hash chain over (label, s0, s1, s2, s3):
 * h <- splitmix64(h ^ s_i).  Different labels, or different parent states,
 * give unrelated children; the same (state, label) always gives the same
 * child.  The parent's cached normal is not inherited. */
void dale_rng_fork(const dale_rng *r, uint64_t label, dale_rng *out)
{
    uint64_t h = label;
    uint64_t mixed = splitmix64(&h);
    for (int i = 0; i < 4; i++) {
        uint64_t x = mixed ^ r->s[i];
        mixed = splitmix64(&x);
    }
    dale_rng_seed(out, mixed);
}

/* ---- continuous distributions ------------------------------------------ */

/* The top 53 bits scaled by 2^-53: every double k/2^53, k in [0, 2^53), with
 * equal probability.  Never returns 1.0. */
double dale_rng_uniform01(dale_rng *r)
{
    return (double)(dale_rng_next(r) >> 11) * 0x1.0p-53;
}

double dale_rng_uniform(dale_rng *r, double a, double b)
{
    return a + (b - a) * dale_rng_uniform01(r);
}

/* Box–Muller: with u1, u2 uniform, rad = sqrt(-2 ln(1-u1)) and th = 2π u2,
 * (rad cos th, rad sin th) are two independent standard normals.  1-u1 lies in
 * (0, 1], so the log is finite.  The sine value is cached as a *standard*
 * normal and scaled by the (mu, sd) of the call that consumes it. */
double dale_rng_normal(dale_rng *r, double mu, double sd)
{
    if (r->has_cached) {
        r->has_cached = 0;
        return mu + sd * r->cached_normal;
    }
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = dale_rng_uniform01(r);
    double u2 = dale_rng_uniform01(r);
    double rad = sqrt(-2.0 * log1p(-u1));
    double th = two_pi * u2;
    r->cached_normal = rad * sin(th);
    r->has_cached = 1;
    return mu + sd * (rad * cos(th));
}

/* The same arithmetic as dale_rng_normal(r, 0.0, 1.0), call by call (the
 * `0.0 + 1.0 * x` is that call's mu + sd * x: it turns -0.0 into +0.0 as
 * the call does), without the per-value call, the cache round trip through
 * r and the calls into dale_rng_uniform01 and dale_rng_next. */
void dale_rng_standard_normals(dale_rng *r, double *out, size_t count)
{
    size_t k = 0;
    if (count == 0) return;
    if (r->has_cached) {
        r->has_cached = 0;
        out[k++] = 0.0 + 1.0 * r->cached_normal;
    }
    const double two_pi = 6.283185307179586476925286766559;
    uint64_t g[4] = {r->s[0], r->s[1], r->s[2], r->s[3]}; /* kept in registers */
    /* Pairs in blocks: the uniforms and log1p(-u1) of a block first (one
     * libm function in a tight loop), then sqrt, sincos and the values. */
    enum { BLK = 64 };
    double lg[BLK], th[BLK];
    while (k + 2 <= count) {
        size_t np = (count - k) / 2 < BLK ? (count - k) / 2 : BLK;
        for (size_t i = 0; i < np; i++) {
            double u1 = (double)(xoshiro_next(g) >> 11) * 0x1.0p-53;
            double u2 = (double)(xoshiro_next(g) >> 11) * 0x1.0p-53;
            lg[i] = log1p(-u1);
            th[i] = two_pi * u2;
        }
        for (size_t i = 0; i < np; i++, k += 2) {
            double rad = sqrt(-2.0 * lg[i]);
            double second = rad * sin(th[i]);
            out[k] = 0.0 + 1.0 * (rad * cos(th[i]));
            out[k + 1] = 0.0 + 1.0 * second;
        }
    }
    for (int i = 0; i < 4; i++) r->s[i] = g[i];
    if (k < count) out[k] = dale_rng_normal(r, 0.0, 1.0); /* the last one: its pair's second value stays cached */
}

/* Inverse CDF of the exponential with mean `scale` (NumPy's parameter, not
 * the rate): x = -scale ln(1 - u).  log1p keeps precision for small u. */
double dale_rng_exponential(dale_rng *r, double scale)
{
    return -scale * log1p(-dale_rng_uniform01(r));
}

/* Marsaglia & Tsang (2000), "A simple method for generating gamma variables",
 * for shape k >= 1 and unit scale:
 *   d = k - 1/3, c = 1/sqrt(9d); draw x ~ N(0,1), v = (1 + c x)^3 (retry if
 *   1 + c x <= 0); accept d v if u < 1 - 0.0331 x^4 (cheap squeeze) or if
 *   ln u < x^2/2 + d (1 - v + ln v) (exact test).
 * Acceptance is above 95% for every k >= 1. */
static double gamma_ge1(dale_rng *r, double k)
{
    const double d = k - 1.0 / 3.0;
    const double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = dale_rng_normal(r, 0.0, 1.0);
        double v = 1.0 + c * x;
        if (v <= 0.0) continue;
        v = v * v * v;
        double u = dale_rng_uniform01(r);
        double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) return d * v;
    }
}

/* For k < 1: if g ~ Gamma(k+1) and u ~ U(0,1] then g u^(1/k) ~ Gamma(k)
 * (Marsaglia & Tsang, section 6).  Using 1-uniform01 keeps u away from 0.
 * Returns NAN for a non-positive or non-finite shape or scale. */
double dale_rng_gamma(dale_rng *r, double shape, double scale)
{
    if (!(shape > 0.0) || !(scale > 0.0) || isinf(shape) || isinf(scale)) return (double)NAN;
    if (shape >= 1.0) return scale * gamma_ge1(r, shape);
    double g = gamma_ge1(r, shape + 1.0);
    double u = 1.0 - dale_rng_uniform01(r);
    return scale * g * pow(u, 1.0 / shape);
}

/* ---- integers and permutations ------------------------------------------ */

/* Unbiased x mod n: 2^64 mod n values at the bottom of the 64-bit range
 * would make small residues more likely, so outputs below that threshold are
 * rejected ((-n) % n is 2^64 mod n in unsigned arithmetic).  The expected
 * number of draws is below 2 for every n and ~1 for small n.  n == 0 gives 0
 * without consuming output. */
uint64_t dale_rng_below(dale_rng *r, uint64_t n)
{
    if (n == 0) return 0;
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = dale_rng_next(r);
        if (x >= threshold) return x % n;
    }
}

/* Fisher–Yates (Durstenfeld): for i = n-1 .. 1 swap a[i] with a[j], j uniform
 * in [0, i].  Every permutation is equally likely because below() is
 * unbiased. */
void dale_rng_shuffle(dale_rng *r, size_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)dale_rng_below(r, (uint64_t)i);
        size_t tmp = a[i - 1];
        a[i - 1] = a[j];
        a[j] = tmp;
    }
}
