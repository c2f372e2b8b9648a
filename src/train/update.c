/* update.c — the reference update policies on the parameter table
 * (docs/reference-behaviour.md, Update order).
 *
 * Works on the flat theta/grad buffers and the parameter table's flags
 * only; it never sees a model's type, a parameter's name or its internals.  Order (fixed): weight
 * penalty gradient -> inhibitory scaling -> clipping -> SGD or Adam step ->
 * projection / sign freezing -> connectivity masks.  Norms are accumulated
 * in double.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include "dale/train.h"
#include "internal.h"
#include "linalg/kernels.h"

static const char *const scope_names[] = {"tensor", "layer", "global"};
static const char *const optimizer_names[] = {"sgd", "adam"};

const char *dale_optimizer_name(dale_optimizer o)
{
    return (unsigned)o < 2 ? optimizer_names[o] : "?";
}

dale_status dale_optimizer_parse(const char *s, dale_optimizer *out)
{
    for (unsigned i = 0; i < 2; i++)
        if (s && !strcmp(s, optimizer_names[i])) {
            *out = (dale_optimizer)i;
            return DALE_OK;
        }
    return DALE_FAIL(DALE_ERR_ARG, "--optimizer: unknown optimiser '%s' (expected sgd or adam)", s ? s : "(null)");
}

dale_status dale_adam_init(dale_adam *a, size_t size)
{
    dale_adam_free(a);
    a->m = dalei_calloc(size ? size : 1, sizeof(float));
    a->v = dalei_calloc(size ? size : 1, sizeof(float));
    if (!a->m || !a->v) {
        dale_adam_free(a);
        return DALE_ERR_NOMEM;
    }
    a->size = size;
    a->t = 0;
    return DALE_OK;
}

void dale_adam_free(dale_adam *a)
{
    if (!a) return;
    dalei_free(a->m);
    dalei_free(a->v);
    a->m = a->v = NULL;
    a->size = 0;
    a->t = 0;
}

/* The weight matrices a penalty covers: every parameter but the biases. */
static int penalised(const dale_param *q) { return !(q->flags & DALE_P_BIAS); }

double dale_weight_l2(dale_net *net, double lambda)
{
    if (!(lambda > 0)) return 0.0;
    const float *th = dale_net_theta(net);
    double s = 0;
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        if (!penalised(q)) continue;
        for (size_t k = 0; k < q->rows * q->cols; k++) s += (double)th[q->offset + k] * (double)th[q->offset + k];
    }
    return lambda * s;
}

const char *dale_clip_scope_name(dale_clip_scope s)
{
    return (unsigned)s < 3 ? scope_names[s] : "?";
}

void dale_update_policy_default(dale_model_type t, double clip, dale_update_policy *p)
{
    const dale_model_info *m = dale_model_of(t);
    dale_update_policy_for(m ? m->traits : 0u, clip, p);
}

void dale_update_policy_for(unsigned traits, double clip, dale_update_policy *p)
{
    memset(p, 0, sizeof *p);
    p->clip = clip;
    p->scope = (traits & DALE_MODEL_CLIP_TENSOR) ? DALE_CLIP_TENSOR : DALE_CLIP_LAYER;
    p->inhib_scale = (traits & DALE_MODEL_INHIB_SCALE) != 0;
    p->project = (traits & DALE_MODEL_PROJECT) != 0;
    p->optimizer = DALE_OPT_SGD;
    p->beta1 = 0.9; /* Adam's defaults, used only when optimizer is adam */
    p->beta2 = 0.999;
    p->adam_eps = 1e-8;
}

dale_status dale_signs_record(dale_signs *sg, dale_net *net)
{
    size_t n = dale_net_size(net);
    if (!sg->s) {
        sg->s = dalei_alloc(n, sizeof(float));
        if (!sg->s) return DALE_ERR_NOMEM;
    }
    sg->size = n;
    const float *th = dale_net_theta(net);
    for (size_t k = 0; k < n; k++) sg->s[k] = th[k] > 0.0f ? 1.0f : (th[k] < 0.0f ? -1.0f : 0.0f);
    return DALE_OK;
}

void dale_signs_free(dale_signs *sg)
{
    dalei_free(sg->s);
    sg->s = NULL;
    sg->size = 0;
}

static double sumsq(const float *g, size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++) s += (double)g[k] * (double)g[k];
    return s;
}

/* The elementwise passes of an update run on the kernels' pool with
 * --threads N (dalei_par_range: contiguous ranges, each element computed
 * as in one thread, so the same bits for every N). */
struct ew_job {
    float *a;
    float *b;
    double f;  /* scale, or the clip factor the SGD step applies first (1: none) */
    float lr;
    _Atomic size_t set; /* projection: entries set to 0 */
};

/* g = (float)(g f): clipping and the inhibitory gradient scaling */
static void clip_loop(float *g, size_t lo, size_t hi, double f)
{
    for (size_t k = lo; k < hi; k++) g[k] = (float)((double)g[k] * f);
}

static void scale_range(void *arg, size_t lo, size_t hi)
{
    const struct ew_job *j = arg;
    clip_loop(j->a, lo, hi, j->f);
}

static void scale(float *g, size_t n, double f)
{
    struct ew_job j = {.a = g, .f = f};
    dalei_par_range(n, 16, n, scale_range, &j);
}

static void project_range(void *arg, size_t lo, size_t hi)
{
    struct ew_job *j = arg;
    float *w = j->a;
    size_t c = 0;
    for (size_t k = lo; k < hi; k++)
        if (w[k] < 0.0f) { w[k] = 0.0f; c++; }
    atomic_fetch_add_explicit(&j->set, c, memory_order_relaxed);
}

/* The SGD step th -= lr g, on the clipped gradient when the norm was
 * clipped: g = (float)(g f) is stored back (the gradient a caller reads
 * afterwards is the clipped one, as before) and stepped with right away,
 * block by block while the block is in L1; the same values as scale_range
 * over the whole tensor followed by the step, one pass over g fewer.  With
 * `project` (a non-negative tensor) an entry that goes negative is set to
 * 0, as project_range would.  Each loop stays simple enough for GCC to
 * vectorise (one fused loop with the clip and the count was not). */
#define SGD_BLOCK 1024
static void step_loop(float *th, const float *g, size_t lo, size_t hi, float flr)
{
    for (size_t k = lo; k < hi; k++) th[k] -= flr * g[k];
}

static size_t step_project_loop(float *th, const float *g, size_t lo, size_t hi, float flr)
{
    size_t c = 0;
    for (size_t k = lo; k < hi; k++) {
        th[k] -= flr * g[k];
        if (th[k] < 0.0f) { th[k] = 0.0f; c++; }
    }
    return c;
}

static size_t sgd_core(float *th, float *g, size_t lo, size_t hi, float flr, double f, int project)
{
    size_t c = 0;
    for (size_t b = lo; b < hi; b += SGD_BLOCK) {
        const size_t e = hi - b < SGD_BLOCK ? hi : b + SGD_BLOCK;
        if (f != 1.0) clip_loop(g, b, e, f);
        if (project) c += step_project_loop(th, g, b, e, flr);
        else step_loop(th, g, b, e, flr);
    }
    return c;
}

static void sgd_project_range(void *arg, size_t lo, size_t hi)
{
    struct ew_job *j = arg;
    size_t c = sgd_core(j->a, j->b, lo, hi, j->lr, j->f, 1);
    atomic_fetch_add_explicit(&j->set, c, memory_order_relaxed);
}

static void sgd_range(void *arg, size_t lo, size_t hi)
{
    const struct ew_job *j = arg;
    sgd_core(j->a, j->b, lo, hi, j->lr, j->f, 0);
}

dale_status dale_update_apply(dale_net *net, const dale_update_policy *p, double lr,
                              dale_signs *signs, dale_update_stats *stats)
{
    return dale_update_apply_opt(net, p, lr, signs, NULL, stats);
}

/* Adam's step (3) on all n theta entries; a->t already counts this step.
 * Float32 throughout, in the order of torch.optim.Adam's single-tensor
 * step for a float32 parameter (lerp, mul + addcmul, sqrt / div + eps,
 * addcdiv), its scalars rounded to float as torch does:
 *   m = m + (1 - b1) (g - m);  v = b2 v + (1 - b2) g g;
 *   p = p + ((-lr / bc1) m) / (sqrt(v) / sqrt(bc2) + eps). */
static void adam_step(float *th, const float *g, dale_adam *a, size_t n, double lr, const dale_update_policy *p)
{
    const double bc1 = 1.0 - pow(p->beta1, (double)a->t), bc2 = 1.0 - pow(p->beta2, (double)a->t);
    const float w1 = (float)(1.0 - p->beta1), b2 = (float)p->beta2, w2 = (float)(1.0 - p->beta2);
    const float step = (float)(-(lr / bc1)), sbc2 = (float)sqrt(bc2), eps = (float)p->adam_eps;
    float *m = a->m, *v = a->v;
    for (size_t k = 0; k < n; k++) {
        float gk = g[k];
        m[k] = m[k] + w1 * (gk - m[k]);
        v[k] = v[k] * b2 + w2 * (gk * gk);
        th[k] = th[k] + step * m[k] / (sqrtf(v[k]) / sbc2 + eps);
    }
}

dale_status dale_update_apply_opt(dale_net *net, const dale_update_policy *p, double lr, dale_signs *signs,
                                  dale_adam *adam, dale_update_stats *stats)
{
    size_t np = dale_net_nparams(net), nl = dale_net_nlayers(net);
    float *th = dale_net_theta(net), *g = dale_net_grad(net);
    dale_update_stats st = {0, 0, 0};
    if (p->sign_freeze && (!signs || !signs->s || signs->size != dale_net_size(net)))
        return DALE_FAIL(DALE_ERR_STATE, "sign freezing needs signs recorded at the first update");
    const int use_adam = p->optimizer == DALE_OPT_ADAM;
    if (p->optimizer != DALE_OPT_SGD && !use_adam)
        return DALE_FAIL(DALE_ERR_ARG, "update policy: optimizer %d is neither DALE_OPT_SGD nor DALE_OPT_ADAM",
                         (int)p->optimizer);
    if (use_adam && (!adam || !adam->m || adam->size != dale_net_size(net)))
        return DALE_FAIL(DALE_ERR_STATE, "Adam needs its state sized for the network (dale_adam_init with %zu "
                         "entries)", dale_net_size(net));
    if (use_adam && !(p->beta1 >= 0 && p->beta1 < 1 && p->beta2 >= 0 && p->beta2 < 1))
        return DALE_FAIL(DALE_ERR_ARG, "--beta1 %g / --beta2 %g: each must lie in [0, 1)", p->beta1, p->beta2);
    if (use_adam && !(p->adam_eps > 0 && isfinite(p->adam_eps)))
        return DALE_FAIL(DALE_ERR_ARG, "--adam-eps must be a finite number > 0 (got %g)", p->adam_eps);
    if (!(p->weight_l2 >= 0 && isfinite(p->weight_l2)))
        return DALE_FAIL(DALE_ERR_ARG, "--weight-l2 must be a finite number >= 0 (got %g)", p->weight_l2);

    /* (0) the weight penalty λ Σ w²: its gradient 2 λ w, before everything
     * else, so scaling and clipping see the whole gradient. */
    if (p->weight_l2 > 0) {
        const double l2 = 2.0 * p->weight_l2;
        for (size_t i = 0; i < np; i++) {
            const dale_param *q = dale_net_param(net, i);
            if (!penalised(q)) continue;
            float *gq = g + q->offset;
            const float *wq = th + q->offset;
            for (size_t k = 0; k < q->rows * q->cols; k++) gq[k] = (float)((double)gq[k] + l2 * (double)wq[k]);
        }
    }

    /* (1) Inhibitory gradient scaling by each parameter's grad_scale (DANN). */
    if (p->inhib_scale)
        for (size_t i = 0; i < np; i++) {
            const dale_param *q = dale_net_param(net, i);
            if (q->grad_scale != 1.0f) scale(g + q->offset, q->rows * q->cols, (double)q->grad_scale);
        }
    /* (1b) Inhibitory input columns (DALE_P_INHIB_COLS, ColEI's sign-
     * constrained maps that read an E/I population; paper Fig. 11 does not
     * say which tensors): those columns play the role of DANN's W_EI
     * (I -> E weights), so they get W_EI's factor 1/n_in = 1/cols. */
    if (p->inhib_scale)
        for (size_t i = 0; i < np; i++) {
            const dale_param *q = dale_net_param(net, i);
            if (!(q->flags & DALE_P_INHIB_COLS)) continue;
            size_t ni = q->inhib_cols, ne = q->cols - ni;
            for (size_t r = 0; r < q->rows; r++)
                scale(g + q->offset + r * q->cols + ne, ni, 1.0 / (double)q->cols);
        }

    /* (2) clipping.  Tensor and group norms in one pass over the gradient
     * (also gives the global norm); per-tensor clipping reuses tensor_ss.
     * The default arithmetic sums each tensor in one chain (sumsq above);
     * numerics = dale in eight interleaved lanes (dalei_sumsq8: element k in
     * lane k % 8, lane-wise adds, no FMA, the same value on every machine),
     * which is not one chain of dependent adds: with objrec's 7.2 M-weight U
     * that chain took a third of an update. */
    const int lanes = dale_net_config_of(net)->numerics == DALE_NUMERICS_DALE;
    double total = 0;
    double layer_ss[nl > 0 ? nl : 1], tensor_ss[np > 0 ? np : 1];
    memset(layer_ss, 0, sizeof layer_ss);
    for (size_t i = 0; i < np; i++) {
        const dale_param *q = dale_net_param(net, i);
        size_t cnt = q->rows * q->cols;
        double s = lanes ? dalei_sumsq8(g + q->offset, cnt) : sumsq(g + q->offset, cnt);
        tensor_ss[i] = s;
        layer_ss[q->layer] += s;
        total += s;
    }
    st.grad_norm = sqrt(total);
    if (!isfinite(st.grad_norm))
        return DALE_FAIL(DALE_ERR_NUMERIC, "gradient norm is not finite (%g)", st.grad_norm);
    /* fac[i]: the clip factor of tensor i (1: none).  SGD applies it inside
     * its step (sgd_core); Adam scales the gradient first. */
    double fac[np > 0 ? np : 1];
    int any = 0;
    for (size_t i = 0; i < np; i++) fac[i] = 1.0;
    if (p->clip > 0) {
        if (p->scope == DALE_CLIP_TENSOR) {
            for (size_t i = 0; i < np; i++) {
                double nrm = sqrt(tensor_ss[i]);
                if (nrm > p->clip) {
                    fac[i] = p->clip / nrm;
                    any = 1;
                    st.clipped++;
                }
            }
        } else if (p->scope == DALE_CLIP_LAYER) {
            for (size_t l = 0; l < nl; l++) {
                double f = p->clip / (sqrt(layer_ss[l]) + 1e-12);
                if (f >= 1.0) continue;
                st.clipped++;
                any = 1;
                for (size_t i = 0; i < np; i++)
                    if (dale_net_param(net, i)->layer == l) fac[i] = f;
            }
        } else {
            double f = p->clip / (st.grad_norm + 1e-12);
            if (f < 1.0) {
                st.clipped++;
                any = 1;
                for (size_t i = 0; i < np; i++) fac[i] = f;
            }
        }
    }

    /* (3) SGD or Adam step. */
    size_t n = dale_net_size(net);
    if (use_adam) {
        for (size_t i = 0; any && i < np; i++) {
            const dale_param *q = dale_net_param(net, i);
            if (fac[i] != 1.0) scale(g + q->offset, q->rows * q->cols, fac[i]);
        }
        adam->t++;
        adam_step(th, g, adam, n, lr, p);
    } else if (p->project || any) {
        /* tensor by tensor: each with its clip factor; the non-negative ones
         * step and project in one pass ((4) below skips them) */
        for (size_t i = 0; i < np; i++) {
            const dale_param *q = dale_net_param(net, i);
            size_t cnt = q->rows * q->cols;
            struct ew_job j = {.a = th + q->offset, .b = g + q->offset, .f = fac[i], .lr = (float)lr};
            atomic_init(&j.set, 0);
            if (p->project && (q->flags & DALE_P_NONNEG)) {
                dalei_par_range(cnt, 16, cnt, sgd_project_range, &j);
                st.projected += atomic_load_explicit(&j.set, memory_order_relaxed);
            } else {
                dalei_par_range(cnt, 16, cnt, sgd_range, &j);
            }
        }
    } else {
        struct ew_job j = {.a = th, .b = g, .f = 1.0, .lr = (float)lr};
        dalei_par_range(n, 16, n, sgd_range, &j);
    }

    /* (4) projection onto the constraint set / sign freezing. */
    for (size_t i = 0; i < np; i++) {
        const dale_param *q = dale_net_param(net, i);
        float *w = th + q->offset;
        size_t cnt = q->rows * q->cols;
        if (p->project && use_adam && (q->flags & DALE_P_NONNEG)) { /* SGD projected in (3) */
            struct ew_job j = {.a = w};
            atomic_init(&j.set, 0);
            dalei_par_range(cnt, 16, cnt, project_range, &j);
            st.projected += atomic_load_explicit(&j.set, memory_order_relaxed);
        }
        if (p->sign_freeze && (q->flags & DALE_P_FREEZE)) {
            /* W = S max(S W, 1e-9): a weight that crossed zero stays at ±1e-9
             * with its original sign; one that started at 0 stays 0. */
            const float *S = signs->s + q->offset;
            for (size_t k = 0; k < cnt; k++) {
                float sw = S[k] * w[k];
                if (sw < 1e-9f) {
                    float nw = S[k] * 1e-9f;
                    if (nw != w[k]) st.projected++;
                    w[k] = nw;
                }
            }
        }
    }
    /* (5) connectivity masks: masked entries are 0 again (their gradient is
     * 0 already; this keeps them exactly 0 whatever the step did). */
    dale_net_masks_apply(net);
    if (stats) *stats = st;
    return DALE_OK;
}
