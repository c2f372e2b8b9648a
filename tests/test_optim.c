/* test_optim.c — connectivity masks, Adam and the weight penalty.
 *
 *  - Adam against torch.optim.Adam (tests/ref/optim, tools/ref/make_adam_ref.py):
 *    a few steps on a ColEI parameter set, plain, with other betas / eps,
 *    and with the penalty, global clipping, projection, lr decay and masked
 *    entries, agree to float round-off;
 *  - masks: every model, SGD and Adam, 250 updates with a large step and
 *    the model's projection: the masked parameter entries, their gradients
 *    and the effective maps stay exactly 0, and the sign constraints hold;
 *    ColEI's rho is that of the masked W; generated masks remove the
 *    asked fraction and the diagonal, are a function of the seed, and leave
 *    the other streams as they were;
 *  - the gradient through masked maps against finite differences;
 *  - refusals: masks with values other than 0/1, maps that do not exist,
 *    sparsity outside [0, 1), Adam without state, betas outside [0, 1),
 *    eps <= 0, a negative penalty, an unknown optimiser name. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/linalg.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/rng.h"
#include "dale/status.h"
#include "dale/task.h"
#include "dale/train.h"
#include "dale/trainer.h"

/* ------------------------------------------------ Adam vs torch */

static int read_ref(const char *cs, const char *key, dale_array *a)
{
    char path[256];
    snprintf(path, sizeof path, "tests/ref/optim/%s_%s.npy", cs, key);
    dale_status st = dale_npy_read(path, a);
    CHECK(st == DALE_OK, "%s: %s", path, dale_last_error());
    return st == DALE_OK;
}

static void test_adam_ref(const char *cs)
{
    dale_array th0, gr, ki, mk, hy, th;
    if (!read_ref(cs, "theta0", &th0) || !read_ref(cs, "grads", &gr) || !read_ref(cs, "kinds", &ki) ||
        !read_ref(cs, "mask", &mk) || !read_ref(cs, "hyper", &hy) || !read_ref(cs, "theta", &th))
        return;
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = DALE_MODEL_COLEI;
    c.input = 2;
    c.hidden = 4;
    c.output = 2;
    c.ei_ratio = 3;
    dale_net *net;
    CHECK_OK(dale_net_create(&c, &net));
    size_t N = dale_net_size(net), K = gr.shape[0];
    CHECK(th0.count == N && gr.count == K * N && th.count == K * N, "%s: reference of %zu entries, net %zu", cs,
          th0.count, N);
    if (th0.count != N) goto done;
    /* the reference's layout: weights are kind 1, biases 0 */
    const int32_t *kinds = ki.data;
    size_t kbad = 0;
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        for (size_t k = 0; k < q->rows * q->cols; k++)
            kbad += kinds[q->offset + k] != ((q->flags & DALE_P_BIAS) ? 0 : 1);
    }
    CHECK(kbad == 0, "%s: %zu entries of another kind than the table's", cs, kbad);
    /* the masked entries as connectivity masks of the net's W and readout */
    const float *mask = mk.data;
    float Wm[16], Om[8];
    int wi = dale_net_find(net, "cell0.W_pos"), oi = dale_net_find(net, "out.W_pos");
    memcpy(Wm, mask + dale_net_param(net, (size_t)wi)->offset, sizeof Wm);
    memcpy(Om, mask + dale_net_param(net, (size_t)oi)->offset, sizeof Om);
    CHECK_OK(dale_net_set_mask(net, 0, 1, Wm));
    CHECK_OK(dale_net_set_mask(net, 1, 0, Om));
    memcpy(dale_net_theta(net), th0.data, N * sizeof(float));
    const double *h = hy.data;
    dale_update_policy p;
    dale_update_policy_for(0, h[5], &p);
    p.scope = DALE_CLIP_GLOBAL;
    p.project = h[7] != 0;
    p.optimizer = DALE_OPT_ADAM;
    p.beta1 = h[2];
    p.beta2 = h[3];
    p.adam_eps = h[4];
    p.weight_l2 = h[6];
    dale_adam ad = {NULL, NULL, 0, 0};
    CHECK_OK(dale_adam_init(&ad, N));
    double lr = h[0];
    for (size_t k = 0; k < K; k++) {
        memcpy(dale_net_grad(net), (const float *)gr.data + k * N, N * sizeof(float));
        CHECK_OK(dale_update_apply_opt(net, &p, lr, NULL, &ad, NULL));
        char label[96];
        snprintf(label, sizeof label, "%s: parameters after Adam step %zu equal torch's", cs, k + 1);
        check_close(label, dale_net_theta(net), (const float *)th.data + k * N, N, 1e-8, 1e-5);
        lr *= h[1];
    }
    CHECK(ad.t == (long)K, "%s: Adam counted %ld steps, want %zu", cs, ad.t, K);
    dale_adam_free(&ad);
done:
    dale_net_free(net);
    dale_array_free(&th0);
    dale_array_free(&gr);
    dale_array_free(&ki);
    dale_array_free(&mk);
    dale_array_free(&hy);
    dale_array_free(&th);
}

/* ------------------------------------------------------- masks */

static const char *main_name(dale_model_type t, int rec)
{
    if (t == DALE_MODEL_RNN) return rec ? "W" : "U";
    if (t == DALE_MODEL_COLEI) return rec ? "W_pos" : "U_pos";
    return rec ? "W_EE" : "U_EE";
}

/* A random 0/1 mask keeping about 70 % of the entries. */
static void random_mask(float *m, size_t n, dale_rng *r)
{
    for (size_t k = 0; k < n; k++) m[k] = dale_rng_uniform01(r) < 0.3 ? 0.0f : 1.0f;
}

typedef struct site {
    size_t layer;
    int rec;
    char param[32]; /* the main parameter's name */
} site;

/* Masked entries that are not exactly 0: in the main parameter (theta or,
 * with use_grad, its gradient). */
static size_t masked_nonzero(dale_net *net, const site *s, int use_grad)
{
    const float *m = dale_net_mask(net, s->layer, s->rec);
    if (!m) return 0;
    int i = dale_net_find(net, s->param);
    if (i < 0) return 1;
    const dale_param *q = dale_net_param(net, (size_t)i);
    const float *v = (use_grad ? dale_net_grad(net) : dale_net_theta(net)) + q->offset;
    size_t bad = 0;
    for (size_t k = 0; k < q->rows * q->cols; k++) bad += m[k] == 0.0f && v[k] != 0.0f;
    return bad;
}

/* The effective maps: masked entries not exactly 0. */
static size_t eff_nonzero(dale_net *net, const site *sites, size_t ns)
{
    const dale_net_config *c = dale_net_config_of(net);
    size_t n = c->hidden, wid = c->input > n ? c->input : n, bad = 0;
    float *W = malloc(n * n * sizeof(float)), *U = malloc(n * wid * sizeof(float));
    for (size_t s = 0; s < ns; s++) {
        const float *m = dale_net_mask(net, sites[s].layer, sites[s].rec);
        size_t R, C;
        if (!m || dale_net_map_shape(net, sites[s].layer, sites[s].rec, &R, &C)) continue;
        size_t cell = sites[s].layer < dale_net_ncells(net) ? sites[s].layer : dale_net_ncells(net);
        if (sites[s].layer >= dale_net_ncells(net) && sites[s].layer != dale_net_nlayers(net) - 1) continue;
        dale_net_effective(net, cell, W, U);
        const float *M = sites[s].rec || cell == dale_net_ncells(net) ? W : U;
        for (size_t k = 0; k < R * C; k++) bad += m[k] == 0.0f && M[k] != 0.0f;
    }
    free(W);
    free(U);
    return bad;
}

/* Sign-constrained parameters below 0. */
static size_t nonneg_violations(dale_net *net)
{
    size_t bad = 0;
    const float *th = dale_net_theta(net);
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        if (!(q->flags & DALE_P_NONNEG)) continue;
        for (size_t k = 0; k < q->rows * q->cols; k++) bad += th[q->offset + k] < 0.0f;
    }
    return bad;
}

static void random_grad(dale_net *net, dale_rng *r, size_t T, size_t B, float *x, int32_t *y, float *dout)
{
    const dale_net_config *c = dale_net_config_of(net);
    for (size_t k = 0; k < T * B * c->input; k++) x[k] = (float)dale_rng_uniform01(r);
    for (size_t b = 0; b < B; b++) y[b] = (int32_t)dale_rng_below(r, c->output);
    const float *out;
    CHECK_OK(dale_net_forward(net, x, T, B, 0, &out));
    dale_loss_ce(out, y, B, c->output, dout, NULL);
    dale_net_zero_grad(net);
    CHECK_OK(dale_net_backward(net, dout));
}

static void test_masks_train(dale_model_type type, int adam, dale_numerics num)
{
    const char *mn = dale_model_name(type);
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = type;
    c.input = 4;
    c.hidden = 12;
    c.output = 3;
    c.layers = 2;
    c.ei_ratio = 3;
    c.sparsity = 0.3;
    c.no_autapses = 1;
    c.numerics = num;
    dale_net *net;
    CHECK_OK(dale_net_create(&c, &net));
    size_t T = 5, B = 6, n = c.hidden, nl = dale_net_nlayers(net);
    CHECK_OK(dale_net_plan(net, T, B));
    dale_rng r;
    dale_rng_seed(&r, 11 + (uint64_t)type);
    /* the caller's masks: cell 0's U, cell 1's W (times the generated one), the readout */
    float mu[12 * 4], mw[12 * 12], mo[3 * 12];
    random_mask(mu, n * c.input, &r);
    random_mask(mw, n * n, &r);
    random_mask(mo, c.output * n, &r);
    CHECK_OK(dale_net_set_mask(net, 0, 0, mu));
    CHECK_OK(dale_net_set_mask(net, 1, 1, mw));
    CHECK_OK(dale_net_set_mask(net, nl - 1, 0, mo));
    CHECK_OK(dale_net_init(net, &r));
    site sites[4] = {{0, 0, ""}, {0, 1, ""}, {1, 1, ""}, {nl - 1, 0, ""}};
    snprintf(sites[0].param, sizeof sites[0].param, "cell0.%s", main_name(type, 0));
    snprintf(sites[1].param, sizeof sites[1].param, "cell0.%s", main_name(type, 1));
    snprintf(sites[2].param, sizeof sites[2].param, "cell1.%s", main_name(type, 1));
    snprintf(sites[3].param, sizeof sites[3].param, "out.%s", main_name(type, 1));
    /* the combined mask of cell 1's W: the caller's times the generated one */
    const float *m1 = dale_net_mask(net, 1, 1), *m0 = dale_net_mask(net, 0, 1);
    size_t comb_bad = 0, diag = 0;
    for (size_t k = 0; m1 && k < n * n; k++) comb_bad += mw[k] == 0.0f && m1[k] != 0.0f;
    for (size_t i = 0; m0 && m1 && i < n; i++) diag += m0[i * n + i] != 0.0f || m1[i * n + i] != 0.0f;
    CHECK(m0 && m1 && comb_bad == 0 && diag == 0, "%s: combined masks (%zu kept where the caller removed, "
          "%zu autapses)", mn, comb_bad, diag);
    size_t bad0 = 0;
    for (size_t s = 0; s < 4; s++) bad0 += masked_nonzero(net, &sites[s], 0);
    CHECK(bad0 == 0, "%s: %zu masked parameter entries not 0 after init", mn, bad0);
    if (type == DALE_MODEL_COLEI) {
        /* rho is that of the masked W */
        float *W = malloc(n * n * sizeof(float));
        double *A = malloc(n * n * sizeof(double)), re[12], im[12], ire[12], iim[12];
        dale_net_effective(net, 0, W, NULL);
        for (size_t k = 0; k < n * n; k++) A[k] = W[k];
        CHECK_OK(dale_eigvals(A, n, re, im));
        CHECK_OK(dale_net_init_eigvals(net, 0, ire, iim));
        CHECK(fabs(hypot(re[0], im[0]) - c.rho) < 1e-4 && fabs(hypot(ire[0], iim[0]) - c.rho) < 1e-9,
              "colei: masked W's spectral radius %.6f (init's %.6f), want rho %g", hypot(re[0], im[0]),
              hypot(ire[0], iim[0]), c.rho);
        free(W);
        free(A);
    }
    dale_update_policy p;
    dale_update_policy_default(type, 1.0, &p);
    p.weight_l2 = 1e-3;
    p.optimizer = adam ? DALE_OPT_ADAM : DALE_OPT_SGD;
    dale_adam ad = {NULL, NULL, 0, 0};
    if (adam) CHECK_OK(dale_adam_init(&ad, dale_net_size(net)));
    float *x = malloc(T * B * c.input * sizeof(float)), *dout = malloc(B * c.output * sizeof(float));
    int32_t *y = malloc(B * sizeof(int32_t));
    float *init = malloc(dale_net_size(net) * sizeof(float));
    memcpy(init, dale_net_theta(net), dale_net_size(net) * sizeof(float));
    size_t gbad = 0, pbad = 0, ebad = 0, signs = 0;
    const int updates = 250;
    for (int it = 0; it < updates; it++) {
        random_grad(net, &r, T, B, x, y, dout);
        for (size_t s = 0; s < 4; s++) gbad += masked_nonzero(net, &sites[s], 1);
        CHECK_OK(dale_update_apply_opt(net, &p, adam ? 0.05 : 0.5, NULL, &ad, NULL));
        /* read theta before anything rebuilds the maps */
        for (size_t s = 0; s < 4; s++) pbad += masked_nonzero(net, &sites[s], 0);
        signs += nonneg_violations(net);
        if (it % 25 == 24) ebad += eff_nonzero(net, sites, 4);
    }
    const char *on = adam ? "adam" : "sgd";
    const char *nm = num == DALE_NUMERICS_DALE ? " (numerics dale)" : "";
    CHECK(gbad == 0, "%s %s%s: %zu masked gradient entries not 0", mn, on, nm, gbad);
    CHECK(pbad == 0, "%s %s%s: %zu masked parameter entries not 0 after an update", mn, on, nm, pbad);
    CHECK(ebad == 0, "%s %s%s: %zu masked entries of the effective maps not 0", mn, on, nm, ebad);
    CHECK(signs == 0, "%s %s%s: %zu sign-constrained entries < 0", mn, on, nm, signs);
    /* training moved the kept connections */
    size_t moved = 0;
    const float *th = dale_net_theta(net);
    for (size_t k = 0; k < dale_net_size(net); k++) moved += th[k] != init[k];
    CHECK(moved > dale_net_size(net) / 4, "%s %s%s: only %zu of %zu entries moved in %d updates", mn, on, nm, moved,
          dale_net_size(net), updates);
    if (adam) CHECK(ad.t == updates, "%s adam: %ld steps counted, want %d", mn, ad.t, updates);
    dale_adam_free(&ad);
    free(x);
    free(dout);
    free(y);
    free(init);
    dale_net_free(net);
}

/* Generated masks: fraction, diagonal, a function of the seed, and the
 * other streams undisturbed (the unmasked entries are the unmasked
 * network's). */
static void test_generated(void)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.input = 3;
    c.hidden = 200;
    c.output = 2;
    dale_net *a, *b, *plain;
    CHECK_OK(dale_net_create(&c, &plain));
    c.sparsity = 0.3;
    c.no_autapses = 1;
    CHECK_OK(dale_net_create(&c, &a));
    CHECK_OK(dale_net_create(&c, &b));
    dale_rng r;
    dale_rng_seed(&r, 5);
    CHECK_OK(dale_net_init(plain, &r));
    dale_rng_seed(&r, 5);
    CHECK_OK(dale_net_init(a, &r));
    dale_rng_seed(&r, 5);
    CHECK_OK(dale_net_init(b, &r));
    size_t n = c.hidden, removed = 0, diag = 0, same = 1, other = 0;
    const float *m = dale_net_mask(a, 0, 1), *mb = dale_net_mask(b, 0, 1);
    CHECK(m && mb && !dale_net_mask(a, 0, 0) && !dale_net_mask(a, 1, 0), "generated masks: W only");
    if (!m || !mb) goto done;
    for (size_t k = 0; k < n * n; k++) removed += m[k] == 0.0f;
    for (size_t i = 0; i < n; i++) diag += m[i * n + i] != 0.0f;
    same = memcmp(m, mb, n * n * sizeof(float)) == 0;
    double frac = (double)(removed - n) / (double)(n * n - n); /* the diagonal aside */
    CHECK(fabs(frac - 0.3) < 0.01, "sparsity 0.3 removed %.4f of the off-diagonal entries", frac);
    CHECK(diag == 0, "no autapses: %zu diagonal entries kept", diag);
    CHECK(same, "the same seed draws the same mask");
    const float *Wa = dale_net_theta(a) + dale_net_param(a, (size_t)dale_net_find(a, "cell0.W"))->offset;
    const float *Wp = dale_net_theta(plain) + dale_net_param(plain, (size_t)dale_net_find(plain, "cell0.W"))->offset;
    for (size_t k = 0; k < n * n; k++) other += m[k] != 0.0f && Wa[k] != Wp[k];
    CHECK(other == 0, "%zu kept entries differ from the unmasked network of the same seed", other);
    const float *Ua = dale_net_theta(a) + dale_net_param(a, (size_t)dale_net_find(a, "cell0.U"))->offset;
    const float *Up = dale_net_theta(plain) + dale_net_param(plain, (size_t)dale_net_find(plain, "cell0.U"))->offset;
    CHECK(memcmp(Ua, Up, n * c.input * sizeof(float)) == 0, "U of the same seed changed by the mask");
    /* another seed, another mask */
    dale_rng_seed(&r, 6);
    CHECK_OK(dale_net_init(b, &r));
    mb = dale_net_mask(b, 0, 1);
    CHECK(mb && memcmp(m, mb, n * n * sizeof(float)) != 0, "seed 6 draws the mask of seed 5");
done:
    dale_net_free(a);
    dale_net_free(b);
    dale_net_free(plain);
}

/* The gradient through masked maps (DANN's on the effective map, ColEI's
 * on W_pos) against central differences of the float loss. */
static const dale_rng *fd_noise; /* non-NULL: every forward draws this same noise sample */

static double mse_loss(dale_net *net, const float *x, const float *yt, size_t T, size_t B, float *dout)
{
    const float *out;
    const dale_net_config *c = dale_net_config_of(net);
    if (fd_noise) dale_net_set_noise(net, fd_noise);
    dale_net_forward(net, x, T, B, 0, &out);
    return dale_loss_mse(out, yt, B, c->output, dout);
}

/* dyn: 0 the discrete ReLU cell; 1 leaky (rate form), 2 leaky-state, both
 * with ColEI's I units at their own rate and a fixed sample of recurrent and
 * input noise, so masks are checked with every cell dynamics. */
static void test_masked_fd(dale_model_type type, int dyn)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = type;
    if (dyn) {
        c.dynamics = dyn == 1 ? DALE_DYN_LEAKY : DALE_DYN_LEAKY_STATE;
        c.alpha = 0.3;
        c.alpha_i = type == DALE_MODEL_COLEI ? 0.6 : 0.0;
        c.noise_rec = 0.1;
        c.noise_in = 0.1;
    }
    c.input = 3;
    c.hidden = 8;
    c.output = 2;
    c.ei_ratio = 3;
    c.sparsity = 0.4;
    dale_net *net;
    CHECK_OK(dale_net_create(&c, &net));
    size_t T = 4, B = 3;
    CHECK_OK(dale_net_plan(net, T, B));
    dale_rng r;
    dale_rng_seed(&r, 21);
    float mu[8 * 3];
    random_mask(mu, 8 * 3, &r);
    CHECK_OK(dale_net_set_mask(net, 0, 0, mu));
    CHECK_OK(dale_net_init(net, &r));
    /* biases away from 0: a unit whose every input connection is masked
     * would sit exactly on the ReLU kink at the first step */
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        if (q->flags & DALE_P_BIAS)
            for (size_t k = 0; k < q->rows; k++)
                dale_net_theta(net)[q->offset + k] = (float)dale_rng_uniform(&r, 0.05, 0.2);
    }
    dale_rng noise;
    /* (with sample 77 one leaky RNN entry sits within reach of a ReLU kink
     * that both step sizes straddle alike: 5.6 % off; 78-80 are clean) */
    dale_rng_seed(&noise, 78);
    fd_noise = dyn ? &noise : NULL;
    float x[4 * 3 * 3], yt[3 * 2], dout[3 * 2];
    for (size_t k = 0; k < sizeof x / sizeof x[0]; k++) x[k] = (float)dale_rng_uniform(&r, 0.2, 1.0);
    for (size_t k = 0; k < 6; k++) yt[k] = (float)dale_rng_normal(&r, 0, 1);
    mse_loss(net, x, yt, T, B, dout);
    dale_net_zero_grad(net);
    CHECK_OK(dale_net_backward(net, dout));
    size_t N = dale_net_size(net);
    float *g = malloc(N * sizeof(float)), *th = dale_net_theta(net);
    memcpy(g, dale_net_grad(net), N * sizeof(float));
    size_t bad = 0, checked = 0;
    double worst = 0;
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        for (size_t k = 0; k < q->rows * q->cols; k += 3) {
            size_t o = q->offset + k;
            float w = th[o];
            /* central differences at two steps; where they disagree a ReLU
             * kink lies within reach and the entry is skipped */
            double fdh[2];
            for (int s = 0; s < 2; s++) {
                const float h = s ? 5e-3f : 1e-2f;
                th[o] = w + h;
                double lp = mse_loss(net, x, yt, T, B, dout);
                th[o] = w - h;
                double lm = mse_loss(net, x, yt, T, B, dout);
                th[o] = w;
                fdh[s] = (lp - lm) / (2.0 * (double)h);
            }
            if (fabs(fdh[0] - fdh[1]) > 1e-2 * fmax(fabs(fdh[1]), 1e-2)) continue;
            double fd = fdh[1], an = g[o];
            double err = fabs(fd - an) / (fabs(fd) > fabs(an) ? fmax(fabs(fd), 1e-2) : fmax(fabs(an), 1e-2));
            if (err > worst) worst = err;
            if (err > 5e-2) printf("  %s[%zu]: fd %.6g (h/2: %.6g), analytic %.6g\n", q->name, k, fdh[0], fdh[1], an);
            bad += err > 5e-2;
            checked++;
        }
    }
    const char *dn = dyn == 0 ? "relu" : dyn == 1 ? "leaky" : "leaky-state";
    CHECK(checked > 10, "%s %s with masks: only %zu entries away from kinks", dale_model_name(type), dn, checked);
    CHECK(bad == 0, "%s %s with masks: %zu of %zu gradient entries off their finite difference (worst rel %.3g)",
          dale_model_name(type), dn, bad, checked, worst);
    fd_noise = NULL;
    free(g);
    dale_net_free(net);
}

/* ------------------------------------------------------ refusals */

static void test_refusals(void)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.input = 2;
    c.hidden = 4;
    c.output = 2;
    dale_net *net;
    c.sparsity = 1.0;
    CHECK(dale_net_create(&c, &net) == DALE_ERR_ARG && strstr(dale_last_error(), "sparsity"),
          "sparsity 1 accepted (%s)", dale_last_error());
    c.sparsity = -0.1;
    CHECK(dale_net_create(&c, &net) == DALE_ERR_ARG, "sparsity -0.1 accepted");
    c.sparsity = NAN;
    CHECK(dale_net_create(&c, &net) == DALE_ERR_ARG, "sparsity NaN accepted");
    c.sparsity = 0;
    CHECK_OK(dale_net_create(&c, &net));
    float m[16];
    for (size_t k = 0; k < 16; k++) m[k] = 1.0f;
    m[6] = 0.5f;
    CHECK(dale_net_set_mask(net, 0, 1, m) == DALE_ERR_ARG && strstr(dale_last_error(), "row 1, column 2"),
          "a mask holding 0.5 accepted (%s)", dale_last_error());
    m[6] = -1.0f;
    CHECK(dale_net_set_mask(net, 0, 1, m) == DALE_ERR_ARG, "a mask holding -1 accepted");
    CHECK(dale_net_mask(net, 0, 1) == NULL, "a refused mask was kept");
    CHECK(dale_net_set_mask(net, 1, 1, m) == DALE_ERR_ARG, "a recurrent mask on the readout accepted");
    CHECK(dale_net_set_mask(net, 5, 0, m) == DALE_ERR_ARG, "a mask on layer 5 of 2 accepted");
    m[6] = 1.0f;
    CHECK_OK(dale_net_set_mask(net, 0, 1, m));
    CHECK(dale_net_has_masks(net), "mask set but has_masks 0");
    CHECK_OK(dale_net_set_mask(net, 0, 1, NULL));
    CHECK(!dale_net_has_masks(net), "mask removed but has_masks 1");

    dale_update_policy p;
    dale_update_policy_for(0, 0, &p);
    CHECK(p.optimizer == DALE_OPT_SGD && p.beta1 == 0.9 && p.beta2 == 0.999 && p.adam_eps == 1e-8 &&
          p.weight_l2 == 0, "policy defaults");
    p.optimizer = DALE_OPT_ADAM;
    CHECK(dale_update_apply(net, &p, 0.1, NULL, NULL) == DALE_ERR_STATE, "Adam without a state accepted");
    dale_adam ad = {NULL, NULL, 0, 0};
    CHECK_OK(dale_adam_init(&ad, dale_net_size(net) - 1));
    CHECK(dale_update_apply_opt(net, &p, 0.1, NULL, &ad, NULL) == DALE_ERR_STATE, "Adam state of another size");
    CHECK_OK(dale_adam_init(&ad, dale_net_size(net)));
    p.beta1 = 1.0;
    CHECK(dale_update_apply_opt(net, &p, 0.1, NULL, &ad, NULL) == DALE_ERR_ARG && strstr(dale_last_error(), "beta1"),
          "beta1 1 accepted");
    p.beta1 = 0.9;
    p.beta2 = -0.5;
    CHECK(dale_update_apply_opt(net, &p, 0.1, NULL, &ad, NULL) == DALE_ERR_ARG, "beta2 -0.5 accepted");
    p.beta2 = 0.999;
    p.adam_eps = 0;
    CHECK(dale_update_apply_opt(net, &p, 0.1, NULL, &ad, NULL) == DALE_ERR_ARG &&
          strstr(dale_last_error(), "adam-eps"), "eps 0 accepted");
    p.adam_eps = 1e-8;
    p.weight_l2 = -1;
    CHECK(dale_update_apply_opt(net, &p, 0.1, NULL, &ad, NULL) == DALE_ERR_ARG &&
          strstr(dale_last_error(), "weight-l2"), "weight_l2 -1 accepted");
    p.weight_l2 = 0;
    p.optimizer = (dale_optimizer)7;
    CHECK(dale_update_apply_opt(net, &p, 0.1, NULL, &ad, NULL) == DALE_ERR_ARG, "optimizer 7 accepted");
    CHECK(ad.t == 0, "a refused update counted an Adam step");
    dale_optimizer o;
    CHECK(dale_optimizer_parse("adamw", &o) == DALE_ERR_ARG && strstr(dale_last_error(), "--optimizer") &&
          strstr(dale_last_error(), "sgd or adam"), "optimizer adamw accepted (%s)", dale_last_error());
    CHECK_OK(dale_optimizer_parse("adam", &o));
    CHECK(o == DALE_OPT_ADAM && !strcmp(dale_optimizer_name(o), "adam"), "adam parsed");
    dale_adam_free(&ad);
    dale_adam_free(&ad); /* twice is safe */

    /* the penalty: λ Σ w² over the weights only, and its gradient */
    float *th = dale_net_theta(net);
    for (size_t k = 0; k < dale_net_size(net); k++) th[k] = 0.5f;
    size_t nw = 0;
    for (size_t i = 0; i < dale_net_nparams(net); i++)
        if (!(dale_net_param(net, i)->flags & DALE_P_BIAS))
            nw += dale_net_param(net, i)->rows * dale_net_param(net, i)->cols;
    CHECK(fabs(dale_weight_l2(net, 0.1) - 0.1 * 0.25 * (double)nw) < 1e-12, "weight_l2 %g, want %g",
          dale_weight_l2(net, 0.1), 0.1 * 0.25 * (double)nw);
    dale_update_policy_for(0, 0, &p);
    p.weight_l2 = 0.1;
    dale_net_zero_grad(net);
    CHECK_OK(dale_update_apply(net, &p, 1.0, NULL, NULL));
    size_t wrong = 0;
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        float want = (q->flags & DALE_P_BIAS) ? 0.5f : (float)(0.5 - 1.0 * 2 * 0.1 * 0.5);
        for (size_t k = 0; k < q->rows * q->cols; k++) wrong += th[q->offset + k] != want;
    }
    CHECK(wrong == 0, "weight penalty step: %zu entries off (biases unchanged, weights w - lr 2 lambda w)", wrong);
    dale_net_free(net);
}

/* The trainer refuses bad optimiser settings at creation, and its
 * training loss includes the weight penalty of the weights it used. */
static void test_trainer_policy(void)
{
    enum { N = 8, TT = 3, D = 2, M = 2 };
    float x[N * TT * D];
    int32_t y[N];
    dale_rng r;
    dale_rng_seed(&r, 3);
    for (size_t k = 0; k < sizeof x / sizeof x[0]; k++) x[k] = (float)dale_rng_uniform01(&r);
    for (size_t k = 0; k < N; k++) y[k] = (int32_t)(k % M);
    dale_arrays_task_config tc = {"tiny", N, TT, D, M, DALE_LOSS_CE_LAST, x, NULL, y, NULL, N, 0, 0};
    dale_task *task;
    CHECK_OK(dale_task_arrays_create(&tc, &task));
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = DALE_MODEL_COLEI;
    c.input = D;
    c.hidden = 6;
    c.output = M;
    c.ei_ratio = 2;
    dale_net *a, *b;
    CHECK_OK(dale_net_create(&c, &a));
    CHECK_OK(dale_net_create(&c, &b));
    dale_rng_seed(&r, 4);
    CHECK_OK(dale_net_init(a, &r));
    memcpy(dale_net_theta(b), dale_net_theta(a), dale_net_size(a) * sizeof(float));
    dale_schedule sch;
    dale_schedule_defaults(&sch);
    sch.batch = 4;
    sch.lr = 1e-2;
    dale_update_policy p;
    dale_update_policy_default(DALE_MODEL_COLEI, 1.0, &p);
    p.optimizer = DALE_OPT_ADAM;
    dale_trainer *tr = NULL;
    p.beta1 = 1.0;
    CHECK(dale_trainer_create(a, task, &p, &sch, 1, NULL, &tr) == DALE_ERR_ARG && !tr, "trainer: beta1 1 accepted");
    p.beta1 = 0.9;
    p.adam_eps = -1;
    CHECK(dale_trainer_create(a, task, &p, &sch, 1, NULL, &tr) == DALE_ERR_ARG, "trainer: eps -1 accepted");
    p.adam_eps = 1e-8;
    p.weight_l2 = -1;
    CHECK(dale_trainer_create(a, task, &p, &sch, 1, NULL, &tr) == DALE_ERR_ARG, "trainer: weight_l2 -1 accepted");
    p.weight_l2 = 0;
    p.optimizer = (dale_optimizer)3;
    CHECK(dale_trainer_create(a, task, &p, &sch, 1, NULL, &tr) == DALE_ERR_ARG, "trainer: optimizer 3 accepted");
    p.optimizer = DALE_OPT_ADAM;
    dale_trainer *ta = NULL, *tb = NULL;
    CHECK_OK(dale_trainer_create(a, task, &p, &sch, 1, NULL, &ta));
    p.weight_l2 = 0.05;
    CHECK_OK(dale_trainer_create(b, task, &p, &sch, 1, NULL, &tb));
    double pen = dale_weight_l2(b, 0.05);
    dale_trainer_step_info ia, ib;
    if (ta && tb) {
        CHECK_OK(dale_trainer_step(ta, &ia));
        CHECK_OK(dale_trainer_step(tb, &ib));
        CHECK(pen > 0 && fabs(ib.loss - (ia.loss + pen)) < 1e-12 * (1 + ib.loss),
              "training loss with the penalty %.12g, want %.12g + %.12g", ib.loss, ia.loss, pen);
        CHECK(memcmp(dale_net_theta(a), dale_net_theta(b), dale_net_size(a) * sizeof(float)) != 0,
              "the penalty changed no step");
    }
    dale_trainer_free(ta);
    dale_trainer_free(tb);
    dale_net_free(a);
    dale_net_free(b);
    dale_task_free(task);
}

int main(void)
{
    dale_set_blas_threads(1);
    test_adam_ref("adam_plain");
    test_adam_ref("adam_betas");
    test_adam_ref("adam_full");
    for (int t = 0; t < DALE_MODEL_COUNT; t++)
        for (int adam = 0; adam < 2; adam++) test_masks_train((dale_model_type)t, adam, DALE_NUMERICS_BLAS);
    test_masks_train(DALE_MODEL_DANN, 1, DALE_NUMERICS_DALE);
    test_generated();
    for (int dyn = 0; dyn < 3; dyn++) {
        test_masked_fd(DALE_MODEL_RNN, dyn);
        test_masked_fd(DALE_MODEL_COLEI, dyn);
        test_masked_fd(DALE_MODEL_DANN, dyn);
    }
    test_refusals();
    test_trainer_policy();
    return check_done("test_optim");
}
