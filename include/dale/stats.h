/* dale/stats.h — the statistics of experiment reports: tests, correlations,
 * regression.  Written here (GSL is GPL) and checked against SciPy
 * (tests/test_stats.c, numbers from tools/ref/make_stats_ref.py).
 *
 * Every p-value is two-sided.  Inputs are plain double arrays that are not
 * modified; the functions that rank data allocate a scratch copy
 * (DALE_ERR_NOMEM when that fails).  Too few values (or zero variance where
 * a statistic needs it) give DALE_ERR_ARG with a message naming the rule;
 * the outputs are then NaN.
 */
#ifndef DALE_STATS_H
#define DALE_STATS_H

#include <stddef.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Regularized incomplete beta I_x(a, b) (continued fraction, Numerical
 * Recipes' betacf with Lentz's method), a, b > 0, x in [0, 1]; NaN outside. */
DALE_API double dale_betainc(double a, double b, double x);
/* Survival function of Student's t with df > 0 degrees of freedom:
 * P(T > t) = ½ I_{df/(df+t²)}(df/2, ½) for t >= 0 (symmetric otherwise). */
DALE_API double dale_t_sf(double t, double df);
/* Standard normal survival function P(Z > z) = ½ erfc(z/√2). */
DALE_API double dale_norm_sf(double z);

/* Welch's unequal-variance t-test of x (nx >= 2) against y (ny >= 2), as
 * scipy.stats.ttest_ind(x, y, equal_var=False): t = (x̄ − ȳ)/√(sx²/nx + sy²/ny)
 * with sample variances (ddof 1), Welch–Satterthwaite df, p = 2·sf(|t|).
 * Both variances 0: DALE_ERR_ARG. */
DALE_API dale_status dale_welch_t(const double *x, size_t nx, const double *y, size_t ny,
                                  double *t, double *df, double *p);

/* Mann–Whitney U test, two-sided, as scipy.stats.mannwhitneyu(x, y)
 * (method "auto", continuity correction on): *u is U of x (the number of
 * pairs with x > y, ties counting ½).  Exact null distribution when
 * min(nx, ny) <= 8 and there are no ties: p = min(1, 2·P(U >= max(U_x, U_y)));
 * otherwise the normal approximation with the tie-corrected variance and a
 * continuity correction of ½.  Ties get their mean rank (midranks), within
 * a sample as across the two; every value tied (zero variance in both and
 * the same value): p = 1.  *exact (may be NULL) says which was used.
 * nx, ny >= 1. */
DALE_API dale_status dale_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
                                       double *u, double *p, int *exact);

/* Pearson correlation r of (x, y), n >= 3, with the p-value of the t-test
 * t = r √((n−2)/(1−r²)), n−2 df (= scipy.stats.pearsonr).  A constant x or
 * y: DALE_ERR_ARG. */
DALE_API dale_status dale_pearson(const double *x, const double *y, size_t n, double *r, double *p);
/* Spearman rank correlation (average ranks for ties) and its p-value from
 * the same t approximation (= scipy.stats.spearmanr). */
DALE_API dale_status dale_spearman(const double *x, const double *y, size_t n, double *rho, double *p);

/* Least-squares line y = slope·x + intercept (= scipy.stats.linregress),
 * n >= 3: r, the p-value of slope = 0 (t-test, n−2 df), the standard error
 * of the slope and of the intercept. */
typedef struct dale_linreg {
    double slope, intercept, r, p, stderr_slope, stderr_intercept;
} dale_linreg;
DALE_API dale_status dale_linregress(const double *x, const double *y, size_t n, dale_linreg *out);

/* Average ranks (1-based, ties get the mean of their ranks) of x[n] into
 * rank[n]; *tie_term (may be NULL) gets Σ (t³ − t) over tie groups.
 * Allocates scratch. */
DALE_API dale_status dale_rank(const double *x, size_t n, double *rank, double *tie_term);

/* Maximum-likelihood logistic fit of binomial counts: k[i] successes out of
 * n[i] trials at level x[i] (i < m), under
 *     p(x) = 1 / (1 + exp(-(intercept + slope * x))),
 * by Newton's method on the log-likelihood (step halving; from the flat
 * curve through the overall rate).  bias = -intercept / slope is the level
 * where p = 1/2 (NaN when slope is 0); se_* are the standard errors from the
 * inverse Fisher information at the fit.  converged = 0 when the data are
 * (quasi-)separable and the MLE does not exist (the last iterate is
 * returned).  Levels with n = 0 are ignored.  Errors: DALE_ERR_ARG for fewer
 * than 2 levels with trials, or a point with a non-finite x or not
 * 0 <= k <= n (outputs NaN). */
typedef struct dale_logistic {
    double intercept, slope, bias;
    double se_intercept, se_slope;
    double loglik;
    int converged, iterations;
} dale_logistic;
DALE_API dale_status dale_logistic_fit(const double *x, const double *n, const double *k, size_t m,
                                       dale_logistic *fit);

#ifdef __cplusplus
}
#endif
#endif
