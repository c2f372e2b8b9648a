/* dale/train.h — losses and update policies (docs/reference-behaviour.md, Update order).
 *
 * Losses take the network output and return the mean loss in double; with a
 * non-NULL `dout` they also write dL/dout (same layout as out), already
 * divided by the number of predictions, ready for dale_net_backward.
 *
 * An update is: (0) the weight penalty's gradient 2 λ w added to every
 * weight matrix's gradient (not the biases; weight_l2 = λ > 0 only),
 * (1) inhibitory gradient scaling (param grad_scale, and the
 * DALE_P_INHIB_COLS columns by 1/cols),
 * (2) norm clipping at the chosen scope, (3) the optimiser's step: SGD
 * p -= lr g, or Adam (below), (4) projection of non-negative parameters
 * (max(p, 0)) and/or sign freezing of the recurrent/dense W (W = S max(S W,
 * 1e-9), S the sign at the first update), (5) connectivity masks: masked
 * parameter entries set to 0 (dale_net_masks_apply).  Each step is switched
 * by the policy; the order is fixed.
 *
 * Adam (torch.optim.Adam's formula, no weight decay, no amsgrad), per theta
 * entry with g the gradient after (0)-(2) and t the step count from 1:
 *     m = β1 m + (1 - β1) g,   v = β2 v + (1 - β2) g²,
 *     p -= (lr / (1 - β1^t)) m / (sqrt(v) / sqrt(1 - β2^t) + ε)
 * in float32 throughout, in torch's order of operations (m by lerp:
 * m + (1 - β1)(g - m); the step p + (-lr/(1 - β1^t)) m / (...)).
 */
#ifndef DALE_TRAIN_H
#define DALE_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include "dale/model.h"
#include "dale/status.h"
#include "dale/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mean squared error over the N rows and m outputs: mean((out - y)^2). */
DALE_API double dale_loss_mse(const float *out, const float *y, size_t N, size_t m, float *dout);
/* Softmax cross-entropy, mean over N rows of logits (N, m) with labels in
 * [0, m).  *correct (optional) counts argmax hits (first index on ties).
 * Uses the max-shifted log-sum-exp so large logits do not overflow. */
DALE_API double dale_loss_ce(const float *logits, const int32_t *labels, size_t N, size_t m,
                             float *dout, size_t *correct);

/* Weighted losses over N predictions (rows) with one weight per row, w[N]
 * (finite, >= 0; the caller validates).  Let W = sum of w (in double).
 *   mse:  l_r = mean_j (out_rj - y_rj)^2 over the m outputs,
 *         dL/dout_rj = w_r 2 (out_rj - y_rj) / (m W)
 *   ce:   l_r = logsumexp(z_r) - z_r,y_r (labels in [0, m) where w_r > 0),
 *         dL/dz_rj = w_r (softmax(z_r)_j - [j = y_r]) / W
 * return sum_r w_r l_r / W.  Rows with w_r = 0 are skipped (targets and
 * labels there are not read; dout there is 0).  If W = 0 the loss is 0 and
 * dout is all 0.  *npred (optional) gets the number of rows with w_r > 0,
 * *wsum (optional) gets W, *correct (ce, optional) the rows with w_r > 0
 * whose argmax (first index on ties) is the label. */
DALE_API double dale_loss_mse_weighted(const float *out, const float *y, const float *w, size_t N,
                                       size_t m, float *dout, size_t *npred, double *wsum);
DALE_API double dale_loss_ce_weighted(const float *logits, const int32_t *labels, const float *w,
                                      size_t N, size_t m, float *dout, size_t *correct, size_t *npred,
                                      double *wsum);

/* dale_loss_ce and dale_loss_ce_weighted in the arithmetic `num`:
 * DALE_NUMERICS_BLAS is exactly those functions (libm's exp and log, two
 * exps per logit when dout is wanted); DALE_NUMERICS_DALE uses dale's own
 * vectorised exp and log (the same bits on every machine and instruction
 * set; relative error under 4e-16 against glibc's) and one exp per logit,
 * p_j = e_j / sum e.  The two agree to round-off.  Same arguments, results
 * and errors as the plain functions. */
DALE_API double dale_loss_ce_num(dale_numerics num, const float *logits, const int32_t *labels, size_t N,
                                 size_t m, float *dout, size_t *correct);
DALE_API double dale_loss_ce_weighted_num(dale_numerics num, const float *logits, const int32_t *labels,
                                          const float *w, size_t N, size_t m, float *dout, size_t *correct,
                                          size_t *npred, double *wsum);

typedef enum dale_clip_scope { DALE_CLIP_TENSOR, DALE_CLIP_LAYER, DALE_CLIP_GLOBAL } dale_clip_scope;
DALE_API const char *dale_clip_scope_name(dale_clip_scope s);

typedef enum dale_optimizer { DALE_OPT_SGD = 0, DALE_OPT_ADAM = 1 } dale_optimizer;
/* "sgd" | "adam" ("?" out of range), and the parse of those names
 * (DALE_ERR_ARG naming the known ones otherwise). */
DALE_API const char *dale_optimizer_name(dale_optimizer o);
DALE_API dale_status dale_optimizer_parse(const char *s, dale_optimizer *out);

typedef struct dale_update_policy {
    double clip;           /* max gradient norm; 0 = no clipping                  */
    dale_clip_scope scope; /* tensor: each tensor alone, ‖g‖ > c -> g c/‖g‖;
                              layer / global: f = c/(‖g‖ + 1e-12), scale if f < 1 */
    int inhib_scale;       /* multiply each gradient by its param's grad_scale    */
    int project;           /* clamp DALE_P_NONNEG parameters at 0 after the step  */
    int sign_freeze;       /* freeze the sign of DALE_P_FREEZE parameters         */
    /* added after the above (a zeroed tail is plain SGD without penalty) */
    dale_optimizer optimizer; /* DALE_OPT_SGD (0) | DALE_OPT_ADAM                  */
    double beta1, beta2;   /* Adam's moment decays, each in [0, 1) (0.9, 0.999)   */
    double adam_eps;       /* Adam's ε > 0 (1e-8)                                */
    double weight_l2;      /* λ >= 0: λ Σ w² over every non-bias parameter        */
} dale_update_policy;

/* The reference policy of a model type, read from its registered traits
 * (dale_model_info.traits): colei: per-tensor clipping + projection; dann:
 * scaling + per-layer clipping + projection; rnn: plain SGD with per-layer
 * clipping if clip > 0 (no freezing).  An unregistered type gets traits 0
 * (per-layer clipping only). */
DALE_API void dale_update_policy_default(dale_model_type t, double clip, dale_update_policy *p);
/* The policy that model traits (DALE_MODEL_CLIP_TENSOR, _INHIB_SCALE,
 * _PROJECT) ask for, with clipping threshold clip; sign freezing off. */
DALE_API void dale_update_policy_for(unsigned traits, double clip, dale_update_policy *p);

typedef struct dale_update_stats {
    double grad_norm;  /* global norm of the (scaled) gradient before clipping */
    int clipped;       /* number of clip groups that were rescaled            */
    size_t projected;  /* entries clamped to 0 or frozen at ±1e-9             */
} dale_update_stats;

/* Sign memory for sign freezing: one float per theta entry (+1, -1, 0). */
typedef struct dale_signs {
    float *s;     /* owned; NULL until recorded */
    size_t size;
} dale_signs;
DALE_API dale_status dale_signs_record(dale_signs *sg, dale_net *net);
DALE_API void dale_signs_free(dale_signs *sg);

/* Adam's state: first and second moments, one float each per theta entry,
 * and the number of steps taken.  Zero-initialised = no state yet;
 * dale_adam_init sizes it for a network (all zero, t = 0). */
typedef struct dale_adam {
    float *m, *v; /* owned; NULL until dale_adam_init */
    size_t size;
    long t;
} dale_adam;
DALE_API dale_status dale_adam_init(dale_adam *a, size_t size);
DALE_API void dale_adam_free(dale_adam *a); /* NULL-safe; leaves it zeroed */

/* λ Σ w² over the non-bias parameters of net, in double (0 when λ = 0). */
DALE_API double dale_weight_l2(dale_net *net, double lambda);

/* Apply one update to net with learning rate lr.  Modifies the gradients
 * (penalty, scaling, clipping).  `signs` is needed (recorded) when
 * sign_freeze is on.  Returns DALE_ERR_NUMERIC if the gradient norm is not
 * finite (nothing is changed then); DALE_ERR_STATE for an Adam policy (use
 * dale_update_apply_opt). */
DALE_API dale_status dale_update_apply(dale_net *net, const dale_update_policy *p, double lr,
                                       dale_signs *signs, dale_update_stats *stats);
/* The same with the optimiser's state: `adam` (sized for net by
 * dale_adam_init; its t counts the steps) is needed when p->optimizer is
 * DALE_OPT_ADAM and ignored for SGD.  On DALE_ERR_NUMERIC neither the
 * parameters nor the state change.  Errors: DALE_ERR_STATE (Adam without a
 * state of net's size, sign freezing without signs), DALE_ERR_ARG (β1 or β2
 * outside [0, 1), ε not > 0, λ < 0), DALE_ERR_NUMERIC. */
DALE_API dale_status dale_update_apply_opt(dale_net *net, const dale_update_policy *p, double lr,
                                            dale_signs *signs, dale_adam *adam, dale_update_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
