/* test_protocol.c — the paths a training run with evaluations takes through
 * one network: the training batch's input projection goes through dale's
 * kernels (on U packed as U^T), an evaluation chunk's (more than 4096 rows)
 * through dale_sgemm on U itself.  U^T is packed only where it is read, so
 * after evaluations and updates the next training forward must still see
 * the current U: its outputs and gradients must be the bits of a network
 * that never evaluated.  And the effective matrices of a parameter file
 * (checkpoints, final.npz), written from the network's own maps, are those
 * dale_net_effective gives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "dale/eval.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/rng.h"
#include "internal.h"
#include "linalg/kernels.h"

#define T 28
#define D 28
#define H 100
#define M 10
#define BT 32   /* training batch: T * BT = 896 rows, the kernels */
#define BE 160  /* evaluation chunk: T * BE = 4480 rows, dale_sgemm */

/* theta[k] *= 1 + 0.01 (k % 7): an "update" that keeps every sign. */
static void nudge(dale_net *net)
{
    float *th = dale_net_theta(net);
    for (size_t k = 0; k < dale_net_size(net); k++) th[k] *= 1.0f + 0.01f * (float)(k % 7);
}

static void train_forward(dale_net *net, const float *x, const float *dout, float *out, float *grad)
{
    const float *o;
    CHECK_OK(dale_net_forward(net, x, T, BT, 0, &o));
    memcpy(out, o, BT * M * sizeof(float));
    dale_net_zero_grad(net);
    CHECK_OK(dale_net_backward(net, dout));
    memcpy(grad, dale_net_grad(net), dale_net_size(net) * sizeof(float));
}

static void test_eval_between_updates(void)
{
    for (int type = 0; type < DALE_MODEL_COUNT; type++) {
        dale_net_config c;
        dale_net_config_defaults(&c);
        c.type = (dale_model_type)type;
        c.input = D;
        c.hidden = H;
        c.output = M;
        dale_net *a = NULL, *b = NULL;
        CHECK_OK(dale_net_create(&c, &a));
        CHECK_OK(dale_net_create(&c, &b));
        if (!a || !b) return;
        CHECK_OK(dale_net_plan(a, T, BE));
        CHECK_OK(dale_net_plan(b, T, BE));
        dale_rng r;
        dale_rng_seed(&r, 11);
        CHECK_OK(dale_net_init(a, &r));
        memcpy(dale_net_theta(b), dale_net_theta(a), dale_net_size(a) * sizeof(float));
        float *xe = malloc(T * BE * D * sizeof(float)), *xt = malloc(T * BT * D * sizeof(float));
        float dout[BT * M];
        for (size_t k = 0; k < T * BE * D; k++) xe[k] = (float)dale_rng_uniform01(&r);
        for (size_t k = 0; k < T * BT * D; k++) xt[k] = (float)dale_rng_uniform01(&r);
        for (size_t k = 0; k < BT * M; k++) dout[k] = (float)dale_rng_normal(&r, 0, 1);
        size_t n = dale_net_size(a);
        float *ga = malloc(n * sizeof(float)), *gb = malloc(n * sizeof(float));
        float oa[BT * M], ob[BT * M];
        const float *o;
        /* a: train, evaluate, update, evaluate, train; b: the same trains only */
        train_forward(a, xt, dout, oa, ga);
        train_forward(b, xt, dout, ob, gb);
        CHECK(!memcmp(oa, ob, sizeof oa) && !memcmp(ga, gb, n * sizeof(float)), "%s: same start",
              dale_model_name(c.type));
        CHECK_OK(dale_net_forward(a, xe, T, BE, 0, &o));
        nudge(a);
        nudge(b);
        CHECK_OK(dale_net_forward(a, xe, T, BE, 0, &o));
        train_forward(a, xt, dout, oa, ga);
        train_forward(b, xt, dout, ob, gb);
        CHECK(!memcmp(oa, ob, sizeof oa), "%s: training output after evaluations is that of the current U",
              dale_model_name(c.type));
        CHECK(!memcmp(ga, gb, n * sizeof(float)), "%s: training gradient after evaluations",
              dale_model_name(c.type));
        /* the BLAS route (no packed maps) agrees to round-off: a U^T left
         * from before the update, or none, would not */
        dalei_kernels_enable(0);
        float oc[BT * M];
        CHECK_OK(dale_net_forward(b, xt, T, BT, 0, &o));
        memcpy(oc, o, sizeof oc);
        dalei_kernels_enable(1);
        check_close("training output, kernel vs BLAS route", oa, oc, BT * M, 1e-3, 1e-3);
        /* and an evaluation chunk sees the current U too */
        float e1[BE * M];
        CHECK_OK(dale_net_forward(a, xe, T, BE, 0, &o));
        memcpy(e1, o, sizeof e1);
        CHECK_OK(dale_net_forward(b, xe, T, BE, 0, &o));
        CHECK(!memcmp(e1, o, sizeof e1), "%s: evaluation output", dale_model_name(c.type));
        free(xe);
        free(xt);
        free(ga);
        free(gb);
        dale_net_free(a);
        dale_net_free(b);
    }
}

/* A parameter file's effective matrices (written straight from the
 * network's maps) are those dale_net_effective gives, for every cell. */
static void test_params_effective(void)
{
    for (int type = 0; type < DALE_MODEL_COUNT; type++) {
        dale_net_config c;
        dale_net_config_defaults(&c);
        c.type = (dale_model_type)type;
        c.input = 7;
        c.hidden = 13;
        c.output = 3;
        c.layers = 2;
        dale_net *net = NULL;
        CHECK_OK(dale_net_create(&c, &net));
        if (!net) return;
        dale_rng r;
        dale_rng_seed(&r, 5);
        CHECK_OK(dale_net_init(net, &r));
        nudge(net);
        char path[64];
        snprintf(path, sizeof path, "/tmp/dale-test-protocol-%d.npz", (int)getpid());
        dale_npz_writer *w = NULL;
        CHECK_OK(dale_npz_writer_create(path, &w));
        CHECK_OK(dale_params_save(net, w));
        CHECK_OK(dale_npz_writer_commit(w));
        dale_npz *z = NULL;
        CHECK_OK(dale_npz_open(path, &z));
        for (size_t l = 0; z && l < 2; l++) {
            float W[13 * 13], U[13 * 13];
            size_t nu = 13 * (l == 0 ? 7 : 13);
            CHECK_OK(dale_net_effective(net, l, W, U));
            char key[32];
            dale_array a;
            snprintf(key, sizeof key, "cell%zu.W_eff", l);
            CHECK_OK(dale_npz_read(z, key, &a));
            CHECK(a.count == 13 * 13 && !memcmp(a.data, W, sizeof W), "%s: %s", dale_model_name(c.type), key);
            dale_array_free(&a);
            snprintf(key, sizeof key, "cell%zu.U_eff", l);
            CHECK_OK(dale_npz_read(z, key, &a));
            CHECK(a.count == nu && !memcmp(a.data, U, nu * sizeof(float)), "%s: %s", dale_model_name(c.type), key);
            dale_array_free(&a);
        }
        dale_npz_close(z);
        unlink(path);
        dale_net_free(net);
    }
}

int main(void)
{
    test_eval_between_updates();
    test_params_effective();
    return check_done("test_protocol");
}
