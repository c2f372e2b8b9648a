/* init.c — the reference initialisations (spec §2).
 *
 * Every matrix draws from its own stream, forked from the caller's dale_rng
 * with a label (cell l: U = 2l, W = 2l + 1; dense/readout layer l: 1000 + l),
 * row-major within a matrix.  So a network is a function of its config and
 * seed, and cell 0's W of a seed does not depend on the input width or the
 * readout: `dale spectrum --seed S` sees the same matrix `dale train --seed S`
 * trains.  The NumPy/torch streams of the
 * reference are not reproduced (spec §2.5, §8.17); distributions, moments and
 * spectra are.
 */
#include <math.h>
#include <string.h>
#include "dale/linalg.h"
#include "internal.h"
#include "model_internal.h"

/* (2π - 1)/(2π): the reference's variance correction for rectified inputs. */
#define DALE_PI 3.14159265358979323846
#define COLEI_C ((2.0 * DALE_PI - 1.0) / (2.0 * DALE_PI))

static float *P(dale_net *net, int idx) { return net->theta + net->params[idx].offset; }

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
    float *W = P(net, m->p_main);
    for (size_t i = 0; i < m->rows; i++)
        for (size_t j = 0; j < m->cols; j++)
            W[i * m->cols + j] = (float)colei_draw(rng, &net->cfg, j < ne ? se : si);
}

/* ColEI recurrent W (spec §2.2, in this order): sample signed A, zero the
 * diagonal (option), ρ0 = max|λ(A)| by a full eigen-solve, A *= ρ/ρ0, keep
 * |A| as W_pos (the sign lives in the column sign vector).  The eigenvalues
 * of the rescaled matrix are (ρ/ρ0) λ(A); they are kept in `eig` (re then im,
 * 2n) so spectral tools need no second eigen-solve. */
static dale_status colei_recurrent(dale_net *net, dale_map *m, dale_rng *rng, double *eig)
{
    size_t n = m->rows;
    colei_fill(net, m, rng);
    float *W = P(net, m->p_main);
    if (net->cfg.zero_diag)
        for (size_t i = 0; i < n; i++) W[i * n + i] = 0.0f;
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

/* Rows of M (rows, cols) ~ Exp(scale), each divided by its sum (a uniform
 * Dirichlet row; the scale cancels).  One column gives a column of ones. */
static void row_normalised_exp(float *M, size_t rows, size_t cols, double scale, dale_rng *rng)
{
    for (size_t i = 0; i < rows; i++) {
        double sum = 0;
        float *row = M + i * cols;
        for (size_t j = 0; j < cols; j++) {
            row[j] = (float)dale_rng_exponential(rng, scale);
            sum += (double)row[j];
        }
        for (size_t j = 0; j < cols; j++) row[j] = (float)((double)row[j] / sum);
    }
}

/* Every row of IE (ni, cols) = the column means of EE (rows, cols). */
static void mean_rows(float *IE, size_t ni, const float *EE, size_t rows, size_t cols)
{
    for (size_t j = 0; j < cols; j++) {
        double s = 0;
        for (size_t i = 0; i < rows; i++) s += (double)EE[i * cols + j];
        float mean = (float)(s / (double)rows);
        for (size_t k = 0; k < ni; k++) IE[k * cols + j] = mean;
    }
}

static void fill_exp(float *M, size_t count, double scale, dale_rng *rng)
{
    for (size_t k = 0; k < count; k++) M[k] = (float)dale_rng_exponential(rng, scale);
}

/* DANN map with EE ~ Exp(s); EI rows normalised; IE mean-row or iid Exp(s). */
static void dann_fill(dale_net *net, dale_map *m, double s, double ei_scale, int ie_random,
                      dale_rng *rng)
{
    float *EE = P(net, m->p_main), *IE = P(net, m->p_ie), *EI = P(net, m->p_ei);
    fill_exp(EE, m->rows * m->cols, s, rng);
    row_normalised_exp(EI, m->rows, m->ni, ei_scale, rng);
    if (ie_random) fill_exp(IE, m->ni * m->cols, s, rng);
    else mean_rows(IE, m->ni, EE, m->rows, m->cols);
}

static void fill_uniform(float *M, size_t count, double bound, dale_rng *rng)
{
    for (size_t k = 0; k < count; k++) M[k] = (float)dale_rng_uniform(rng, -bound, bound);
}

static void fill_normal(float *M, size_t count, double sd, dale_rng *rng)
{
    for (size_t k = 0; k < count; k++) M[k] = (float)dale_rng_normal(rng, 0.0, sd);
}

static dale_status init_cell(dale_net *net, size_t l, dale_rng *parent)
{
    dale_rng ru, rw; /* one stream per matrix */
    dale_rng_fork(parent, 2 * (uint64_t)l, &ru);
    dale_rng_fork(parent, 2 * (uint64_t)l + 1, &rw);
    const dale_net_config *cfg = &net->cfg;
    dale_layer *L = &net->layers[l];
    size_t n = L->out, d = L->in;
    float *b = P(net, L->p_b);
    memset(b, 0, n * sizeof(float));
    switch (cfg->type) {
    case DALE_MODEL_RNN: {
        /* PyTorch's default: U, W ~ U[-1/√n, 1/√n] = U[-√(3ν/n), √(3ν/n)], ν = 1/3. */
        double bound = sqrt(3.0 * cfg->numerator / (double)n);
        if (l == 0 && cfg->rnn_input_he) fill_normal(P(net, L->U.p_main), n * d, sqrt(2.0 / (double)d), &ru);
        else fill_uniform(P(net, L->U.p_main), n * d, 1.0 / sqrt((double)n), &ru);
        fill_uniform(P(net, L->W.p_main), n * n, bound, &rw);
        return DALE_OK;
    }
    case DALE_MODEL_COLEI:
        if (l == 0) {
            /* First layer: all-positive U ~ Exp(1/√d); centring bias optional
             * (the reference computes it and then overwrites it with 0). */
            fill_exp(P(net, L->U.p_main), n * d, 1.0 / sqrt((double)d), &ru);
            if (cfg->bias_centering)
                for (size_t i = 0; i < n; i++) b[i] = (float)(-sqrt((double)d) * cfg->input_mean);
        } else {
            colei_fill(net, &L->U, &ru);
        }
        return colei_recurrent(net, &L->W, &rw, net->init_eig + 2 * n * l);
    case DALE_MODEL_DANN: {
        /* s = sqrt(ν/(n-1)) for both U and W (uses the hidden width n). */
        double s = sqrt(cfg->numerator / (double)(n - 1));
        dann_fill(net, &L->U, s, s * sqrt((double)n / (double)L->U.ni), 0, &ru);
        dann_fill(net, &L->W, s, s * sqrt((double)n / (double)L->W.ni), cfg->dann_wie_random, &rw);
        return DALE_OK;
    }
    default:
        DALE_ASSERT(0);
    }
    return DALE_OK;
}

static void init_dense(dale_net *net, size_t l, dale_rng *parent)
{
    dale_rng r;
    dale_rng_fork(parent, 1000 + (uint64_t)l, &r);
    dale_rng *rng = &r;
    dale_layer *L = &net->layers[l];
    size_t m = L->out, nin = L->in;
    memset(P(net, L->p_b), 0, m * sizeof(float));
    switch (net->cfg.type) {
    case DALE_MODEL_RNN:
        fill_normal(P(net, L->U.p_main), m * nin, sqrt(2.0 / (double)nin), rng); /* He normal */
        break;
    case DALE_MODEL_COLEI:
        colei_fill(net, &L->U, rng);
        break;
    case DALE_MODEL_DANN: {
        /* numerator 2: Var(W_out) = 2/n_in once the mean row is subtracted. */
        double s = m > 1 ? sqrt(2.0 * (double)m / ((double)nin * (double)(m - 1)))
                         : sqrt(2.0 / (double)nin);
        dann_fill(net, &L->U, s, s, 0, rng);
        break;
    }
    default:
        DALE_ASSERT(0);
    }
}

dale_status dale_net_init(dale_net *net, dale_rng *rng)
{
    net->have_init_eig = 0;
    if (net->cfg.type == DALE_MODEL_COLEI && !net->init_eig) {
        net->init_eig = dalei_alloc(2 * net->cfg.hidden * net->ncells, sizeof(double));
        if (!net->init_eig) return DALE_ERR_NOMEM;
    }
    for (size_t l = 0; l < net->nlayers; l++) {
        if (net->layers[l].kind == LAYER_CELL) {
            dale_status st = init_cell(net, l, rng);
            if (st) return st;
        } else {
            init_dense(net, l, rng);
        }
    }
    dale_net_zero_grad(net);
    net->have_forward = 0;
    net->have_init_eig = net->cfg.type == DALE_MODEL_COLEI;
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
