/* dexp.h — dale's own exp and log in double precision (internal; see dexp.c).
 *
 * The softmax cross-entropy of the `numerics = dale` arithmetic uses these
 * instead of libm's, for two reasons: libm's exp is one scalar call per
 * logit (an lm update has 3200 x 10000 of them), and its results depend on
 * the C library and on which variant it picks for the CPU (glibc selects an
 * FMA build at run time), so they cannot promise the same bits on every
 * machine.  These do: a fixed sequence of IEEE double multiplies and adds,
 * no FMA, the same on every instruction-set path and in the scalar
 * reference.
 *
 * Accuracy against glibc's exp and log (tests/test_dexp.c): relative error
 * at most 4e-16 (under 2 ulp) for results in the normal range, exp over
 * [-708, 709] and log over [1e-300, 1e300]; exp's results below 2^-1022
 * (x < -708.4) are subnormal or 0 and within 2^-1074 of libm's, exp
 * overflows to +inf above 709.78, and NaN stays NaN.
 */
#ifndef DALE_LINALG_DEXP_H
#define DALE_LINALG_DEXP_H

#include <stddef.h>

/* exp(x), the scalar reference of every path below. */
double dalei_exp(double x);
/* log(x): NaN for x < 0 or NaN, -inf for 0, +inf for +inf. */
double dalei_log(double x);

/* y[i] = dalei_exp(x[i]) for i < n on the instruction-set path in use
 * (dalei_smm_path: portable, AVX2 or AVX-512); identical bits on each. */
void dalei_exp_array(const double *x, double *y, size_t n);

/* Softmax numerator of one row of logits:
 *   e[j] = dalei_exp((double)z[j] - shift),  j < m   (e may be NULL),
 * and returns their sum in a fixed order that does not depend on the path:
 * eight partial sums s_k = sum over j = k (mod 8) in increasing j, each
 * from +0, then ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)). */
double dalei_exp_row(const float *z, size_t m, double shift, double *e);
/* The same as scalar loops (the reference the tests compare with). */
double dalei_exp_row_naive(const float *z, size_t m, double shift, double *e);

#endif
