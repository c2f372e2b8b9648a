/* test_update.c — update-policy invariants on real networks.
 *
 * Trains tiny networks of every type for many updates on random data with a
 * large learning rate (so constraints are pushed hard) and checks after every
 * update: ColEI effective matrices keep their column signs (first-layer U
 * non-negative), DANN factors stay >= 0, sign-frozen W never changes sign;
 * and that each clipping scope bounds the norm it should. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/model.h"
#include "dale/rng.h"
#include "dale/train.h"

static double norm_of(const float *g, size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++) s += (double)g[k] * (double)g[k];
    return sqrt(s);
}

/* Forward + CE loss at the last step + backward on a random batch. */
static void random_grad(dale_net *net, dale_rng *r, size_t T, size_t B, float *x, int32_t *y,
                        float *dout)
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

/* Count sign violations of the effective matrices of a ColEI net. */
static size_t colei_violations(dale_net *net)
{
    const dale_net_config *c = dale_net_config_of(net);
    size_t n = c->hidden, bad = 0, ne, ni;
    float *W = malloc(n * n * sizeof(float)), *U = malloc(n * (c->input > n ? c->input : n) * sizeof(float));
    for (size_t l = 0; l < dale_net_ncells(net); l++) {
        size_t d = l == 0 ? c->input : n;
        dale_net_effective(net, l, W, U);
        dale_ei_split(n, c->ei_ratio, &ne, &ni);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                if (j < ne ? W[i * n + j] < 0 : W[i * n + j] > 0) bad++;
        if (l == 0) {
            for (size_t k = 0; k < n * d; k++) bad += U[k] < 0;
        } else {
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < d; j++)
                    if (j < ne ? U[i * d + j] < 0 : U[i * d + j] > 0) bad++;
        }
    }
    /* readout */
    dale_net_effective(net, dale_net_ncells(net), W, NULL);
    dale_ei_split(n, c->ei_ratio, &ne, &ni);
    for (size_t i = 0; i < c->output; i++)
        for (size_t j = 0; j < n; j++)
            if (j < ne ? W[i * n + j] < 0 : W[i * n + j] > 0) bad++;
    free(W);
    free(U);
    return bad;
}

static void test_constraints(dale_model_type type, int freeze)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = type;
    c.input = 4;
    c.hidden = 12;
    c.output = 3;
    c.layers = 2;
    c.ei_ratio = 3;
    dale_net *net;
    CHECK_OK(dale_net_create(&c, &net));
    size_t T = 6, B = 8;
    CHECK_OK(dale_net_plan(net, T, B));
    dale_rng r;
    dale_rng_seed(&r, 7 + (uint64_t)type);
    CHECK_OK(dale_net_init(net, &r));
    dale_update_policy p;
    dale_update_policy_default(type, 1.0, &p);
    p.sign_freeze = freeze;
    dale_signs sg = {NULL, 0};
    float *x = malloc(T * B * c.input * sizeof(float)), *dout = malloc(B * c.output * sizeof(float));
    int32_t *y = malloc(B * sizeof(int32_t));
    float *init = malloc(dale_net_size(net) * sizeof(float));
    memcpy(init, dale_net_theta(net), dale_net_size(net) * sizeof(float));
    if (freeze) CHECK_OK(dale_signs_record(&sg, net));
    size_t viol = 0, projected = 0;
    for (int it = 0; it < 60; it++) {
        random_grad(net, &r, T, B, x, y, dout);
        dale_update_stats st;
        CHECK_OK(dale_update_apply(net, &p, 0.5, &sg, &st));
        projected += st.projected;
        const float *th = dale_net_theta(net);
        for (size_t i = 0; i < dale_net_nparams(net); i++) {
            const dale_param *q = dale_net_param(net, i);
            for (size_t k = 0; k < q->rows * q->cols; k++) {
                float w = th[q->offset + k], w0 = init[q->offset + k];
                if ((q->flags & DALE_P_NONNEG) && w < 0) viol++;
                if (freeze && (q->flags & DALE_P_FREEZE) && (w0 > 0 ? w <= 0 : w0 < 0 ? w >= 0 : w != 0)) viol++;
            }
        }
        if (type == DALE_MODEL_COLEI) viol += colei_violations(net);
    }
    CHECK(viol == 0, "%s%s: %zu constraint violations over 60 updates", dale_model_name(type),
          freeze ? " (sign freeze)" : "", viol);
    if (type != DALE_MODEL_RNN || freeze)
        CHECK(projected > 0, "%s: the projection never acted (test too weak)", dale_model_name(type));
    dale_signs_free(&sg);
    free(x); free(dout); free(y); free(init);
    dale_net_free(net);
}

/* After clipping, the norm of each group is <= clip (+ float slack). */
static void test_clip_scope(dale_model_type type, dale_clip_scope scope, dale_numerics num)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.numerics = num;
    c.type = type;
    c.input = 3;
    c.hidden = 8;
    c.output = 4;
    c.layers = 2;
    c.ndense = 1;
    c.dense[0] = 6;
    c.ei_ratio = 3;
    dale_net *net;
    CHECK_OK(dale_net_create(&c, &net));
    size_t T = 5, B = 4;
    CHECK_OK(dale_net_plan(net, T, B));
    dale_rng r;
    dale_rng_seed(&r, 99);
    CHECK_OK(dale_net_init(net, &r));
    float *x = malloc(T * B * c.input * sizeof(float)), *dout = malloc(B * c.output * sizeof(float));
    int32_t *y = malloc(B * sizeof(int32_t));
    random_grad(net, &r, T, B, x, y, dout);
    /* Blow the gradient up so every group is far above the threshold. */
    float *g = dale_net_grad(net);
    for (size_t k = 0; k < dale_net_size(net); k++) g[k] *= 1000.0f;
    double before = norm_of(g, dale_net_size(net)); /* one sequential sum */
    /* Copy the gradient, then run the update with lr 0 so theta is unchanged
     * and the clipped gradient can be read back from grad. */
    dale_update_policy p = {.clip = 0.25, .scope = scope, .inhib_scale = type == DALE_MODEL_DANN};
    dale_update_stats st;
    CHECK_OK(dale_update_apply(net, &p, 0.0, NULL, &st));
    CHECK(st.clipped > 0, "%s/%s: nothing clipped", dale_model_name(type), dale_clip_scope_name(scope));
    /* numerics = dale sums the squares in eight lanes: the same norm up to
     * round-off (the default sums them in one chain, but per tensor) */
    CHECK(type == DALE_MODEL_DANN /* scaled first */ || fabs(st.grad_norm - before) <= 1e-12 * before, "%s/%s/%s: gradient norm %.17g, want %.17g",
          dale_model_name(type), dale_clip_scope_name(scope), num ? "dale" : "blas", st.grad_norm, before);
    double worst = 0, total = 0;
    for (size_t l = 0; l < dale_net_nlayers(net); l++) {
        double lay = 0;
        for (size_t i = 0; i < dale_net_nparams(net); i++) {
            const dale_param *q = dale_net_param(net, i);
            double nn = norm_of(g + q->offset, q->rows * q->cols);
            if (q->layer != l) continue;
            lay += nn * nn;
            if (scope == DALE_CLIP_TENSOR && nn > worst) worst = nn;
        }
        total += lay;
        if (scope == DALE_CLIP_LAYER && sqrt(lay) > worst) worst = sqrt(lay);
    }
    if (scope == DALE_CLIP_GLOBAL) worst = sqrt(total);
    CHECK(worst <= 0.25 * (1 + 1e-5) && worst >= 0.25 * (1 - 1e-3), "%s/%s: largest clipped norm %g (want 0.25)",
          dale_model_name(type), dale_clip_scope_name(scope), worst);
    free(x); free(dout); free(y);
    dale_net_free(net);
}

/* sign freezing without recorded signs is a state error; non-finite gradients are refused. */
static void test_errors(void)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.input = 2; c.hidden = 3; c.output = 1;
    dale_net *net;
    CHECK_OK(dale_net_create(&c, &net));
    dale_update_policy p = {.clip = 0, .scope = DALE_CLIP_LAYER, .sign_freeze = 1};
    CHECK(dale_update_apply(net, &p, 0.1, NULL, NULL) == DALE_ERR_STATE, "freeze without signs");
    p.sign_freeze = 0;
    float before = dale_net_theta(net)[0] = 0.5f;
    dale_net_grad(net)[1] = NAN;
    CHECK(dale_update_apply(net, &p, 0.1, NULL, NULL) == DALE_ERR_NUMERIC, "NaN gradient accepted");
    CHECK(dale_net_theta(net)[0] == before, "a refused update changed the parameters");
    dale_net_free(net);
}

int main(void)
{
    for (int t = 0; t < DALE_MODEL_COUNT; t++) test_constraints((dale_model_type)t, 0);
    test_constraints(DALE_MODEL_RNN, 1);
    test_constraints(DALE_MODEL_COLEI, 1);
    for (int t = 0; t < DALE_MODEL_COUNT; t++)
        for (int s = 0; s < 3; s++)
            for (int num = 0; num < 2; num++)
                test_clip_scope((dale_model_type)t, (dale_clip_scope)s, (dale_numerics)num);
    test_errors();
    return check_done("test_update");
}
