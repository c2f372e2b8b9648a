/* test_numerics.c — networks in the numerics = dale arithmetic.
 *
 * Every product then runs in dale's kernels, whose results do not depend on
 * the instruction-set path; so a network's forward output and gradient must
 * be the same bits on every path this CPU runs, also where the default
 * arithmetic takes OpenBLAS: a cell wider than DALEI_SMM_MAX_N (every
 * product of the cell), the dense and readout forward, DANN's effective
 * M = EE - EI IE and its two gradient products, and the per-step products
 * of the (unfused) leaky dynamics.  Turning the kernels off (DALE_SMM=blas,
 * dalei_kernels_enable(0)) must not change them either.  The default
 * arithmetic (numerics = blas) on the same parameters must agree to float
 * round-off.  For the ReLU cell the forward output must also equal, bit for
 * bit, a plain float forward written here in the kernels' order (each sum
 * starts from the bias or the running value and adds a_k b_k in k order,
 * DANN's M as EE + sum_i (-EI) IE): a product left to OpenBLAS would not.
 * The gradients themselves are checked against finite differences in
 * test_gradcheck (section 6).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/model.h"
#include "dale/rng.h"
#include "internal.h"
#include "linalg/kernels.h"
#include "model/model_internal.h"

typedef struct ncase {
    dale_model_type type;
    size_t hidden, layers;
    int leaky;
    size_t input; /* 0: 5; wide inputs take the transposed input projection */
} ncase;

/* A map's effective matrix from theta, in the kernels' order (into buf). */
static const float *ref_eff(dale_net *net, const dale_map *mp, float *buf)
{
    const float *th = dale_net_theta(net), *P = th + net->params[mp->p_main].offset;
    size_t R = mp->rows, C = mp->cols;
    if (mp->kind == MAP_PLAIN) return P;
    if (mp->kind == MAP_COLSIGN) {
        for (size_t i = 0; i < R; i++)
            for (size_t j = 0; j < C; j++) buf[i * C + j] = P[i * C + j] * mp->sign[j];
        return buf;
    }
    const float *IE = th + net->params[mp->p_ie].offset, *EI = th + net->params[mp->p_ei].offset;
    for (size_t i = 0; i < R; i++)
        for (size_t j = 0; j < C; j++) {
            float c = P[i * C + j];
            for (size_t q = 0; q < mp->ni; q++) c = c + (-EI[i * mp->ni + q]) * IE[q * C + j];
            buf[i * C + j] = c;
        }
    return buf;
}

/* y (R, out) = act(b + x M^T), each sum from b in k order. */
static void ref_dense(float *y, const float *x, const float *M, const float *b, size_t R, size_t in, size_t out,
                      int relu)
{
    for (size_t r = 0; r < R; r++)
        for (size_t j = 0; j < out; j++) {
            float c = b[j];
            for (size_t k = 0; k < in; k++) c = c + x[r * in + k] * M[j * in + k];
            y[r * out + j] = relu && c < 0 ? 0.0f : c;
        }
}

/* The ReLU network's every-step output in plain float loops. */
static float *ref_forward(dale_net *net, const float *x, size_t T, size_t B)
{
    size_t wmax = 0;
    for (size_t l = 0; l < net->nlayers; l++) {
        const dale_layer *L = &net->layers[l];
        if (L->in * L->out > wmax) wmax = L->in * L->out;
        if (L->out * L->out > wmax) wmax = L->out * L->out;
    }
    float *buf = malloc(wmax * sizeof(float)), *wbuf = malloc(wmax * sizeof(float));
    float *cur = NULL, *prev = NULL;
    const float *in = x;
    const float *th = dale_net_theta(net);
    for (size_t l = 0; l < net->nlayers; l++) {
        const dale_layer *L = &net->layers[l];
        const float *b = th + net->params[L->p_b].offset;
        const float *U = ref_eff(net, &L->U, buf);
        size_t n = L->out, d = L->in;
        cur = malloc(T * B * n * sizeof(float));
        if (L->kind != LAYER_CELL) {
            ref_dense(cur, in, U, b, T * B, d, n, L->kind == LAYER_DENSE);
        } else {
            const float *W = ref_eff(net, &L->W, wbuf);
            ref_dense(cur, in, U, b, T * B, d, n, 0);
            for (size_t t = 0; t < T; t++)
                for (size_t r = 0; r < B; r++)
                    for (size_t j = 0; j < n; j++) {
                        float *z = cur + (t * B + r) * n;
                        float c = z[j];
                        if (t > 0)
                            for (size_t k = 0; k < n; k++) c = c + cur[((t - 1) * B + r) * n + k] * W[j * n + k];
                        z[j] = c < 0 ? 0.0f : c;
                    }
        }
        free(prev);
        prev = cur;
        in = cur;
    }
    free(buf);
    free(wbuf);
    return cur;
}

/* forward (every step) + backward; out (T B m) and grad (size) copied out */
static void run_net(dale_net *net, const float *x, const float *dout, size_t T, size_t B, size_t m, float *out,
                    float *grad)
{
    const float *y = NULL;
    CHECK_OK(dale_net_forward(net, x, T, B, 1, &y));
    if (y) memcpy(out, y, T * B * m * sizeof(float));
    dale_net_zero_grad(net);
    CHECK_OK(dale_net_backward(net, dout));
    memcpy(grad, dale_net_grad(net), dale_net_size(net) * sizeof(float));
}

static void run_case(const ncase *k)
{
    const size_t T = 3, B = 3, d = k->input ? k->input : 5, m = 4;
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = k->type;
    c.input = d;
    c.hidden = k->hidden;
    c.output = m;
    c.layers = k->layers;
    c.ndense = 1;
    c.dense[0] = 11;
    if (k->leaky) {
        c.dynamics = DALE_DYN_LEAKY;
        c.alpha = 0.5;
    }
    char label[96];
    snprintf(label, sizeof label, "%s n %zu, %zu cell(s)%s, d %zu", dale_model_name(k->type), k->hidden,
             k->layers, k->leaky ? ", leaky" : "", d);
    dale_net *dn = NULL, *bn = NULL;
    c.numerics = DALE_NUMERICS_DALE;
    CHECK_OK(dale_net_create(&c, &dn));
    c.numerics = DALE_NUMERICS_BLAS;
    CHECK_OK(dale_net_create(&c, &bn));
    if (!dn || !bn) {
        dale_net_free(dn);
        dale_net_free(bn);
        return;
    }
    CHECK_OK(dale_net_plan(dn, T, B));
    CHECK_OK(dale_net_plan(bn, T, B));
    /* parameters drawn directly (no ColEI eigen-solve at n = 2100): small
     * values of both signs, so the ReLUs are mixed */
    dale_rng r;
    dale_rng_seed(&r, 11 + k->hidden);
    size_t P = dale_net_size(dn);
    float *th = dale_net_theta(dn);
    double sc = 1.0 / sqrt((double)k->hidden);
    for (size_t i = 0; i < P; i++) th[i] = (float)((dale_rng_uniform01(&r) - 0.4) * sc);
    memcpy(dale_net_theta(bn), th, P * sizeof(float));
    size_t X = T * B * d, Y = T * B * m;
    float *x = malloc(X * sizeof(float)), *dout = malloc(Y * sizeof(float));
    float *out0 = malloc(Y * sizeof(float)), *out1 = malloc(Y * sizeof(float));
    float *g0 = malloc(P * sizeof(float)), *g1 = malloc(P * sizeof(float));
    for (size_t i = 0; i < X; i++) x[i] = (float)dale_rng_uniform01(&r);
    for (size_t i = 0; i < Y; i++) dout[i] = (float)dale_rng_normal(&r, 0, 1);
    int best = dalei_smm_force(DALEI_SMM_AVX512);
    size_t bad = 0;
    for (int path = DALEI_SMM_PORTABLE; path <= best; path++) {
        dalei_smm_force(path);
        run_net(dn, x, dout, T, B, m, path == DALEI_SMM_PORTABLE ? out0 : out1,
                path == DALEI_SMM_PORTABLE ? g0 : g1);
        if (path == DALEI_SMM_PORTABLE) continue;
        CHECK(memcmp(out0, out1, Y * sizeof(float)) == 0, "%s: output differs on path %s", label,
              dalei_smm_path_name(path));
        CHECK(memcmp(g0, g1, P * sizeof(float)) == 0, "%s: gradient differs on path %s", label,
              dalei_smm_path_name(path));
        bad += memcmp(g0, g1, P * sizeof(float)) != 0;
    }
    /* (A DANN cell with a wide input takes its input map through the
     * factors, X EE^T - (X IE^T) EI^T, not through U: another order than
     * these loops.  It is checked against the default arithmetic below and
     * by finite differences in test_gradcheck.) */
    if (!k->leaky && !(k->type == DALE_MODEL_DANN && k->input)) {
        float *ref = ref_forward(dn, x, T, B);
        CHECK(ref && memcmp(ref, out0, Y * sizeof(float)) == 0, "%s: output differs from the plain float loops",
              label);
        free(ref);
    }
    /* the kernels' off switch does not apply to numerics = dale */
    dalei_kernels_enable(0);
    run_net(dn, x, dout, T, B, m, out1, g1);
    CHECK(memcmp(out0, out1, Y * sizeof(float)) == 0 && memcmp(g0, g1, P * sizeof(float)) == 0,
          "%s: DALE_SMM=blas changed numerics = dale", label);
    dalei_kernels_enable(1);
    dalei_smm_force(DALEI_SMM_AUTO);
    /* the default arithmetic: the same numbers up to round-off */
    run_net(bn, x, dout, T, B, m, out1, g1);
    char what[160];
    snprintf(what, sizeof what, "%s: blas vs dale output", label);
    check_close(what, out1, out0, Y, 1e-5, 1e-4);
    snprintf(what, sizeof what, "%s: blas vs dale gradient", label);
    double gmax = 0;
    for (size_t i = 0; i < P; i++) gmax = fmax(gmax, fabs((double)g0[i]));
    check_close(what, g1, g0, P, 1e-5 * gmax, 1e-3);
    printf("%-40s %zu parameters, %d paths: %s\n", label, P, best + 1, bad ? "DIFFER" : "same bits");
    free(x);
    free(dout);
    free(out0);
    free(out1);
    free(g0);
    free(g1);
    dale_net_free(dn);
    dale_net_free(bn);
}

int main(void)
{
    for (int t = 0; t < DALE_MODEL_COUNT; t++) {
        ncase small = {(dale_model_type)t, 37, 2, 0, 0}, leaky = {(dale_model_type)t, 37, 2, 1, 0};
        ncase wide = {(dale_model_type)t, DALEI_SMM_MAX_N + 52, 1, 0, 0};
        /* few rows, wide input (objrec's shape): X U^T formed as U X^T */
        ncase wide_in = {(dale_model_type)t, 37, 1, 0, 300};
        run_case(&wide_in);
        run_case(&small);
        run_case(&leaky);
        run_case(&wide);
    }
    return check_done("test_numerics");
}
