/* test_loss_weights.c — per-step loss weights and the task over caller arrays.
 *
 * 1. The weighted losses against an independent NumPy reference
 *    (tools/ref/make_loss_ref.py, the .npy files of tests/ref/loss): loss, dL/dout,
 *    correct, npred, weight sum; steps of weight 0 hold NaN targets and
 *    label -1 there, so reading them would show.
 * 2. Central differences through the network: a naive double-precision RNN
 *    forward + weighted loss, every raw parameter, vs dale_batch_run's
 *    gradient on an arrays task (both weighted kinds).
 * 3. Special cases, every model type: weights 1 at the last step reproduce
 *    MSE_LAST / CE_LAST (loss, gradient, split evaluation) to float
 *    round-off; all ones reproduce CE_EVERY exactly.
 * 4. Weighted split evaluation is the weight-sum mean over chunks; an
 *    all-zero batch scores nothing; the weight hook's output is checked.
 * 5. A masked toy task (fixation steps of weight 0, then a response period)
 *    built from arrays trains: its loss falls and its error drops.
 * 6. dale_task_arrays_create refuses bad input with precise messages.
 * 7. Allocation failures at every point of task + batch + evaluation:
 *    DALE_ERR_NOMEM with a message, nothing leaked.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dale/eval.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/rng.h"
#include "dale/status.h"
#include "dale/task.h"
#include "dale/train.h"
#include "check.h"
#include "internal.h"

#define REF "tests/ref/loss/"

/* ------------------------------------------------------ 1: reference */

static int load(const char *name, dale_array *a)
{
    char path[128];
    snprintf(path, sizeof path, REF "%s.npy", name);
    dale_status st = dale_npy_read(path, a);
    CHECK(st == DALE_OK, "read %s: %s", path, dale_last_error());
    return st == DALE_OK;
}

static void test_reference(void)
{
    dale_array out, yf, yi, w, ml, md, cl, cd, cc, np, ws;
    memset(&out, 0, sizeof out);
    int ok = load("out", &out) & load("yf", &yf) & load("yi", &yi) & load("w", &w) & load("mse_loss", &ml) &
             load("mse_dout", &md) & load("ce_loss", &cl) & load("ce_dout", &cd) & load("ce_correct", &cc) &
             load("npred", &np) & load("wsum", &ws);
    if (!ok) return;
    CHECK(out.dtype == DALE_F32 && out.ndim == 2 && yf.dtype == DALE_F32 && yi.dtype == DALE_I32 &&
              w.dtype == DALE_F32 && md.dtype == DALE_F64 && cd.dtype == DALE_F64 && cc.dtype == DALE_I64,
          "reference dtypes");
    size_t N = out.shape[0], m = out.shape[1];
    float *dm = malloc(N * m * sizeof *dm), *dc = malloc(N * m * sizeof *dc);
    if (!dm || !dc) return;
    size_t npm = 0, npc = 0, cor = 99;
    double wsm = 0, wsc = 0;
    double Lm = dale_loss_mse_weighted(out.data, yf.data, w.data, N, m, dm, &npm, &wsm);
    double Lc = dale_loss_ce_weighted(out.data, yi.data, w.data, N, m, dc, &cor, &npc, &wsc);
    double rm = *(double *)ml.data, rc = *(double *)cl.data;
    CHECK(fabs(Lm - rm) <= 1e-12 * fabs(rm), "mse loss %.15g, reference %.15g", Lm, rm);
    CHECK(fabs(Lc - rc) <= 1e-12 * fabs(rc), "ce loss %.15g, reference %.15g", Lc, rc);
    double *gm = malloc(N * m * sizeof *gm), *gc = malloc(N * m * sizeof *gc);
    if (gm && gc) {
        for (size_t k = 0; k < N * m; k++) {
            gm[k] = (double)dm[k];
            gc[k] = (double)dc[k];
        }
        /* dout is float32: round-off of one rounding */
        check_close_d("mse dL/dout vs reference", gm, md.data, N * m, 1e-9, 1e-6);
        check_close_d("ce dL/dout vs reference", gc, cd.data, N * m, 1e-9, 1e-6);
    }
    size_t rnp = (size_t) * (int64_t *)np.data;
    CHECK(npm == rnp && npc == rnp, "npred mse %zu ce %zu, reference %zu", npm, npc, rnp);
    CHECK(cor == (size_t) * (int64_t *)cc.data, "correct %zu, reference %lld", cor, (long long)*(int64_t *)cc.data);
    CHECK(wsm == *(double *)ws.data && wsc == wsm, "weight sum %g / %g, reference %g", wsm, wsc, *(double *)ws.data);
    /* Without dout and the optional outputs: the same loss. */
    CHECK(dale_loss_mse_weighted(out.data, yf.data, w.data, N, m, NULL, NULL, NULL) == Lm, "mse without dout");
    CHECK(dale_loss_ce_weighted(out.data, yi.data, w.data, N, m, NULL, NULL, NULL, NULL) == Lc, "ce without dout");
    /* All weights 0: loss 0, dout 0, nothing counted. */
    float *zw = calloc(N, sizeof *zw);
    if (zw) {
        size_t n1 = 9, c1 = 9;
        double w1 = 9;
        CHECK(dale_loss_ce_weighted(out.data, yi.data, zw, N, m, dc, &c1, &n1, &w1) == 0.0 && n1 == 0 && c1 == 0 &&
                  w1 == 0.0,
              "all-zero weights: ce loss 0, npred %zu, correct %zu, W %g", n1, c1, w1);
        CHECK(dale_loss_mse_weighted(out.data, yf.data, zw, N, m, dm, &n1, &w1) == 0.0 && n1 == 0, "all-zero mse");
        int allz = 1;
        for (size_t k = 0; k < N * m; k++) allz &= dm[k] == 0.0f && dc[k] == 0.0f;
        CHECK(allz, "all-zero weights: dout is 0");
        free(zw);
    }
    free(dm);
    free(dc);
    free(gm);
    free(gc);
    dale_array *all[] = {&out, &yf, &yi, &w, &ml, &md, &cl, &cd, &cc, &np, &ws};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) dale_array_free(all[i]);
    printf("reference: mse %.9g ce %.9g, %zu scored of %zu\n", Lm, Lc, npc, N);
}

/* ------------------------------------------------------ helpers */

typedef struct data {
    size_t N, T, d, m;
    float *x;      /* [N][T][d] */
    float *yf;     /* [N][T][m] */
    float *ylast;  /* [N][m] */
    int32_t *yi;   /* [N][T] */
    int32_t *ilast; /* [N] */
    float *w;      /* [N][T] */
} data;

static int data_alloc(data *D, size_t N, size_t T, size_t d, size_t m)
{
    D->N = N, D->T = T, D->d = d, D->m = m;
    D->x = calloc(N * T * d, sizeof(float));
    D->yf = calloc(N * T * m, sizeof(float));
    D->ylast = calloc(N * m, sizeof(float));
    D->yi = calloc(N * T, sizeof(int32_t));
    D->ilast = calloc(N, sizeof(int32_t));
    D->w = calloc(N * T, sizeof(float));
    return D->x && D->yf && D->ylast && D->yi && D->ilast && D->w;
}

static void data_free(data *D)
{
    free(D->x);
    free(D->yf);
    free(D->ylast);
    free(D->yi);
    free(D->ilast);
    free(D->w);
}

/* Random inputs, targets and labels; ylast/ilast are the last step's. */
static void data_draw(data *D, dale_rng *r)
{
    for (size_t k = 0; k < D->N * D->T * D->d; k++) D->x[k] = (float)dale_rng_normal(r, 0.0, 1.0);
    for (size_t k = 0; k < D->N * D->T * D->m; k++) D->yf[k] = (float)dale_rng_normal(r, 0.0, 1.0);
    for (size_t k = 0; k < D->N * D->T; k++) D->yi[k] = (int32_t)dale_rng_below(r, D->m);
    for (size_t s = 0; s < D->N; s++) {
        memcpy(D->ylast + s * D->m, D->yf + (s * D->T + D->T - 1) * D->m, D->m * sizeof(float));
        D->ilast[s] = D->yi[s * D->T + D->T - 1];
    }
}

static dale_arrays_task_config arrays_cfg(const data *D, dale_loss_kind loss, const float *w)
{
    dale_arrays_task_config c;
    memset(&c, 0, sizeof c);
    c.N = D->N, c.T = D->T, c.input = D->d, c.output = D->m;
    c.loss = loss;
    c.x = D->x;
    switch (loss) {
    case DALE_LOSS_MSE_LAST: c.yf = D->ylast; break;
    case DALE_LOSS_CE_LAST: c.yi = D->ilast; break;
    case DALE_LOSS_MSE_WEIGHTED: c.yf = D->yf; break;
    default: c.yi = D->yi; break;
    }
    c.w = w;
    c.n_train = D->N;
    return c;
}

/* Loss and gradient of the whole training split in one batch. */
static double run_grad(dale_net *net, dale_task *t, float *grad, size_t *npred, size_t *correct)
{
    dale_batch b;
    size_t B = t->count[DALE_SPLIT_TRAIN];
    size_t *idx = malloc(B * sizeof *idx);
    double L = (double)NAN;
    if (!idx) return L;
    for (size_t k = 0; k < B; k++) idx[k] = k;
    CHECK_OK(dale_batch_init(&b, net, t, B));
    size_t c = 0;
    CHECK_OK(dale_batch_run(&b, DALE_SPLIT_TRAIN, idx, B, 1, &L, &c));
    memcpy(grad, dale_net_grad(net), dale_net_size(net) * sizeof *grad);
    if (npred) *npred = b.npred;
    if (correct) *correct = c;
    dale_batch_free(&b);
    free(idx);
    return L;
}

/* ------------------------------------------- 2: FD through a naive RNN */

typedef struct rnn_view {
    size_t d, n, m, oU, oW, ob, oV, oc; /* offsets of cell0.U W b, out.W b */
} rnn_view;

static int rnn_offsets(const dale_net *net, rnn_view *v)
{
    const char *names[5] = {"cell0.U", "cell0.W", "cell0.b", "out.W", "out.b"};
    size_t *offs[5] = {&v->oU, &v->oW, &v->ob, &v->oV, &v->oc};
    for (int i = 0; i < 5; i++) {
        int k = dale_net_find(net, names[i]);
        if (k < 0) return 0;
        *offs[i] = dale_net_param(net, (size_t)k)->offset;
    }
    return dale_net_nparams(net) == 5;
}

/* Weighted loss (kind) of a one-cell RNN with parameters th on sample-major
 * data; *minz gets the smallest |pre-activation|. */
static double naive_loss(const rnn_view *v, const double *th, const data *D, dale_loss_kind kind, double *minz)
{
    size_t n = v->n, m = v->m, d = v->d;
    double h[16], hn[16], y[8], num = 0, W = 0, mz = (double)INFINITY;
    if (n > 16 || m > 8) return (double)NAN;
    for (size_t s = 0; s < D->N; s++) {
        for (size_t i = 0; i < n; i++) h[i] = 0;
        for (size_t t = 0; t < D->T; t++) {
            const float *x = D->x + (s * D->T + t) * d;
            for (size_t i = 0; i < n; i++) {
                double z = th[v->ob + i];
                for (size_t j = 0; j < d; j++) z += th[v->oU + i * d + j] * (double)x[j];
                for (size_t j = 0; j < n; j++) z += th[v->oW + i * n + j] * h[j];
                mz = fmin(mz, fabs(z));
                hn[i] = z > 0 ? z : 0;
            }
            memcpy(h, hn, n * sizeof *h);
            for (size_t i = 0; i < m; i++) {
                y[i] = th[v->oc + i];
                for (size_t j = 0; j < n; j++) y[i] += th[v->oV + i * n + j] * h[j];
            }
            double w = (double)D->w[s * D->T + t], l = 0;
            if (w == 0) continue;
            if (kind == DALE_LOSS_MSE_WEIGHTED) {
                for (size_t i = 0; i < m; i++) {
                    double e = y[i] - (double)D->yf[(s * D->T + t) * m + i];
                    l += e * e / (double)m;
                }
            } else {
                double zmax = y[0], se = 0;
                for (size_t i = 1; i < m; i++) zmax = fmax(zmax, y[i]);
                for (size_t i = 0; i < m; i++) se += exp(y[i] - zmax);
                l = zmax + log(se) - y[D->yi[s * D->T + t]];
            }
            num += w * l;
            W += w;
        }
    }
    if (minz) *minz = mz;
    return num / W;
}

static void test_fd_network(void)
{
    const dale_loss_kind kinds[2] = {DALE_LOSS_MSE_WEIGHTED, DALE_LOSS_CE_WEIGHTED};
    for (int ki = 0; ki < 2; ki++) {
        dale_net_config cfg;
        dale_net_config_defaults(&cfg);
        cfg.type = DALE_MODEL_RNN;
        cfg.input = 3, cfg.hidden = 6, cfg.output = 3;
        dale_net *net = NULL;
        CHECK_OK(dale_net_create(&cfg, &net));
        if (!net) return;
        rnn_view v = {3, 6, 3, 0, 0, 0, 0, 0};
        CHECK(rnn_offsets(net, &v), "rnn parameter table");
        size_t P = dale_net_size(net);
        dale_rng r;
        dale_rng_seed(&r, 77 + (uint64_t)ki);
        float *theta = dale_net_theta(net);
        double *th = malloc(P * sizeof *th);
        float *g = malloc(P * sizeof *g);
        data D;
        int ok = data_alloc(&D, 4, 5, 3, 3) && th && g;
        CHECK(ok, "out of memory");
        double mz = 0;
        for (int tries = 0; ok && tries < 200 && mz < 1e-3; tries++) {
            for (size_t k = 0; k < P; k++) {
                theta[k] = (float)dale_rng_uniform(&r, -0.6, 0.6);
                th[k] = (double)theta[k];
            }
            data_draw(&D, &r);
            /* first step of each sample masked, the rest random in [0, 2] with some zeros */
            for (size_t k = 0; k < D.N * D.T; k++)
                D.w[k] = k % D.T == 0 || dale_rng_below(&r, 4) == 0 ? 0.0f : (float)dale_rng_uniform(&r, 0.1, 2.0);
            naive_loss(&v, th, &D, kinds[ki], &mz);
        }
        CHECK(mz >= 1e-3, "no draw keeps pre-activations 1e-3 from 0");
        if (ok && mz >= 1e-3) {
            dale_arrays_task_config c = arrays_cfg(&D, kinds[ki], D.w);
            dale_task *t = NULL;
            CHECK_OK(dale_task_arrays_create(&c, &t));
            CHECK_OK(dale_net_plan(net, D.T, D.N));
            size_t np = 0;
            double L = t ? run_grad(net, t, g, &np, NULL) : (double)NAN;
            double Ln = naive_loss(&v, th, &D, kinds[ki], NULL);
            CHECK(fabs(L - Ln) <= 1e-5 * fabs(Ln), "%s: loss lib %.9g naive %.9g", dale_loss_name(kinds[ki]), L, Ln);
            double worst = 0;
            for (size_t pi = 0; pi < dale_net_nparams(net); pi++) {
                const dale_param *p = dale_net_param(net, pi);
                double dn = 0, fn = 0;
                for (size_t k = p->offset; k < p->offset + p->rows * p->cols; k++) {
                    double t0 = th[k], h = 1e-5 * fmax(fabs(t0), 0.1);
                    th[k] = t0 + h;
                    double Lp = naive_loss(&v, th, &D, kinds[ki], NULL);
                    th[k] = t0 - h;
                    double Lm = naive_loss(&v, th, &D, kinds[ki], NULL);
                    th[k] = t0;
                    double fd = (Lp - Lm) / (2 * h), e = (double)g[k] - fd;
                    dn += e * e;
                    fn += fd * fd;
                    CHECK(fabs(e) <= 1e-5 + 1e-3 * fabs(fd), "%s %s[%zu]: lib %.9g FD %.9g",
                          dale_loss_name(kinds[ki]), p->name, k - p->offset, (double)g[k], fd);
                }
                double rel = sqrt(dn) / fmax(sqrt(fn), 1e-12);
                CHECK(rel < 1e-4 && fn > 1e-12, "%s %s: ‖g − FD‖/‖FD‖ = %.3g (‖FD‖ %.3g)", dale_loss_name(kinds[ki]),
                      p->name, rel, sqrt(fn));
                worst = fmax(worst, rel);
            }
            printf("fd %-12s loss %.6f, %zu scored steps, worst per-tensor ‖g − FD‖/‖FD‖ %.2e\n",
                   dale_loss_name(kinds[ki]), L, np, worst);
            dale_task_free(t);
        }
        data_free(&D);
        free(th);
        free(g);
        dale_net_free(net);
    }
}

/* ------------------------------------------- 3: special cases */

static dale_net *make_net(dale_model_type type, size_t d, size_t n, size_t m, uint64_t seed)
{
    dale_net_config cfg;
    dale_net_config_defaults(&cfg);
    cfg.type = type;
    cfg.input = d, cfg.hidden = n, cfg.output = m;
    cfg.layers = 2;
    dale_net *net = NULL;
    CHECK_OK(dale_net_create(&cfg, &net));
    if (!net) return NULL;
    dale_rng r;
    dale_rng_seed(&r, seed);
    CHECK_OK(dale_net_init(net, &r));
    return net;
}

static void eval_split(dale_net *net, dale_task *t, size_t chunk, double *loss, double *err)
{
    dale_batch b;
    CHECK_OK(dale_batch_init(&b, net, t, chunk));
    *loss = *err = (double)NAN;
    CHECK_OK(dale_evaluate(&b, DALE_SPLIT_TRAIN, chunk, loss, err));
    dale_batch_free(&b);
}

static void test_special_cases(void)
{
    const dale_model_type types[3] = {DALE_MODEL_RNN, DALE_MODEL_COLEI, DALE_MODEL_DANN};
    for (int ti = 0; ti < 3; ti++) {
        const char *mn = dale_model_name(types[ti]);
        dale_net *net = make_net(types[ti], 4, 20, 5, 10 + (uint64_t)ti);
        data D;
        int ok = net && data_alloc(&D, 6, 7, 4, 5);
        CHECK(ok, "%s: setup", mn);
        if (!ok) {
            dale_net_free(net);
            continue;
        }
        dale_rng r;
        dale_rng_seed(&r, 99 + (uint64_t)ti);
        data_draw(&D, &r);
        for (size_t k = 0; k < D.N * D.T; k++) D.w[k] = k % D.T == D.T - 1 ? 1.0f : 0.0f;
        CHECK_OK(dale_net_plan(net, D.T, D.N));
        size_t P = dale_net_size(net);
        float *g0 = malloc(P * sizeof *g0), *g1 = malloc(P * sizeof *g1);
        if (!g0 || !g1) return;
        /* (plain kind, weighted kind, weights) */
        struct { dale_loss_kind plain, wkind; const float *w; const char *what; double tol; } cs[3] = {
            {DALE_LOSS_MSE_LAST, DALE_LOSS_MSE_WEIGHTED, D.w, "mse last step", 1e-6},
            {DALE_LOSS_CE_LAST, DALE_LOSS_CE_WEIGHTED, D.w, "ce last step", 1e-6},
            {DALE_LOSS_CE_EVERY, DALE_LOSS_CE_WEIGHTED, NULL, "ce every step", 0.0},
        };
        for (int ci = 0; ci < 3; ci++) {
            dale_arrays_task_config c0 = arrays_cfg(&D, cs[ci].plain, NULL), c1 = arrays_cfg(&D, cs[ci].wkind, cs[ci].w);
            dale_task *t0 = NULL, *t1 = NULL;
            CHECK_OK(dale_task_arrays_create(&c0, &t0));
            CHECK_OK(dale_task_arrays_create(&c1, &t1));
            if (!t0 || !t1) continue;
            size_t n0 = 0, n1 = 0, k0 = 0, k1 = 0;
            double L0 = run_grad(net, t0, g0, &n0, &k0), L1 = run_grad(net, t1, g1, &n1, &k1);
            char label[96];
            snprintf(label, sizeof label, "%s %s: weighted gradient", mn, cs[ci].what);
            if (cs[ci].tol > 0) {
                CHECK(fabs(L0 - L1) <= cs[ci].tol * fabs(L0), "%s %s: loss %.12g vs weighted %.12g", mn,
                      cs[ci].what, L0, L1);
                double gmax = 0;
                for (size_t k = 0; k < P; k++) gmax = fmax(gmax, fabs((double)g0[k]));
                check_close(label, g1, g0, P, 1e-6 * gmax, 1e-4);
            } else {
                CHECK(L0 == L1, "%s %s: loss %.17g vs weighted %.17g (want identical)", mn, cs[ci].what, L0, L1);
                CHECK(memcmp(g0, g1, P * sizeof *g0) == 0, "%s: identical gradients", label);
            }
            CHECK(n0 == n1 && k0 == k1, "%s %s: npred %zu/%zu correct %zu/%zu", mn, cs[ci].what, n0, n1, k0, k1);
            /* split evaluation, chunked differently */
            double e0, r0, e1, r1;
            eval_split(net, t0, 4, &e0, &r0);
            eval_split(net, t1, 4, &e1, &r1);
            double tol = cs[ci].tol > 0 ? cs[ci].tol : 1e-12;
            CHECK(fabs(e0 - e1) <= tol * fabs(e0), "%s %s: eval loss %.12g vs weighted %.12g", mn, cs[ci].what, e0, e1);
            CHECK((isnan(r0) && isnan(r1)) || r0 == r1, "%s %s: eval error %g vs weighted %g", mn, cs[ci].what, r0, r1);
            CHECK(isnan(r0) == (cs[ci].plain == DALE_LOSS_MSE_LAST), "%s %s: error NaN only for MSE", mn, cs[ci].what);
            dale_task_free(t0);
            dale_task_free(t1);
        }
        free(g0);
        free(g1);
        data_free(&D);
        dale_net_free(net);
    }
}

/* ------------------------------------------- 4: evaluation and hook checks */

static float bad_weight;
static dale_status bad_hook(dale_task *t, dale_split split, const size_t *idx, size_t B, size_t T, float *w)
{
    (void)t, (void)split, (void)idx;
    for (size_t k = 0; k < T * B; k++) w[k] = 1.0f;
    w[T * B - 1] = bad_weight;
    return DALE_OK;
}

static dale_status zero_hook(dale_task *t, dale_split split, const size_t *idx, size_t B, size_t T, float *w)
{
    (void)t, (void)split, (void)idx;
    for (size_t k = 0; k < T * B; k++) w[k] = 0.0f;
    return DALE_OK;
}

static void test_eval_and_hooks(void)
{
    dale_net *net = make_net(DALE_MODEL_DANN, 3, 12, 4, 5);
    data D;
    if (!net || !data_alloc(&D, 9, 6, 3, 4)) {
        CHECK(0, "setup");
        dale_net_free(net);
        return;
    }
    dale_rng r;
    dale_rng_seed(&r, 123);
    data_draw(&D, &r);
    for (size_t k = 0; k < D.N * D.T; k++) D.w[k] = (float)dale_rng_below(&r, 3); /* 0, 1 or 2 */
    D.w[0] = 1.0f;
    for (int ki = 0; ki < 2; ki++) {
        dale_loss_kind kind = ki ? DALE_LOSS_CE_WEIGHTED : DALE_LOSS_MSE_WEIGHTED;
        dale_arrays_task_config c = arrays_cfg(&D, kind, D.w);
        dale_task *t = NULL;
        CHECK_OK(dale_task_arrays_create(&c, &t));
        if (!t) continue;
        /* The split mean is sum w l / sum w over all chunks: chunk sizes
         * 1, 4 and 9 agree with each other to round-off. */
        double l1, e1, l4, e4, l9, e9;
        eval_split(net, t, 1, &l1, &e1);
        eval_split(net, t, 4, &l4, &e4);
        eval_split(net, t, 9, &l9, &e9);
        CHECK(fabs(l1 - l9) <= 1e-12 * l9 && fabs(l4 - l9) <= 1e-12 * l9, "%s: chunked eval %.15g %.15g %.15g",
              dale_loss_name(kind), l1, l4, l9);
        CHECK(ki ? (e1 == e9 && e4 == e9 && e9 >= 0 && e9 <= 100) : (isnan(e1) && isnan(e9)), "%s: eval error %g %g %g",
              dale_loss_name(kind), e1, e4, e9);
        /* Error counts only steps with w > 0. */
        if (ki) {
            size_t npos = 0;
            for (size_t k = 0; k < D.N * D.T; k++) npos += D.w[k] > 0;
            size_t np = 0, cor = 0;
            float *g = malloc(dale_net_size(net) * sizeof *g);
            if (g) run_grad(net, t, g, &np, &cor);
            free(g);
            CHECK(np == npos, "ce_weighted: npred %zu, steps with w > 0 %zu", np, npos);
            double want = 100.0 * (1.0 - (double)cor / (double)np);
            CHECK(fabs(e9 - want) < 1e-9, "ce_weighted: eval error %g, from one batch %g", e9, want);
        }
        /* The hook's weights are checked; every weight 0 scores nothing. */
        dale_batch b;
        CHECK_OK(dale_batch_init(&b, net, t, 3));
        size_t idx[3] = {0, 1, 2}, cor = 7;
        double L = 1;
        const float bad[3] = {-1.0f, (float)NAN, (float)INFINITY};
        for (int bi = 0; bi < 3; bi++) {
            bad_weight = bad[bi];
            t->weights = bad_hook;
            dale_status st = dale_batch_run(&b, DALE_SPLIT_TRAIN, idx, 3, 1, &L, &cor);
            CHECK(st == DALE_ERR_ARG && strstr(dale_last_error(), "weight") && strstr(dale_last_error(), "step 5, row 2"),
                  "bad weight %g -> %d: %s", (double)bad[bi], st, dale_last_error());
        }
        t->weights = zero_hook;
        CHECK_OK(dale_batch_run(&b, DALE_SPLIT_TRAIN, idx, 3, 1, &L, &cor));
        float gmax = 0;
        for (size_t k = 0; k < dale_net_size(net); k++) gmax = fmaxf(gmax, fabsf(dale_net_grad(net)[k]));
        CHECK(L == 0.0 && b.npred == 0 && cor == 0 && b.wsum == 0.0 && gmax == 0.0f,
              "all-zero weights: loss %g npred %zu correct %zu grad max %g", L, b.npred, cor, (double)gmax);
        if (ki) {
            /* A label out of range where w > 0 (the hook says 1 everywhere). */
            t->weights = NULL;
            D.yi[1 * D.T + 2] = 4;
            dale_status st = dale_batch_run(&b, DALE_SPLIT_TRAIN, idx, 3, 0, &L, &cor);
            CHECK(st == DALE_ERR_ARG && strstr(dale_last_error(), "label 4 at step 2, row 1"), "bad label -> %d: %s",
                  st, dale_last_error());
            D.yi[1 * D.T + 2] = 0;
        }
        /* An index out of range. */
        size_t far[1] = {9};
        CHECK(dale_batch_run(&b, DALE_SPLIT_TRAIN, far, 1, 0, &L, &cor) == DALE_ERR_ARG &&
                  strstr(dale_last_error(), "sample 9 out of range"),
              "index out of range: %s", dale_last_error());
        dale_batch_free(&b);
        dale_task_free(t);
    }
    data_free(&D);
    dale_net_free(net);
}

/* ------------------------------------------- 5: a masked toy task trains */

/* Fixation then response: steps 0..F-1 show a stimulus s in {-1, +1} on
 * input 0 (with noise) and a fixation cue on input 1; the loss there has
 * weight 0 (label -1 / target NaN are never read).  Steps F..T-1: no
 * stimulus; the network must report the sign (class 0/1, or target ±1). */
static void test_masked_task(void)
{
    const size_t N = 256, T = 10, F = 4, ntr = 192;
    for (int ki = 0; ki < 2; ki++) {
        dale_loss_kind kind = ki ? DALE_LOSS_CE_WEIGHTED : DALE_LOSS_MSE_WEIGHTED;
        data D;
        if (!data_alloc(&D, N, T, 2, ki ? 2 : 1)) return;
        dale_rng r;
        dale_rng_seed(&r, 31);
        for (size_t s = 0; s < N; s++) {
            int sign = dale_rng_below(&r, 2) ? 1 : -1;
            for (size_t k = 0; k < T; k++) {
                float *x = D.x + (s * T + k) * 2;
                x[0] = k < F ? (float)(sign * 0.5 + dale_rng_normal(&r, 0.0, 0.3)) : 0.0f;
                x[1] = k < F ? 1.0f : 0.0f;
                D.w[s * T + k] = k < F ? 0.0f : 1.0f;
                D.yi[s * T + k] = k < F ? -1 : (sign > 0);
                D.yf[s * T + k] = k < F ? (float)NAN : (float)sign;
            }
        }
        dale_arrays_task_config c;
        memset(&c, 0, sizeof c);
        c.name = "fixation";
        c.N = N, c.T = T, c.input = 2, c.output = D.m, c.loss = kind, c.x = D.x;
        if (ki) c.yi = D.yi;
        else c.yf = D.yf;
        c.w = D.w;
        c.n_train = ntr, c.n_val = 32, c.n_test = N - ntr - 32;
        dale_task *t = NULL;
        CHECK_OK(dale_task_arrays_create(&c, &t));
        dale_net *net = make_net(DALE_MODEL_RNN, 2, 24, D.m, 3);
        if (!t || !net) {
            dale_task_free(t);
            dale_net_free(net);
            data_free(&D);
            return;
        }
        CHECK(strstr(t->summary, "fixation: 256 samples of 10 steps") != NULL, "summary: %s", t->summary);
        dale_batch b;
        CHECK_OK(dale_batch_init(&b, net, t, 32));
        double l0, e0, l1, e1;
        CHECK_OK(dale_evaluate(&b, DALE_SPLIT_TEST, 32, &l0, &e0));
        dale_update_policy pol;
        dale_update_policy_default(DALE_MODEL_RNN, 1.0, &pol);
        size_t idx[32];
        for (int ep = 0; ep < 60; ep++)
            for (size_t s = 0; s + 32 <= ntr; s += 32) {
                for (size_t k = 0; k < 32; k++) idx[k] = (s + k * 7 + (size_t)ep * 5) % ntr;
                double L;
                size_t cor;
                CHECK_OK(dale_batch_run(&b, DALE_SPLIT_TRAIN, idx, 32, 1, &L, &cor));
                CHECK_OK(dale_update_apply(net, &pol, 0.05, NULL, NULL));
            }
        CHECK_OK(dale_evaluate(&b, DALE_SPLIT_TEST, 32, &l1, &e1));
        printf("masked %-12s test loss %.4f -> %.4f, error %.1f %% -> %.1f %%\n", dale_loss_name(kind), l0, l1, e0, e1);
        CHECK(l1 < 0.3 * l0, "%s: test loss %.4f -> %.4f, want a fall to < 30 %%", dale_loss_name(kind), l0, l1);
        if (ki) CHECK(e1 < 10.0 && e1 < e0, "ce_weighted: test error %.1f %% -> %.1f %%", e0, e1);
        dale_batch_free(&b);
        dale_net_free(net);
        dale_task_free(t);
        data_free(&D);
    }
}

/* ------------------------------------------- 6: bad input */

static void expect_bad(const dale_arrays_task_config *c, const char *want, const char *what)
{
    dale_task *t = (dale_task *)&t; /* must be reset to NULL */
    dale_status st = dale_task_arrays_create(c, &t);
    CHECK(st == DALE_ERR_ARG && t == NULL && strstr(dale_last_error(), want) != NULL,
          "%s: status %d, message '%s', want DALE_ERR_ARG and '%s'", what, st, dale_last_error(), want);
    if (st == DALE_OK) dale_task_free(t);
}

static void expect_good(const dale_arrays_task_config *c, const char *what)
{
    dale_task *t = NULL;
    dale_status st = dale_task_arrays_create(c, &t);
    CHECK(st == DALE_OK && t, "%s: %s", what, dale_last_error());
    dale_task_free(t);
}

static void test_bad_input(void)
{
    data D;
    if (!data_alloc(&D, 5, 4, 2, 3)) return;
    dale_rng r;
    dale_rng_seed(&r, 8);
    data_draw(&D, &r);
    for (size_t k = 0; k < D.N * D.T; k++) D.w[k] = 1.0f;
    dale_arrays_task_config c, base = arrays_cfg(&D, DALE_LOSS_CE_WEIGHTED, D.w);
    base.n_train = 3, base.n_val = 1, base.n_test = 1;
    expect_good(&base, "valid config");

    dale_task *t = NULL;
    CHECK(dale_task_arrays_create(NULL, &t) == DALE_ERR_ARG && strstr(dale_last_error(), "cfg is NULL"), "NULL cfg");
    CHECK(dale_task_arrays_create(&base, NULL) == DALE_ERR_ARG && strstr(dale_last_error(), "out is NULL"), "NULL out");
    c = base, c.x = NULL;
    expect_bad(&c, "inputs x are NULL", "NULL x");
    c = base, c.N = 0;
    expect_bad(&c, "sizes must be > 0 (got N 0", "N = 0");
    c = base, c.T = 0;
    expect_bad(&c, "T 0", "T = 0");
    c = base, c.input = 0;
    expect_bad(&c, "input 0", "input = 0");
    c = base, c.output = 0;
    expect_bad(&c, "output 0", "output = 0");
    c = base, c.N = (size_t)1 << 40;
    expect_bad(&c, "is too large", "huge N");
    c = base, c.n_test = 2;
    expect_bad(&c, "train 3 + val 1 + test 2 samples must add up to N = 5", "splits too many");
    c = base, c.n_train = 9;
    expect_bad(&c, "must add up to N = 5", "train > N");
    c = base, c.loss = (dale_loss_kind)99;
    expect_bad(&c, "unknown loss kind 99", "unknown loss");
    c = base, c.yi = NULL;
    expect_bad(&c, "needs int32 labels yi ([N][T]), got NULL", "no labels");
    c = base, c.yf = D.yf;
    expect_bad(&c, "float targets yf must be NULL", "yf with CE");
    c = arrays_cfg(&D, DALE_LOSS_MSE_WEIGHTED, D.w), c.yf = NULL;
    expect_bad(&c, "needs float targets yf ([N][T][output]), got NULL", "no targets");
    c = arrays_cfg(&D, DALE_LOSS_MSE_LAST, NULL), c.yi = D.ilast;
    expect_bad(&c, "labels yi must be NULL", "yi with MSE");
    c = arrays_cfg(&D, DALE_LOSS_CE_LAST, D.w);
    expect_bad(&c, "weights w need a weighted loss", "weights with CE_LAST");
    c = base, c.output = 1;
    expect_bad(&c, "needs output >= 2 classes (got 1)", "one class");

    D.x[(2 * 4 + 3) * 2 + 1] = (float)NAN;
    expect_bad(&base, "input x[2][3][1] = nan is not finite", "NaN input");
    D.x[(2 * 4 + 3) * 2 + 1] = (float)-INFINITY;
    expect_bad(&base, "input x[2][3][1] = -inf is not finite", "inf input");
    D.x[(2 * 4 + 3) * 2 + 1] = 0.5f;

    D.w[1 * 4 + 2] = -0.5f;
    expect_bad(&base, "weight w[1][2] = -0.5 is negative", "negative weight");
    D.w[1 * 4 + 2] = (float)NAN;
    expect_bad(&base, "weight w[1][2] = nan is not finite", "NaN weight");
    D.w[1 * 4 + 2] = 1.0f;

    D.yi[4 * 4 + 1] = 3;
    expect_bad(&base, "label yi[4][1] = 3 is outside [0, 3) (at a step of weight > 0)", "label too big");
    D.yi[4 * 4 + 1] = -1;
    expect_bad(&base, "label yi[4][1] = -1 is outside [0, 3)", "label -1 scored");
    D.w[4 * 4 + 1] = 0.0f;
    expect_good(&base, "label -1 at a step of weight 0");
    c = arrays_cfg(&D, DALE_LOSS_CE_EVERY, NULL);
    expect_bad(&c, "label yi[4][1] = -1 is outside [0, 3)", "label -1 with CE_EVERY");
    D.yi[4 * 4 + 1] = 0;
    D.ilast[2] = 7;
    c = arrays_cfg(&D, DALE_LOSS_CE_LAST, NULL);
    expect_bad(&c, "label yi[2] = 7 is outside [0, 3)", "CE_LAST label");
    D.ilast[2] = 0;

    c = arrays_cfg(&D, DALE_LOSS_MSE_WEIGHTED, D.w);
    D.yf[(0 * 4 + 2) * 3 + 1] = (float)INFINITY;
    expect_bad(&c, "target yf[0][2][1] = inf is not finite", "inf target");
    D.w[0 * 4 + 2] = 0.0f;
    expect_good(&c, "inf target at a step of weight 0");
    D.yf[(0 * 4 + 2) * 3 + 1] = 0.0f;
    D.ylast[1 * 3 + 2] = (float)NAN;
    c = arrays_cfg(&D, DALE_LOSS_MSE_LAST, NULL);
    expect_bad(&c, "target yf[1][2] = nan is not finite", "MSE_LAST target");
    D.ylast[1 * 3 + 2] = 0.0f;

    for (size_t k = 0; k < 4; k++) D.w[3 * 4 + k] = 0.0f; /* sample 3 is the val split */
    expect_bad(&base, "every weight of the val split (samples 3..3) is 0", "all-zero val split");
    c = base, c.n_val = 0, c.n_test = 2;
    expect_good(&c, "a zero sample inside a split that scores elsewhere");
    for (size_t k = 0; k < 4; k++) D.w[4 * 4 + k] = 0.0f;
    expect_bad(&c, "every weight of the test split (samples 3..4) is 0", "all-zero test split");
    c = base, c.n_train = 5, c.n_val = 0, c.n_test = 0;
    expect_good(&c, "zero samples at the end of the train split");

    /* Borrowed, not copied: a change to the caller's array shows in the next batch. */
    for (size_t k = 0; k < D.N * D.T; k++) D.w[k] = 1.0f;
    c = base;
    t = NULL;
    CHECK_OK(dale_task_arrays_create(&c, &t));
    if (t) {
        float x[4 * 1 * 2], w[4];
        int32_t yi[4];
        size_t idx[1] = {0};
        CHECK(t->input == 2 && t->output == 3 && t->T == 4 && t->count[0] == 3 && t->count[1] == 1 &&
                  t->count[2] == 1 && t->loss == DALE_LOSS_CE_WEIGHTED && strcmp(t->name, "arrays") == 0,
              "task fields");
        D.x[(4 * 4 + 2) * 2 + 0] = 42.0f; /* sample 4 = test sample 0, step 2 */
        D.w[4 * 4 + 3] = 0.25f;
        CHECK_OK(t->batch(t, DALE_SPLIT_TEST, idx, 1, x, NULL, yi));
        CHECK_OK(t->weights(t, DALE_SPLIT_TEST, idx, 1, 4, w));
        CHECK(x[2 * 2 + 0] == 42.0f && w[3] == 0.25f && yi[1] == D.yi[4 * 4 + 1], "batch reads the caller's arrays");
        size_t far[1] = {1};
        CHECK(t->batch(t, DALE_SPLIT_VAL, far, 1, x, NULL, yi) == DALE_ERR_ARG, "val index 1 of 1 refused");
        CHECK(t->weights(t, DALE_SPLIT_TEST, idx, 1, 3, w) == DALE_ERR_SHAPE, "weights for the wrong T refused");
        dale_task_free(t);
    }
    data_free(&D);
}

/* ------------------------------------------- 7: out of memory */

/* Arrays task + weighted batch workspace + one training batch + evaluation,
 * with the allocator failing at call n and after: a clean DALE_ERR_NOMEM
 * with a message and no leak at every n, until it succeeds. */
static dale_status oom_scenario(const data *D, dale_net *net)
{
    dale_arrays_task_config c = arrays_cfg(D, DALE_LOSS_CE_WEIGHTED, D->w);
    c.n_train = 3, c.n_test = D->N - 3;
    dale_task *t = NULL;
    dale_status st = dale_task_arrays_create(&c, &t);
    if (st) return st;
    dale_batch b;
    if ((st = dale_batch_init(&b, net, t, 3))) {
        dale_task_free(t);
        return st;
    }
    size_t idx[3] = {0, 1, 2}, cor;
    double L, e;
    st = dale_batch_run(&b, DALE_SPLIT_TRAIN, idx, 3, 1, &L, &cor);
    if (!st) st = dale_evaluate(&b, DALE_SPLIT_TEST, 2, &L, &e);
    dale_batch_free(&b);
    dale_task_free(t);
    return st;
}

static void test_oom(void)
{
    data D;
    dale_net *net = make_net(DALE_MODEL_COLEI, 2, 10, 3, 4);
    if (!net || !data_alloc(&D, 5, 4, 2, 3)) {
        CHECK(0, "setup");
        dale_net_free(net);
        return;
    }
    dale_rng r;
    dale_rng_seed(&r, 6);
    data_draw(&D, &r);
    for (size_t k = 0; k < D.N * D.T; k++) D.w[k] = (float)(k % 3);
    /* The net's activation plan is the net's (freed with it): size it first. */
    CHECK_OK(dale_net_plan(net, D.T, 3));
    long base = dalei_alloc_live(), n;
    int bad = 0;
    dale_status st = DALE_ERR_NOMEM;
    for (n = 1; n <= 100 && st; n++) {
        dale_clear_error();
        dalei_alloc_fail_at(n);
        st = oom_scenario(&D, net);
        dalei_alloc_fail_at(0);
        if (bad < 3 && (dalei_alloc_live() != base || (st && (st != DALE_ERR_NOMEM || !dale_last_error()[0])))) {
            bad++;
            CHECK(0, "fail at %ld: status %d '%s', %ld allocations leaked", n, st, dale_last_error(),
                  dalei_alloc_live() - base);
        }
    }
    CHECK(st == DALE_OK && n > 2, "out-of-memory sweep: still failing after %ld points", n - 1);
    CHECK(bad == 0, "out-of-memory sweep: %d bad points", bad);
    printf("out of memory: %ld failure points, clean error and no leak at each\n", n - 2);
    data_free(&D);
    dale_net_free(net);
}

static void test_helpers(void)
{
    CHECK(!dale_loss_is_classification(DALE_LOSS_MSE_LAST) && dale_loss_is_classification(DALE_LOSS_CE_LAST) &&
              dale_loss_is_classification(DALE_LOSS_CE_EVERY) && !dale_loss_is_classification(DALE_LOSS_MSE_WEIGHTED) &&
              dale_loss_is_classification(DALE_LOSS_CE_WEIGHTED),
          "dale_loss_is_classification");
    CHECK(!dale_loss_all_steps(DALE_LOSS_MSE_LAST) && !dale_loss_all_steps(DALE_LOSS_CE_LAST) &&
              dale_loss_all_steps(DALE_LOSS_CE_EVERY) && dale_loss_all_steps(DALE_LOSS_MSE_WEIGHTED) &&
              dale_loss_all_steps(DALE_LOSS_CE_WEIGHTED),
          "dale_loss_all_steps");
    CHECK(!dale_loss_is_weighted(DALE_LOSS_CE_EVERY) && dale_loss_is_weighted(DALE_LOSS_MSE_WEIGHTED) &&
              dale_loss_is_weighted(DALE_LOSS_CE_WEIGHTED),
          "dale_loss_is_weighted");
    CHECK(!strcmp(dale_loss_name(DALE_LOSS_MSE_LAST), "mse_last") && !strcmp(dale_loss_name(DALE_LOSS_CE_WEIGHTED), "ce_weighted") &&
              !strcmp(dale_loss_name(DALE_LOSS_COUNT), "?"),
          "dale_loss_name");
    /* Existing values are fixed (they are stored nowhere, but tasks and callers compare them). */
    CHECK(DALE_LOSS_MSE_LAST == 0 && DALE_LOSS_CE_LAST == 1 && DALE_LOSS_CE_EVERY == 2, "enum values");
}

int main(void)
{
    test_helpers();
    test_reference();
    test_fd_network();
    test_special_cases();
    test_eval_and_hooks();
    test_masked_task();
    test_bad_input();
    test_oom();
    return check_done("test_loss_weights");
}
