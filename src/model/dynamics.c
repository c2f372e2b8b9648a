/* dynamics.c — the registered cell dynamics: how h_t follows from
 * z_t = U x_t + W h_{t-1} + b, and the backward of that step.
 *
 *   relu   h_t = relu(z_t).  Its mask relu'(z_t) = [h_t > 0] is read from
 *          h_t, so z_t is not kept; the kernels fuse it into the recurrent
 *          product (net.c), which is the path every existing run takes.
 *   leaky  h_t = (1 - a) h_{t-1} + a relu(z_t), a = cfg->alpha in (0, 1]
 *          (a leaky continuous-time unit, Euler step dt/tau = a).  Backward:
 *          dz_t = a [z_t > 0] dh_t,  dh_{t-1} += (1 - a) dh_t; it keeps z_t.
 */
#include <math.h>
#include "internal.h"
#include "linalg/kernels.h"
#include "model_internal.h"

/* ------------------------------------------------------------------ relu */

static void relu_step(const dale_net_config *cfg, float *h, const float *hprev, float *z,
                      size_t count)
{
    (void)cfg;
    (void)hprev;
    (void)z;
    dalei_relu(h, count);
}

static void relu_back(const dale_net_config *cfg, float *dh, float *dprev, const float *h,
                      const float *z, size_t count)
{
    (void)cfg;
    (void)dprev;
    (void)z;
    dalei_relu_mask(dh, h, count); /* relu'(z_t) = [h_t > 0] */
}

static const char *const relu_aliases[] = {"discrete-relu", NULL};

const dalei_dynamics_ops dalei_dyn_relu = {
    .name = "relu",
    .aliases = relu_aliases,
    .summary = "discrete ReLU recurrence h_t = relu(z_t)",
    .fused_relu = 1,
    .keeps_preact = 0,
    .check = NULL,
    .step = relu_step,
    .back = relu_back,
};

/* ----------------------------------------------------------------- leaky */

static dale_status leaky_check(const dale_net_config *cfg)
{
    if (!(cfg->alpha > 0.0 && cfg->alpha <= 1.0))
        return DALE_FAIL(DALE_ERR_ARG, "leaky dynamics: alpha must be in (0, 1] (got %g)", cfg->alpha);
    return DALE_OK;
}

static void leaky_step(const dale_net_config *cfg, float *h, const float *hprev, float *z,
                       size_t count)
{
    const float a = (float)cfg->alpha, keep = (float)(1.0 - cfg->alpha);
    for (size_t k = 0; k < count; k++) {
        float zk = h[k];
        z[k] = zk;
        float r = zk < 0.0f ? 0.0f : zk; /* NaN stays NaN, as in relu */
        h[k] = keep * hprev[k] + a * r;
    }
}

static void leaky_back(const dale_net_config *cfg, float *dh, float *dprev, const float *h,
                       const float *z, size_t count)
{
    (void)h;
    const float a = (float)cfg->alpha, keep = (float)(1.0 - cfg->alpha);
    for (size_t k = 0; k < count; k++) {
        float g = dh[k];
        if (dprev) dprev[k] += keep * g;
        dh[k] = z[k] > 0.0f ? a * g : 0.0f;
    }
}

const dalei_dynamics_ops dalei_dyn_leaky = {
    .name = "leaky",
    .aliases = NULL,
    .summary = "leaky continuous-time unit h_t = (1-alpha) h_{t-1} + alpha relu(z_t)",
    .fused_relu = 0,
    .keeps_preact = 1,
    .check = leaky_check,
    .step = leaky_step,
    .back = leaky_back,
};
