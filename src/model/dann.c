/* dann.c — Dale's ANNs: M = EE - EI IE with three non-negative factors
 * (MAP_DANN): excitatory units project through EE, a small inhibitory
 * population (ni units) reads the input through IE and inhibits through
 * EI.  Parameters: cells U_EE U_IE U_EI W_EE W_IE W_EI b, dense/readout
 * W_EE W_IE W_EI b.  Inhibitory counts: dann_ni_in / dann_ni_rec /
 * dann_ni_out, or max(floor(rows/(r+1)), 1).
 *
 * Inhibitory gradient scaling (paper appendix): cells W_IE/U_IE /= sqrt(n),
 * W_EI /= n, U_EI /= d; dense W_IE /= sqrt(m), W_EI /= n_in, stored as each
 * parameter's grad_scale.  Default update: that scaling, per-layer clipping,
 * projection of every factor onto >= 0.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "model_internal.h"

static dale_status dann_check(const dale_net_config *c)
{
    if (c->hidden < 2) return DALE_FAIL(DALE_ERR_ARG, "DANN needs hidden >= 2 (its init divides by n-1)");
    if (!(c->numerator > 0)) return DALE_FAIL(DALE_ERR_ARG, "numerator must be > 0 (got %g)", c->numerator);
    return DALE_OK;
}

/* Inhibitory units of a map: explicit, or max(floor(width/(r+1)), 1). */
static size_t dann_ni(const dale_net_config *cfg, const dalei_site *s)
{
    size_t set = !s->cell ? cfg->dann_ni_out : s->rec ? cfg->dann_ni_rec : cfg->dann_ni_in;
    if (set) return set;
    size_t k = (size_t)floor((double)s->rows / (cfg->ei_ratio + 1.0));
    return k ? k : 1;
}

static void dann_describe(dalei_table *tb, dale_map *m, const dale_net_config *cfg, const dalei_site *s)
{
    char nm[16];
    unsigned recf = s->rec ? DALE_P_REC : 0;
    size_t rows = s->rows, cols = s->cols, ni = dann_ni(cfg, s);
    m->kind = MAP_DANN;
    m->ni = ni;
    /* cell: inputs of width cols, n = rows outputs; dense: same letters. */
    float s_ie = (float)(1.0 / sqrt((double)rows));
    float s_ei = (float)(1.0 / (double)cols);
    snprintf(nm, sizeof nm, "%s_EE", s->wname);
    m->p_main = dalei_table_add(tb, s->prefix, nm, rows, cols, s->layer, recf | DALE_P_NONNEG, 1.0f);
    snprintf(nm, sizeof nm, "%s_IE", s->wname);
    m->p_ie = dalei_table_add(tb, s->prefix, nm, ni, cols, s->layer, recf | DALE_P_NONNEG | DALE_P_INHIB, s_ie);
    snprintf(nm, sizeof nm, "%s_EI", s->wname);
    m->p_ei = dalei_table_add(tb, s->prefix, nm, rows, ni, s->layer, recf | DALE_P_NONNEG | DALE_P_INHIB, s_ei);
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

/* DANN map with EE ~ Exp(s); EI rows normalised; IE mean-row or iid Exp(s). */
static void dann_fill(dale_net *net, dale_map *m, double s, double ei_scale, int ie_random,
                      dale_rng *rng)
{
    float *EE = dalei_net_param(net, m->p_main), *IE = dalei_net_param(net, m->p_ie),
          *EI = dalei_net_param(net, m->p_ei);
    dalei_fill_exp(EE, m->rows * m->cols, s, rng);
    row_normalised_exp(EI, m->rows, m->ni, ei_scale, rng);
    if (ie_random) dalei_fill_exp(IE, m->ni * m->cols, s, rng);
    else mean_rows(IE, m->ni, EE, m->rows, m->cols);
}

static dale_status dann_init_cell(dale_net *net, size_t l, dale_rng *ru, dale_rng *rw)
{
    const dale_net_config *cfg = &net->cfg;
    dale_layer *L = &net->layers[l];
    size_t n = L->out;
    /* s = sqrt(ν/(n-1)) for both U and W (uses the hidden width n). */
    double s = sqrt(cfg->numerator / (double)(n - 1));
    dann_fill(net, &L->U, s, s * sqrt((double)n / (double)L->U.ni), 0, ru);
    dann_fill(net, &L->W, s, s * sqrt((double)n / (double)L->W.ni), cfg->dann_wie_random, rw);
    return DALE_OK;
}

static void dann_init_dense(dale_net *net, size_t l, dale_rng *r)
{
    dale_layer *L = &net->layers[l];
    size_t m = L->out, nin = L->in;
    /* numerator 2: Var(W_out) = 2/n_in once the mean row is subtracted. */
    double s = m > 1 ? sqrt(2.0 * (double)m / ((double)nin * (double)(m - 1))) : sqrt(2.0 / (double)nin);
    dann_fill(net, &L->U, s, s, 0, r);
}

static double dann_radius(const dale_net_config *c) { return sqrt(c->numerator); }

static const char *const dann_aliases[] = {"danns", NULL};

const dalei_model_ops dalei_model_dann = {
    .info = {DALE_MODEL_DANN, "dann", dann_aliases,
             "Dale's ANN: W = W_EE - W_EI W_IE, separate inhibitory units",
             DALE_MODEL_PROJECT | DALE_MODEL_INHIB_SCALE | DALE_MODEL_SIGNED_UNITS},
    .check = dann_check,
    .describe = dann_describe,
    .init_cell = dann_init_cell,
    .init_dense = dann_init_dense,
    .init_radius = dann_radius,
};
