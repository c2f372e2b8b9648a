/* logistic.c — maximum-likelihood logistic fit of binomial counts (the
 * psychometric function of dale psychometric). */
#include <math.h>
#include <string.h>
#include "dale/stats.h"
#include "internal.h"

/* Log-likelihood of counts k of n at x under p = 1/(1 + exp(-(a + b x))). */
static double loglik(const double *x, const double *n, const double *k, size_t m, double a, double b)
{
    double ll = 0;
    for (size_t i = 0; i < m; i++) {
        double z = a + b * x[i];
        /* log p = -log(1 + e^-z), log(1 - p) = -log(1 + e^z), computed stably */
        double lp = z >= 0 ? -log1p(exp(-z)) : z - log1p(exp(z));
        double lq = z >= 0 ? -z - log1p(exp(-z)) : -log1p(exp(z));
        ll += k[i] * lp + (n[i] - k[i]) * lq;
    }
    return ll;
}

dale_status dale_logistic_fit(const double *x, const double *n, const double *k, size_t m, dale_logistic *fit)
{
    memset(fit, 0, sizeof *fit);
    fit->intercept = fit->slope = fit->bias = fit->se_intercept = fit->se_slope = (double)NAN;
    size_t used = 0;
    double total = 0, succ = 0;
    for (size_t i = 0; i < m; i++) {
        if (!isfinite(x[i]) || !(n[i] >= 0) || !(k[i] >= 0) || k[i] > n[i] || !isfinite(n[i]))
            return DALE_FAIL(DALE_ERR_ARG, "logistic fit: point %zu is not a level x with 0 <= k <= n (x %g, k %g, n %g)",
                             i, x[i], k[i], n[i]);
        if (n[i] > 0) used++;
        total += n[i];
        succ += k[i];
    }
    if (used < 2) return DALE_FAIL(DALE_ERR_ARG, "logistic fit: needs trials at 2 or more levels (got %zu)", used);
    /* Start at the flat curve through the overall rate. */
    double pbar = (succ + 0.5) / (total + 1.0), a = log(pbar / (1 - pbar)), b = 0;
    double ll = loglik(x, n, k, m, a, b);
    double h00 = 0, h01 = 0, h11 = 0;
    int it;
    for (it = 0; it < 200; it++) {
        double g0 = 0, g1 = 0;
        h00 = h01 = h11 = 0;
        for (size_t i = 0; i < m; i++) {
            double p = 1.0 / (1.0 + exp(-(a + b * x[i]))), v = n[i] * p * (1 - p), r = k[i] - n[i] * p;
            g0 += r;
            g1 += r * x[i];
            h00 += v;
            h01 += v * x[i];
            h11 += v * x[i] * x[i];
        }
        double det = h00 * h11 - h01 * h01;
        if (!(det > 0) || !isfinite(det)) break; /* flat information: separation */
        double da = (h11 * g0 - h01 * g1) / det, db = (h00 * g1 - h01 * g0) / det;
        /* Newton step, halved until the likelihood does not drop. */
        double step = 1, nll = ll;
        int ok = 0;
        for (int h = 0; h < 40; h++, step *= 0.5) {
            nll = loglik(x, n, k, m, a + step * da, b + step * db);
            if (nll >= ll - 1e-12 * fabs(ll)) {
                ok = 1;
                break;
            }
        }
        if (!ok) break;
        a += step * da;
        b += step * db;
        double change = fabs(step * da) + fabs(step * db);
        ll = nll;
        if (change < 1e-12 * (1 + fabs(a) + fabs(b))) {
            fit->converged = 1;
            break;
        }
        if (fabs(b) > 1e6) break; /* diverging: the data are separable */
    }
    fit->iterations = it + 1;
    fit->intercept = a;
    fit->slope = b;
    fit->bias = b != 0 ? -a / b : (double)NAN;
    fit->loglik = ll;
    double det = h00 * h11 - h01 * h01;
    if (det > 0 && isfinite(det)) {
        fit->se_intercept = sqrt(h11 / det);
        fit->se_slope = sqrt(h00 / det);
    }
    return DALE_OK;
}
