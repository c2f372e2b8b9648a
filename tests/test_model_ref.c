/* test_model_ref.c — dale against the independent PyTorch reference.
 *
 * tools/ref/make_model_ref.py builds tiny networks with fixed weights and
 * writes, per case, the inputs, the readout outputs, the loss, the gradient
 * of every raw parameter and the parameters after 1, 2 and 3 updates under
 * the case's update policy (tests/ref/model/<case>.npz, float64 results).
 * This test loads the same weights into a dale_net, runs forward, loss,
 * BPTT and dale_update_apply three times, and compares every tensor. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/train.h"

typedef struct ref_case {
    const char *name;
    const char *loss;   /* mse_last | ce_last | ce_every */
    const char *policy; /* sgd | rnn_freeze | colei | dann | global */
} ref_case;

static const ref_case cases[] = {
    {"rnn_1l_mse", "mse_last", "sgd"},
    {"rnn_2l_ce_freeze", "ce_last", "rnn_freeze"},
    {"colei_1l_ce", "ce_last", "colei"},
    {"colei_2l_mse", "mse_last", "colei"},
    {"dann_1l_ce", "ce_last", "dann"},
    {"dann_2l_every", "ce_every", "dann"},
    {"rnn_global_every", "ce_every", "global"},
    {"colei_dense_every", "ce_every", "colei"},
    {"dann_dense_every", "ce_every", "dann"},
};

static dale_npz *Z;
static const char *zpath;

static dale_array get(const char *key)
{
    dale_array a;
    memset(&a, 0, sizeof a);
    if (dale_npz_read(Z, key, &a)) {
        printf("FAIL %s: cannot read %s: %s\n", zpath, key, dale_last_error());
        exit(1);
    }
    return a;
}

static double scalar(const char *key)
{
    dale_array a = get(key);
    double v = a.dtype == DALE_F64 ? *(double *)a.data : (double)*(int64_t *)a.data;
    dale_array_free(&a);
    return v;
}

/* Compare float32 values with a float64 reference array. */
static void cmp(const char *label, const float *got, const dale_array *want, size_t n, double atol,
                double rtol)
{
    if (want->count != n || want->dtype != DALE_F64) {
        CHECK(0, "%s: reference has %zu elements (want %zu) or wrong dtype", label, want->count, n);
        return;
    }
    double *g = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) g[i] = (double)got[i];
    check_close_d(label, g, want->data, n, atol, rtol);
    free(g);
}

static void run_case(const ref_case *rc)
{
    char path[256], key[128], label[256];
    snprintf(path, sizeof path, "tests/ref/model/%s.npz", rc->name);
    zpath = path;
    if (dale_npz_open(path, &Z)) {
        CHECK(0, "cannot open %s: %s", path, dale_last_error());
        return;
    }
    dale_net_config nc;
    dale_net_config_defaults(&nc);
    nc.type = dale_npz_has(Z, "param.cell0.U_pos") ? DALE_MODEL_COLEI
              : dale_npz_has(Z, "param.cell0.U_EE") ? DALE_MODEL_DANN
                                                   : DALE_MODEL_RNN;
    size_t T = (size_t)scalar("cfg.T"), B = (size_t)scalar("cfg.B");
    nc.input = (size_t)scalar("cfg.d");
    nc.hidden = (size_t)scalar("cfg.n");
    nc.output = (size_t)scalar("cfg.m");
    nc.layers = (size_t)scalar("cfg.L");
    if (nc.type == DALE_MODEL_COLEI) nc.ei_ratio = scalar("cfg.ratio");
    if (nc.type == DALE_MODEL_DANN) {
        nc.dann_ni_in = (size_t)scalar("cfg.nIu");
        nc.dann_ni_rec = (size_t)scalar("cfg.nIw");
        nc.dann_ni_out = (size_t)scalar("cfg.mI");
    }
    dale_array dense = get("cfg.dense");
    nc.ndense = dense.count;
    for (size_t k = 0; k < dense.count; k++) nc.dense[k] = (size_t)((int64_t *)dense.data)[k];
    dale_array_free(&dense);
    double lr = scalar("cfg.lr"), clip = scalar("cfg.clip");

    dale_net *net;
    CHECK_OK(dale_net_create(&nc, &net));
    if (!net) { dale_npz_close(Z); return; }
    CHECK_OK(dale_net_plan(net, T, B));
    float *th = dale_net_theta(net), *gr = dale_net_grad(net);
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        snprintf(key, sizeof key, "param.%s", q->name);
        dale_array a = get(key);
        CHECK(a.dtype == DALE_F32 && a.count == q->rows * q->cols, "%s: %s shape", rc->name, key);
        if (a.count == q->rows * q->cols) memcpy(th + q->offset, a.data, a.count * sizeof(float));
        dale_array_free(&a);
    }
    dale_array x = get("x"), y = get("y");
    int every = !strcmp(rc->loss, "ce_every");
    size_t rows = every ? T * B : B, m = nc.output;
    int32_t *labels = malloc(rows * sizeof(int32_t));
    float *dout = malloc(rows * m * sizeof(float));
    if (strcmp(rc->loss, "mse_last"))
        for (size_t r = 0; r < rows; r++) labels[r] = (int32_t)((int64_t *)y.data)[r];

    dale_update_policy pol;
    memset(&pol, 0, sizeof pol);
    pol.clip = clip;
    if (!strcmp(rc->policy, "colei")) { pol.scope = DALE_CLIP_TENSOR; pol.project = 1; }
    else if (!strcmp(rc->policy, "dann")) { pol.scope = DALE_CLIP_LAYER; pol.project = 1; pol.inhib_scale = 1; }
    else if (!strcmp(rc->policy, "rnn_freeze")) { pol.scope = DALE_CLIP_LAYER; pol.sign_freeze = 1; }
    else if (!strcmp(rc->policy, "global")) { pol.scope = DALE_CLIP_GLOBAL; pol.project = nc.type != DALE_MODEL_RNN; }
    dale_signs signs = {NULL, 0};
    if (pol.sign_freeze) CHECK_OK(dale_signs_record(&signs, net));

    for (int step = 0; step <= 3; step++) {
        const float *out = NULL;
        CHECK_OK(dale_net_forward(net, x.data, T, B, every, &out));
        double loss = !strcmp(rc->loss, "mse_last") ? dale_loss_mse(out, y.data, rows, m, dout)
                                                     : dale_loss_ce(out, labels, rows, m, dout, NULL);
        snprintf(key, sizeof key, "loss_step%d", step);
        double want = scalar(key);
        CHECK(fabs(loss - want) <= 1e-5 + 1e-5 * fabs(want), "%s: %s got %.9g want %.9g", rc->name,
              key, loss, want);
        if (step == 0) {
            dale_array o = get(every ? "out" : "out_last");
            snprintf(label, sizeof label, "%s: forward output", rc->name);
            cmp(label, out, &o, rows * m, 1e-5, 1e-5);
            dale_array_free(&o);
        }
        if (step == 3) break;
        dale_net_zero_grad(net);
        CHECK_OK(dale_net_backward(net, dout));
        if (step == 0)
            for (size_t i = 0; i < dale_net_nparams(net); i++) {
                const dale_param *q = dale_net_param(net, i);
                snprintf(key, sizeof key, "grad.%s", q->name);
                dale_array g = get(key);
                snprintf(label, sizeof label, "%s: %s", rc->name, key);
                cmp(label, gr + q->offset, &g, q->rows * q->cols, 1e-6, 1e-4);
                dale_array_free(&g);
            }
        CHECK_OK(dale_update_apply(net, &pol, lr, &signs, NULL));
        for (size_t i = 0; i < dale_net_nparams(net); i++) {
            const dale_param *q = dale_net_param(net, i);
            snprintf(key, sizeof key, "step%d.%s", step + 1, q->name);
            dale_array p = get(key);
            snprintf(label, sizeof label, "%s: %s", rc->name, key);
            cmp(label, th + q->offset, &p, q->rows * q->cols, 2e-6, 1e-4);
            dale_array_free(&p);
        }
    }
    dale_signs_free(&signs);
    free(labels);
    free(dout);
    dale_array_free(&x);
    dale_array_free(&y);
    dale_net_free(net);
    dale_npz_close(Z);
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int before = check_fail_count;
        run_case(&cases[i]);
        printf("%s %s\n", check_fail_count == before ? "ok" : "FAILED", cases[i].name);
    }
    return check_done("test_model_ref");
}
