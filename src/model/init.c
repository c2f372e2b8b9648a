/* init.c — drives the reference initialisations of the registered models
 * (the recipes themselves live in each model's file) and holds the fills
 * they share.
 *
 * Every matrix draws from its own stream, forked from the caller's dale_rng
 * with a label (cell l: U = 2l, W = 2l + 1; dense/readout layer l: 1000 + l),
 * row-major within a matrix.  So a network is a function of its config and
 * seed, and cell 0's W of a seed does not depend on the input width or the
 * readout: `dale spectrum --seed S` sees the same matrix `dale train --seed S`
 * trains.  The NumPy/torch streams of the reference are not reproduced;
 * distributions, moments and spectra are.
 */
#include <string.h>
#include "internal.h"
#include "model_internal.h"

float *dalei_net_param(dale_net *net, int idx) { return net->theta + net->params[idx].offset; }

void dalei_fill_exp(float *M, size_t count, double scale, dale_rng *rng)
{
    for (size_t k = 0; k < count; k++) M[k] = (float)dale_rng_exponential(rng, scale);
}

void dalei_fill_uniform(float *M, size_t count, double bound, dale_rng *rng)
{
    for (size_t k = 0; k < count; k++) M[k] = (float)dale_rng_uniform(rng, -bound, bound);
}

void dalei_fill_normal(float *M, size_t count, double sd, dale_rng *rng)
{
    for (size_t k = 0; k < count; k++) M[k] = (float)dale_rng_normal(rng, 0.0, sd);
}

static dale_status init_cell(dale_net *net, size_t l, dale_rng *parent)
{
    dale_rng ru, rw; /* one stream per matrix */
    dale_rng_fork(parent, 2 * (uint64_t)l, &ru);
    dale_rng_fork(parent, 2 * (uint64_t)l + 1, &rw);
    dale_layer *L = &net->layers[l];
    memset(dalei_net_param(net, L->p_b), 0, L->out * sizeof(float));
    if (L->p_h0 >= 0) memset(dalei_net_param(net, L->p_h0), 0, L->out * sizeof(float)); /* a learned h_0 starts at 0 */
    return net->ops->init_cell(net, l, &ru, &rw);
}

static void init_dense(dale_net *net, size_t l, dale_rng *parent)
{
    dale_rng r;
    dale_rng_fork(parent, 1000 + (uint64_t)l, &r);
    dale_layer *L = &net->layers[l];
    memset(dalei_net_param(net, L->p_b), 0, L->out * sizeof(float));
    net->ops->init_dense(net, l, &r);
}

dale_status dale_net_init(dale_net *net, dale_rng *rng)
{
    const int keeps_eig = (net->ops->info.traits & DALE_MODEL_INIT_EIGS) != 0;
    net->have_init_eig = 0;
    if (keeps_eig && !net->init_eig) {
        net->init_eig = dalei_alloc(2 * net->cfg.hidden * net->ncells, sizeof(double));
        if (!net->init_eig) return DALE_ERR_NOMEM;
    }
    /* connectivity masks first (their own streams): ColEI rescales the
     * masked W; every other map is masked after its draw */
    dale_status mst = dale_net_masks_draw(net, rng);
    if (mst) return mst;
    for (size_t l = 0; l < net->nlayers; l++) {
        if (net->layers[l].kind == LAYER_CELL) {
            dale_status st = init_cell(net, l, rng);
            if (st) return st;
        } else {
            init_dense(net, l, rng);
        }
    }
    dale_net_masks_apply(net);
    dale_net_zero_grad(net);
    net->have_forward = 0;
    net->have_init_eig = keeps_eig;
    return DALE_OK;
}

dale_status dale_net_init_eigvals(const dale_net *net, size_t cell, double *re, double *im)
{
    if (!net->have_init_eig || cell >= net->ncells)
        return DALE_FAIL(DALE_ERR_STATE, "no eigenvalues kept from init for cell %zu", cell);
    size_t n = net->cfg.hidden;
    const double *e = net->init_eig + 2 * n * cell;
    memcpy(re, e, n * sizeof(double));
    memcpy(im, e + n, n * sizeof(double));
    return DALE_OK;
}
