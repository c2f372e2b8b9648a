/* loss.c — mean-squared error and softmax cross-entropy with their gradients,
 * unweighted (the original kinds, untouched) and with per-prediction weights. */
#include <math.h>
#include "dale/train.h"

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
