/* spectral.c — spectral diagnostics of weight matrices (paper Sec. 2.3.2, eq. 4).
 *
 * Everything here is float64 and built on the linalg wrappers: singular
 * values come from dale_svals (descending), eigenvalues from dale_eigvals
 * (descending modulus), and the derived metrics (NSE, norms, row-sum
 * statistics) are plain C on top.  Matrices are row-major (n, n); inputs are
 * only read.  Scratch buffers come from dalei_alloc and are released on
 * every path.
 */
#include <math.h>
#include <stdint.h>
#include "dale/linalg.h"
#include "dale/spectral.h"
#include "internal.h"

/* H = −(Σ p_i ln p_i) / ln N with p_i = σ_i / Σ_j σ_j and 0 ln 0 = 0.
 *
 * The σ are first divided by their maximum, so the sum cannot overflow for
 * huge values (H is scale invariant, so this changes nothing else).  The
 * result is clamped to [0, 1]: for equal σ rounding can otherwise give
 * 1 + 1e-16.  Returns NaN when n = 0, when any σ is negative or not finite,
 * and when all σ are zero; n = 1 with σ_1 > 0 gives 1 (see spectral.h). */
double dale_nse(const double *s, size_t n)
{
    if (n == 0 || !s) return (double)NAN;
    double smax = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(s[i]) || s[i] < 0.0) return (double)NAN;
        smax = fmax(smax, s[i]);
    }
    if (smax == 0.0) return (double)NAN;
    if (n == 1) return 1.0;

    double total = 0.0;
    for (size_t i = 0; i < n; i++) total += s[i] / smax;
    double h = 0.0;
    for (size_t i = 0; i < n; i++) {
        double p = (s[i] / smax) / total;
        if (p > 0.0) h -= p * log(p); /* p = 0 contributes 0 (0 ln 0 = 0) */
    }
    h /= log((double)n);
    return h < 0.0 ? 0.0 : h > 1.0 ? 1.0 : h;
}

/* Frobenius norm sqrt(Σ a²), scaled by max |a| so that squaring cannot
 * overflow (or underflow to 0) for extreme but finite entries. */
static double frobenius(const double *A, size_t count)
{
    double amax = 0.0;
    for (size_t i = 0; i < count; i++) amax = fmax(amax, fabs(A[i]));
    if (amax == 0.0) return 0.0;
    double ss = 0.0;
    for (size_t i = 0; i < count; i++) {
        double x = A[i] / amax;
        ss += x * x;
    }
    return amax * sqrt(ss);
}

/* Row sums r_i = Σ_j A_ij of the (n, n) A: mean and population sd (ddof 0),
 * computed in two passes (mean first) for accuracy. */
static void rowsum_stats(const double *A, size_t n, double *mean, double *sd)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = 0.0;
        for (size_t j = 0; j < n; j++) r += A[i * n + j];
        sum += r;
    }
    double mu = sum / (double)n, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = 0.0;
        for (size_t j = 0; j < n; j++) r += A[i * n + j];
        ss += (r - mu) * (r - mu);
    }
    *mean = mu;
    *sd = sqrt(ss / (double)n);
}

/* Fills *out for the row-major (n, n) A; optionally returns the singular
 * values (s[n], descending) and eigenvalues (re[n], im[n], descending
 * modulus).  Scratch: one block for whichever of s/re/im the caller did not
 * pass.  Errors: DALE_ERR_ARG (NULL A/out, n = 0, n too large),
 * DALE_ERR_NUMERIC (non-finite entry), DALE_ERR_LAPACK, DALE_ERR_NOMEM.
 * On failure *out and the optional buffers' contents are unspecified
 * (out itself is not written). */
dale_status dale_spectrum_summarize(const double *A, size_t n, dale_spectrum_summary *out,
                                    double *s, double *re, double *im)
{
    if (!A || !out)
        return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_summarize: A and out must not be NULL");
    if (n == 0) return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_summarize: n must be > 0 (got 0)");
    if (n > SIZE_MAX / n || n > SIZE_MAX / 3)
        return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_summarize: n too large (got %zu)", n);
    for (size_t i = 0; i < n * n; i++)
        if (!isfinite(A[i]))
            return DALE_FAIL(DALE_ERR_NUMERIC,
                             "dale_spectrum_summarize: A[%zu, %zu] is not finite (%g)", i / n,
                             i % n, A[i]);

    size_t need = (s ? 0 : n) + (re ? 0 : n) + (im ? 0 : n);
    double *scratch = NULL;
    dale_status st = DALE_OK;
    if (need) {
        scratch = dalei_alloc(need, sizeof *scratch);
        if (!scratch) return DALE_ERR_NOMEM;
        double *next = scratch;
        if (!s) {
            s = next;
            next += n;
        }
        if (!re) {
            re = next;
            next += n;
        }
        if (!im) im = next;
    }

    st = dale_svals(A, n, n, s);
    if (st) goto fail;
    st = dale_eigvals(A, n, re, im);
    if (st) goto fail;

    dale_spectrum_summary sum = {.n = n};
    sum.nse = dale_nse(s, n);
    sum.sigma_max = s[0];
    sum.rho = hypot(re[0], im[0]); /* eigenvalues are sorted by modulus */
    sum.frob = frobenius(A, n * n);
    rowsum_stats(A, n, &sum.rowsum_mean, &sum.rowsum_sd);
    *out = sum;

fail:
    dalei_free(scratch);
    return st;
}

dale_status dale_spectrum_summary_from(const double *A, size_t n, const double *s,
                                       const double *re, const double *im,
                                       dale_spectrum_summary *out)
{
    if (!A || !s || !out || n == 0 || (!re) != (!im))
        return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_summary_from: A, s, out must not be NULL, "
                                       "n > 0, and re/im both given or both NULL");
    dale_spectrum_summary sum = {.n = n};
    sum.nse = dale_nse(s, n);
    sum.sigma_max = s[0];
    sum.rho = (double)NAN;
    if (re) {
        sum.rho = 0.0;
        for (size_t i = 0; i < n; i++) sum.rho = fmax(sum.rho, hypot(re[i], im[i]));
    }
    sum.frob = frobenius(A, n * n);
    rowsum_stats(A, n, &sum.rowsum_mean, &sum.rowsum_sd);
    *out = sum;
    return DALE_OK;
}

/* Converts the float32 A to a float64 copy (one scratch block of n² doubles)
 * and summarises it; errors as dale_spectrum_summarize. */
dale_status dale_spectrum_summarize_f32(const float *A, size_t n, dale_spectrum_summary *out)
{
    if (!A || !out)
        return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_summarize_f32: A and out must not be NULL");
    if (n == 0)
        return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_summarize_f32: n must be > 0 (got 0)");
    if (n > SIZE_MAX / n)
        return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_summarize_f32: n too large (got %zu)", n);
    double *a = dalei_alloc(n * n, sizeof *a);
    if (!a) return DALE_ERR_NOMEM;
    for (size_t i = 0; i < n * n; i++) a[i] = (double)A[i];
    dale_status st = dale_spectrum_summarize(a, n, out, NULL, NULL, NULL);
    dalei_free(a);
    return st;
}
