/* mask.c — fixed connectivity masks on a network's maps (dale/model.h,
 * Connectivity masks).
 *
 * Each map may carry the caller's mask (umask) and a generated one (gmask,
 * a cell's W: sparsity and no-autapses from the config); the mask in force
 * is their product.  Masked entries are kept exactly 0 by selecting, never
 * multiplying (0 * -w would be -0, 0 * inf NaN), in select loops the
 * compiler vectorises (Makefile: mask.o): the model's main parameter
 * at every init, set, update and forward, the built effective map and its
 * gradient dL/dM before the chain rule to the raw parameters.
 */
#include <string.h>
#include "internal.h"
#include "model_internal.h"

void dalei_map_mask_params(dale_net *net, dale_map *m)
{
    if (!m->mask || m->p_main < 0) return;
    float *P = net->theta + net->params[m->p_main].offset;
    const float *k = m->mask;
    for (size_t i = 0, n = m->rows * m->cols; i < n; i++) P[i] = k[i] == 0.0f ? 0.0f : P[i];
}

void dalei_map_mask_eff(dale_map *m)
{
    if (!m->mask || m->alias) return; /* PLAIN (or an all-+1 COLSIGN): eff is the parameter */
    const float *k = m->mask;
    float *E = m->eff;
    for (size_t i = 0, n = m->rows * m->cols; i < n; i++) E[i] = k[i] == 0.0f ? 0.0f : E[i];
}

void dalei_map_mask_grad(dale_map *m)
{
    if (!m->mask) return;
    const float *k = m->mask;
    float *G = m->geff;
    for (size_t i = 0, n = m->rows * m->cols; i < n; i++) G[i] = k[i] == 0.0f ? 0.0f : G[i];
}

void dalei_map_mask_free(dale_map *m)
{
    if (m->mask != m->umask && m->mask != m->gmask) dalei_free(m->mask);
    dalei_free(m->umask);
    dalei_free(m->gmask);
    m->mask = m->umask = m->gmask = NULL;
}

/* mask := umask * gmask (an alias of the one present when only one is). */
static dale_status compose(dale_map *m)
{
    if (m->mask != m->umask && m->mask != m->gmask) dalei_free(m->mask);
    m->mask = NULL;
    if (!m->umask || !m->gmask) {
        m->mask = m->umask ? m->umask : m->gmask;
        return DALE_OK;
    }
    size_t n = m->rows * m->cols;
    if (!(m->mask = dalei_alloc(n, sizeof(float)))) return DALE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) m->mask[i] = m->umask[i] != 0.0f && m->gmask[i] != 0.0f ? 1.0f : 0.0f;
    return DALE_OK;
}

static dale_map *find_map(dale_net *net, size_t layer, int rec)
{
    if (layer >= net->nlayers) return NULL;
    dale_layer *L = &net->layers[layer];
    if (rec) return L->kind == LAYER_CELL ? &L->W : NULL;
    return &L->U;
}

dale_status dale_net_map_shape(const dale_net *net, size_t layer, int rec, size_t *rows, size_t *cols)
{
    const dale_map *m = find_map((dale_net *)(uintptr_t)net, layer, rec);
    if (!m)
        return DALE_FAIL(DALE_ERR_ARG, "no %s map in layer %zu (%zu cells, %zu layers)",
                         rec ? "recurrent" : "input", layer, net->ncells, net->nlayers);
    *rows = m->rows;
    *cols = m->cols;
    return DALE_OK;
}

dale_status dale_net_set_mask(dale_net *net, size_t layer, int rec, const float *mask)
{
    dale_map *m = find_map(net, layer, rec);
    if (!m)
        return DALE_FAIL(DALE_ERR_ARG, "no %s map in layer %zu (%zu cells, %zu layers)",
                         rec ? "recurrent" : "input", layer, net->ncells, net->nlayers);
    size_t n = m->rows * m->cols;
    for (size_t i = 0; mask && i < n; i++)
        if (!(mask[i] == 0.0f || mask[i] == 1.0f))
            return DALE_FAIL(DALE_ERR_ARG, "mask of layer %zu's %s map holds %g at row %zu, column %zu "
                             "(want 0 or 1)", layer, rec ? "recurrent" : "input", (double)mask[i], i / m->cols,
                             i % m->cols);
    float *copy = NULL;
    if (mask) {
        if (!(copy = dalei_alloc(n, sizeof(float)))) return DALE_ERR_NOMEM;
        memcpy(copy, mask, n * sizeof(float));
    }
    if (m->mask == m->umask) m->mask = NULL;
    dalei_free(m->umask);
    m->umask = copy;
    dale_status st = compose(m);
    if (st) return st;
    dalei_map_mask_params(net, m);
    return DALE_OK;
}

const float *dale_net_mask(const dale_net *net, size_t layer, int rec)
{
    const dale_map *m = find_map((dale_net *)(uintptr_t)net, layer, rec);
    return m ? m->mask : NULL;
}

int dale_net_has_masks(const dale_net *net)
{
    for (size_t l = 0; l < net->nlayers; l++)
        if (net->layers[l].U.mask || net->layers[l].W.mask) return 1;
    return 0;
}

dale_status dale_net_masks_draw(dale_net *net, dale_rng *rng)
{
    const double p = net->cfg.sparsity;
    const int gen = p > 0 || net->cfg.no_autapses;
    for (size_t l = 0; l < net->ncells; l++) {
        dale_map *m = &net->layers[l].W;
        if (m->mask == m->gmask) m->mask = NULL;
        dalei_free(m->gmask);
        m->gmask = NULL;
        if (gen) {
            size_t n = m->rows;
            if (!(m->gmask = dalei_alloc(n * n, sizeof(float)))) return DALE_ERR_NOMEM;
            dale_rng r;
            dale_rng_fork(rng, DALE_MASK_LABEL + (uint64_t)l, &r);
            for (size_t k = 0; k < n * n; k++) m->gmask[k] = p > 0 && dale_rng_uniform01(&r) < p ? 0.0f : 1.0f;
            if (net->cfg.no_autapses)
                for (size_t i = 0; i < n; i++) m->gmask[i * n + i] = 0.0f;
        }
        dale_status st = compose(m);
        if (st) return st;
    }
    dale_net_masks_apply(net);
    return DALE_OK;
}

void dale_net_masks_apply(dale_net *net)
{
    for (size_t l = 0; l < net->nlayers; l++) {
        dalei_map_mask_params(net, &net->layers[l].U);
        if (net->layers[l].kind == LAYER_CELL) dalei_map_mask_params(net, &net->layers[l].W);
    }
}
