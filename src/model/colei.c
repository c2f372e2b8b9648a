/* colei.c — column E/I (ColEI, "song"): M = P diag(s), P >= 0, s = ±1 per
 * input column (MAP_COLSIGN).  A unit is excitatory or inhibitory for all
 * its outgoing weights, so Dale's law holds by construction.  Parameters:
 * cells U_pos W_pos b, dense/readout W_pos b.  The first cell's U reads the
 * data, not an E/I population: all its columns are positive.
 *
 * Init (paper Sec. 2.2 and 6.6; docs/reference-behaviour.md, ColEI init):
 * E columns ~ D(σE), I columns ~ D(σI) with the family D exponential
 * (default), gamma or uniform; the recurrent W is rescaled to spectral
 * radius rho after an eigen-solve whose eigenvalues are kept for
 * dale_net_init_eigvals; with a connectivity mask the rescaled W is the
 * masked one (its eigenvalues and rho are those of the masked matrix).
 * colei_init (colei_init.c, docs/beyond.md) may change the draw of each
 * cell's W before the rescaling: balanced rows, or alternating projections
 * toward an RNN spectrum; standard leaves it as drawn.
 * Default update: per-tensor clipping, projection of every *_pos onto >= 0.
 * Optional inhibitory gradient scaling (paper Fig. 11): the inhibitory
 * columns of every map that reads an E/I population carry
 * DALE_P_INHIB_COLS.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dale/linalg.h"
#include "internal.h"
#include "model_internal.h"

/* (2π - 1)/(2π): the reference's variance correction for rectified inputs. */
#define DALE_PI 3.14159265358979323846
#define COLEI_C ((2.0 * DALE_PI - 1.0) / (2.0 * DALE_PI))

static dale_status colei_check(const dale_net_config *c)
{
    size_t widths[2 + DALE_MAX_DENSE], nw = 0, ne, ni;
    widths[nw++] = c->hidden;
    for (size_t k = 0; k < c->ndense; k++) widths[nw++] = c->dense[k];
    for (size_t k = 0; k < nw; k++) {
        dale_ei_split(widths[k], c->ei_ratio, &ne, &ni);
        if (ne == 0 || ni == 0)
            return DALE_FAIL(DALE_ERR_ARG,
                             "E/I ratio %g splits %zu units into %zu E / %zu I; both must be >= 1",
                             c->ei_ratio, widths[k], ne, ni);
    }
    if (!(c->rho > 0) || !isfinite(c->rho))
        return DALE_FAIL(DALE_ERR_ARG, "rho must be > 0 (got %g)", c->rho);
    if ((unsigned)c->colei_init >= DALE_COLEI_INIT_COUNT)
        return DALE_FAIL(DALE_ERR_ARG, "colei_init %d is not a ColEI init", (int)c->colei_init);
    int spectral = c->colei_init == DALE_COLEI_INIT_SPECTRAL || c->colei_init == DALE_COLEI_INIT_SPECTRAL_BALANCED;
    if (spectral && c->colei_init_iters < 1)
        return DALE_FAIL(DALE_ERR_ARG, "--colei-init-iters must be >= 1 (got %ld)", c->colei_init_iters);
    if (spectral && !(c->colei_init_floor >= 0 && c->colei_init_floor < 1))
        return DALE_FAIL(DALE_ERR_ARG, "--colei-init-floor must lie in [0, 1) (got %g)", c->colei_init_floor);
    if (c->colei_dist == DALE_DIST_GAMMA && !(c->gamma_shape > 0))
        return DALE_FAIL(DALE_ERR_ARG, "gamma shape must be > 0 (got %g)", c->gamma_shape);
    return DALE_OK;
}

static void colei_describe(dalei_table *tb, dale_map *m, const dale_net_config *cfg, const dalei_site *s)
{
    char nm[16];
    m->kind = MAP_COLSIGN;
    snprintf(nm, sizeof nm, "%s_pos", s->wname);
    unsigned flags = (s->rec ? DALE_P_REC : 0) | DALE_P_NONNEG;
    if (!s->first_input) {
        size_t ne;
        dale_ei_split(s->cols, cfg->ei_ratio, &ne, &m->ni);
        flags |= DALE_P_INHIB_COLS;
    }
    m->p_main = dalei_table_add(tb, s->prefix, nm, s->rows, s->cols, s->layer, flags, 1.0f);
    tb->p[m->p_main].inhib_cols = m->ni;
}

/* ColEI scales for a population split (nE, nI): E entries have mean σE,
 * I entries σI, so E[Σ_E w] = E[Σ_I |w|] per row (balance in expectation)
 * and Σ_j Var(w_ij) = 1/c:  σE = sqrt(1/(c (nE + nE²/nI))), σI = σE nE/nI. */
static void colei_scales(size_t ne, size_t ni, double *se, double *si)
{
    double dE = (double)ne, dI = (double)ni;
    *se = sqrt(1.0 / (COLEI_C * (dE + dE * dE / dI)));
    *si = *se * dE / dI;
}

/* One positive ColEI magnitude of mean `scale` from the configured family:
 * exponential(scale); gamma(k, scale/k) (same mean); uniform[0, 2 scale]
 * (same mean; the appendix's U[0, 1/√n] family up to this scale choice). */
static double colei_draw(dale_rng *rng, const dale_net_config *cfg, double scale)
{
    switch (cfg->colei_dist) {
    case DALE_DIST_GAMMA: return dale_rng_gamma(rng, cfg->gamma_shape, scale / cfg->gamma_shape);
    case DALE_DIST_UNIFORM: return dale_rng_uniform(rng, 0.0, 2.0 * scale);
    default: return dale_rng_exponential(rng, scale);
    }
}

/* Fill a COLSIGN map's P (>= 0) with E columns ~ D(σE), I columns ~ D(σI). */
static void colei_fill(dale_net *net, dale_map *m, dale_rng *rng)
{
    size_t ne = m->cols - m->ni;
    double se, si;
    colei_scales(ne, m->ni, &se, &si);
    float *W = dalei_net_param(net, m->p_main);
    for (size_t i = 0; i < m->rows; i++)
        for (size_t j = 0; j < m->cols; j++)
            W[i * m->cols + j] = (float)colei_draw(rng, &net->cfg, j < ne ? se : si);
}

/* ColEI recurrent W (in this order): sample signed A, zero the diagonal
 * (option), the connectivity mask, the configured colei_init, ρ0 = max|λ(A)|
 * by a full eigen-solve, A *= ρ/ρ0, keep |A| as W_pos (the sign lives in
 * the column sign vector).  The eigenvalues of the rescaled matrix are (ρ/ρ0) λ(A); they are kept in `eig` (re then im, 2n)
 * so spectral tools need no second eigen-solve. */
static dale_status colei_recurrent(dale_net *net, dale_map *m, dale_rng *rng, double *eig)
{
    size_t n = m->rows;
    colei_fill(net, m, rng);
    float *W = dalei_net_param(net, m->p_main);
    if (net->cfg.zero_diag)
        for (size_t i = 0; i < n; i++) W[i * n + i] = 0.0f;
    dalei_map_mask_params(net, m); /* a connectivity mask: rho is that of the masked W */
    if (net->cfg.colei_init != DALE_COLEI_INIT_STANDARD) {
        dale_status sti = dalei_colei_init_apply(net, m, rng);
        if (sti) return sti;
    }
    double *A = dalei_alloc(n * n, sizeof(double));
    if (!A) return DALE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) A[i * n + j] = (double)W[i * n + j] * (double)m->sign[j];
    dale_status st = dale_eigvals(A, n, eig, eig + n);
    dalei_free(A);
    if (st) return st;
    double rho0 = hypot(eig[0], eig[n]); /* sorted by descending modulus */
    if (!(rho0 > 0))
        return DALE_FAIL(DALE_ERR_NUMERIC, "ColEI init: recurrent matrix has spectral radius 0");
    double f = net->cfg.rho / rho0;
    for (size_t k = 0; k < n * n; k++) W[k] = (float)((double)W[k] * f);
    for (size_t k = 0; k < 2 * n; k++) eig[k] *= f;
    return DALE_OK;
}

static dale_status colei_init_cell(dale_net *net, size_t l, dale_rng *ru, dale_rng *rw)
{
    const dale_net_config *cfg = &net->cfg;
    dale_layer *L = &net->layers[l];
    size_t n = L->out, d = L->in;
    if (l == 0) {
        /* First layer: all-positive U ~ Exp(1/√d); centring bias optional
         * (the reference computes it and then overwrites it with 0). */
        dalei_fill_exp(dalei_net_param(net, L->U.p_main), n * d, 1.0 / sqrt((double)d), ru);
        if (cfg->bias_centering) {
            float *b = dalei_net_param(net, L->p_b);
            for (size_t i = 0; i < n; i++) b[i] = (float)(-sqrt((double)d) * cfg->input_mean);
        }
    } else {
        colei_fill(net, &L->U, ru);
    }
    return colei_recurrent(net, &L->W, rw, net->init_eig + 2 * n * l);
}

static void colei_init_dense(dale_net *net, size_t l, dale_rng *r)
{
    colei_fill(net, &net->layers[l].U, r);
}

static double colei_radius(const dale_net_config *c) { return c->rho; }

static const char *const colei_aliases[] = {"song", NULL};

const dalei_model_ops dalei_model_colei = {
    .info = {DALE_MODEL_COLEI, "colei", colei_aliases,
             "column E/I: W = W_pos diag(+-1), each unit E or I (Dale's law)",
             DALE_MODEL_PROJECT | DALE_MODEL_CLIP_TENSOR | DALE_MODEL_INIT_EIGS | DALE_MODEL_SIGNED_UNITS},
    .check = colei_check,
    .describe = colei_describe,
    .init_cell = colei_init_cell,
    .init_dense = colei_init_dense,
    .init_radius = colei_radius,
};
