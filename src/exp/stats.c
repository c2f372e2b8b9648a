/* stats.c — two-sample tests, correlations and regression for reports.
 *
 * The only special function needed is the regularized incomplete beta
 * I_x(a, b): Student's t survival function is ½ I_{df/(df+t²)}(df/2, ½).
 * It is evaluated by the continued fraction of Numerical Recipes (betacf,
 * modified Lentz), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) so the
 * fraction converges fast (x < (a+1)/(a+b+2)).  The normal tail comes from
 * erfc, so far tails keep their relative precision.
 *
 * The exact Mann–Whitney distribution is the number of ways c(k; m, n) to
 * reach U = k with m values of x among m + n, by the recursion
 * c(k; m, n) = c(k − n; m − 1, n) + c(k; m, n − 1) run as a DP over n.
 */
#include <math.h>
#include <string.h>
#include "dale/stats.h"
#include "internal.h"

#define DNAN ((double)NAN)

/* ------------------------------------------------- special functions */

/* Continued fraction for I_x(a, b) (NR 6.4), valid for x < (a+1)/(a+b+2). */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps) break;
    }
    return h;
}

double dale_betainc(double a, double b, double x)
{
    if (!(a > 0 && b > 0 && x >= 0 && x <= 1)) return DNAN;
    if (x == 0 || x == 1) return x;
    /* front factor x^a (1−x)^b / (a B(a, b)) in logs */
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * betacf(a, b, x) / a;
    return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double dale_t_sf(double t, double df)
{
    if (isnan(t) || !(df > 0)) return DNAN;
    if (isinf(t)) return t > 0 ? 0 : 1;
    double tail = 0.5 * dale_betainc(0.5 * df, 0.5, df / (df + t * t));
    return t >= 0 ? tail : 1 - tail;
}

double dale_norm_sf(double z) { return 0.5 * erfc(z / sqrt(2.0)); }

/* ------------------------------------------------------------ helpers */

static void mean_var(const double *x, size_t n, double *mean, double *var)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = n > 1 ? s / (double)(n - 1) : DNAN;
}

static double clamp01(double p) { return p < 0 ? 0 : p > 1 ? 1 : p; }

/* ------------------------------------------------------------ tests */

dale_status dale_welch_t(const double *x, size_t nx, const double *y, size_t ny, double *t,
                         double *df, double *p)
{
    *t = *df = *p = DNAN;
    if (!x || !y || nx < 2 || ny < 2)
        return DALE_FAIL(DALE_ERR_ARG, "dale_welch_t: each sample needs >= 2 values (got %zu, %zu)", nx, ny);
    double mx, vx, my, vy;
    mean_var(x, nx, &mx, &vx);
    mean_var(y, ny, &my, &vy);
    double ax = vx / (double)nx, ay = vy / (double)ny, se2 = ax + ay;
    if (!(se2 > 0)) return DALE_FAIL(DALE_ERR_ARG, "dale_welch_t: both samples have zero variance");
    *t = (mx - my) / sqrt(se2);
    *df = se2 * se2 / (ax * ax / (double)(nx - 1) + ay * ay / (double)(ny - 1));
    *p = clamp01(2 * dale_t_sf(fabs(*t), *df));
    return DALE_OK;
}

/* Sort indices of x by value (insertion sort into idx: n is small here,
 * a few hundred at most in a report). */
static void sort_idx(const double *x, size_t n, size_t *idx)
{
    for (size_t i = 0; i < n; i++) idx[i] = i;
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && x[idx[j - 1]] > x[v]) { idx[j] = idx[j - 1]; j--; }
        idx[j] = v;
    }
}

dale_status dale_rank(const double *x, size_t n, double *rank, double *tie_term)
{
    size_t *idx = dalei_alloc(n ? n : 1, sizeof(size_t));
    if (!idx) return DALE_ERR_NOMEM;
    sort_idx(x, n, idx);
    double tt = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && x[idx[j + 1]] == x[idx[i]]) j++;
        double r = 0.5 * (double)(i + j) + 1; /* mean of ranks i+1 .. j+1 */
        for (size_t k = i; k <= j; k++) rank[idx[k]] = r;
        double tsz = (double)(j - i + 1);
        tt += tsz * tsz * tsz - tsz;
        i = j + 1;
    }
    if (tie_term) *tie_term = tt;
    dalei_free(idx);
    return DALE_OK;
}

/* P(U >= k) under H0 for sample sizes m, n (no ties): counts by DP. */
static dale_status mwu_exact_sf(size_t m, size_t n, double k, double *sf)
{
    /* f[j*W + u] = c_{j,nn}(u), the number of orderings of j x-values and
     * nn y-values with U = u.  Looking at the largest value:
     *   c_{j,nn}(u) = c_{j-1,nn}(u - nn)  (it is an x: beats all nn y)
     *               + c_{j,nn-1}(u)       (it is a y).
     * Rolling over nn with j ascending: row j-1 already holds nn, row j
     * still holds nn-1.  Base nn = 0: c_{j,0}(0) = 1. */
    size_t mn = m * n, W = mn + 1;
    double *f = dalei_calloc((m + 1) * W, sizeof(double));
    if (!f) return DALE_ERR_NOMEM;
    for (size_t j = 0; j <= m; j++) f[j * W] = 1;
    for (size_t nn = 1; nn <= n; nn++) {
        for (size_t j = 1; j <= m; j++)
            for (size_t u = mn + 1; u-- > 0;)
                if (u >= nn) f[j * W + u] += f[(j - 1) * W + u - nn];
    }
    double total = 0, tail = 0;
    for (size_t u = 0; u <= mn; u++) {
        total += f[m * W + u];
        if ((double)u >= k - 1e-9) tail += f[m * W + u];
    }
    *sf = tail / total;
    dalei_free(f);
    return DALE_OK;
}

dale_status dale_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, double *u,
                              double *p, int *exact)
{
    *u = *p = DNAN;
    if (exact) *exact = 0;
    if (!x || !y || nx < 1 || ny < 1)
        return DALE_FAIL(DALE_ERR_ARG, "dale_mann_whitney: each sample needs >= 1 value (got %zu, %zu)", nx, ny);
    size_t n = nx + ny;
    double *xy = dalei_alloc(n, sizeof(double)), *r = dalei_alloc(n, sizeof(double));
    dale_status st = DALE_OK;
    if (!xy || !r) { st = DALE_ERR_NOMEM; goto done; }
    memcpy(xy, x, nx * sizeof(double));
    memcpy(xy + nx, y, ny * sizeof(double));
    double tie;
    if ((st = dale_rank(xy, n, r, &tie))) goto done;
    double R1 = 0;
    for (size_t i = 0; i < nx; i++) R1 += r[i];
    double U1 = R1 - (double)nx * (double)(nx + 1) / 2, U2 = (double)nx * (double)ny - U1;
    double U = U1 > U2 ? U1 : U2;
    *u = U1;
    if ((nx <= 8 || ny <= 8) && tie == 0) {
        double sf;
        if ((st = mwu_exact_sf(nx, ny, U, &sf))) goto done;
        *p = clamp01(2 * sf);
        if (exact) *exact = 1;
    } else {
        double mu = (double)nx * (double)ny / 2, N = (double)n;
        double v = (double)nx * (double)ny / 12 * ((N + 1) - tie / (N * (N - 1)));
        /* Every value tied (init-only runs, a metric at its floor): the
         * tie-corrected variance is 0 and U = mu, so there is no evidence of
         * any difference: p = 1, said so rather than left to -0.5/0. */
        if (!(v > 0)) *p = 1;
        else *p = clamp01(2 * dale_norm_sf((U - mu - 0.5) / sqrt(v)));
    }
done:
    dalei_free(xy);
    dalei_free(r);
    return st;
}

/* ------------------------------------------------------- correlation */

static dale_status corr_core(const double *x, const double *y, size_t n, const char *who,
                             double *r, double *p)
{
    double mx, vx, my, vy;
    mean_var(x, n, &mx, &vx);
    mean_var(y, n, &my, &vy);
    if (!(vx > 0) || !(vy > 0)) return DALE_FAIL(DALE_ERR_ARG, "%s: x or y is constant", who);
    double sxy = 0;
    for (size_t i = 0; i < n; i++) sxy += (x[i] - mx) * (y[i] - my);
    double rr = sxy / ((double)(n - 1) * sqrt(vx * vy));
    if (rr > 1) rr = 1;
    if (rr < -1) rr = -1;
    *r = rr;
    double df = (double)(n - 2);
    if (fabs(rr) == 1) *p = 0;
    else *p = clamp01(2 * dale_t_sf(fabs(rr) * sqrt(df / (1 - rr * rr)), df));
    return DALE_OK;
}

dale_status dale_pearson(const double *x, const double *y, size_t n, double *r, double *p)
{
    *r = *p = DNAN;
    if (!x || !y || n < 3) return DALE_FAIL(DALE_ERR_ARG, "dale_pearson: needs n >= 3 pairs (got %zu)", n);
    return corr_core(x, y, n, "dale_pearson", r, p);
}

dale_status dale_spearman(const double *x, const double *y, size_t n, double *rho, double *p)
{
    *rho = *p = DNAN;
    if (!x || !y || n < 3) return DALE_FAIL(DALE_ERR_ARG, "dale_spearman: needs n >= 3 pairs (got %zu)", n);
    double *rx = dalei_alloc(n, sizeof(double)), *ry = dalei_alloc(n, sizeof(double));
    dale_status st = DALE_OK;
    if (!rx || !ry) st = DALE_ERR_NOMEM;
    if (!st) st = dale_rank(x, n, rx, NULL);
    if (!st) st = dale_rank(y, n, ry, NULL);
    if (!st) st = corr_core(rx, ry, n, "dale_spearman", rho, p);
    dalei_free(rx);
    dalei_free(ry);
    return st;
}

dale_status dale_linregress(const double *x, const double *y, size_t n, dale_linreg *o)
{
    o->slope = o->intercept = o->r = o->p = o->stderr_slope = o->stderr_intercept = DNAN;
    if (!x || !y || n < 3) return DALE_FAIL(DALE_ERR_ARG, "dale_linregress: needs n >= 3 pairs (got %zu)", n);
    double mx, vx, my, vy;
    mean_var(x, n, &mx, &vx);
    mean_var(y, n, &my, &vy);
    if (!(vx > 0)) return DALE_FAIL(DALE_ERR_ARG, "dale_linregress: all x values are identical");
    double ssxm = 0, ssym = 0, ssxym = 0, sx2 = 0;
    for (size_t i = 0; i < n; i++) {
        ssxm += (x[i] - mx) * (x[i] - mx);
        ssym += (y[i] - my) * (y[i] - my);
        ssxym += (x[i] - mx) * (y[i] - my);
        sx2 += x[i] * x[i];
    }
    double r = ssym > 0 ? ssxym / sqrt(ssxm * ssym) : 0;
    if (r > 1) r = 1;
    if (r < -1) r = -1;
    double df = (double)(n - 2);
    o->slope = ssxym / ssxm;
    o->intercept = my - o->slope * mx;
    o->r = r;
    if (fabs(r) == 1) o->p = 0;
    else o->p = clamp01(2 * dale_t_sf(fabs(r) * sqrt(df / (1 - r * r)), df));
    /* scipy: slope_stderr = sqrt((1 − r²) ssym / ssxm / df) */
    o->stderr_slope = sqrt((1 - r * r) * ssym / ssxm / df);
    o->stderr_intercept = o->stderr_slope * sqrt(sx2 / (double)n);
    return DALE_OK;
}
