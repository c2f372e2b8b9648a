/* loss.c — mean-squared error and softmax cross-entropy with their gradients,
 * unweighted (the original kinds, untouched) and with per-prediction weights,
 * and the cross-entropy in dale's own arithmetic (numerics = dale). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "dale/train.h"
#include "internal.h"
#include "linalg/kernels.h"
#include "linalg/dexp.h"

double dale_loss_mse(const float *out, const float *y, size_t N, size_t m, float *dout)
{
    double sum = 0, inv = 1.0 / (double)(N * m);
    for (size_t k = 0; k < N * m; k++) {
        double e = (double)out[k] - (double)y[k];
        sum += e * e;
        if (dout) dout[k] = (float)(2.0 * e * inv); /* d mean(e^2) / d out */
    }
    return sum * inv;
}

double dale_loss_ce(const float *logits, const int32_t *labels, size_t N, size_t m, float *dout,
                    size_t *correct)
{
    double total = 0, inv = 1.0 / (double)N;
    size_t hits = 0;
    for (size_t r = 0; r < N; r++) {
        const float *z = logits + r * m;
        size_t arg = 0;
        for (size_t j = 1; j < m; j++)
            if (z[j] > z[arg]) arg = j;
        /* log-softmax with the max subtracted: exp never overflows. */
        double zmax = (double)z[arg], se = 0;
        for (size_t j = 0; j < m; j++) se += exp((double)z[j] - zmax);
        double lse = zmax + log(se);
        int32_t y = labels[r];
        total += lse - (double)z[y];
        if ((size_t)y == arg) hits++;
        if (dout)
            for (size_t j = 0; j < m; j++) {
                double p = exp((double)z[j] - lse);
                dout[r * m + j] = (float)((p - (j == (size_t)y ? 1.0 : 0.0)) * inv);
            }
    }
    if (correct) *correct = hits;
    return total * inv;
}

/* Sum of the weights (double, in row order) and the rows with w > 0. */
static double weight_sum(const float *w, size_t N, size_t *npred)
{
    double W = 0;
    size_t n = 0;
    for (size_t r = 0; r < N; r++) {
        W += (double)w[r];
        if (w[r] > 0.0f) n++;
    }
    if (npred) *npred = n;
    return W;
}

double dale_loss_mse_weighted(const float *out, const float *y, const float *w, size_t N, size_t m,
                              float *dout, size_t *npred, double *wsum)
{
    double W = weight_sum(w, N, npred), sum = 0;
    if (wsum) *wsum = W;
    double inv = W > 0 ? 1.0 / W : 0.0, invm = 1.0 / (double)m;
    for (size_t r = 0; r < N; r++) {
        if (!(w[r] > 0.0f)) {
            if (dout)
                for (size_t j = 0; j < m; j++) dout[r * m + j] = 0.0f;
            continue;
        }
        double wr = (double)w[r], l = 0;
        for (size_t j = 0; j < m; j++) {
            double e = (double)out[r * m + j] - (double)y[r * m + j];
            l += e * e;
            if (dout) dout[r * m + j] = (float)(2.0 * e * wr * invm * inv);
        }
        sum += wr * (l * invm);
    }
    return sum * inv;
}

double dale_loss_ce_weighted(const float *logits, const int32_t *labels, const float *w, size_t N,
                             size_t m, float *dout, size_t *correct, size_t *npred, double *wsum)
{
    double W = weight_sum(w, N, npred), total = 0;
    if (wsum) *wsum = W;
    double inv = W > 0 ? 1.0 / W : 0.0;
    size_t hits = 0;
    for (size_t r = 0; r < N; r++) {
        if (!(w[r] > 0.0f)) {
            if (dout)
                for (size_t j = 0; j < m; j++) dout[r * m + j] = 0.0f;
            continue;
        }
        const float *z = logits + r * m;
        size_t arg = 0;
        for (size_t j = 1; j < m; j++)
            if (z[j] > z[arg]) arg = j;
        double zmax = (double)z[arg], se = 0;
        for (size_t j = 0; j < m; j++) se += exp((double)z[j] - zmax);
        double lse = zmax + log(se), wr = (double)w[r];
        int32_t y = labels[r];
        total += wr * (lse - (double)z[y]);
        if ((size_t)y == arg) hits++;
        if (dout)
            for (size_t j = 0; j < m; j++) {
                double p = exp((double)z[j] - lse);
                dout[r * m + j] = (float)((p - (j == (size_t)y ? 1.0 : 0.0)) * (wr * inv));
            }
    }
    if (correct) *correct = hits;
    return total * inv;
}

/* ------------------------------------------- numerics = dale: the softmax
 * One row: argmax as above (first index on ties), e_j = exp(z_j - zmax) in
 * dale's exp, se = their sum in dalei_exp_row's fixed order, lse = zmax +
 * log(se) in dale's log; p_j = e_j (1 / se), one exp per logit.  The e_j
 * are kept in `e` (m doubles) between the sum and the gradient; without
 * that buffer (allocation failed) they are computed again in chunks, which
 * gives the same values.  Returns lse - z_y; dout (if any) gets
 * (p_j - [j = y]) * scale. */
#define CE_CHUNK 512
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* The index the loops above find with `if (z[j] > z[arg]) arg = j`: the
 * first index of the largest value, NaN entries skipped (z[0] itself when
 * it is NaN).  The maximum is found in two 4-lane running maxima (exact:
 * only comparisons), then its first index by a scan. */
static size_t argmax_first(const float *z, size_t m)
{
    if (m == 0 || z[0] != z[0]) return 0;
    float mx = z[0];
    size_t j = 0;
    if (m >= 8) {
        v4f a = {mx, mx, mx, mx}, b = a, v, w;
        for (; j + 8 <= m; j += 8) {
            memcpy(&v, z + j, sizeof v);
            memcpy(&w, z + j + 4, sizeof w);
            v4i gv = v > a, gw = w > b; /* false for NaN lanes */
            a = (v4f)(((v4i)v & gv) | ((v4i)a & ~gv));
            b = (v4f)(((v4i)w & gw) | ((v4i)b & ~gw));
        }
        for (int l = 0; l < 4; l++) {
            if (a[l] > mx) mx = a[l];
            if (b[l] > mx) mx = b[l];
        }
    }
    for (; j < m; j++)
        if (z[j] > mx) mx = z[j];
    for (j = 0; j < m; j++)
        if (z[j] == mx) return j;
    return 0;
}

static double ce_row_dale(const float *z, size_t m, int32_t y, double scale, float *dout, double *e,
                          size_t *arg_out)
{
    size_t arg = argmax_first(z, m);
    *arg_out = arg;
    double zmax = (double)z[arg];
    double se = dalei_exp_row(z, m, zmax, dout ? e : NULL);
    double lse = zmax + dalei_log(se), r = 1.0 / se;
    if (dout) {
        double tmp[CE_CHUNK];
        for (size_t j0 = 0; j0 < m; j0 += CE_CHUNK) {
            size_t n = m - j0 < CE_CHUNK ? m - j0 : CE_CHUNK;
            const double *ej = e ? e + j0 : tmp;
            if (!e) dalei_exp_row(z + j0, n, zmax, tmp);
            for (size_t j = 0; j < n; j++) dout[j0 + j] = (float)((ej[j] * r) * scale);
            if ((size_t)y >= j0 && (size_t)y < j0 + n) dout[y] = (float)((ej[(size_t)y - j0] * r - 1.0) * scale);
        }
    }
    return lse - (double)z[y];
}

/* Rows [r0, r1) of dale_loss_ce_num: each row's loss into rl[r] and its
 * hit into hit[r]; e is that part's m doubles. */
typedef struct ce_job {
    const float *logits;
    const int32_t *labels;
    size_t N, m;
    double inv;
    float *dout;
    double *rl, *e;
    unsigned char *hit;
} ce_job;

static void ce_part(void *arg, int part, int nparts)
{
    ce_job *j = arg;
    size_t r0 = j->N * (size_t)part / (size_t)nparts, r1 = j->N * (size_t)(part + 1) / (size_t)nparts;
    double *e = j->dout ? j->e + (size_t)part * j->m : NULL;
    for (size_t r = r0; r < r1; r++) {
        size_t arg_;
        j->rl[r] = ce_row_dale(j->logits + r * j->m, j->m, j->labels[r], j->inv, j->dout ? j->dout + r * j->m : NULL,
                               e, &arg_);
        j->hit[r] = (size_t)j->labels[r] == arg_;
    }
}

double dale_loss_ce_num(dale_numerics num, const float *logits, const int32_t *labels, size_t N, size_t m,
                        float *dout, size_t *correct)
{
    if (num != DALE_NUMERICS_DALE) return dale_loss_ce(logits, labels, N, m, dout, correct);
    double total = 0, inv = 1.0 / (double)N;
    size_t hits = 0;
    /* With --threads N the rows are shared among the kernels' pool: every
     * row's value is computed as in one thread, and the rows are summed
     * afterwards in row order, so the result is the same bits. */
    int parts = dalei_kernels_threads();
    if (parts < 2 || N < (size_t)parts || N * m < ((size_t)1 << 18)) parts = 1;
    ce_job j = {logits, labels, N, m, inv, dout, dalei_alloc(N, sizeof(double)),
                dout ? dalei_alloc((size_t)parts * m, sizeof(double)) : NULL, dalei_alloc(N, 1)};
    if (j.rl && j.hit && (!dout || j.e)) {
        dalei_pool_run(ce_part, &j, parts);
        for (size_t r = 0; r < N; r++) {
            total += j.rl[r];
            hits += j.hit[r];
        }
    } else { /* out of memory for the row values: one row at a time, no gradient scratch */
        for (size_t r = 0; r < N; r++) {
            size_t arg;
            total += ce_row_dale(logits + r * m, m, labels[r], inv, dout ? dout + r * m : NULL, NULL, &arg);
            hits += (size_t)labels[r] == arg;
        }
    }
    dalei_free(j.rl);
    dalei_free(j.e);
    dalei_free(j.hit);
    if (correct) *correct = hits;
    return total * inv;
}

double dale_loss_ce_weighted_num(dale_numerics num, const float *logits, const int32_t *labels, const float *w,
                                 size_t N, size_t m, float *dout, size_t *correct, size_t *npred, double *wsum)
{
    if (num != DALE_NUMERICS_DALE)
        return dale_loss_ce_weighted(logits, labels, w, N, m, dout, correct, npred, wsum);
    double W = weight_sum(w, N, npred), total = 0;
    if (wsum) *wsum = W;
    double inv = W > 0 ? 1.0 / W : 0.0;
    size_t hits = 0;
    double *e = dout ? dalei_alloc(m, sizeof(double)) : NULL;
    for (size_t r = 0; r < N; r++) {
        if (!(w[r] > 0.0f)) {
            if (dout) memset(dout + r * m, 0, m * sizeof(float));
            continue;
        }
        double wr = (double)w[r];
        size_t arg;
        total += wr * ce_row_dale(logits + r * m, m, labels[r], wr * inv, dout ? dout + r * m : NULL, e, &arg);
        if ((size_t)labels[r] == arg) hits++;
    }
    dalei_free(e);
    if (correct) *correct = hits;
    return total * inv;
}
