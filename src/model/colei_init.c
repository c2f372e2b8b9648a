/* colei_init.c — ColEI recurrent inits beyond the paper (docs/beyond.md).
 *
 * The paper's ColEI W (colei.c) has a few very large singular values: every
 * column has one sign, so the mean matrix 1 (μE 1_E - μI 1_I)^T is a rank-one
 * mode that no choice of scales cancels.  The inits here start from the
 * standard draw (its diagonal zeroed and its mask applied as usual, so the
 * random stream is consumed exactly as by the standard init) and change it
 * before the rescaling to rho; every column keeps its sign exactly, masked
 * entries and a zeroed diagonal stay 0.
 *
 *   balanced  each row i's inhibitory weights are multiplied by
 *             Σ_E w_ij / Σ_I |w_ij|, so every row sums to 0 (rows without
 *             inhibitory or excitatory inputs are left as drawn);
 *   spectral  R ~ U[-b, b], b = sqrt(3ν/n) (an RNN init of the same size,
 *             from its own stream forked off the recurrent one), target
 *             s = σ(R); X = R; `iters` times: X = P(X), then X = U diag(s) V^T
 *             from the SVD X = U Σ V^T; finally X = P(X).  P is the sign cone
 *             with a floor: with m the mean |x| over the allowed entries,
 *             E entries max(x, δm), I entries min(x, -δm), others 0.
 *             δ = 0 is the plain projection (which zeroes most entries);
 *   spectral-balanced  spectral, then balanced's row rescaling.
 * Double precision throughout; the result goes to W_pos as float.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>
#include "dale/linalg.h"
#include "internal.h"
#include "model_internal.h"

static const char *const init_names[DALE_COLEI_INIT_COUNT] = {"standard", "balanced", "spectral",
                                                               "spectral-balanced"};

const char *dale_colei_init_name(dale_colei_init t)
{
    return (unsigned)t < DALE_COLEI_INIT_COUNT ? init_names[t] : "?";
}

dale_status dale_colei_init_parse(const char *s, dale_colei_init *out)
{
    for (int k = 0; k < DALE_COLEI_INIT_COUNT; k++)
        if (s && !strcmp(s, init_names[k])) {
            *out = (dale_colei_init)k;
            return DALE_OK;
        }
    const char *near = s ? dalei_nearest(s, init_names, DALE_COLEI_INIT_COUNT) : NULL;
    return DALE_FAIL(DALE_ERR_ARG,
                     "--colei-init: expected standard, balanced, spectral or spectral-balanced (got '%s'%s%s%s)",
                     s ? s : "(null)", near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
}

/* 1 when entry (i, j) of a cell's W may be non-zero: not masked, and not on
 * a diagonal the config zeroes. */
static int allowed(const dale_map *m, int zero_diag, size_t i, size_t j)
{
    if (zero_diag && i == j) return 0;
    return !m->mask || m->mask[i * m->cols + j] != 0.0f;
}

static void balance_rows(dale_map *m, float *W)
{
    size_t n = m->cols, ne = n - m->ni;
    for (size_t i = 0; i < m->rows; i++) {
        float *w = W + i * n;
        double se = 0, si = 0;
        for (size_t j = 0; j < ne; j++) se += (double)w[j];
        for (size_t j = ne; j < n; j++) si += (double)w[j];
        if (!(se > 0 && si > 0)) continue;
        double f = se / si;
        for (size_t j = ne; j < n; j++) w[j] = (float)((double)w[j] * f);
    }
}

/* X := P(X), the sign cone with floor delta * mean|x| (see the head). */
static void sign_project(const dale_map *m, int zero_diag, double delta, double *X)
{
    size_t n = m->cols, ne = n - m->ni, cnt = 0;
    double sum = 0;
    for (size_t i = 0; i < m->rows; i++)
        for (size_t j = 0; j < n; j++)
            if (allowed(m, zero_diag, i, j)) {
                sum += fabs(X[i * n + j]);
                cnt++;
            }
    double f = cnt ? delta * sum / (double)cnt : 0.0;
    for (size_t i = 0; i < m->rows; i++)
        for (size_t j = 0; j < n; j++) {
            double *x = &X[i * n + j];
            if (!allowed(m, zero_diag, i, j)) *x = 0.0;
            else if (j < ne) *x = *x > f ? *x : f;
            else *x = *x < -f ? *x : -f;
        }
}

static dale_status spectral(dale_net *net, dale_map *m, float *W, const dale_rng *rw)
{
    const dale_net_config *cfg = &net->cfg;
    size_t n = m->rows;
    dale_rng rt;
    dale_rng_fork(rw, 0x5eed5eedu, &rt); /* the RNN target's own stream */
    double *X = dalei_alloc(n * n, sizeof(double)), *U = dalei_alloc(n * n, sizeof(double));
    double *Vt = dalei_alloc(n * n, sizeof(double)), *s = dalei_alloc(n, sizeof(double));
    double *t = dalei_alloc(n, sizeof(double));
    dale_status st = DALE_OK;
    if (!X || !U || !Vt || !s || !t) {
        st = DALE_ERR_NOMEM;
        goto done;
    }
    double b = sqrt(3.0 * cfg->numerator / (double)n);
    for (size_t k = 0; k < n * n; k++) X[k] = dale_rng_uniform(&rt, -b, b);
    memcpy(U, X, n * n * sizeof(double));
    if ((st = dale_svals(U, n, n, t))) goto done;
    for (long it = 0; it < cfg->colei_init_iters; it++) {
        sign_project(m, cfg->zero_diag, cfg->colei_init_floor, X);
        if ((st = dale_svd(X, n, n, U, s, Vt))) goto done;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < n; k++) U[i * n + k] *= t[k];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1.0, U, (int)n, Vt, (int)n,
                    0.0, X, (int)n);
    }
    sign_project(m, cfg->zero_diag, cfg->colei_init_floor, X);
    for (size_t k = 0; k < n * n; k++) W[k] = (float)fabs(X[k]);
done:
    dalei_free(X);
    dalei_free(U);
    dalei_free(Vt);
    dalei_free(s);
    dalei_free(t);
    return st;
}

dale_status dalei_colei_init_apply(dale_net *net, dale_map *m, const dale_rng *rw)
{
    float *W = dalei_net_param(net, m->p_main);
    switch (net->cfg.colei_init) {
    case DALE_COLEI_INIT_BALANCED: balance_rows(m, W); return DALE_OK;
    case DALE_COLEI_INIT_SPECTRAL: return spectral(net, m, W, rw);
    case DALE_COLEI_INIT_SPECTRAL_BALANCED: {
        dale_status st = spectral(net, m, W, rw);
        if (!st) balance_rows(m, W);
        return st;
    }
    default: return DALE_OK;
    }
}
