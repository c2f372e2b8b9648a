/* loss.c — mean-squared error and softmax cross-entropy with their gradients. */
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
