/* rnn.c — the standard RNN: every map is its raw matrix (MAP_PLAIN), no
 * sign constraint.  Parameters: cells U W b, dense/readout W b.
 * Init (PyTorch's default): U, W ~ U[-1/√n, 1/√n] (W: U[-√(3ν/n), √(3ν/n)],
 * ν = 1/3 by default), first-layer U optionally He normal N(0, 2/d);
 * dense and readout W He normal N(0, 2/n_in).
 * Default update: per-layer clipping, no projection (nothing is constrained).
 */
#include <math.h>
#include "internal.h"
#include "model_internal.h"

static dale_status rnn_check(const dale_net_config *c)
{
    if (!(c->numerator > 0)) return DALE_FAIL(DALE_ERR_ARG, "numerator must be > 0 (got %g)", c->numerator);
    return DALE_OK;
}

static void rnn_describe(dalei_table *tb, dale_map *m, const dale_net_config *cfg, const dalei_site *s)
{
    (void)cfg;
    m->kind = MAP_PLAIN;
    /* Sign freezing applies to the recurrent W and to dense/readout W, not U. */
    m->p_main = dalei_table_add(tb, s->prefix, s->wname, s->rows, s->cols, s->layer,
                                (s->rec ? DALE_P_REC : 0) | ((s->rec || !s->cell) ? DALE_P_FREEZE : 0),
                                1.0f);
}

static dale_status rnn_init_cell(dale_net *net, size_t l, dale_rng *ru, dale_rng *rw)
{
    const dale_net_config *cfg = &net->cfg;
    dale_layer *L = &net->layers[l];
    size_t n = L->out, d = L->in;
    double bound = sqrt(3.0 * cfg->numerator / (double)n);
    if (l == 0 && cfg->rnn_input_he)
        dalei_fill_normal(dalei_net_param(net, L->U.p_main), n * d, sqrt(2.0 / (double)d), ru);
    else
        dalei_fill_uniform(dalei_net_param(net, L->U.p_main), n * d, 1.0 / sqrt((double)n), ru);
    dalei_fill_uniform(dalei_net_param(net, L->W.p_main), n * n, bound, rw);
    return DALE_OK;
}

static void rnn_init_dense(dale_net *net, size_t l, dale_rng *r)
{
    dale_layer *L = &net->layers[l];
    dalei_fill_normal(dalei_net_param(net, L->U.p_main), L->out * L->in, sqrt(2.0 / (double)L->in), r);
}

static double rnn_radius(const dale_net_config *c) { return sqrt(c->numerator); }

static const char *const rnn_aliases[] = {NULL};

const dalei_model_ops dalei_model_rnn = {
    .info = {DALE_MODEL_RNN, "rnn", rnn_aliases, "standard RNN, unconstrained weights", 0u},
    .check = rnn_check,
    .describe = rnn_describe,
    .init_cell = rnn_init_cell,
    .init_dense = rnn_init_dense,
    .init_radius = rnn_radius,
};
