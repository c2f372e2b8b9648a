/* dynamics.c — the registered cell dynamics: how h_t follows from
 * z_t = U x_t + W h_{t-1} + b, and the backward of that step.  a_j is unit
 * j's update rate dt/tau_j (rate[j]; rate[n + j] = 1 - a_j), eps_t the
 * step's noise (already scaled; NULL: none).
 *
 *   relu         h_t = relu(z_t).  Its mask relu'(z_t) = [h_t > 0] is read
 *                from h_t, so z_t is not kept; the kernels fuse it into the
 *                recurrent product (net.c), which is the path every existing
 *                run takes.
 *   leaky        h_t = (1 - a) h_{t-1} + a relu(z_t + eps_t) (a leaky
 *                continuous-time unit in rate form, Euler step dt/tau = a).
 *                Backward: dz_t = a [z_t + eps_t > 0] dh_t,
 *                dh_{t-1} += (1 - a) dh_t; it keeps z_t + eps_t.
 *   leaky-state  s_t = (1 - a) s_{t-1} + a z_t + eps_t, h_t = relu(s_t)
 *                (state form).  Backward: ds_t = [s_t > 0] dh_t + c_t with
 *                the carry c_t = (1 - a) ds_{t+1} (c_T = 0), dz_t = a ds_t;
 *                it keeps s_t (and s_0 in block 0).
 */
#include <math.h>
#include "internal.h"
#include "linalg/kernels.h"
#include "model_internal.h"

/* ------------------------------------------------------------------ relu */

static void relu_step(const float *rate, size_t rows, size_t n, float *h, const float *hprev, float *z,
                      const float *zprev, const float *eps)
{
    (void)rate;
    (void)hprev;
    (void)z;
    (void)zprev;
    (void)eps; /* relu with noise runs as leaky with a = 1 (net.c) */
    dalei_relu(h, rows * n);
}

static void relu_back(const float *rate, size_t rows, size_t n, float *dh, float *dprev, float *carry,
                      const float *h, const float *z)
{
    (void)rate;
    (void)dprev;
    (void)carry;
    (void)z;
    dalei_relu_mask(dh, h, rows * n); /* relu'(z_t) = [h_t > 0] */
}

static const char *const relu_aliases[] = {"discrete-relu", NULL};

const dalei_dynamics_ops dalei_dyn_relu = {
    .name = "relu",
    .aliases = relu_aliases,
    .summary = "discrete ReLU recurrence h_t = relu(z_t)",
    .fused_relu = 1,
    .keeps_preact = 0,
    .state_form = 0,
    .check = NULL,
    .step = relu_step,
    .back = relu_back,
};

/* ----------------------------------------------------------------- leaky */

static dale_status leaky_check(const dale_net_config *cfg)
{
    if (!(cfg->alpha > 0.0 && cfg->alpha <= 1.0))
        return DALE_FAIL(DALE_ERR_ARG, "%s dynamics: alpha = dt/tau must be in (0, 1] (got %g)",
                         dale_dynamics_name(cfg->dynamics), cfg->alpha);
    if (cfg->alpha_i != 0.0 && !(cfg->alpha_i > 0.0 && cfg->alpha_i <= 1.0))
        return DALE_FAIL(DALE_ERR_ARG, "%s dynamics: alpha_i = dt/tau_i must be in (0, 1] or 0 for alpha (got %g)",
                         dale_dynamics_name(cfg->dynamics), cfg->alpha_i);
    return DALE_OK;
}

static void leaky_step(const float *rate, size_t rows, size_t n, float *h, const float *hprev, float *z,
                       const float *zprev, const float *eps)
{
    (void)zprev;
    const float *a = rate, *keep = rate + n;
    for (size_t r = 0; r < rows; r++) {
        float *hr = h + r * n, *zr = z + r * n;
        const float *pr = hprev + r * n, *er = eps ? eps + r * n : NULL;
        for (size_t k = 0; k < n; k++) {
            float zk = er ? hr[k] + er[k] : hr[k];
            zr[k] = zk;
            float v = zk < 0.0f ? 0.0f : zk; /* NaN stays NaN, as in relu */
            hr[k] = keep[k] * pr[k] + a[k] * v;
        }
    }
}

static void leaky_back(const float *rate, size_t rows, size_t n, float *dh, float *dprev, float *carry,
                       const float *h, const float *z)
{
    (void)h;
    (void)carry;
    const float *a = rate, *keep = rate + n;
    for (size_t r = 0; r < rows; r++) {
        float *dr = dh + r * n, *pr = dprev ? dprev + r * n : NULL;
        const float *zr = z + r * n;
        for (size_t k = 0; k < n; k++) {
            float g = dr[k];
            if (pr) pr[k] += keep[k] * g;
            dr[k] = zr[k] > 0.0f ? a[k] * g : 0.0f;
        }
    }
}

const dalei_dynamics_ops dalei_dyn_leaky = {
    .name = "leaky",
    .aliases = NULL,
    .summary = "leaky rate unit h_t = (1-a) h_{t-1} + a relu(z_t + eps_t), a = dt/tau",
    .fused_relu = 0,
    .keeps_preact = 1,
    .state_form = 0,
    .check = leaky_check,
    .step = leaky_step,
    .back = leaky_back,
};

/* ----------------------------------------------------------- leaky-state */

static void state_step(const float *rate, size_t rows, size_t n, float *h, const float *hprev, float *z,
                       const float *zprev, const float *eps)
{
    (void)hprev;
    const float *a = rate, *keep = rate + n;
    for (size_t r = 0; r < rows; r++) {
        float *hr = h + r * n, *sr = z + r * n;
        const float *pr = zprev + r * n, *er = eps ? eps + r * n : NULL;
        for (size_t k = 0; k < n; k++) {
            float s = keep[k] * pr[k] + a[k] * hr[k];
            if (er) s += er[k];
            sr[k] = s;
            hr[k] = s < 0.0f ? 0.0f : s;
        }
    }
}

static void state_back(const float *rate, size_t rows, size_t n, float *dh, float *dprev, float *carry,
                       const float *h, const float *z)
{
    (void)h;
    (void)dprev; /* h_{t-1} reaches h_t only through W (net.c) */
    const float *a = rate, *keep = rate + n;
    for (size_t r = 0; r < rows; r++) {
        float *dr = dh + r * n, *cr = carry + r * n;
        const float *sr = z + r * n;
        for (size_t k = 0; k < n; k++) {
            float ds = (sr[k] > 0.0f ? dr[k] : 0.0f) + cr[k];
            dr[k] = a[k] * ds;
            cr[k] = keep[k] * ds;
        }
    }
}

const dalei_dynamics_ops dalei_dyn_leaky_state = {
    .name = "leaky-state",
    .aliases = NULL,
    .summary = "leaky state unit s_t = (1-a) s_{t-1} + a z_t + eps_t, h_t = relu(s_t), a = dt/tau",
    .fused_relu = 0,
    .keeps_preact = 1,
    .state_form = 1,
    .check = leaky_check,
    .step = state_step,
    .back = state_back,
};
