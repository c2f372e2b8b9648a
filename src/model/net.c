/* net.c — network construction, the parameter table, forward and BPTT.
 *
 * Layout: see model_internal.h.  Forward processes one layer at a time over
 * all T steps (layer l at step t depends only on layer l-1 at step t and on
 * itself at t-1), so every input projection is a single GEMM over (T*B) rows;
 * only the recurrent product runs step by step.  Backward mirrors it: per
 * cell a reverse sweep over t computes dZ_t, then dW, dU, db and the input
 * gradient are single GEMMs over all steps.
 *
 * Models and dynamics: the parameter table and the maps come from the
 * model's registered describe hook (rnn.c, colei.c, dann.c); each step from
 * z_t to h_t and its backward from the cell dynamics (dynamics.c).  This
 * file never asks which model or dynamics runs, only whether the dynamics
 * is the discrete ReLU that the kernels can fuse (fused_relu).
 *
 * Caches: a cell keeps H (T+1, B, n) with H[0] = 0; with the ReLU cell
 * relu'(z_t) = [h_t > 0], so pre-activations are not stored; dynamics
 * that need z_t (keeps_preact) get Z (T, B, n).
 *
 * Products.  The per-step products of ReLU cells up to DALEI_SMM_MAX_N wide
 * run through dalei_smm (linalg/kernels.c) on copies of W packed once per
 * forward (W^T for the forward, W for BPTT), with the ReLU fused into the
 * forward product and the ReLU mask into the backward one; other dynamics
 * take the dale_sgemm product and then their own step.  The products
 * over all steps (input projection, dW, dU, dx, dense and readout
 * gradients) use dalei_gemm_acc when their sizes are at most SMALL_GEMM,
 * where it beats the OpenBLAS AVX2 kernels (docs/performance.md); larger
 * ones, and every product of wider cells, use dale_sgemm.  The choice
 * depends on the shapes only, so a run is reproducible; the two routes
 * agree to float round-off (their summation orders differ).
 *
 * numerics = dale (cfg.numerics) sends every product to dale's kernels
 * whatever its size: the packed maps exist for cells of any width, the
 * dense and readout forward multiplies by M^T packed once per forward, and
 * DANN's M = EE - EI IE and its two gradient products accumulate
 * C + (-a) b with negated copies of a factor (exact sign flips).  The
 * results then do not depend on OpenBLAS.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dale/linalg.h"
#include "internal.h"
#include "linalg/kernels.h"
#include "model_internal.h"

void dale_net_config_defaults(dale_net_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->type = DALE_MODEL_RNN;
    cfg->layers = 1;
    cfg->ei_ratio = 9.0;
    cfg->rho = 1.5;
    cfg->zero_diag = 1;
    cfg->colei_dist = DALE_DIST_EXPONENTIAL;
    cfg->gamma_shape = 2.0;
    cfg->numerator = 1.0 / 3.0;
    cfg->dynamics = DALE_DYN_RELU;
    cfg->alpha = 1.0;
    cfg->colei_init = DALE_COLEI_INIT_STANDARD;
    cfg->colei_init_iters = 20;
    cfg->colei_init_floor = 0.05;
}

void dale_ei_split(size_t N, double ratio, size_t *nE, size_t *nI)
{
    /* nI = ceil(f), nE = floor(f r) with f = N/(r+1); for integer N these sum to N. */
    double f = (double)N / (ratio + 1.0);
    size_t ni = (size_t)ceil(f);
    if (ni > N) ni = N;
    *nI = ni;
    *nE = N - ni;
}

/* ---------------------------------------------------------------- table */

int dalei_table_add(dalei_table *tb, const char *prefix, const char *name, size_t rows,
                    size_t cols, size_t layer, unsigned flags, float scale)
{
    DALE_ASSERT(tb->n < tb->cap);
    dale_param *p = &tb->p[tb->n];
    snprintf(p->name, sizeof p->name, "%s.%s", prefix, name);
    p->rows = rows;
    p->cols = cols;
    p->offset = tb->size;
    p->layer = layer;
    p->flags = flags;
    p->grad_scale = scale;
    tb->size += rows * cols;
    return (int)tb->n++;
}

/* Describe a map M (rows x cols) at site s through the model's table. */
static void describe_map(dalei_table *tb, const dalei_model_ops *ops, dale_map *m,
                         const dale_net_config *cfg, const dalei_site *s)
{
    memset(m, 0, sizeof *m);
    m->rows = s->rows;
    m->cols = s->cols;
    m->p_ie = m->p_ei = -1;
    ops->describe(tb, m, cfg, s);
}

/* Generic checks, then the model's and the dynamics' own. */
static dale_status check_config(const dale_net_config *c)
{
    const dalei_model_ops *ops = dalei_model_ops_of(c->type);
    if (!ops) {
        char known[256];
        return DALE_FAIL(DALE_ERR_ARG, "model type %d is not a registered model (%s)", (int)c->type,
                         dalei_model_names(known, sizeof known));
    }
    const dalei_dynamics_ops *dyn = dalei_dynamics_ops_of(c->dynamics);
    if (!dyn)
        return DALE_FAIL(DALE_ERR_ARG, "cell dynamics %d is not registered (%zu known)", (int)c->dynamics,
                         dale_dynamics_count());
    if (c->input == 0) return DALE_FAIL(DALE_ERR_ARG, "input width must be > 0 (got 0)");
    if (c->hidden == 0) return DALE_FAIL(DALE_ERR_ARG, "hidden size must be > 0 (got 0)");
    if (c->output == 0) return DALE_FAIL(DALE_ERR_ARG, "output width must be > 0 (got 0)");
    if (c->layers == 0) return DALE_FAIL(DALE_ERR_ARG, "layers must be >= 1 (got 0)");
    if (c->layers > 64) return DALE_FAIL(DALE_ERR_ARG, "layers must be <= 64 (got %zu)", c->layers);
    if (c->ndense > DALE_MAX_DENSE)
        return DALE_FAIL(DALE_ERR_ARG, "at most %d dense layers (got %zu)", DALE_MAX_DENSE, c->ndense);
    for (size_t k = 0; k < c->ndense; k++)
        if (c->dense[k] == 0) return DALE_FAIL(DALE_ERR_ARG, "dense layer %zu has width 0", k);
    /* Refuse absurd sizes before any allocation: 2^31 floats per matrix. */
    const size_t lim = (size_t)1 << 20;
    if (c->hidden > lim || c->input > lim || c->output > lim)
        return DALE_FAIL(DALE_ERR_ARG, "layer widths must be <= %zu (hidden %zu, input %zu, output %zu)",
                         lim, c->hidden, c->input, c->output);
    if (!(c->ei_ratio > 0) || !isfinite(c->ei_ratio))
        return DALE_FAIL(DALE_ERR_ARG, "E/I ratio must be a finite number > 0 (got %g)", c->ei_ratio);
    if (!(c->sparsity >= 0 && c->sparsity < 1))
        return DALE_FAIL(DALE_ERR_ARG, "sparsity must lie in [0, 1) (got %g)", c->sparsity);
    if (c->numerics != DALE_NUMERICS_BLAS && c->numerics != DALE_NUMERICS_DALE)
        return DALE_FAIL(DALE_ERR_ARG, "numerics %d is neither DALE_NUMERICS_BLAS nor DALE_NUMERICS_DALE",
                         (int)c->numerics);
    if (!(c->noise_rec >= 0 && isfinite(c->noise_rec)))
        return DALE_FAIL(DALE_ERR_ARG, "noise_rec (sigma_rec) must be a finite number >= 0 (got %g)", c->noise_rec);
    if (!(c->noise_in >= 0 && isfinite(c->noise_in)))
        return DALE_FAIL(DALE_ERR_ARG, "noise_in (sigma_in) must be a finite number >= 0 (got %g)", c->noise_in);
    if (!(c->rate_l2 >= 0 && isfinite(c->rate_l2)))
        return DALE_FAIL(DALE_ERR_ARG, "rate_l2 must be a finite number >= 0 (got %g)", c->rate_l2);
    dale_status st = ops->check ? ops->check(c) : DALE_OK;
    if (!st && dyn->check) st = dyn->check(c);
    return st;
}

/* Allocate the owned parts of a map (COLSIGN signs, scratch for M and dM). */
static dale_status map_alloc(dale_net *net, dale_map *m, int first_input)
{
    m->alias = m->kind == MAP_PLAIN || (m->kind == MAP_COLSIGN && (first_input || m->ni == 0));
    if (m->alias) {
        m->eff = net->theta + net->params[m->p_main].offset;
        m->geff = net->grad + net->params[m->p_main].offset;
    } else {
        m->eff = dalei_alloc(m->rows * m->cols, sizeof(float));
        m->geff = dalei_alloc(m->rows * m->cols, sizeof(float));
        if (!m->eff || !m->geff) return DALE_ERR_NOMEM;
    }
    if (m->kind == MAP_COLSIGN) {
        m->sign = dalei_alloc(m->cols, sizeof(float));
        if (!m->sign) return DALE_ERR_NOMEM;
        size_t ne = first_input ? m->cols : m->cols - m->ni;
        for (size_t j = 0; j < m->cols; j++) m->sign[j] = j < ne ? 1.0f : -1.0f;
    }
    return DALE_OK;
}

static void map_free(dale_map *m)
{
    if (!m->alias && m->kind != MAP_PLAIN) {
        dalei_free(m->eff);
        dalei_free(m->geff);
    }
    dalei_free(m->sign);
    dalei_map_mask_free(m);
}

static void free_activations(dale_net *net)
{
    for (size_t l = 0; l < net->nlayers; l++) {
        dale_layer *L = &net->layers[l];
        dalei_free(L->H);
        dalei_free(L->dH);
        dalei_free(L->A);
        dalei_free(L->dA);
        dalei_free(L->Z);
        dalei_free(L->C);
        L->H = L->dH = L->A = L->dA = L->Z = L->C = NULL;
    }
    dalei_free(net->Xn);
    dalei_free(net->E);
    dalei_free(net->noise_sd);
    net->Xn = net->E = NULL;
    net->noise_sd = NULL;
    net->plan_T = net->plan_B = 0;
}

void dale_net_free(dale_net *net)
{
    if (!net) return;
    if (net->layers) {
        free_activations(net);
        for (size_t l = 0; l < net->nlayers; l++) {
            map_free(&net->layers[l].U);
            map_free(&net->layers[l].W);
            dalei_free(net->layers[l].Wt); /* Wp shares the block */
            dalei_free(net->layers[l].rate);
        }
    }
    dalei_free(net->layers);
    dalei_free(net->scratch);
    dalei_free(net->init_eig);
    dalei_free(net->params);
    dalei_free(net->theta);
    dalei_free(net->grad);
    dalei_free(net->gfresh);
    dalei_free(net);
}

/* numerics = dale: floats of scratch layer L needs, at least `have`:
 * M^T (in, out) of a dense or readout layer; -EI (rows, ni) and -IE^T
 * (cols, ni) of a DANN map. */
static size_t scratch_need(const dale_layer *L, size_t have)
{
    size_t need = L->kind == LAYER_CELL ? 0 : L->in * L->out;
    const dale_map *maps[2] = {&L->U, L->kind == LAYER_CELL ? &L->W : NULL};
    for (size_t k = 0; k < 2; k++) {
        const dale_map *m = maps[k];
        if (m && m->kind == MAP_DANN && (m->rows + m->cols) * m->ni > need) need = (m->rows + m->cols) * m->ni;
    }
    return need > have ? need : have;
}

/* A cell's per-unit rates: a_j = alpha, or alpha_i for the inhibitory
 * units of a column-signed W (ColEI); 1 for the discrete ReLU cell.  The
 * floats are (float)a and (float)(1 - a), as the scalar rate was. */
static dale_status cell_rates(dale_net *net, dale_layer *L)
{
    const dale_net_config *c = &net->cfg;
    const size_t n = L->out;
    const int relu = c->dynamics == DALE_DYN_RELU;
    const int signed_units = L->W.kind == MAP_COLSIGN && L->W.ni > 0;
    if (!relu && c->alpha_i != 0 && !signed_units)
        return DALE_FAIL(DALE_ERR_ARG, "alpha_i (a separate inhibitory time constant) needs a model whose hidden "
                         "units are E or I (colei); %s has %s", dale_model_name(c->type),
                         c->type == DALE_MODEL_DANN ? "excitatory hidden units only, its inhibition is instantaneous"
                                                    : "no E/I units");
    if (!(L->rate = dalei_alloc(2 * n, sizeof(float)))) return DALE_ERR_NOMEM;
    const size_t ne = signed_units ? n - L->W.ni : n;
    for (size_t j = 0; j < n; j++) {
        double a = relu ? 1.0 : j >= ne && c->alpha_i != 0 ? c->alpha_i : c->alpha;
        L->rate[j] = (float)a;
        L->rate[n + j] = (float)(1.0 - a);
    }
    return DALE_OK;
}

double dale_net_unit_alpha(const dale_net *net, size_t j)
{
    if (!net || net->ncells == 0 || j >= net->layers[0].out) return (double)NAN;
    const dale_net_config *c = &net->cfg;
    const dale_layer *L = &net->layers[0];
    if (c->dynamics == DALE_DYN_RELU) return 1.0;
    const int signed_units = L->W.kind == MAP_COLSIGN && L->W.ni > 0;
    return signed_units && j >= L->out - L->W.ni && c->alpha_i != 0 ? c->alpha_i : c->alpha;
}

double dale_net_rate_penalty(const dale_net *net) { return net ? net->rate_pen : 0.0; }

void dale_net_set_noise(dale_net *net, const dale_rng *rng)
{
    if (!net) return;
    net->noise_on = rng != NULL;
    if (rng) net->noise = *rng;
}

dale_status dale_net_create(const dale_net_config *cfg, dale_net **out)
{
    *out = NULL;
    dale_status st = check_config(cfg);
    if (st) return st;
    dale_net *net = dalei_calloc(1, sizeof *net);
    if (!net) return DALE_ERR_NOMEM;
    net->cfg = *cfg;
    net->ops = dalei_model_ops_of(cfg->type);
    net->dyn = dalei_dynamics_ops_of(cfg->dynamics);
    /* The discrete ReLU cell with recurrent noise or a learned h_0 is the
     * leaky rate unit with a = 1: the generic step, not the fused kernels. */
    const int relu_generic = cfg->dynamics == DALE_DYN_RELU && (cfg->noise_rec > 0 || cfg->h0_learn);
    if (relu_generic) net->dyn = &dalei_dyn_leaky;
    net->ncells = cfg->layers;
    net->nlayers = cfg->layers + cfg->ndense + 1;
    net->layers = dalei_calloc(net->nlayers, sizeof *net->layers);
    /* at most 8 parameters per layer (DANN cell: 6 factors, b, h0) */
    dalei_table tb = {dalei_calloc(net->nlayers * 8, sizeof(dale_param)), 0, net->nlayers * 8, 0};
    if (!net->layers || !tb.p) {
        dalei_free(tb.p);
        st = DALE_ERR_NOMEM;
        goto fail;
    }
    size_t n = cfg->hidden;
    char prefix[32];
    size_t width = cfg->input;
    for (size_t l = 0; l < net->nlayers; l++) {
        dale_layer *L = &net->layers[l];
        if (l < net->ncells) {
            L->kind = LAYER_CELL;
            L->in = width;
            L->out = n;
            snprintf(prefix, sizeof prefix, "cell%zu", l);
            dalei_site su = {prefix, "U", n, width, l, 0, 1, l == 0};
            dalei_site sw = {prefix, "W", n, n, l, 1, 1, 0};
            describe_map(&tb, net->ops, &L->U, cfg, &su);
            describe_map(&tb, net->ops, &L->W, cfg, &sw);
        } else {
            size_t k = l - net->ncells;
            int readout = k == cfg->ndense;
            L->kind = readout ? LAYER_READOUT : LAYER_DENSE;
            L->in = width;
            L->out = readout ? cfg->output : cfg->dense[k];
            if (readout) snprintf(prefix, sizeof prefix, "out");
            else snprintf(prefix, sizeof prefix, "dense%zu", k);
            dalei_site sd = {prefix, "W", L->out, width, l, 0, 0, 0};
            describe_map(&tb, net->ops, &L->U, cfg, &sd);
            L->W.kind = MAP_PLAIN;
            L->W.p_main = L->W.p_ie = L->W.p_ei = -1;
        }
        L->p_b = dalei_table_add(&tb, prefix, "b", L->out, 1, l, DALE_P_BIAS, 1.0f);
        L->p_h0 = -1;
        if (L->kind == LAYER_CELL && cfg->h0_learn)
            L->p_h0 = dalei_table_add(&tb, prefix, "h0", L->out, 1, l, DALE_P_BIAS, 1.0f);
        width = L->out;
    }
    net->params = tb.p;
    net->nparams = tb.n;
    net->size = tb.size;
    net->theta = dalei_calloc(net->size, sizeof(float));
    net->grad = dalei_calloc(net->size, sizeof(float));
    net->gfresh = dalei_calloc(net->nparams ? net->nparams : 1, 1);
    if (!net->theta || !net->grad || !net->gfresh) { st = DALE_ERR_NOMEM; goto fail; }
    const int own = cfg->numerics == DALE_NUMERICS_DALE;
    size_t nscratch = 0;
    for (size_t l = 0; l < net->nlayers; l++) {
        dale_layer *L = &net->layers[l];
        if ((st = map_alloc(net, &L->U, l == 0))) goto fail;
        if (L->kind == LAYER_CELL && (st = map_alloc(net, &L->W, 0))) goto fail;
        if (L->kind == LAYER_CELL && (st = cell_rates(net, L))) goto fail;
        if (own) nscratch = scratch_need(L, nscratch);
        if (L->kind == LAYER_CELL && (L->out <= DALEI_SMM_MAX_N || own)) {
            /* zeroed, so the padding columns the kernels read stay 0 */
            L->ldp = dalei_smm_ld(L->out);
            L->Wt = dalei_calloc(2 * L->out * L->ldp + L->in * L->out, sizeof(float));
            if (!L->Wt) { st = DALE_ERR_NOMEM; goto fail; }
            L->Wp = L->Wt + L->out * L->ldp;
            L->Ut = L->Wp + L->out * L->ldp;
        }
    }
    if (nscratch && !(net->scratch = dalei_alloc(nscratch, sizeof(float)))) { st = DALE_ERR_NOMEM; goto fail; }
    *out = net;
    return DALE_OK;
fail:
    dale_net_free(net);
    return st;
}

const dale_net_config *dale_net_config_of(const dale_net *net) { return &net->cfg; }
size_t dale_net_nparams(const dale_net *net) { return net->nparams; }
const dale_param *dale_net_param(const dale_net *net, size_t i)
{
    return i < net->nparams ? &net->params[i] : NULL;
}
int dale_net_find(const dale_net *net, const char *name)
{
    for (size_t i = 0; i < net->nparams; i++)
        if (strcmp(net->params[i].name, name) == 0) return (int)i;
    return -1;
}
size_t dale_net_size(const dale_net *net) { return net->size; }
float *dale_net_theta(dale_net *net) { return net->theta; }
float *dale_net_grad(dale_net *net) { return net->grad; }
size_t dale_net_ncells(const dale_net *net) { return net->ncells; }
size_t dale_net_nlayers(const dale_net *net) { return net->nlayers; }

void dale_net_ei_units(const dale_net *net, size_t k, size_t *nE, size_t *nI)
{
    *nE = *nI = 0;
    if (k >= net->nlayers) return;
    const dale_layer *L = &net->layers[k];
    const dale_map *m = L->kind == LAYER_CELL ? &L->W : &L->U;
    switch (m->kind) {
    case MAP_PLAIN: *nE = m->cols; break;                           /* no E/I structure */
    case MAP_COLSIGN: *nE = m->cols - m->ni; *nI = m->ni; break;   /* column signs      */
    case MAP_DANN: *nE = m->cols; *nI = m->ni; break;               /* E inputs, I units */
    }
}

void dale_net_zero_grad(dale_net *net) { dalei_zero(net->grad, net->size); }

/* ------------------------------------------------------- effective maps */


/* eff_forward: M from the raw parameters. */
static void map_build(dale_net *net, dale_map *m)
{
    dalei_map_mask_params(net, m); /* connectivity mask (mask.c); no-op without */
    const float *P = net->theta + net->params[m->p_main].offset;
    size_t R = m->rows, C = m->cols;
    switch (m->kind) {
    case MAP_PLAIN:
        break; /* eff aliases theta */
    case MAP_COLSIGN:
        /* M[i][j] = P[i][j] * sign[j] (nothing to do when M aliases P) */
        if (!m->alias) dalei_scale_cols(m->eff, P, m->sign, R, C, 0);
        break;
    case MAP_DANN: {
        /* M = EE - EI (R, ni) * IE (ni, C) */
        const float *IE = net->theta + net->params[m->p_ie].offset;
        const float *EI = net->theta + net->params[m->p_ei].offset;
        dalei_copy(m->eff, P, R * C);
        if (net->cfg.numerics == DALE_NUMERICS_DALE) {
            float *nEI = net->scratch;
            dalei_negate(nEI, EI, R * m->ni);
            dalei_gemm_acc(0, R, C, m->ni, nEI, m->ni, IE, C, m->eff, C);
        } else {
            dale_sgemm(0, 0, R, C, m->ni, -1.0f, EI, m->ni, IE, C, 1.0f, m->eff, C);
        }
        break;
    }
    }
    dalei_map_mask_eff(m);
}

/* Gradients written once (dalei_net_backward_fresh).  A training step
 * zeroes the gradient and runs the backward right after it; with objrec's
 * 7.2 M input weights that zeroing pass cost as much as the product that
 * then added into the zeros.  In a fresh backward each parameter's first
 * contribution writes its tensor: a kernel product in its C_ZERO mode
 * (+0 and then the terms in k order: the bits of zeroing and adding), or,
 * for a contribution that can only add (the bias sums, OpenBLAS), a zeroing
 * of that one tensor just before.  Tensors nothing reached are zeroed at
 * the end.  grad_fresh: the parameter whose gradient starts at dst, if it
 * is still untouched in a fresh backward, else -1. */
static int grad_fresh(const dale_net *net, const float *dst)
{
    if (!net->gfresh_on) return -1;
    for (size_t i = 0; i < net->nparams; i++)
        if (net->grad + net->params[i].offset == dst) return net->gfresh[i] ? (int)i : -1;
    return -1;
}

/* Parameter i's gradient := 0; it is no longer untouched. */
static void grad_zero_param(dale_net *net, size_t i)
{
    net->gfresh[i] = 0;
    dalei_zero(net->grad + net->params[i].offset, net->params[i].rows * net->params[i].cols);
}

/* Before a contribution that adds into dst: an untouched tensor is zeroed. */
static void grad_touch(dale_net *net, float *dst)
{
    int i = grad_fresh(net, dst);
    if (i >= 0) grad_zero_param(net, (size_t)i);
}

/* C += op(A) P through the kernels; written (dalei_gemm_set) when C is an
 * untouched tensor and the product covers all of it. */
static void grad_gemm(dale_net *net, int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                      const float *P, size_t ldp, float *C, size_t ldc)
{
    int i = grad_fresh(net, C);
    if (i >= 0 && ldc == N && M * N == net->params[i].rows * net->params[i].cols) {
        net->gfresh[i] = 0;
        dalei_gemm_set(ta, M, N, K, A, lda, P, ldp, C, ldc);
        return;
    }
    grad_touch(net, C);
    dalei_gemm_acc(ta, M, N, K, A, lda, P, ldp, C, ldc);
}

/* eff_backward: given G = dL/dM in geff, accumulate the raw gradients:
 *   COLSIGN  dP += G diag(sign)
 *   DANN     dEE += G,  dIE += -EI^T G,  dEI += -G IE^T            */
static void map_chain(dale_net *net, dale_map *m)
{
    dalei_map_mask_grad(m); /* masked connections get no gradient */
    size_t R = m->rows, C = m->cols;
    float *dP = net->grad + net->params[m->p_main].offset;
    const float *G = m->geff;
    switch (m->kind) {
    case MAP_PLAIN:
        break; /* geff aliases grad */
    case MAP_COLSIGN:
        if (!m->alias) {
            grad_touch(net, dP);
            dalei_scale_cols(dP, G, m->sign, R, C, 1);
        }
        break;
    case MAP_DANN: {
        const float *IE = net->theta + net->params[m->p_ie].offset;
        const float *EI = net->theta + net->params[m->p_ei].offset;
        float *dIE = net->grad + net->params[m->p_ie].offset;
        float *dEI = net->grad + net->params[m->p_ei].offset;
        grad_touch(net, dP);
        dalei_scale_cols(dP, G, NULL, R, C, 1); /* dP += G */
        if (net->cfg.numerics == DALE_NUMERICS_DALE) {
            const size_t ni = m->ni;
            float *nEI = net->scratch, *nIEt = net->scratch + R * ni;
            dalei_negate(nEI, EI, R * ni);
            for (size_t i = 0; i < ni; i++)
                for (size_t j = 0; j < C; j++) nIEt[j * ni + i] = -IE[i * C + j];
            grad_gemm(net, 1, ni, C, R, nEI, ni, G, C, dIE, C);
            grad_gemm(net, 0, R, ni, C, G, C, nIEt, ni, dEI, ni);
        } else {
            grad_touch(net, dIE);
            grad_touch(net, dEI);
            dale_sgemm(1, 0, m->ni, C, R, -1.0f, EI, m->ni, G, C, 1.0f, dIE, C);
            dale_sgemm(0, 1, R, m->ni, C, -1.0f, G, C, IE, C, 1.0f, dEI, m->ni);
        }
        break;
    }
    }
}

void dalei_net_build_effective(dale_net *net)
{
    for (size_t l = 0; l < net->nlayers; l++) {
        map_build(net, &net->layers[l].U);
        if (net->layers[l].kind == LAYER_CELL) map_build(net, &net->layers[l].W);
    }
}

dale_status dale_net_effective(dale_net *net, size_t cell, float *W, float *U)
{
    if (cell > net->ncells)
        return DALE_FAIL(DALE_ERR_ARG, "dale_net_effective: layer %zu out of range (%zu cells)",
                         cell, net->ncells);
    dalei_net_build_effective(net);
    if (cell == net->ncells) {
        const dale_map *m = &net->layers[net->nlayers - 1].U;
        if (W) memcpy(W, m->eff, m->rows * m->cols * sizeof(float));
        return DALE_OK;
    }
    const dale_layer *L = &net->layers[cell];
    if (W) memcpy(W, L->W.eff, L->W.rows * L->W.cols * sizeof(float));
    if (U) memcpy(U, L->U.eff, L->U.rows * L->U.cols * sizeof(float));
    return DALE_OK;
}

void dalei_net_cell_maps(dale_net *net, size_t cell, const float **W, const float **U)
{
    DALE_ASSERT(cell < net->ncells);
    dalei_net_build_effective(net);
    *W = net->layers[cell].W.eff;
    *U = net->layers[cell].U.eff;
}

/* ------------------------------------------------------------------ plan */

dale_status dale_net_plan(dale_net *net, size_t T, size_t B)
{
    if (T == 0 || B == 0)
        return DALE_FAIL(DALE_ERR_ARG, "dale_net_plan: T and B must be > 0 (got T %zu, B %zu)", T, B);
    if (T <= net->plan_T && B <= net->plan_B) return DALE_OK;
    free_activations(net);
    for (size_t l = 0; l < net->nlayers; l++) {
        dale_layer *L = &net->layers[l];
        if (L->kind == LAYER_CELL) {
            L->H = dalei_alloc((T + 1) * B, L->out * sizeof(float));
            L->dH = dalei_alloc(T * B, L->out * sizeof(float));
            if (!L->H || !L->dH) goto nomem;
            if (net->dyn->keeps_preact) {
                L->Z = dalei_alloc((T + 1) * B, L->out * sizeof(float));
                L->C = dalei_alloc(2 * B, L->out * sizeof(float));
                if (!L->Z || !L->C) goto nomem;
            }
        } else {
            L->A = dalei_alloc(T * B, L->out * sizeof(float));
            L->dA = dalei_alloc(T * B, L->out * sizeof(float));
            if (!L->A || !L->dA) goto nomem;
        }
    }
    if (net->cfg.noise_in > 0 && !(net->Xn = dalei_alloc(T * B, net->cfg.input * sizeof(float)))) goto nomem;
    if (net->cfg.noise_rec > 0 && (!(net->E = dalei_alloc(B, net->cfg.hidden * sizeof(float))) ||
                                   !(net->noise_sd = dalei_alloc(net->cfg.hidden, sizeof(double)))))
        goto nomem;
    net->plan_T = T;
    net->plan_B = B;
    net->have_forward = 0;
    return DALE_OK;
nomem:
    free_activations(net);
    return DALE_ERR_NOMEM;
}

/* --------------------------------------------------------------- forward */

/* In-place ReLU and the mask by its derivative: branch-free selects
 * (linalg/kernels.c); NaN stays NaN, so a diverging run is seen as such. */
static void relu_inplace(float *y, size_t n) { dalei_relu(y, n); }

/* dy *= relu'(z) = [y > 0] with y = relu(z). */
static void relu_mask(float *dy, const float *y, size_t n) { dalei_relu_mask(dy, y, n); }

/* Largest M, N and K of a product that goes through dalei_gemm_acc: its
 * (K, 32)-float panels of P then stay within 512 KiB (L2), and its
 * advantage over the OpenBLAS kernels was measured up to here. */
#define SMALL_GEMM 4096
/* A forward's route (net->fwd_kern): every product to dale_sgemm
 * (DALE_SMM=blas), dale's kernels by the size rules here, or dale's
 * kernels for every product (numerics = dale). */
enum { ROUTE_BLAS, ROUTE_MIXED, ROUTE_DALE };
static int small_gemm(int kern, size_t M, size_t N, size_t K)
{
    return kern == ROUTE_DALE || (kern && M <= SMALL_GEMM && N <= SMALL_GEMM && K <= SMALL_GEMM);
}

/* Mt = M^T for M (rows, in): Mt[k][i] = M[i][k] with Mt's rows ldt floats
 * apart, and, when Mp is given, Mp = M with rows ldt floats apart too.
 * Split between the pool's threads by rows of M; the transpose goes in
 * 32 x 32 blocks so both sides stay in cache.  Plain copies. */
struct pack_t_job {
    float *Mt, *Mp;
    const float *M;
    size_t in, ldt;
};

static void pack_t_range(void *arg, size_t lo, size_t hi)
{
    const struct pack_t_job *j = arg;
    const size_t in = j->in, ldt = j->ldt;
    if (j->Mp)
        for (size_t i = lo; i < hi; i++) memcpy(j->Mp + i * ldt, j->M + i * in, in * sizeof(float));
    for (size_t i0 = lo; i0 < hi; i0 += 32)
        for (size_t k0 = 0; k0 < in; k0 += 32)
            for (size_t i = i0; i < hi && i < i0 + 32; i++)
                for (size_t k = k0; k < in && k < k0 + 32; k++) j->Mt[k * ldt + i] = j->M[i * in + k];
}

static void pack_t(float *Mt, float *Mp, size_t ldt, const float *M, size_t rows, size_t in)
{
    struct pack_t_job j = {Mt, Mp, M, in, ldt};
    dalei_par_range(rows, 32, (Mp ? 2 : 1) * rows * in, pack_t_range, &j);
}

/* Pack a cell's recurrent map for the kernels: Wt = W^T and Wp = W (n, n)
 * with rows of ldp floats (the padding stays zero from the allocation). */
static void pack_cell(dale_layer *L) { pack_t(L->Wt, L->Wp, L->ldp, L->W.eff, L->out, L->out); }

/* dst (C, R) = src (R, C)^T, both row-major. */
static void transpose(float *dst, const float *src, size_t R, size_t C)
{
    for (size_t r = 0; r < R; r++)
        for (size_t c = 0; c < C; c++) dst[c * R + r] = src[r * C + c];
}

/* Ut = U^T (d, n), only for an input projection that goes through the
 * kernels: the dale_sgemm route reads U itself, and packing a wide U
 * (objrec: 1000 x 7225) would cost a strided pass over it for nothing. */
static void pack_input(dale_layer *L) { pack_t(L->Ut, NULL, L->out, L->U.eff, L->out, L->in); }

/* H rows (M, n) = b + X U^T through the kernels, X (M, d).  When X has
 * few rows (objrec: the image at one step, M = B), transposing X is cheaper
 * than packing U^T (d, n): C^T = U X^T is formed on C^T (n, M) instead,
 * with X^T and C^T in Ut's buffer (the test below keeps them inside it).
 * Each output is the same sum in the same k order either way,
 * b_j + x_i0 u_j0 + x_i1 u_j1 + ... (a product of two floats does not depend
 * on their order), so both give the same bits (tests/test_numerics.c). */

/* The transposed form's start, in Ut's buffer: X^T (d, M) at its head,
 * returned; C^T (n, M) = b in every column right after it (*cT). */
static float *transposed_begin(dale_layer *L, const float *X, size_t M, const float *b, float **cT)
{
    const size_t n = L->out, d = L->in;
    float *xT = L->Ut;
    transpose(xT, X, M, d);
    *cT = xT + M * d;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < M; i++) (*cT)[j * M + i] = b[j];
    return xT;
}

static void input_projection(dale_layer *L, const float *X, size_t M, const float *b, float *Hout)
{
    const size_t n = L->out, d = L->in;
    if (M * d + 2 * M * n < n * d) {
        float *cT, *xT = transposed_begin(L, X, M, b, &cT);
        dalei_gemm_acc(0, n, M, d, L->U.eff, d, xT, M, cT, M);
        transpose(Hout, cT, n, M);
        return;
    }
    pack_input(L);
    dalei_gemm_bias(0, M, n, d, X, d, L->Ut, n, b, Hout, n);
}

/* z = x M^T + b over R rows, then optional ReLU.  x (R, in), M (out, in).
 * With Mt (scratch of in * out floats, numerics = dale) M^T is packed there
 * and the product runs in dalei_gemm_bias (each row starting from b, the
 * bits of writing b first); else dale_sgemm onto rows filled with b. */
static void dense_forward(float *y, const float *x, const float *M, float *Mt, const float *b, size_t R,
                          size_t in, size_t out, int relu)
{
    if (Mt) {
        pack_t(Mt, NULL, out, M, out, in);
        dalei_gemm_bias(0, R, out, in, x, in, Mt, out, b, y, out);
    } else {
        dalei_fill_rows(y, b, R, out);
        dale_sgemm(0, 1, R, out, in, 1.0f, x, in, M, in, 1.0f, y, out);
    }
    if (relu)
        relu_inplace(y, R * out);
}

/* numerics = dale, a DANN input map U = EE - EI IE (n, d) and few input
 * rows X (Rx, d): its gradient straight through the factors,
 *   dEE += dH^T X,  dEI += -dH^T (X IE^T),  dIE += -(dH EI)^T X,
 * instead of forming G = dH^T X (n, d) and chaining it (2 n ni d
 * multiply-adds, objrec: 1000 x 100 x 7225 twice).  The same gradient up
 * to round-off (tests/test_numerics.c compares it with the default
 * arithmetic's).  Worth it, and its scratch fits in Ut's n d floats, when
 * this holds (the forward below skips forming U as well): */
static int dann_input_factored(const dale_net *net, const dale_layer *L, size_t Rx)
{
    const size_t n = L->out, d = L->in, ni = L->U.ni;
    return net->fwd_kern == ROUTE_DALE && L->U.kind == MAP_DANN && !L->U.mask && L->Ut && Rx > 0 &&
           Rx * (2 * d + 3 * n) < 3 * n * d && Rx * (d + n + 3 * ni) <= n * d;
}

/* The forward of the same map through its factors, without forming U:
 * H rows (Rx, n) = b + X EE^T - (X IE^T) EI^T, computed transposed in Ut's
 * buffer (C^T = b + EE X^T + EI (-(IE X^T))). */
static void dann_input_forward(dale_net *net, dale_layer *L, const float *X, size_t Rx, const float *b,
                               float *Hout)
{
    const dale_map *m = &L->U;
    const size_t n = L->out, d = L->in, ni = m->ni;
    const float *EE = net->theta + net->params[m->p_main].offset;
    const float *IE = net->theta + net->params[m->p_ie].offset;
    const float *EI = net->theta + net->params[m->p_ei].offset;
    float *cT, *xT = transposed_begin(L, X, Rx, b, &cT), *tT = cT + n * Rx;
    dalei_gemm_acc(0, n, Rx, d, EE, d, xT, Rx, cT, Rx);
    memset(tT, 0, ni * Rx * sizeof(float));
    dalei_gemm_acc(0, ni, Rx, d, IE, d, xT, Rx, tT, Rx);
    for (size_t k = 0; k < ni * Rx; k++) tT[k] = -tT[k];
    dalei_gemm_acc(0, n, Rx, ni, EI, ni, tT, Rx, cT, Rx);
    transpose(Hout, cT, n, Rx);
}

static void dann_input_backward(dale_net *net, dale_layer *L, const float *dH, const float *X, size_t Rx)
{
    const dale_map *m = &L->U;
    const size_t n = L->out, d = L->in, ni = m->ni;
    const float *IE = net->theta + net->params[m->p_ie].offset;
    const float *EI = net->theta + net->params[m->p_ei].offset;
    float *dEE = net->grad + net->params[m->p_main].offset;
    float *dIE = net->grad + net->params[m->p_ie].offset;
    float *dEI = net->grad + net->params[m->p_ei].offset;
    float *xT = L->Ut, *t = xT + Rx * d, *nXI = t + Rx * ni, *DE = nXI + Rx * ni;
    grad_gemm(net, 1, n, d, Rx, dH, n, X, d, dEE, d); /* dEE += dH^T X */
    /* X IE^T as IE X^T (ni, Rx), then -(X IE^T) (Rx, ni) */
    transpose(xT, X, Rx, d);
    memset(t, 0, ni * Rx * sizeof(float));
    dalei_gemm_acc(0, ni, Rx, d, IE, d, xT, Rx, t, Rx);
    for (size_t r = 0; r < Rx; r++)
        for (size_t i = 0; i < ni; i++) nXI[r * ni + i] = -t[i * Rx + r];
    grad_gemm(net, 1, n, ni, Rx, dH, n, nXI, ni, dEI, ni); /* dEI += dH^T (-X IE^T) */
    /* -(dH EI) (Rx, ni), then dIE += (-(dH EI))^T X */
    memset(DE, 0, Rx * ni * sizeof(float));
    dalei_gemm_acc(0, Rx, ni, n, dH, n, EI, ni, DE, ni);
    for (size_t k = 0; k < Rx * ni; k++) DE[k] = -DE[k];
    grad_gemm(net, 1, ni, d, Rx, DE, ni, X, d, dIE, d);
}

/* Standard normals of the noise drawn per call of dale_rng_standard_normals
 * (a stack buffer of doubles). */
#define NOISE_CHUNK 512

dale_status dale_net_forward(dale_net *net, const float *x, size_t T, size_t B, int all_steps,
                             const float **out)
{
    if (T == 0 || B == 0)
        return DALE_FAIL(DALE_ERR_ARG, "dale_net_forward: T and B must be > 0 (got T %zu, B %zu)", T, B);
    if (T > net->plan_T || B > net->plan_B)
        return DALE_FAIL(DALE_ERR_SHAPE,
                         "dale_net_forward: batch (T %zu, B %zu) exceeds the plan (T %zu, B %zu); "
                         "call dale_net_plan first", T, B, net->plan_T, net->plan_B);
    const dalei_dynamics_ops *dyn = net->dyn;
    /* Route of this forward and its backward: dale's kernels only
     * (numerics = dale), by the size rules, or dale_sgemm everywhere
     * (DALE_SMM=blas; tests compare the two). */
    const int kern = net->fwd_kern = net->cfg.numerics == DALE_NUMERICS_DALE ? ROUTE_DALE
                                     : dalei_kernels_enabled()               ? ROUTE_MIXED
                                                                             : ROUTE_BLAS;
    /* Input noise: the cells read x + eta (kept in Xn for the backward). */
    if (net->noise_on && net->cfg.noise_in > 0) {
        const double a = net->cfg.dynamics == DALE_DYN_RELU ? 1.0 : net->cfg.alpha;
        const double sd = sqrt(2.0 / a) * net->cfg.noise_in;
        const size_t cnt = T * B * net->cfg.input;
        double g[NOISE_CHUNK];
        for (size_t k0 = 0; k0 < cnt; k0 += NOISE_CHUNK) {
            size_t m = cnt - k0 < NOISE_CHUNK ? cnt - k0 : NOISE_CHUNK;
            dale_rng_standard_normals(&net->noise, g, m);
            for (size_t k = 0; k < m; k++) net->Xn[k0 + k] = x[k0 + k] + (float)(sd * g[k]);
        }
        x = net->Xn;
    }
    const float *in = x;
    /* Trailing steps whose input is all zero (objrec shows its image at the
     * first step only) contribute nothing to X U^T or to dU: skip them. */
    size_t d0 = net->layers[0].in, Tx = T;
    while (Tx > 0) {
        const float *xt = x + (Tx - 1) * B * d0;
        size_t k = 0;
        while (k < B * d0 && xt[k] == 0.0f) k++;
        if (k < B * d0) break;
        Tx--;
    }
    net->fwd_Tx = Tx;
    /* Every effective map, except a DANN input map taken through its
     * factors (dann_input_forward). */
    const int u0_fac = dann_input_factored(net, &net->layers[0], Tx * B);
    for (size_t l = 0; l < net->nlayers; l++) {
        if (!(l == 0 && u0_fac)) map_build(net, &net->layers[l].U);
        if (net->layers[l].kind == LAYER_CELL) map_build(net, &net->layers[l].W);
    }
    for (size_t l = 0; l < net->ncells; l++) {
        dale_layer *L = &net->layers[l];
        size_t n = L->out, d = L->in;
        const int step_kern = kern && L->Wt; /* packed maps and kernels for this cell */
        const int fused = step_kern && dyn->fused_relu; /* per-step product fused with the step */
        const float *b = net->theta + net->params[L->p_b].offset;
        float *H = L->H; /* (T+1, B, n); row block t holds h_t */
        const int h0 = L->p_h0 >= 0; /* a learned initial state: the product at t = 1 */
        memset(H, 0, B * n * sizeof(float));
        if (L->Z) memset(L->Z, 0, B * n * sizeof(float)); /* s_0 = 0 */
        if (h0) {
            const float *p0 = net->theta + net->params[L->p_h0].offset;
            float *first = net->dyn->state_form ? L->Z : H; /* s_0, or h_0 */
            for (size_t r = 0; r < B; r++) memcpy(first + r * n, p0, n * sizeof(float));
            if (net->dyn->state_form)
                for (size_t k = 0; k < B * n; k++) H[k] = L->Z[k] < 0.0f ? 0.0f : L->Z[k]; /* h_0 = relu(s_0) */
        }
        /* Input projection of all steps at once: H[1..T] = X U^T + b, over
         * the steps up to the last non-zero input (the rest are just b). */
        size_t Tin = l == 0 ? net->fwd_Tx : T;
        if (step_kern) pack_cell(L);
        if (l == 0 && u0_fac) {
            dann_input_forward(net, L, in, Tin * B, b, H + B * n);
        } else if (Tin && step_kern && small_gemm(kern, Tin * B, n, d)) {
            input_projection(L, in, Tin * B, b, H + B * n);
        } else if (Tin) {
            dense_forward(H + B * n, in, L->U.eff, NULL, b, Tin * B, d, n, 0);
        }
        dalei_fill_rows(H + (B + Tin * B) * n, b, (T - Tin) * B, n);
        for (size_t t = 1; t <= T; t++) {
            float *h = H + t * B * n;
            const float *hprev = H + (t - 1) * B * n;
            /* z_t += h_{t-1} W^T (skipped at t = 1 where h_0 = 0), then the
             * dynamics' step; the discrete ReLU fuses into the kernel. */
            if (t > 1 && fused) {
                dalei_smm(B, n, n, hprev, n, L->Wt, L->ldp, h, n, DALEI_EPI_RELU, NULL, 0);
                continue;
            }
            if ((t > 1 || h0) && kern == ROUTE_DALE)
                dalei_smm(B, n, n, hprev, n, L->Wt, L->ldp, h, n, DALEI_EPI_NONE, NULL, 0);
            else if (t > 1 || h0)
                dale_sgemm(0, 1, B, n, n, 1.0f, hprev, n, L->W.eff, n, 1.0f, h, n);
            const float *eps = NULL;
            if (net->noise_on && net->E) {
                /* eps_t (B, n): sd_j = sqrt(2 a_j) sigma (state form), sqrt(2 / a_j) sigma */
                double *sd = net->noise_sd;
                if (t == 1)
                    for (size_t j = 0; j < n; j++) {
                        double a = dale_net_unit_alpha(net, j);
                        sd[j] = (dyn->state_form ? sqrt(2.0 * a) : sqrt(2.0 / a)) * net->cfg.noise_rec;
                    }
                /* B n standard normals in the row-major order of E, drawn
                 * a chunk at a time */
                double g[NOISE_CHUNK];
                for (size_t k0 = 0, j = 0; k0 < B * n; k0 += NOISE_CHUNK) {
                    size_t m = B * n - k0 < NOISE_CHUNK ? B * n - k0 : NOISE_CHUNK;
                    dale_rng_standard_normals(&net->noise, g, m);
                    for (size_t k = 0; k < m; k++, j = j + 1 == n ? 0 : j + 1)
                        net->E[k0 + k] = (float)(sd[j] * g[k]);
                }
                eps = net->E;
            }
            dyn->step(L->rate, B, n, h, hprev, L->Z ? L->Z + t * B * n : NULL,
                      L->Z ? L->Z + (t - 1) * B * n : NULL, eps);
        }
        in = H + B * n; /* h_1..h_T feed the next layer */
    }
    /* rate_l2: lambda mean(h_t^2) over cells, steps, rows and units */
    net->rate_pen = 0.0;
    if (net->cfg.rate_l2 > 0) {
        double sum = 0;
        for (size_t l = 0; l < net->ncells; l++) {
            const dale_layer *L = &net->layers[l];
            const float *h = L->H + B * L->out;
            for (size_t k = 0; k < T * B * L->out; k++) sum += (double)h[k] * (double)h[k];
        }
        net->rate_pen = net->cfg.rate_l2 * sum / ((double)net->ncells * (double)T * (double)B * (double)net->cfg.hidden);
    }
    /* Dense stack and readout on every step or on the last one only. */
    size_t R = all_steps ? T * B : B;
    const float *top = all_steps ? in : in + (T - 1) * B * net->layers[net->ncells - 1].out;
    for (size_t l = net->ncells; l < net->nlayers; l++) {
        dale_layer *L = &net->layers[l];
        const float *b = net->theta + net->params[L->p_b].offset;
        dense_forward(L->A, top, L->U.eff, kern == ROUTE_DALE ? net->scratch : NULL, b, R, L->in, L->out,
                      L->kind == LAYER_DENSE);
        top = L->A;
    }
    net->have_forward = 1;
    net->fwd_T = T;
    net->fwd_B = B;
    net->fwd_all = all_steps;
    net->fwd_x = x;
    if (out) *out = top;
    return DALE_OK;
}

/* -------------------------------------------------------------- backward */

/* Backward of y = act(x M^T + b) over R rows.  dy (R, out) is the gradient
 * w.r.t. the layer output, already masked by the ReLU derivative if any.
 * Accumulates dM += dy^T x, db += colsum(dy); writes dx = dy M (if dx). */
static void dense_backward(dale_net *net, int kern, float *dx, float *dM, float *db, const float *dy,
                           const float *x, const float *M, size_t R, size_t in, size_t out)
{
    if (small_gemm(kern, out, in, R)) {
        grad_gemm(net, 1, out, in, R, dy, out, x, in, dM, in);
    } else {
        grad_touch(net, dM);
        dale_sgemm(1, 0, out, in, R, 1.0f, dy, out, x, in, 1.0f, dM, in);
    }
    grad_touch(net, db);
    dalei_add_rows(db, dy, R, out);
    if (!dx) return;
    if (small_gemm(kern, R, in, out)) {
        dalei_zero(dx, R * in);
        dalei_gemm_acc(0, R, in, out, dy, out, M, in, dx, in);
    } else {
        dale_sgemm(0, 0, R, in, out, 1.0f, dy, out, M, in, 0.0f, dx, in);
    }
}

dale_status dale_net_backward(dale_net *net, const float *dout)
{
    if (!net->have_forward)
        return DALE_FAIL(DALE_ERR_STATE, "dale_net_backward: no forward pass to differentiate");
    net->have_forward = 0;
    size_t T = net->fwd_T, B = net->fwd_B, R = net->fwd_all ? T * B : B;
    const int kern = net->fwd_kern; /* the forward's route (packed maps) */
    const int u0_fac = dann_input_factored(net, &net->layers[0], net->fwd_Tx * B);
    for (size_t l = 0; l < net->nlayers; l++) {
        dale_layer *L = &net->layers[l];
        if (!L->U.alias && !(l == 0 && u0_fac))
            dalei_zero(L->U.geff, L->U.rows * L->U.cols);
        if (L->kind == LAYER_CELL && !L->W.alias)
            dalei_zero(L->W.geff, L->W.rows * L->W.cols);
    }
    dale_layer *top = &net->layers[net->ncells - 1];
    /* Gradient w.r.t. the readout output, then down the dense stack.  The
     * gradient w.r.t. the last cell's h lands in its dH. */
    dalei_zero(top->dH, T * B * top->out);
    float *dtop = net->fwd_all ? top->dH : top->dH + (T - 1) * B * top->out;
    const float *dy = dout;
    for (size_t l = net->nlayers; l-- > net->ncells;) {
        dale_layer *L = &net->layers[l];
        const float *xin;
        if (l == net->ncells)
            xin = net->fwd_all ? top->H + B * top->out : top->H + T * B * top->out;
        else
            xin = net->layers[l - 1].A;
        float *dx = l == net->ncells ? dtop : net->layers[l - 1].dA;
        float *db = net->grad + net->params[L->p_b].offset;
        dense_backward(net, kern, dx, L->U.geff, db, dy, xin, L->U.eff, R, L->in, L->out);
        if (l > net->ncells) {
            /* mask by the ReLU derivative of the dense layer below: [a > 0] */
            const float *A = net->layers[l - 1].A;
            float *dA = net->layers[l - 1].dA;
            relu_mask(dA, A, R * net->layers[l - 1].out);
            dy = dA;
        }
    }
    /* BPTT through the cells, top to bottom. */
    for (size_t l = net->ncells; l-- > 0;) {
        dale_layer *L = &net->layers[l];
        size_t n = L->out, d = L->in;
        const float *H = L->H;
        float *dH = L->dH; /* (T, B, n): block t-1 holds dL/dh_t, becomes dL/dz_t */
        if (net->cfg.rate_l2 > 0) {
            /* d/dh_t of lambda mean(h^2): 2 lambda h_t / (L T B n) */
            const float c = (float)(2.0 * net->cfg.rate_l2 /
                                    ((double)net->ncells * (double)T * (double)B * (double)n));
            for (size_t k = 0; k < T * B * n; k++) dH[k] += c * H[B * n + k];
        }
        const int h0 = L->p_h0 >= 0;
        float *carry = L->C, *dh0 = L->C ? L->C + B * n : NULL;
        if (carry) memset(carry, 0, 2 * B * n * sizeof(float));
        if (kern && L->Wp && net->dyn->fused_relu) {
            /* Fused: dz_{t-1} = [h_{t-1} > 0] (dh_{t-1} + dz_t W) in one call;
             * only the last step needs its own mask. */
            relu_mask(dH + (T - 1) * B * n, H + T * B * n, B * n);
            for (size_t t = T; t > 1; t--) {
                const float *dz = dH + (t - 1) * B * n;
                dalei_smm(B, n, n, dz, n, L->Wp, L->ldp, dH + (t - 2) * B * n, n, DALEI_EPI_MASK,
                          H + (t - 1) * B * n, n);
            }
        } else {
            for (size_t t = T; t >= 1; t--) {
                float *dz = dH + (t - 1) * B * n;
                const float *h = H + t * B * n;
                /* dL/dh_{t-1}: the previous block, or at t = 1 dL/dh_0 (learned h_0) */
                float *dprev = t > 1 ? dz - B * n : h0 ? dh0 : NULL;
                /* dL/dh_t -> dL/dz_t (plus the direct path into dL/dh_{t-1}) */
                net->dyn->back(L->rate, B, n, dz, dprev, carry, h, L->Z ? L->Z + t * B * n : NULL);
                /* dL/dh_{t-1} += dz_t W */
                if (dprev && kern == ROUTE_DALE)
                    dalei_smm(B, n, n, dz, n, L->Wp, L->ldp, dprev, n, DALEI_EPI_NONE, NULL, 0);
                else if (dprev)
                    dale_sgemm(0, 0, B, n, n, 1.0f, dz, n, L->W.eff, n, 1.0f, dprev, n);
            }
            if (h0) {
                /* leaky-state: dL/ds_0 = [s_0 > 0] dL/dh_0 + the carried (1 - a) dL/ds_1 */
                if (net->dyn->state_form)
                    for (size_t k = 0; k < B * n; k++) dh0[k] = (L->Z[k] > 0.0f ? dh0[k] : 0.0f) + carry[k];
                grad_touch(net, net->grad + net->params[L->p_h0].offset);
                dalei_add_rows(net->grad + net->params[L->p_h0].offset, dh0, B, n);
            }
        }
        /* dW += sum_t dz_t^T h_{t-1};  H[0..T-1] is contiguous. */
        if (small_gemm(kern, n, n, T * B)) {
            grad_gemm(net, 1, n, n, T * B, dH, n, H, n, L->W.geff, n);
        } else {
            grad_touch(net, L->W.geff);
            dale_sgemm(1, 0, n, n, T * B, 1.0f, dH, n, H, n, 1.0f, L->W.geff, n);
        }
        const float *xin = l == 0 ? net->fwd_x : net->layers[l - 1].H + B * d;
        float *dx = NULL;
        if (l > 0) dx = net->layers[l - 1].dH;
        float *db = net->grad + net->params[L->p_b].offset;
        if (l == 0) {
            /* no dx below the first cell; the zero input steps add nothing to dU */
            size_t Rx = net->fwd_Tx * B;
            if (u0_fac) dann_input_backward(net, L, dH, xin, Rx);
            else if (Rx && small_gemm(kern, n, d, Rx)) grad_gemm(net, 1, n, d, Rx, dH, n, xin, d, L->U.geff, d);
            else if (Rx) {
                grad_touch(net, L->U.geff);
                dale_sgemm(1, 0, n, d, Rx, 1.0f, dH, n, xin, d, 1.0f, L->U.geff, d);
            }
            grad_touch(net, db);
            dalei_add_rows(db, dH, T * B, n);
        } else {
            dense_backward(net, kern, dx, L->U.geff, db, dH, xin, L->U.eff, T * B, d, n);
        }
    }
    for (size_t l = 0; l < net->nlayers; l++) {
        if (!(l == 0 && u0_fac)) map_chain(net, &net->layers[l].U);
        if (net->layers[l].kind == LAYER_CELL) map_chain(net, &net->layers[l].W);
    }
    return DALE_OK;
}

dale_status dalei_net_backward_fresh(dale_net *net, const float *dout)
{
    memset(net->gfresh, 1, net->nparams);
    net->gfresh_on = 1;
    dale_status st = dale_net_backward(net, dout);
    net->gfresh_on = 0;
    for (size_t i = 0; i < net->nparams; i++)
        if (net->gfresh[i]) grad_zero_param(net, i);
    return st;
}
