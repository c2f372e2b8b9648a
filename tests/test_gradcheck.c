/* test_gradcheck.c — BPTT gradients of every model against finite differences.
 *
 * The library trains in float32; this test holds its own small, naive,
 * double-precision forward pass + loss written straight from the math
 * (paper Sec. 2.1, include/dale/model.h).  It reads the raw parameters by name from
 * the network's table and builds the effective matrices itself:
 *     rnn    U, W as stored
 *     colei  M = M_pos diag(s), s = +1 for the first nE input columns and -1
 *            for the last nI = ceil(N/(r+1)) of the input width N (all +1 for
 *            the first cell's U)
 *     dann   M = EE - EI IE
 * then runs z_t = U x_t + W h_{t-1} + b, h_t = relu(z_t), h_0 = 0, the layer
 * stack, the ReLU dense layers and the linear readout, and the loss
 * (mse_last, ce_last, ce_every).
 *
 * 1. naive double forward/loss vs dale_net_forward + dale_loss_* (float32);
 * 2. central differences of the naive loss w.r.t. every raw parameter entry of
 *    tiny nets vs dale_net_backward: per tensor ‖g_lib − g_fd‖/‖g_fd‖ < 1e-3
 *    and per element |diff| <= 1e-4 + 1e-2 |fd|;
 * 3. the grid: every model × 1/2 cells × every loss, dense stacks, DANN with
 *    one and several inhibitory units, ColEI with nI = 1, 2, 3;
 * 4. a random directional check on bigger nets (n 30, T 10, B 4, 2 cells);
 * 5. state and shape errors of dale_net_backward/forward, and accumulation;
 * 6. groups 3 and 4 again in the numerics = dale arithmetic (every product
 *    in dale's kernels, dale's exp in the cross-entropy).
 *
 * Parameters are drawn directly (not by dale_net_init, except for the bigger
 * nets) and inputs are re-drawn until no pre-activation lies within a margin
 * of 0, where relu is not differentiable and a finite difference could cross
 * the kink.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dale/model.h"
#include "dale/rng.h"
#include "dale/status.h"
#include "dale/train.h"
#include "check.h"

static const char *const loss_names[] = {"mse_last", "ce_last", "ce_every", "mse_weighted", "ce_weighted"};

/* The fixed noise sample of the current case (double copies of what the
 * library draws, in its documented order): eta (T, B, d) on the first
 * cell's input, eps[l] (T, B, n) per cell; NULL: none.  And the per-step
 * loss weights (T, B) of the weighted kinds. */
static const double *fix_eta, *fix_eps[2];
static const double *fix_w;

/* Worst errors seen per model type, for the summary lines; group_grad is
 * reset at the start of each case group. */
static double worst_fwd[DALE_MODEL_COUNT], worst_grad[DALE_MODEL_COUNT], worst_elem[DALE_MODEL_COUNT],
    worst_dir[DALE_MODEL_COUNT], group_grad[DALE_MODEL_COUNT];

/* ------------------------------------------------------ naive reference */

static const dale_param *find_param(const dale_net *net, const char *prefix, const char *name)
{
    char full[80];
    snprintf(full, sizeof full, "%s.%s", prefix, name);
    int i = dale_net_find(net, full);
    return i < 0 ? NULL : dale_net_param(net, (size_t)i);
}

/* Effective matrix M (rows, cols) of map `w` ("U" or "W") of layer `prefix`,
 * built in double from the raw parameters th.  first_input: the first cell's
 * U, all-positive under ColEI.  Returns 0, or -1 if the table lacks a
 * parameter or has a wrong shape. */
static int naive_map(const dale_net *net, const double *th, const char *prefix, const char *w,
                     size_t rows, size_t cols, int first_input, double *M)
{
    const dale_net_config *cfg = dale_net_config_of(net);
    char nm[32];
    switch (cfg->type) {
    case DALE_MODEL_RNN: {
        const dale_param *p = find_param(net, prefix, w);
        if (!p || p->rows != rows || p->cols != cols) return -1;
        for (size_t k = 0; k < rows * cols; k++) M[k] = th[p->offset + k];
        return 0;
    }
    case DALE_MODEL_COLEI: {
        snprintf(nm, sizeof nm, "%s_pos", w);
        const dale_param *p = find_param(net, prefix, nm);
        if (!p || p->rows != rows || p->cols != cols) return -1;
        size_t ni = first_input ? 0 : (size_t)ceil((double)cols / (cfg->ei_ratio + 1.0));
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                M[i * cols + j] = th[p->offset + i * cols + j] * (j < cols - ni ? 1.0 : -1.0);
        return 0;
    }
    case DALE_MODEL_DANN: {
        snprintf(nm, sizeof nm, "%s_EE", w);
        const dale_param *ee = find_param(net, prefix, nm);
        snprintf(nm, sizeof nm, "%s_IE", w);
        const dale_param *ie = find_param(net, prefix, nm);
        snprintf(nm, sizeof nm, "%s_EI", w);
        const dale_param *ei = find_param(net, prefix, nm);
        if (!ee || !ie || !ei) return -1;
        size_t ni = ie->rows;
        if (ee->rows != rows || ee->cols != cols || ie->cols != cols || ei->rows != rows || ei->cols != ni)
            return -1;
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++) {
                double s = th[ee->offset + i * cols + j];
                for (size_t k = 0; k < ni; k++)
                    s -= th[ei->offset + i * ni + k] * th[ie->offset + k * cols + j];
                M[i * cols + j] = s;
            }
        return 0;
    }
    default:
        return -1;
    }
}

/* y = act(M x + b) over R rows: x (R, in), M (out, in), y (R, out).  Tracks
 * the smallest |pre-activation| of ReLU layers in *minz. */
static void naive_dense(double *y, const double *x, const double *M, const double *b, size_t R,
                        size_t in, size_t out, int relu, double *minz)
{
    for (size_t r = 0; r < R; r++)
        for (size_t i = 0; i < out; i++) {
            double z = b[i];
            for (size_t j = 0; j < in; j++) z += M[i * in + j] * x[r * in + j];
            if (relu) {
                if (fabs(z) < *minz) *minz = fabs(z);
                z = z > 0 ? z : 0;
            }
            y[r * out + i] = z;
        }
}

/* Loss of the network with raw parameters th (double, theta's layout) on x
 * (T, B, d).  Output (B, m) for the last-step losses, (T, B, m) for
 * ce_every, copied to yout if non-NULL; *minz gets the smallest |z| over
 * every ReLU pre-activation.  Returns NAN if the table is malformed. */
static double naive_loss(const dale_net *net, const double *th, const double *x, size_t T, size_t B,
                         dale_loss_kind loss, const double *target, const int32_t *labels,
                         double *yout, double *minz)
{
    const dale_net_config *cfg = dale_net_config_of(net);
    size_t n = cfg->hidden, m = cfg->output, L = cfg->layers;
    size_t wmax = cfg->input > n ? cfg->input : n;
    for (size_t k = 0; k < cfg->ndense; k++)
        if (cfg->dense[k] > wmax) wmax = cfg->dense[k];
    if (m > wmax) wmax = m;
    double *U = malloc(wmax * wmax * sizeof *U), *W = malloc(n * n * sizeof *W);
    double *Ha = malloc(T * B * wmax * sizeof *Ha), *Hb = malloc(T * B * wmax * sizeof *Hb);
    double *S = malloc(T * B * n * sizeof *S), *xn = malloc(T * B * cfg->input * sizeof *xn);
    double *h0v = malloc(n * sizeof *h0v), *a = malloc(n * sizeof *a), *s0 = malloc(n * sizeof *s0);
    double mz = (double)INFINITY, result = (double)NAN, rsum = 0;
    char prefix[32];
    const double *in = x;
    size_t win = cfg->input;
    double *H = Ha, *spare = Hb;
    if (!U || !W || !Ha || !Hb || !S || !xn || !h0v || !a || !s0) goto done;
    if (fix_eta) { /* the cells read x + eta */
        for (size_t k = 0; k < T * B * cfg->input; k++) xn[k] = x[k] + fix_eta[k];
        in = xn;
    }
    /* relu: rate form with a = 1; leaky: rate form; leaky-state: state form */
    const int state = cfg->dynamics == DALE_DYN_LEAKY_STATE;
    for (size_t i = 0; i < n; i++) {
        size_t ni = cfg->type == DALE_MODEL_COLEI ? (size_t)ceil((double)n / (cfg->ei_ratio + 1.0)) : 0;
        a[i] = cfg->dynamics == DALE_DYN_RELU ? 1.0 : i >= n - ni && cfg->alpha_i > 0 ? cfg->alpha_i : cfg->alpha;
    }
    for (size_t l = 0; l < L; l++) {
        snprintf(prefix, sizeof prefix, "cell%zu", l);
        const dale_param *pb = find_param(net, prefix, "b");
        if (!pb || pb->rows != n || pb->cols != 1) goto done;
        if (naive_map(net, th, prefix, "U", n, win, l == 0, U)) goto done;
        if (naive_map(net, th, prefix, "W", n, n, 0, W)) goto done;
        const double *b = th + pb->offset;
        /* the initial state: h_0 (rate form) or s_0 with h_0 = relu(s_0) */
        for (size_t i = 0; i < n; i++) h0v[i] = s0[i] = 0.0;
        if (cfg->h0_learn) {
            const dale_param *p0 = find_param(net, prefix, "h0");
            if (!p0 || p0->rows != n || p0->cols != 1) goto done;
            for (size_t i = 0; i < n; i++) {
                double v = th[p0->offset + i];
                if (state) {
                    s0[i] = v;
                    if (fabs(v) < mz) mz = fabs(v);
                    h0v[i] = v > 0 ? v : 0;
                } else {
                    h0v[i] = v;
                }
            }
        }
        const double *eps = l < 2 ? fix_eps[l] : NULL;
        for (size_t t = 0; t < T; t++)
            for (size_t s = 0; s < B; s++)
                for (size_t i = 0; i < n; i++) {
                    double z = b[i];
                    for (size_t j = 0; j < win; j++) z += U[i * win + j] * in[(t * B + s) * win + j];
                    const double *hp = t > 0 ? H + ((t - 1) * B + s) * n : h0v;
                    for (size_t k = 0; k < n; k++) z += W[i * n + k] * hp[k];
                    double e = eps ? eps[(t * B + s) * n + i] : 0.0, r;
                    if (state) {
                        /* s_t = (1 - a) s_{t-1} + a z_t + eps_t, h_t = relu(s_t) */
                        double sp = t > 0 ? S[((t - 1) * B + s) * n + i] : s0[i];
                        double sv = (1.0 - a[i]) * sp + a[i] * z + e;
                        S[(t * B + s) * n + i] = sv;
                        if (fabs(sv) < mz) mz = fabs(sv);
                        r = sv > 0 ? sv : 0;
                    } else {
                        /* h_t = (1 - a) h_{t-1} + a relu(z_t + eps_t) */
                        double zz = z + e;
                        if (fabs(zz) < mz) mz = fabs(zz);
                        r = (1.0 - a[i]) * hp[i] + a[i] * (zz > 0 ? zz : 0);
                    }
                    H[(t * B + s) * n + i] = r;
                    rsum += r * r;
                }
        in = H;
        win = n;
        double *tmp = H;
        H = spare;
        spare = tmp;
    }
    /* Dense layers and readout: every step for ce_every, else the last one. */
    const int every = loss == DALE_LOSS_CE_EVERY || loss == DALE_LOSS_CE_WEIGHTED || loss == DALE_LOSS_MSE_WEIGHTED;
    size_t R = every ? T * B : B;
    const double *top = every ? in : in + (T - 1) * B * n;
    for (size_t k = 0; k <= cfg->ndense; k++) {
        int readout = k == cfg->ndense;
        size_t wout = readout ? m : cfg->dense[k];
        if (readout) snprintf(prefix, sizeof prefix, "out");
        else snprintf(prefix, sizeof prefix, "dense%zu", k);
        const dale_param *pb = find_param(net, prefix, "b");
        if (!pb || pb->rows != wout || pb->cols != 1) goto done;
        if (naive_map(net, th, prefix, "W", wout, win, 0, U)) goto done;
        /* After the cells `top` lies in spare; outputs alternate H, spare, ... */
        double *y = k % 2 == 0 ? H : spare;
        naive_dense(y, top, U, th + pb->offset, R, win, wout, !readout, &mz);
        top = y;
        win = wout;
    }
    double sum = 0;
    if (loss == DALE_LOSS_MSE_LAST) {
        for (size_t k = 0; k < R * m; k++) sum += (top[k] - target[k]) * (top[k] - target[k]);
        result = sum / (double)(R * m);
    } else if (loss == DALE_LOSS_CE_WEIGHTED) {
        /* sum_r w_r (lse_r - z_r,y) / sum_r w_r */
        double wsum = 0;
        for (size_t r = 0; r < R; r++) {
            wsum += fix_w[r];
            if (!(fix_w[r] > 0)) continue;
            const double *z = top + r * m;
            double zmax = z[0], se = 0;
            for (size_t j = 1; j < m; j++) zmax = z[j] > zmax ? z[j] : zmax;
            for (size_t j = 0; j < m; j++) se += exp(z[j] - zmax);
            sum += fix_w[r] * (zmax + log(se) - z[labels[r]]);
        }
        result = sum / wsum;
    } else {
        for (size_t r = 0; r < R; r++) {
            const double *z = top + r * m;
            double zmax = z[0], se = 0;
            for (size_t j = 1; j < m; j++) zmax = z[j] > zmax ? z[j] : zmax;
            for (size_t j = 0; j < m; j++) se += exp(z[j] - zmax);
            sum += zmax + log(se) - z[labels[r]];
        }
        result = sum / (double)R;
    }
    /* rate_l2: lambda mean of h_t^2 over cells, steps, rows and units */
    if (cfg->rate_l2 > 0) result += cfg->rate_l2 * rsum / (double)(L * T * B * n);
    if (yout) memcpy(yout, top, R * m * sizeof *yout);
done:
    if (minz) *minz = mz;
    free(S);
    free(xn);
    free(h0v);
    free(a);
    free(s0);
    free(U);
    free(W);
    free(Ha);
    free(Hb);
    return result;
}

/* -------------------------------------------------------------- helpers */

typedef struct gc_case {
    dale_model_type type;
    size_t d, L, n, m, ndense, dense[2];
    double ratio;
    size_t ni_in, ni_rec, ni_out; /* DANN, 0 = auto */
    dale_loss_kind loss;
    size_t T, B;
    size_t x_steps; /* input steps drawn; later ones are 0 (objrec-like); 0 = all */
    double alpha;   /* > 0: leaky cell dynamics with this alpha; 0: relu */
    int state;      /* with alpha > 0: the state form (leaky-state) */
    double alpha_i; /* ColEI inhibitory units' alpha (0: alpha) */
    double noise_rec, noise_in, rate_l2;
    int h0;         /* learned initial state */
} gc_case;

static void case_label(const gc_case *c, char *buf, size_t cap)
{
    int k = snprintf(buf, cap, "%s L%zu n%zu %s", dale_model_name(c->type), c->L, c->n, loss_names[c->loss]);
    if (k < 0 || (size_t)k >= cap) return;
    if (c->ndense) {
        int j = snprintf(buf + k, cap - (size_t)k, " dense%zu", c->ndense);
        if (j > 0) k += j;
    }
    if (c->alpha > 0 && (size_t)k < cap) {
        int j = snprintf(buf + k, cap - (size_t)k, " %s a%g", c->state ? "leaky-state" : "leaky", c->alpha);
        if (j > 0) k += j;
    }
    if ((c->alpha_i > 0 || c->noise_rec > 0 || c->noise_in > 0 || c->rate_l2 > 0 || c->h0) && (size_t)k < cap) {
        int j = snprintf(buf + k, cap - (size_t)k, " ai%g srec%g sin%g l2 %g h0 %d", c->alpha_i, c->noise_rec,
                         c->noise_in, c->rate_l2, c->h0);
        if (j > 0) k += j;
    }
    if (c->type != DALE_MODEL_RNN && (size_t)k < cap)
        snprintf(buf + k, cap - (size_t)k, " r%g ni(%zu,%zu,%zu)", c->ratio, c->ni_in, c->ni_rec, c->ni_out);
}

/* The arithmetic of the nets and the loss (section 6 sets DALE). */
static dale_numerics numerics = DALE_NUMERICS_BLAS;

static void case_config(const gc_case *c, dale_net_config *cfg)
{
    dale_net_config_defaults(cfg);
    cfg->numerics = numerics;
    cfg->type = c->type;
    cfg->input = c->d;
    cfg->layers = c->L;
    cfg->hidden = c->n;
    cfg->output = c->m;
    cfg->ndense = c->ndense;
    for (size_t k = 0; k < c->ndense; k++) cfg->dense[k] = c->dense[k];
    cfg->ei_ratio = c->ratio;
    cfg->dann_ni_in = c->ni_in;
    cfg->dann_ni_rec = c->ni_rec;
    cfg->dann_ni_out = c->ni_out;
    if (c->alpha > 0) {
        cfg->dynamics = c->state ? DALE_DYN_LEAKY_STATE : DALE_DYN_LEAKY;
        cfg->alpha = c->alpha;
        cfg->alpha_i = c->alpha_i;
    }
    cfg->noise_rec = c->noise_rec;
    cfg->noise_in = c->noise_in;
    cfg->rate_l2 = c->rate_l2;
    cfg->h0_learn = c->h0;
}

/* Expected shape of one table entry; CHECKs presence and shape. */
static void expect_param(const dale_net *net, const char *label, const char *prefix, const char *name,
                         size_t rows, size_t cols, size_t *total, size_t *count)
{
    const dale_param *p = find_param(net, prefix, name);
    CHECK(p != NULL, "%s: no parameter %s.%s", label, prefix, name);
    if (!p) return;
    CHECK(p->rows == rows && p->cols == cols, "%s: %s is (%zu, %zu), expected (%zu, %zu)", label, p->name,
          p->rows, p->cols, rows, cols);
    *total += rows * cols;
    (*count)++;
}

static size_t dann_auto(size_t w, double ratio)
{
    size_t k = (size_t)floor((double)w / (ratio + 1.0));
    return k ? k : 1;
}

/* The table holds exactly the parameters model.h names. */
static void check_table(const dale_net *net, const dale_net_config *cfg, const char *label)
{
    size_t total = 0, count = 0, win = cfg->input, n = cfg->hidden;
    char prefix[32];
    for (size_t l = 0; l <= cfg->layers + cfg->ndense; l++) {
        size_t rows, cols = win;
        int cell = l < cfg->layers;
        if (cell) {
            snprintf(prefix, sizeof prefix, "cell%zu", l);
            rows = n;
        } else if (l < cfg->layers + cfg->ndense) {
            snprintf(prefix, sizeof prefix, "dense%zu", l - cfg->layers);
            rows = cfg->dense[l - cfg->layers];
        } else {
            snprintf(prefix, sizeof prefix, "out");
            rows = cfg->output;
        }
        switch (cfg->type) {
        case DALE_MODEL_RNN:
            if (cell) expect_param(net, label, prefix, "U", rows, cols, &total, &count);
            expect_param(net, label, prefix, "W", rows, cell ? n : cols, &total, &count);
            break;
        case DALE_MODEL_COLEI:
            if (cell) expect_param(net, label, prefix, "U_pos", rows, cols, &total, &count);
            expect_param(net, label, prefix, "W_pos", rows, cell ? n : cols, &total, &count);
            break;
        case DALE_MODEL_DANN:
            if (cell) {
                size_t nu = cfg->dann_ni_in ? cfg->dann_ni_in : dann_auto(n, cfg->ei_ratio);
                size_t nw = cfg->dann_ni_rec ? cfg->dann_ni_rec : dann_auto(n, cfg->ei_ratio);
                expect_param(net, label, prefix, "U_EE", rows, cols, &total, &count);
                expect_param(net, label, prefix, "U_IE", nu, cols, &total, &count);
                expect_param(net, label, prefix, "U_EI", rows, nu, &total, &count);
                expect_param(net, label, prefix, "W_EE", n, n, &total, &count);
                expect_param(net, label, prefix, "W_IE", nw, n, &total, &count);
                expect_param(net, label, prefix, "W_EI", n, nw, &total, &count);
            } else {
                size_t no = cfg->dann_ni_out ? cfg->dann_ni_out : dann_auto(rows, cfg->ei_ratio);
                expect_param(net, label, prefix, "W_EE", rows, cols, &total, &count);
                expect_param(net, label, prefix, "W_IE", no, cols, &total, &count);
                expect_param(net, label, prefix, "W_EI", rows, no, &total, &count);
            }
            break;
        default:
            break;
        }
        expect_param(net, label, prefix, "b", rows, 1, &total, &count);
        if (cell && cfg->h0_learn) expect_param(net, label, prefix, "h0", rows, 1, &total, &count);
        win = rows;
    }
    CHECK(count == dale_net_nparams(net), "%s: table has %zu entries, expected %zu", label,
          dale_net_nparams(net), count);
    CHECK(total == dale_net_size(net), "%s: theta has %zu floats, expected %zu", label, dale_net_size(net),
          total);
}

/* Direct random parameters (not dale_net_init): non-negative factors
 * U(0, 2)/sqrt(cols) (DANN EI U(0, 2)/ni, so EE - EI IE has mixed signs),
 * unconstrained matrices N(0, 1/cols), biases U(-0.2, 0.5). */
static void draw_params(dale_net *net, dale_rng *r)
{
    float *th = dale_net_theta(net);
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *p = dale_net_param(net, i);
        double s = 1.0 / sqrt((double)p->cols);
        int is_ei = strstr(p->name, "_EI") != NULL;
        for (size_t k = 0; k < p->rows * p->cols; k++) {
            double v;
            if (p->flags & DALE_P_BIAS) v = dale_rng_uniform(r, -0.2, 0.5);
            else if (p->flags & DALE_P_NONNEG) v = dale_rng_uniform(r, 0.0, 2.0) * (is_ei ? 1.0 / (double)p->cols : s);
            else v = dale_rng_normal(r, 0.0, s);
            th[p->offset + k] = (float)v;
        }
    }
}

typedef struct batch {
    size_t T, B, d, m, R;
    dale_loss_kind loss;
    float *x, *yt;          /* x (T, B, d); MSE targets (R, m) */
    double *xd, *ytd;
    float *w;               /* weighted kinds: weights (R) = (T, B) */
    double *wd;
    int32_t *labels;        /* CE labels (R) */
    size_t x_steps;         /* steps >= x_steps get zero input (0: none) */
} batch;

static int batch_alloc(batch *b, size_t T, size_t B, size_t d, size_t m, dale_loss_kind loss)
{
    b->T = T;
    b->B = B;
    b->d = d;
    b->m = m;
    b->loss = loss;
    b->x_steps = 0;
    b->R = loss == DALE_LOSS_CE_EVERY || loss == DALE_LOSS_CE_WEIGHTED ? T * B : B;
    b->w = malloc(b->R * sizeof *b->w);
    b->wd = malloc(b->R * sizeof *b->wd);
    fix_w = b->wd;
    b->x = malloc(T * B * d * sizeof *b->x);
    b->xd = malloc(T * B * d * sizeof *b->xd);
    b->yt = malloc(b->R * m * sizeof *b->yt);
    b->ytd = malloc(b->R * m * sizeof *b->ytd);
    b->labels = malloc(b->R * sizeof *b->labels);
    return b->x && b->xd && b->yt && b->ytd && b->labels && b->w && b->wd;
}

static void batch_free(batch *b)
{
    free(b->x);
    free(b->xd);
    free(b->yt);
    free(b->ytd);
    free(b->labels);
    free(b->w);
    free(b->wd);
}

static void batch_draw(batch *b, dale_rng *r)
{
    size_t nz = b->x_steps ? b->x_steps * b->B * b->d : b->T * b->B * b->d;
    for (size_t k = 0; k < b->T * b->B * b->d; k++) {
        b->x[k] = k < nz ? (float)dale_rng_normal(r, 0.0, 1.0) : 0.0f;
        b->xd[k] = (double)b->x[k];
    }
    for (size_t k = 0; k < b->R * b->m; k++) {
        b->yt[k] = (float)dale_rng_normal(r, 0.0, 1.0);
        b->ytd[k] = (double)b->yt[k];
    }
    for (size_t k = 0; k < b->R; k++) b->labels[k] = (int32_t)dale_rng_below(r, b->m);
    /* per-step weights: 0 on the first step (padding-like), else in [0.5, 2) */
    for (size_t k = 0; k < b->R && b->loss == DALE_LOSS_CE_WEIGHTED; k++) {
        b->w[k] = k < b->B ? 0.0f : (float)dale_rng_uniform(r, 0.5, 2.0);
        b->wd[k] = (double)b->w[k];
    }
}

/* The fixed noise stream of the current case (NULL: noiseless forwards). */
static const dale_rng *fix_rng;

static double lib_loss(const batch *b, const float *out, float *dout)
{
    if (b->loss == DALE_LOSS_MSE_LAST) return dale_loss_mse(out, b->yt, b->R, b->m, dout);
    if (b->loss == DALE_LOSS_CE_WEIGHTED)
        return dale_loss_ce_weighted_num(numerics, out, b->labels, b->w, b->R, b->m, dout, NULL, NULL, NULL);
    return dale_loss_ce_num(numerics, out, b->labels, b->R, b->m, dout, NULL);
}

/* Re-draw the batch until every ReLU pre-activation is at least `margin`
 * away from 0 (in the naive forward).  Returns 1 on success. */
static int draw_safe_batch(const dale_net *net, const double *th, batch *b, dale_rng *r, double margin)
{
    for (int tries = 0; tries < 200; tries++) {
        batch_draw(b, r);
        double mz;
        double L = naive_loss(net, th, b->xd, b->T, b->B, b->loss, b->ytd, b->labels, NULL, &mz);
        if (isfinite(L) && mz >= margin) return 1;
    }
    return 0;
}

/* Library forward + loss + backward at the current theta: fills out (R, m)
 * and grad (size); returns the loss. */
static double lib_grad(dale_net *net, const batch *b, float *out, float *dout, float *grad)
{
    const float *y = NULL;
    dale_net_set_noise(net, fix_rng);
    CHECK_OK(dale_net_forward(net, b->x, b->T, b->B, b->R == b->T * b->B, &y));
    dale_net_set_noise(net, NULL);
    if (!y) return (double)NAN;
    memcpy(out, y, b->R * b->m * sizeof *out);
    double L = lib_loss(b, out, dout) + dale_net_rate_penalty(net);
    dale_net_zero_grad(net);
    CHECK_OK(dale_net_backward(net, dout));
    memcpy(grad, dale_net_grad(net), dale_net_size(net) * sizeof *grad);
    return L;
}

/* Naive output/loss vs the library's. */
static void compare_forward(const char *label, dale_model_type type, const float *out, double Llib,
                            const double *yn, double Ln, size_t count, double rtol)
{
    double ymax = 0, worst = 0;
    for (size_t k = 0; k < count; k++) ymax = fmax(ymax, fabs(yn[k]));
    for (size_t k = 0; k < count; k++) {
        double e = fabs((double)out[k] - yn[k]) / (ymax + 1e-30);
        worst = fmax(worst, e);
    }
    double *got = malloc(count * sizeof *got);
    if (!got) return;
    for (size_t k = 0; k < count; k++) got[k] = (double)out[k];
    char buf[160];
    snprintf(buf, sizeof buf, "%s forward output", label);
    check_close_d(buf, got, yn, count, rtol * ymax, rtol);
    free(got);
    double le = fabs(Llib - Ln) / fmax(fabs(Ln), 1e-30);
    CHECK(le <= rtol, "%s: loss lib %.9g naive %.9g rel err %.3g", label, Llib, Ln, le);
    worst_fwd[type] = fmax(worst_fwd[type], fmax(worst, le));
}

/* ------------------------------------------------ 1–3: tiny-net FD check */

/* The noise sample a forward armed with a copy of *r draws, in the order
 * model.h documents: eta (T, B, d) with sd sqrt(2 / alpha) sigma_in, then per
 * cell (at most 2 here) eps (T, B, n) with sd sqrt(2 / a_j) sigma_rec (rate
 * form) or sqrt(2 a_j) sigma_rec (state form), each (float)(sd N(0, 1)).
 * a_j computed here from the config, not asked of the library. */
static void make_noise(const dale_net *net, size_t T, size_t B, const dale_rng *r0, double **eta, double **eps)
{
    const dale_net_config *cfg = dale_net_config_of(net);
    dale_rng r = *r0;
    size_t d = cfg->input, n = cfg->hidden;
    int relu = cfg->dynamics == DALE_DYN_RELU, state = cfg->dynamics == DALE_DYN_LEAKY_STATE;
    if (cfg->noise_in > 0) {
        double sd = sqrt(2.0 / (relu ? 1.0 : cfg->alpha)) * cfg->noise_in;
        *eta = malloc(T * B * d * sizeof **eta);
        for (size_t k = 0; *eta && k < T * B * d; k++) (*eta)[k] = (double)(float)(sd * dale_rng_normal(&r, 0.0, 1.0));
        fix_eta = *eta;
    }
    if (cfg->noise_rec > 0) {
        size_t ni = cfg->type == DALE_MODEL_COLEI ? (size_t)ceil((double)n / (cfg->ei_ratio + 1.0)) : 0;
        for (size_t l = 0; l < cfg->layers && l < 2; l++) {
            eps[l] = malloc(T * B * n * sizeof *eps[l]);
            for (size_t k = 0; eps[l] && k < T * B * n; k++) {
                size_t j = k % n;
                double a = relu ? 1.0 : j >= n - ni && cfg->alpha_i > 0 ? cfg->alpha_i : cfg->alpha;
                double sd = (state ? sqrt(2.0 * a) : sqrt(2.0 / a)) * cfg->noise_rec;
                eps[l][k] = (double)(float)(sd * dale_rng_normal(&r, 0.0, 1.0));
            }
            fix_eps[l] = eps[l];
        }
    }
}

static void run_case(const gc_case *c, uint64_t seed, int plan_slack)
{
    char label[128];
    case_label(c, label, sizeof label);
    dale_net_config cfg;
    case_config(c, &cfg);
    dale_net *net = NULL;
    CHECK_OK(dale_net_create(&cfg, &net));
    if (!net) return;
    check_table(net, &cfg, label);
    dale_rng r;
    dale_rng_seed(&r, seed);
    draw_params(net, &r);
    size_t P = dale_net_size(net);
    /* Half the cases plan for more than they run, so strides must use (T, B). */
    CHECK_OK(dale_net_plan(net, c->T + (plan_slack ? 2 : 0), c->B + (plan_slack ? 1 : 0)));
    batch b;
    dale_rng nr;
    double *eta = NULL, *eps[2] = {NULL, NULL};
    double *th = malloc(P * sizeof *th), *gfd = malloc(P * sizeof *gfd), *yn = NULL;
    float *out = NULL, *dout = NULL, *glib = malloc(P * sizeof *glib);
    int ok = batch_alloc(&b, c->T, c->B, c->d, c->m, c->loss) && th && gfd && glib;
    b.x_steps = c->x_steps;
    if (ok) {
        yn = malloc(b.R * c->m * sizeof *yn);
        out = malloc(b.R * c->m * sizeof *out);
        dout = malloc(b.R * c->m * sizeof *dout);
        ok = yn && out && dout;
    }
    CHECK(ok, "%s: out of memory", label);
    if (!ok) goto done;
    const float *theta = dale_net_theta(net);
    for (size_t k = 0; k < P; k++) th[k] = (double)theta[k];
    if (c->noise_rec > 0 || c->noise_in > 0) {
        dale_rng_seed(&nr, seed + 7777);
        fix_rng = &nr;
        make_noise(net, c->T, c->B, &nr, &eta, eps);
    }
    if (!draw_safe_batch(net, th, &b, &r, 1e-3)) {
        CHECK(0, "%s: no batch keeps pre-activations 1e-3 away from 0", label);
        goto done;
    }

    /* 1. forward */
    double Llib = lib_grad(net, &b, out, dout, glib);
    double mz;
    double Ln = naive_loss(net, th, b.xd, b.T, b.B, b.loss, b.ytd, b.labels, yn, &mz);
    compare_forward(label, c->type, out, Llib, yn, Ln, b.R * c->m, 1e-5);

    /* 2. central differences of the naive double loss, every raw entry */
    for (size_t k = 0; k < P; k++) {
        double t0 = th[k], h = 1e-5 * fmax(fabs(t0), 0.1);
        th[k] = t0 + h;
        double Lp = naive_loss(net, th, b.xd, b.T, b.B, b.loss, b.ytd, b.labels, NULL, NULL);
        th[k] = t0 - h;
        double Lm = naive_loss(net, th, b.xd, b.T, b.B, b.loss, b.ytd, b.labels, NULL, NULL);
        th[k] = t0;
        gfd[k] = (Lp - Lm) / (2 * h);
    }
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *p = dale_net_param(net, i);
        size_t cnt = p->rows * p->cols;
        double dn = 0, fn = 0, ew = 0;
        double *gl = malloc(cnt * sizeof *gl);
        if (!gl) continue;
        for (size_t k = 0; k < cnt; k++) {
            double g = (double)glib[p->offset + k], f = gfd[p->offset + k];
            gl[k] = g;
            dn += (g - f) * (g - f);
            fn += f * f;
            ew = fmax(ew, fabs(g - f) / (1e-4 + 1e-2 * fabs(f)));
        }
        dn = sqrt(dn);
        fn = sqrt(fn);
        double rel = dn / fmax(fn, 1e-12);
        char buf[200];
        snprintf(buf, sizeof buf, "%s grad %s", label, p->name);
        check_close_d(buf, gl, gfd + p->offset, cnt, 1e-4, 1e-2);
        CHECK(rel < 1e-3, "%s: ‖g_lib − g_fd‖/‖g_fd‖ = %.3g (‖g_fd‖ %.3g)", buf, rel, fn);
        CHECK(fn > 1e-7, "%s: trivial gradient ‖g_fd‖ = %.3g", buf, fn);
        worst_grad[c->type] = fmax(worst_grad[c->type], rel);
        group_grad[c->type] = fmax(group_grad[c->type], rel);
        worst_elem[c->type] = fmax(worst_elem[c->type], ew);
        free(gl);
    }
done:
    fix_rng = NULL;
    fix_eta = fix_eps[0] = fix_eps[1] = NULL;
    free(eta);
    free(eps[0]);
    free(eps[1]);
    batch_free(&b);
    free(th);
    free(gfd);
    free(glib);
    free(yn);
    free(out);
    free(dout);
    dale_net_free(net);
}

static const dale_model_type all_types[] = {DALE_MODEL_RNN, DALE_MODEL_COLEI, DALE_MODEL_DANN};

static gc_case tiny_case(dale_model_type t, size_t L, dale_loss_kind loss)
{
    gc_case c = {0};
    c.type = t;
    c.d = 3;
    c.L = L;
    c.n = 5;
    c.m = 3;
    c.loss = loss;
    c.T = 4;
    c.B = 3;
    c.ratio = 3.0; /* ColEI: nI = ceil(5/4) = 2 of 5 */
    if (t == DALE_MODEL_DANN) {
        c.ni_in = 2; /* distinct counts so an in/rec/out mix-up cannot pass */
        c.ni_rec = 3;
        c.ni_out = 2;
    }
    return c;
}

static void print_group(const char *group, int ncases, int fails_before)
{
    printf("gradcheck %s%-12s %2d cases, %s; worst ‖Δg‖/‖g‖ rnn %.2e colei %.2e dann %.2e\n",
           numerics == DALE_NUMERICS_DALE ? "numerics=dale " : "", group, ncases,
           check_fail_count == fails_before ? "ok" : "FAILURES", group_grad[0], group_grad[1], group_grad[2]);
    memset(group_grad, 0, sizeof group_grad);
}

static void test_grid(void)
{
    int f0 = check_fail_count, n = 0;
    uint64_t seed = 100;
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t L = 1; L <= 2; L++)
            for (int loss = 0; loss < 3; loss++) {
                gc_case c = tiny_case(all_types[ti], L, (dale_loss_kind)loss);
                run_case(&c, seed++, n % 2);
                n++;
            }
    print_group("grid", n, f0);
}

static void test_dense(void)
{
    int f0 = check_fail_count, n = 0;
    uint64_t seed = 200;
    for (size_t ti = 0; ti < 3; ti++) {
        /* one ReLU dense layer, every-step CE */
        gc_case c = tiny_case(all_types[ti], 1, DALE_LOSS_CE_EVERY);
        c.ndense = 1;
        c.dense[0] = 4;
        run_case(&c, seed++, 0);
        n++;
        /* two dense layers after two cells, last-step MSE and CE */
        c = tiny_case(all_types[ti], 2, DALE_LOSS_MSE_LAST);
        c.ndense = 2;
        c.dense[0] = 6;
        c.dense[1] = 4;
        run_case(&c, seed++, 1);
        n++;
        c.loss = DALE_LOSS_CE_LAST;
        run_case(&c, seed++, 0);
        n++;
    }
    print_group("dense", n, f0);
}

static void test_variants(void)
{
    int f0 = check_fail_count, n = 0;
    uint64_t seed = 300;
    /* DANN with one inhibitory unit everywhere (auto counts at ratio 9). */
    gc_case c = tiny_case(DALE_MODEL_DANN, 2, DALE_LOSS_CE_LAST);
    c.ratio = 9.0;
    c.ni_in = c.ni_rec = c.ni_out = 0;
    run_case(&c, seed++, 0);
    n++;
    c.loss = DALE_LOSS_MSE_LAST;
    c.ndense = 1;
    c.dense[0] = 4;
    run_case(&c, seed++, 1);
    n++;
    /* DANN with a wider readout and several inhibitory units on every side. */
    c = tiny_case(DALE_MODEL_DANN, 2, DALE_LOSS_CE_EVERY);
    c.m = 6;
    c.ni_in = 3;
    c.ni_rec = 2;
    c.ni_out = 4;
    run_case(&c, seed++, 0);
    n++;
    /* ColEI with nI = 1 (ratio 9 on 5 units) and nI = 3 (ratio 1: 2 E / 3 I). */
    c = tiny_case(DALE_MODEL_COLEI, 2, DALE_LOSS_MSE_LAST);
    c.ratio = 9.0;
    run_case(&c, seed++, 1);
    n++;
    c = tiny_case(DALE_MODEL_COLEI, 2, DALE_LOSS_CE_EVERY);
    c.ratio = 1.0;
    c.ndense = 1;
    c.dense[0] = 4;
    run_case(&c, seed++, 0);
    n++;
    /* Wider input than hidden, longer sequence. */
    for (size_t ti = 0; ti < 3; ti++) {
        c = tiny_case(all_types[ti], 2, DALE_LOSS_CE_LAST);
        c.d = 7;
        c.n = 4;
        c.T = 6;
        c.B = 2;
        run_case(&c, seed++, 1);
        n++;
    }
    /* Input at the first steps only, zero after (the objrec layout, where the
     * forward and backward skip the zero steps of the input product). */
    for (size_t ti = 0; ti < 3; ti++)
        for (size_t xs = 1; xs <= 2; xs++) {
            c = tiny_case(all_types[ti], 2, xs == 1 ? DALE_LOSS_CE_LAST : DALE_LOSS_CE_EVERY);
            c.T = 5;
            c.x_steps = xs;
            run_case(&c, seed++, (int)xs - 1);
            n++;
        }
    /* DANN with a wide input shown at the first step only (objrec's shape):
     * numerics = dale takes that input map's gradient through its factors */
    c = tiny_case(DALE_MODEL_DANN, 1, DALE_LOSS_CE_LAST);
    c.d = 60;
    c.x_steps = 1;
    run_case(&c, seed++, 0);
    n++;
    print_group("variants", n, f0);
}

/* Leaky cell dynamics: h_t = (1 - a) h_{t-1} + a relu(z_t), every model,
 * one and two cells, dense layers, zero trailing input steps, a = 1. */
static void test_leaky(void)
{
    int f0 = check_fail_count, n = 0;
    uint64_t seed = 500;
    for (size_t ti = 0; ti < 3; ti++) {
        gc_case c = tiny_case(all_types[ti], 2, DALE_LOSS_CE_EVERY);
        c.alpha = 0.3;
        c.ndense = 1;
        c.dense[0] = 4;
        run_case(&c, seed++, 0);
        n++;
        c = tiny_case(all_types[ti], 1, DALE_LOSS_MSE_LAST);
        c.alpha = 0.7;
        c.T = 6;
        run_case(&c, seed++, 1);
        n++;
        c = tiny_case(all_types[ti], 2, DALE_LOSS_CE_LAST);
        c.alpha = 0.5;
        c.T = 5;
        c.x_steps = 1;
        run_case(&c, seed++, 0);
        n++;
        c = tiny_case(all_types[ti], 1, DALE_LOSS_CE_EVERY);
        c.alpha = 1.0;
        run_case(&c, seed++, 1);
        n++;
    }
    print_group("leaky", n, f0);

    /* a = 1 is the discrete ReLU cell (through the generic step, not the
     * fused kernels): same outputs and gradients to float round-off. */
    for (size_t ti = 0; ti < 3; ti++) {
        gc_case c = tiny_case(all_types[ti], 2, DALE_LOSS_CE_EVERY);
        c.n = 20;
        c.T = 6;
        dale_net_config cr, cl;
        case_config(&c, &cr);
        c.alpha = 1.0;
        case_config(&c, &cl);
        dale_net *nr = NULL, *nl = NULL;
        CHECK_OK(dale_net_create(&cr, &nr));
        CHECK_OK(dale_net_create(&cl, &nl));
        if (!nr || !nl) {
            dale_net_free(nr);
            dale_net_free(nl);
            continue;
        }
        dale_rng r;
        dale_rng_seed(&r, 600 + ti);
        CHECK_OK(dale_net_init(nr, &r));
        size_t P = dale_net_size(nr);
        memcpy(dale_net_theta(nl), dale_net_theta(nr), P * sizeof(float));
        size_t R = c.T * c.B, X = c.T * c.B * c.d;
        float *x = malloc(X * sizeof *x), *dout = malloc(R * c.m * sizeof *dout);
        float *yr = malloc(R * c.m * sizeof *yr);
        if (x && dout && yr) {
            for (size_t k = 0; k < X; k++) x[k] = (float)dale_rng_uniform01(&r);
            for (size_t k = 0; k < R * c.m; k++) dout[k] = (float)dale_rng_normal(&r, 0.0, 0.1);
            const float *y = NULL;
            CHECK_OK(dale_net_plan(nr, c.T, c.B));
            CHECK_OK(dale_net_plan(nl, c.T, c.B));
            CHECK_OK(dale_net_forward(nr, x, c.T, c.B, 1, &y));
            if (y) memcpy(yr, y, R * c.m * sizeof *yr);
            CHECK_OK(dale_net_forward(nl, x, c.T, c.B, 1, &y));
            if (y) check_close("leaky a=1 vs relu: output", y, yr, R * c.m, 1e-6, 1e-5);
            dale_net_zero_grad(nr);
            dale_net_zero_grad(nl);
            CHECK_OK(dale_net_backward(nr, dout));
            CHECK_OK(dale_net_backward(nl, dout));
            check_close("leaky a=1 vs relu: gradient", dale_net_grad(nl), dale_net_grad(nr), P, 1e-6, 1e-4);
        }
        free(x);
        free(dout);
        free(yr);
        dale_net_free(nr);
        dale_net_free(nl);
    }
}

/* Both leaky forms x every model with per-unit rates (ColEI's E and I
 * alphas differ), a fixed noise sample (recurrent and input), per-step
 * loss weights with a zero-weight step, a learned h_0 and the rate
 * penalty; and the discrete ReLU cell with noise and h_0 (the generic
 * step with a = 1). */
static void test_dynamics(void)
{
    int f0 = check_fail_count, n = 0;
    uint64_t seed = 700;
    for (int st = 0; st < 2; st++)
        for (size_t ti = 0; ti < 3; ti++) {
            /* everything at once: 2 cells, a dense layer, weighted CE */
            gc_case c = tiny_case(all_types[ti], 2, DALE_LOSS_CE_WEIGHTED);
            c.alpha = 0.2;
            c.state = st;
            c.alpha_i = all_types[ti] == DALE_MODEL_COLEI ? 0.5 : 0.0;
            c.noise_rec = 0.1;
            c.noise_in = 0.2;
            c.h0 = 1;
            c.rate_l2 = 0.05;
            c.ndense = 1;
            c.dense[0] = 4;
            run_case(&c, seed++, 0);
            n++;
            /* h_0 alone, last-step MSE */
            c = tiny_case(all_types[ti], 1, DALE_LOSS_MSE_LAST);
            c.alpha = 0.5;
            c.state = st;
            c.h0 = 1;
            c.T = 6;
            run_case(&c, seed++, 1);
            n++;
            /* recurrent noise with an input at the first step only, every-step CE */
            c = tiny_case(all_types[ti], 2, DALE_LOSS_CE_EVERY);
            c.alpha = 0.3;
            c.state = st;
            c.alpha_i = all_types[ti] == DALE_MODEL_COLEI ? 1.0 : 0.0;
            c.noise_rec = 0.2;
            c.T = 5;
            c.x_steps = 1;
            run_case(&c, seed++, 0);
            n++;
            /* rate penalty alone */
            c = tiny_case(all_types[ti], 1, DALE_LOSS_CE_LAST);
            c.alpha = 0.7;
            c.state = st;
            c.rate_l2 = 0.3;
            run_case(&c, seed++, 1);
            n++;
        }
    for (size_t ti = 0; ti < 3; ti++) {
        gc_case c = tiny_case(all_types[ti], 2, DALE_LOSS_CE_WEIGHTED);
        c.noise_rec = 0.1;
        c.noise_in = 0.1;
        c.h0 = 1;
        c.rate_l2 = 0.1;
        run_case(&c, seed++, 1);
        n++;
        c = tiny_case(all_types[ti], 1, DALE_LOSS_MSE_LAST);
        c.rate_l2 = 0.2; /* the fused ReLU path with the penalty */
        run_case(&c, seed++, 0);
        n++;
    }
    print_group("dynamics", n, f0);
}

/* --------------------------------------- 4: directional check, bigger nets */

static void test_directional(void)
{
    int f0 = check_fail_count, n = 0;
    /* relu first (its seeds 400.. as always), then the leaky dynamics, then
     * the state form with noise, a learned h0 and the rate penalty */
    for (int dyn = 0; dyn < 3; dyn++)
    for (size_t ti = 0; ti < 3; ti++)
        for (int li = 0; li < 2; li++) {
            dale_loss_kind loss = li ? DALE_LOSS_CE_EVERY : DALE_LOSS_MSE_LAST;
            gc_case c = {0};
            c.alpha = dyn ? 0.4 : 0.0;
            if (dyn == 2) {
                c.state = 1;
                c.alpha_i = all_types[ti] == DALE_MODEL_COLEI ? 0.8 : 0.0;
                c.noise_rec = 0.05;
                c.noise_in = 0.05;
                c.h0 = 1;
                c.rate_l2 = 0.01;
            }
            c.type = all_types[ti];
            c.d = 6;
            c.L = 2;
            c.n = 30;
            c.m = 4;
            c.loss = loss;
            c.T = 10;
            c.B = 4;
            c.ratio = 9.0;
            char label[128];
            case_label(&c, label, sizeof label);
            dale_net_config cfg;
            case_config(&c, &cfg);
            dale_net *net = NULL;
            CHECK_OK(dale_net_create(&cfg, &net));
            if (!net) continue;
            dale_rng r;
            dale_rng_seed(&r, 400 + (uint64_t)n);
            n++;
            /* The reference init, plus small random biases (init leaves them 0). */
            CHECK_OK(dale_net_init(net, &r));
            float *theta = dale_net_theta(net);
            for (size_t i = 0; i < dale_net_nparams(net); i++) {
                const dale_param *p = dale_net_param(net, i);
                if (p->flags & DALE_P_BIAS)
                    for (size_t k = 0; k < p->rows; k++)
                        theta[p->offset + k] = (float)dale_rng_uniform(&r, -0.1, 0.1);
            }
            size_t P = dale_net_size(net);
            CHECK_OK(dale_net_plan(net, c.T, c.B));
            batch b;
            double *th = malloc(P * sizeof *th), *tv = malloc(P * sizeof *tv), *v = malloc(P * sizeof *v);
            float *glib = malloc(P * sizeof *glib);
            double *yn = NULL;
            float *out = NULL, *dout = NULL;
            int ok = batch_alloc(&b, c.T, c.B, c.d, c.m, loss) && th && tv && v && glib;
            if (ok) {
                yn = malloc(b.R * c.m * sizeof *yn);
                out = malloc(b.R * c.m * sizeof *out);
                dout = malloc(b.R * c.m * sizeof *dout);
                ok = yn && out && dout;
            }
            CHECK(ok, "%s: out of memory", label);
            dale_rng nr;
            double *eta = NULL, *eps[2] = {NULL, NULL};
            if (ok && dyn == 2) {
                /* a learned h0 away from 0 (init leaves it 0), then the noise sample */
                const dale_param *p0 = find_param(net, "cell0", "h0");
                const dale_param *p1 = find_param(net, "cell1", "h0");
                for (size_t k = 0; p0 && p1 && k < c.n; k++) {
                    theta[p0->offset + k] = (float)dale_rng_uniform(&r, -0.3, 0.5);
                    theta[p1->offset + k] = (float)dale_rng_uniform(&r, -0.3, 0.5);
                }
                dale_rng_seed(&nr, 4242 + (uint64_t)n);
                fix_rng = &nr;
                make_noise(net, c.T, c.B, &nr, &eta, eps);
            }
            if (ok) {
                for (size_t k = 0; k < P; k++) th[k] = (double)theta[k];
                ok = draw_safe_batch(net, th, &b, &r, 1e-4);
                CHECK(ok, "%s: no batch keeps pre-activations 1e-4 away from 0", label);
            }
            if (ok) {
                double Llib = lib_grad(net, &b, out, dout, glib);
                double Ln = naive_loss(net, th, b.xd, b.T, b.B, loss, b.ytd, b.labels, yn, NULL);
                compare_forward(label, c.type, out, Llib, yn, Ln, b.R * c.m, 1e-5);
                for (int dir = 0; dir < 3; dir++) {
                    double vn = 0, gv = 0;
                    for (size_t k = 0; k < P; k++) {
                        v[k] = dale_rng_normal(&r, 0.0, 1.0);
                        vn += v[k] * v[k];
                    }
                    vn = sqrt(vn);
                    for (size_t k = 0; k < P; k++) {
                        v[k] /= vn;
                        gv += (double)glib[k] * v[k];
                    }
                    /* h 1e-6 on a unit v moves every pre-activation far less than the 1e-4 margin. */
                    const double h = 1e-6;
                    for (size_t k = 0; k < P; k++) tv[k] = th[k] + h * v[k];
                    double Lp = naive_loss(net, tv, b.xd, b.T, b.B, loss, b.ytd, b.labels, NULL, NULL);
                    for (size_t k = 0; k < P; k++) tv[k] = th[k] - h * v[k];
                    double Lm = naive_loss(net, tv, b.xd, b.T, b.B, loss, b.ytd, b.labels, NULL, NULL);
                    double fd = (Lp - Lm) / (2 * h);
                    double rel = fabs(gv - fd) / fmax(fabs(fd), 1e-12);
                    CHECK(rel < 1e-3, "%s: direction %d: g·v %.9g, FD %.9g, rel err %.3g", label, dir, gv, fd, rel);
                    CHECK(fabs(fd) > 1e-9, "%s: direction %d: trivial derivative %.3g", label, dir, fd);
                    worst_dir[c.type] = fmax(worst_dir[c.type], rel);
                }
            }
            fix_rng = NULL;
            fix_eta = fix_eps[0] = fix_eps[1] = NULL;
            free(eta);
            free(eps[0]);
            free(eps[1]);
            batch_free(&b);
            free(th);
            free(tv);
            free(v);
            free(glib);
            free(yn);
            free(out);
            free(dout);
            dale_net_free(net);
        }
    printf("gradcheck %s%-12s %2d cases, %s; worst |g·v − FD|/|FD| rnn %.2e colei %.2e dann %.2e\n",
           numerics == DALE_NUMERICS_DALE ? "numerics=dale " : "", "directional", n, check_fail_count == f0 ? "ok" : "FAILURES", worst_dir[0], worst_dir[1], worst_dir[2]);
}

/* ------------------------------------------- 5: state, shape, accumulation */

static void test_state(void)
{
    int f0 = check_fail_count, n = 0;
    for (size_t ti = 0; ti < 3; ti++) {
        gc_case c = tiny_case(all_types[ti], 2, DALE_LOSS_MSE_LAST);
        char label[128];
        case_label(&c, label, sizeof label);
        dale_net_config cfg;
        case_config(&c, &cfg);
        dale_net *net = NULL;
        CHECK_OK(dale_net_create(&cfg, &net));
        if (!net) continue;
        n++;
        dale_rng r;
        dale_rng_seed(&r, 500 + ti);
        draw_params(net, &r);
        size_t P = dale_net_size(net);
        batch b;
        float *g1 = malloc(P * sizeof *g1), *out = malloc(c.B * c.m * sizeof *out);
        float *dout = malloc(c.B * c.m * sizeof *dout), *big = NULL;
        int ok = batch_alloc(&b, c.T, c.B, c.d, c.m, c.loss) && g1 && out && dout;
        if (ok) big = calloc((c.T + 1) * (c.B + 1) * c.d, sizeof *big);
        CHECK(ok && big, "%s: out of memory", label);
        if (ok && big) {
            batch_draw(&b, &r);
            for (size_t k = 0; k < c.B * c.m; k++) dout[k] = 0.1f;
            CHECK_OK(dale_net_plan(net, c.T, c.B));
            dale_net_zero_grad(net);
            /* backward with no forward */
            dale_status st = dale_net_backward(net, dout);
            CHECK(st == DALE_ERR_STATE, "%s: backward before any forward -> %d, expected DALE_ERR_STATE", label,
                  (int)st);
            const float *y = NULL;
            /* forward larger than the plan */
            st = dale_net_forward(net, big, c.T + 1, c.B, 0, &y);
            CHECK(st == DALE_ERR_SHAPE, "%s: forward T %zu > plan %zu -> %d, expected DALE_ERR_SHAPE", label,
                  c.T + 1, c.T, (int)st);
            st = dale_net_forward(net, big, c.T, c.B + 1, 0, &y);
            CHECK(st == DALE_ERR_SHAPE, "%s: forward B %zu > plan %zu -> %d, expected DALE_ERR_SHAPE", label,
                  c.B + 1, c.B, (int)st);
            st = dale_net_backward(net, dout);
            CHECK(st == DALE_ERR_STATE, "%s: backward after failed forwards -> %d, expected DALE_ERR_STATE",
                  label, (int)st);
            /* one forward, two backwards */
            CHECK_OK(dale_net_forward(net, b.x, c.T, c.B, 0, &y));
            CHECK_OK(dale_net_backward(net, dout));
            st = dale_net_backward(net, dout);
            CHECK(st == DALE_ERR_STATE, "%s: second backward after one forward -> %d, expected DALE_ERR_STATE",
                  label, (int)st);
            /* accumulation: two forward+backward without zeroing = 2x one */
            dale_net_zero_grad(net);
            CHECK_OK(dale_net_forward(net, b.x, c.T, c.B, 0, &y));
            if (y) dale_loss_mse(y, b.yt, c.B, c.m, dout);
            CHECK_OK(dale_net_backward(net, dout));
            memcpy(g1, dale_net_grad(net), P * sizeof *g1);
            double gmax = 0;
            for (size_t k = 0; k < P; k++) {
                gmax = fmax(gmax, fabs((double)g1[k]));
                g1[k] *= 2.0f;
            }
            CHECK(gmax > 1e-6, "%s: trivial gradient (max %.3g)", label, gmax);
            CHECK_OK(dale_net_forward(net, b.x, c.T, c.B, 0, &y));
            if (y) dale_loss_mse(y, b.yt, c.B, c.m, dout);
            CHECK_OK(dale_net_backward(net, dout));
            char buf[200];
            snprintf(buf, sizeof buf, "%s accumulated gradient = 2 x single", label);
            check_close(buf, dale_net_grad(net), g1, P, 1e-6 * gmax, 1e-5);
        }
        batch_free(&b);
        free(g1);
        free(out);
        free(dout);
        free(big);
        dale_net_free(net);
    }
    printf("gradcheck %-12s %2d cases, %s\n", "state/shape", n, check_fail_count == f0 ? "ok" : "FAILURES");
}

int main(void)
{
    clock_t t0 = clock();
    test_state();
    test_grid();
    test_dense();
    test_variants();
    test_leaky();
    test_dynamics();
    test_directional();
    numerics = DALE_NUMERICS_DALE;
    test_grid();
    test_dense();
    test_variants();
    test_leaky();
    test_dynamics();
    test_directional();
    printf("gradcheck worst naive-vs-lib forward rel err: rnn %.2e colei %.2e dann %.2e; "
           "worst per-tensor ‖Δg‖/‖g‖: rnn %.2e colei %.2e dann %.2e; "
           "worst per-element |Δ|/(1e-4+1e-2|fd|): rnn %.2e colei %.2e dann %.2e (%.2fs)\n",
           worst_fwd[0], worst_fwd[1], worst_fwd[2], worst_grad[0], worst_grad[1], worst_grad[2],
           worst_elem[0], worst_elem[1], worst_elem[2],
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    return check_done("test_gradcheck");
}
