/* test_dyn_ref.c — the leaky cell dynamics against an independent PyTorch
 * reference.
 *
 * tools/ref/make_dyn_ref.py builds one-cell rnn and colei networks (d 3,
 * n 6, m 3, T 5, B 2) in both leaky forms with per-unit rates (colei: a_E
 * 0.2, a_I 0.5), a learned initial state, a per-step weighted cross-entropy
 * at every step and the rate penalty, and writes the weights, the inputs,
 * the readout at every step, the loss and every raw gradient (float64, from
 * torch autograd, checked there against finite differences) as NPY files
 * under tests/ref/dyn/<case>/.  This test loads the same weights into a
 * dale_net, runs forward, the weighted loss plus dale_net_rate_penalty and
 * BPTT, and compares every tensor.  It needs no torch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/train.h"

typedef struct ref_case {
    const char *name;
    dale_model_type type;
    dale_dynamics_type dyn;
    double a_e, a_i, l2;
} ref_case;

static const ref_case cases[] = {
    {"rnn_leaky", DALE_MODEL_RNN, DALE_DYN_LEAKY, 0.2, 0.0, 0.05},
    {"rnn_state", DALE_MODEL_RNN, DALE_DYN_LEAKY_STATE, 0.25, 0.0, 0.05},
    {"colei_leaky", DALE_MODEL_COLEI, DALE_DYN_LEAKY, 0.2, 0.5, 0.05},
    {"colei_state", DALE_MODEL_COLEI, DALE_DYN_LEAKY_STATE, 0.2, 0.5, 0.05},
};

enum { T = 5, B = 2, D = 3, N = 6, M = 3 };

/* tests/ref/dyn/<case>/<key>.npy; exits the test when it cannot be read. */
static int load(const char *cname, const char *key, dale_array *a)
{
    char path[256];
    snprintf(path, sizeof path, "tests/ref/dyn/%s/%s.npy", cname, key);
    memset(a, 0, sizeof *a);
    dale_status st = dale_npy_read(path, a);
    CHECK(st == DALE_OK, "cannot read %s: %s", path, st ? dale_last_error() : "");
    return st == DALE_OK;
}

static void run_case(const ref_case *rc)
{
    dale_net_config cfg;
    dale_net_config_defaults(&cfg);
    cfg.type = rc->type;
    cfg.input = D;
    cfg.hidden = N;
    cfg.output = M;
    cfg.ei_ratio = 2.0;
    cfg.dynamics = rc->dyn;
    cfg.alpha = rc->a_e;
    cfg.alpha_i = rc->a_i;
    cfg.h0_learn = 1;
    cfg.rate_l2 = rc->l2;
    dale_net *net = NULL;
    CHECK_OK(dale_net_create(&cfg, &net));
    if (!net) return;
    CHECK_OK(dale_net_plan(net, T, B));
    float *th = dale_net_theta(net);
    char key[96], label[160];
    /* every raw parameter from the reference, by name */
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *p = dale_net_param(net, i);
        dale_array a;
        if (!load(rc->name, p->name, &a)) goto done;
        CHECK(a.dtype == DALE_F64 && a.count == p->rows * p->cols, "%s: %s has %zu values, want %zu", rc->name,
              p->name, a.count, p->rows * p->cols);
        for (size_t k = 0; k < a.count && k < p->rows * p->cols; k++) th[p->offset + k] = (float)((double *)a.data)[k];
        dale_array_free(&a);
    }
    dale_array ax, al, aw, aout, aloss;
    if (!load(rc->name, "x", &ax) || !load(rc->name, "labels", &al) || !load(rc->name, "w", &aw) ||
        !load(rc->name, "out", &aout) || !load(rc->name, "loss", &aloss))
        goto done;
    float x[T * B * D], w[T * B], dout[T * B * M];
    int32_t labels[T * B];
    for (size_t k = 0; k < T * B * D; k++) x[k] = (float)((double *)ax.data)[k];
    for (size_t k = 0; k < T * B; k++) {
        w[k] = (float)((double *)aw.data)[k];
        labels[k] = ((int32_t *)al.data)[k];
    }
    const float *y = NULL;
    CHECK_OK(dale_net_forward(net, x, T, B, 1, &y));
    if (y) {
        double got[T * B * M];
        for (size_t k = 0; k < T * B * M; k++) got[k] = (double)y[k];
        snprintf(label, sizeof label, "%s: readout at every step", rc->name);
        check_close_d(label, got, aout.data, T * B * M, 1e-5, 1e-5);
        double loss = dale_loss_ce_weighted(y, labels, w, T * B, M, dout, NULL, NULL, NULL) +
                      dale_net_rate_penalty(net);
        double want = ((double *)aloss.data)[0];
        CHECK(fabs(loss - want) <= 1e-5 * fabs(want), "%s: loss %.9g, reference %.9g", rc->name, loss, want);
        dale_net_zero_grad(net);
        CHECK_OK(dale_net_backward(net, dout));
        const float *g = dale_net_grad(net);
        for (size_t i = 0; i < dale_net_nparams(net); i++) {
            const dale_param *p = dale_net_param(net, i);
            dale_array ag;
            snprintf(key, sizeof key, "grad.%s", p->name);
            if (!load(rc->name, key, &ag)) continue;
            double gd[N * N];
            size_t cnt = p->rows * p->cols;
            CHECK(cnt <= N * N && ag.count == cnt, "%s: %s has %zu values, want %zu", rc->name, key, ag.count, cnt);
            if (cnt <= N * N && ag.count == cnt) {
                double gmax = 0;
                for (size_t k = 0; k < cnt; k++) {
                    gd[k] = (double)g[p->offset + k];
                    gmax = fmax(gmax, fabs(((double *)ag.data)[k]));
                }
                snprintf(label, sizeof label, "%s: gradient of %s", rc->name, p->name);
                check_close_d(label, gd, ag.data, cnt, 1e-5 * gmax + 1e-7, 1e-4);
            }
            dale_array_free(&ag);
        }
    }
    dale_array_free(&ax);
    dale_array_free(&al);
    dale_array_free(&aw);
    dale_array_free(&aout);
    dale_array_free(&aloss);
    printf("dyn_ref %-12s compared: readout, loss, %zu gradients\n", rc->name, dale_net_nparams(net));
done:
    dale_net_free(net);
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    return check_done("test_dyn_ref");
}
