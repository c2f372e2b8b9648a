/* dale/rng.h — seeded random numbers and the distributions the inits need.
 *
 * Generator: xoshiro256** (64-bit output, period 2^256 - 1), seeded from a
 * 64-bit seed through splitmix64 so nearby seeds give unrelated streams.  The
 * state is a plain struct the caller owns (no global RNG): copy it to fork a
 * stream, save its four words in a checkpoint to resume bit-for-bit.
 *
 * Distributions (all draws consume a documented number of 64-bit outputs, so a
 * stream is reproducible across platforms):
 *   uniform01      double in [0, 1) with 53 random bits          (1 output)
 *   uniform(a, b)  a + (b-a) * uniform01                          (1 output)
 *   normal(mu, sd) Box–Muller, both values used in turn (cached)  (2 outputs per pair)
 *   exponential(β) scale parameterisation: -β ln(1 - u), mean β   (1 output)
 *   gamma(k, θ)    shape k > 0, scale θ; Marsaglia–Tsang, with the
 *                  u^(1/k) boost for k < 1                        (variable)
 *   below(n)       unbiased integer in [0, n) (rejection)         (≥ 1 output)
 *   shuffle        Fisher–Yates permutation of a size_t array
 */
#ifndef DALE_RNG_H
#define DALE_RNG_H

#include <stddef.h>
#include <stdint.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dale_rng {
    uint64_t s[4];
    double cached_normal; /* second Box–Muller value, valid if has_cached */
    int has_cached;
} dale_rng;

/* Set r to the stream for `seed` (any value, 0 included) and drop any cached
 * normal.  r is caller-owned; nothing allocates and nothing fails. */
DALE_API void dale_rng_seed(dale_rng *r, uint64_t seed);
/* Next raw 64-bit output of xoshiro256**. */
DALE_API uint64_t dale_rng_next(dale_rng *r);
/* Derive an independent stream (for a sub-task) from r's current state and a
 * label: the four state words and the label are hashed through splitmix64
 * into a seed for *out.  r itself is not advanced, so forking twice with the
 * same label gives the same child; use distinct labels for distinct
 * children.  out may not alias r. */
DALE_API void dale_rng_fork(const dale_rng *r, uint64_t label, dale_rng *out);

/* Uniform double in [0, 1) (multiples of 2^-53). */
DALE_API double dale_rng_uniform01(dale_rng *r);
/* a + (b - a) * uniform01: in [a, b) for a < b. */
DALE_API double dale_rng_uniform(dale_rng *r, double a, double b);
/* Normal with mean mu and standard deviation sd (not variance).  Calls
 * alternate between drawing a fresh Box–Muller pair and returning the cached
 * second value, so the stream depends on the call sequence, not on (mu, sd). */
DALE_API double dale_rng_normal(dale_rng *r, double mu, double sd);
/* count standard normals into out[0..count): exactly what count calls of
 * dale_rng_normal(r, 0.0, 1.0) return, in that order, leaving r (its
 * state and its cached value) as those calls leave it; one call instead of
 * count, for the per-step noise of the leaky dynamics.  count 0 does
 * nothing. */
DALE_API void dale_rng_standard_normals(dale_rng *r, double *out, size_t count);
/* Exponential with mean `scale` (= 1/rate), like numpy's exponential(scale). */
DALE_API double dale_rng_exponential(dale_rng *r, double scale);
/* Gamma with shape k and scale θ (mean kθ, variance kθ²), like numpy's
 * gamma(shape, scale).  Returns NAN when shape or scale is not a finite
 * positive number.  Uses dale_rng_normal, so it shares the normal cache. */
DALE_API double dale_rng_gamma(dale_rng *r, double shape, double scale);
/* Uniform integer in [0, n), without modulo bias.  Returns 0 for n == 0. */
DALE_API uint64_t dale_rng_below(dale_rng *r, uint64_t n);
/* Shuffle a[0..n) in place (uniform over all n! orders). */
DALE_API void dale_rng_shuffle(dale_rng *r, size_t *a, size_t n);

#ifdef __cplusplus
}
#endif
#endif
