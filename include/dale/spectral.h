/* dale/spectral.h — spectral diagnostics of (recurrent) weight matrices.
 *
 * All in float64.  NSE (normalised SVD entropy) of singular values σ_1..σ_N:
 *   p_i = σ_i / Σ_j σ_j,   H = -(Σ_i p_i ln p_i) / ln N,   0 ln 0 = 0.
 * H = 1 iff all σ are equal; H is scale invariant.  N = 1 gives H = 1 by
 * convention (a single value is perfectly flat); all-zero σ gives NaN.
 */
#ifndef DALE_SPECTRAL_H
#define DALE_SPECTRAL_H

#include <stddef.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

DALE_API double dale_nse(const double *s, size_t n);

/* Summary of one square matrix. */
typedef struct dale_spectrum_summary {
    size_t n;
    double nse;       /* normalised SVD entropy                      */
    double sigma_max; /* largest singular value                       */
    double rho;       /* spectral radius (largest eigenvalue modulus) */
    double frob;      /* Frobenius norm                               */
    double rowsum_mean, rowsum_sd; /* E/I balance: row sums of A (sd ddof 0) */
} dale_spectrum_summary;

/* Computes singular values and eigenvalues of the (n, n) row-major A.
 * s (n) and re/im (n) may be NULL when the caller does not need them. */
DALE_API dale_status dale_spectrum_summarize(const double *A, size_t n,
                                             dale_spectrum_summary *out, double *s,
                                             double *re, double *im);
/* Fills *out for the (n, n) A from spectra the caller already has:
 * s[n] its singular values (descending) and re/im[n] its eigenvalues (any
 * order; both NULL: rho = NaN).  Computes NSE, σmax, ρ, Frobenius norm and
 * row-sum statistics; no LAPACK call, no allocation.  Errors: DALE_ERR_ARG
 * (NULL A/s/out, n = 0, only one of re/im). */
DALE_API dale_status dale_spectrum_summary_from(const double *A, size_t n, const double *s,
                                                const double *re, const double *im,
                                                dale_spectrum_summary *out);
/* Same for a float32 matrix (converted to float64 internally). */
DALE_API dale_status dale_spectrum_summarize_f32(const float *A, size_t n,
                                                 dale_spectrum_summary *out);

#ifdef __cplusplus
}
#endif
#endif
