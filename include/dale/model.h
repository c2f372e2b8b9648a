/* dale/model.h — E/I recurrent networks: parameter table, init, forward, BPTT.
 *
 * A network is L recurrent cells, then optional ReLU dense layers, then a
 * linear readout.  Each cell computes, for t = 1..T,
 *     z_t = U x_t + W h_{t-1} + b,   h_t = relu(z_t),   h_0 = 0,
 * (h_t from z_t by the configured cell dynamics; relu is the default;
 * h_0 may be a learned parameter, see h0_learn),
 * where U (n, d) and W (n, n) are EFFECTIVE matrices built from the model's
 * raw parameters:
 *     rnn    U = U,                     W = W
 *     colei  U = U_pos diag(s_in),      W = W_pos diag(s_h)     (s = ±1 per column)
 *     dann   U = U_EE - U_EI U_IE,      W = W_EE - W_EI W_IE    (factors >= 0)
 * Dense layers and the readout are the same maps without recurrence.  Layer
 * l+1 receives h^l_t at the same step; dense layers and the readout read the
 * last cell.  All matrices are "post x pre" (row = receiving unit).
 *
 * Memory: one contiguous float32 buffer `theta` holds every raw parameter,
 * described by the table `params` (name, shape, offset, layer, flags); `grad`
 * has the same layout.  Activations live in a plan sized by dale_net_plan()
 * for at most (T, B); a forward with larger sizes fails with DALE_ERR_SHAPE.
 * Batches are time-major: x is (T, B, d).
 *
 * Parameter names: "cellK.<p>", "denseK.<p>", "out.<p>" with <p> one of
 *     rnn: U W b (cells), W b (dense/readout)
 *     colei: U_pos W_pos b (cells), W_pos b (dense/readout)
 *     dann: U_EE U_IE U_EI W_EE W_IE W_EI b (cells), W_EE W_IE W_EI b (dense/readout)
 */
#ifndef DALE_MODEL_H
#define DALE_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "dale/rng.h"
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ registry
 *
 * Every reparameterisation (model) is one entry of a registry, in this
 * order; dale_model_type is its index.  A model declares its parameters per
 * layer, its initialisation, its effective-weight maps with their chain rule
 * back, and the traits below; nothing outside the model code switches on
 * the type (docs: adding a model is one file plus one registry line). */
typedef enum dale_model_type { DALE_MODEL_RNN, DALE_MODEL_COLEI, DALE_MODEL_DANN, DALE_MODEL_COUNT } dale_model_type;

/* Traits of a model: what its default update policy does and what spectral
 * tools may rely on. */
enum {
    DALE_MODEL_PROJECT = 1u << 0,     /* default policy projects DALE_P_NONNEG params onto >= 0 */
    DALE_MODEL_INHIB_SCALE = 1u << 1, /* default policy applies the inhibitory gradient scaling */
    DALE_MODEL_CLIP_TENSOR = 1u << 2, /* default clipping per tensor (else per layer)          */
    DALE_MODEL_INIT_EIGS = 1u << 3,   /* init keeps W's eigenvalues (dale_net_init_eigvals)    */
    DALE_MODEL_SIGNED_UNITS = 1u << 4 /* units have a fixed E/I sign (Dale's law holds)         */
};

/* The public face of a registered model (owned by the library, static). */
typedef struct dale_model_info {
    dale_model_type type;        /* its index in the registry                */
    const char *name;            /* canonical name, as written in config.json */
    const char *const *aliases;  /* other accepted names, NULL-terminated     */
    const char *summary;         /* one line for help texts                  */
    unsigned traits;             /* DALE_MODEL_* traits                      */
} dale_model_info;

/* Number of registered models, and model i (NULL when i >= count). */
DALE_API size_t dale_model_count(void);
DALE_API const dale_model_info *dale_model_at(size_t i);
/* The model named `name` (canonical name or alias, exact match), or NULL;
 * on NULL, dale_last_error() says "unknown model '<name>' (expected ...)"
 * listing every canonical name.  NULL name gives NULL. */
DALE_API const dale_model_info *dale_model_find(const char *name);
/* The model of a type (NULL for an out-of-range value). */
DALE_API const dale_model_info *dale_model_of(dale_model_type t);
/* Canonical name of a type ("?" when out of range). */
DALE_API const char *dale_model_name(dale_model_type t);
/* Parse a canonical name or an alias ("song" for colei, "danns" for dann)
 * into *out.  DALE_ERR_ARG with the list of known names otherwise. */
DALE_API dale_status dale_model_parse(const char *s, dale_model_type *out);

/* ------------------------------------------------------- cell dynamics
 *
 * The second axis of a network, beside the reparameterisation: how a cell
 * turns its pre-activation z_t = U x_t + W h_{t-1} + b into h_t, with a
 * per-unit update rate a = dt/tau in (0, 1] (see alpha, alpha_i below) and
 * optional noise eps_t (noise_rec; drawn only when armed, dale_net_set_noise):
 *     relu         h_t = relu(z_t)                               (the default)
 *     leaky        h_t = (1 - a) h_{t-1} + a relu(z_t + eps_t),
 *                  eps_t ~ N(0, 2 sigma_rec^2 / a)               (rate form)
 *     leaky-state  s_t = (1 - a) s_{t-1} + a z_t + eps_t,  h_t = relu(s_t),
 *                  z_t = U x_t + W h_{t-1} + b, eps_t ~ N(0, 2 a sigma_rec^2)
 *                  (state form of Song et al. 2016; h_t is the rate r_t that
 *                  the next layer, the readout and W read)
 * relu with recurrent noise or a learned h_0 runs as leaky with a = 1.
 * Each is one registered table (forward step and its backward); the models
 * do not know which one runs. */
typedef enum dale_dynamics_type { DALE_DYN_RELU, DALE_DYN_LEAKY, DALE_DYN_LEAKY_STATE, DALE_DYN_COUNT } dale_dynamics_type;
DALE_API size_t dale_dynamics_count(void);
/* Name of dynamics t ("?" when out of range). */
DALE_API const char *dale_dynamics_name(dale_dynamics_type t);
/* Parse "relu" | "leaky" | "leaky-state" (also "discrete-relu"); DALE_ERR_ARG
 * listing the known names otherwise. */
DALE_API dale_status dale_dynamics_parse(const char *s, dale_dynamics_type *out);

/* Distribution family of ColEI weights at init (appendix Fig. 14). */
typedef enum dale_colei_dist { DALE_DIST_EXPONENTIAL, DALE_DIST_GAMMA, DALE_DIST_UNIFORM } dale_colei_dist;

/* How a ColEI cell's recurrent W is built from its sampled draw before the
 * rescaling to rho (docs/beyond.md; every one keeps each column's sign):
 *   STANDARD  the draw as it is (the paper's init; the default);
 *   BALANCED  each row's inhibitory weights rescaled so that the row sums to
 *             exactly 0 (sum over E = sum over |I|);
 *   SPECTRAL  alternating projections from an RNN init R of the same size:
 *             colei_init_iters times (sign cone with floor, then the
 *             singular values of R), ending with the sign-cone step;
 *   SPECTRAL_BALANCED  SPECTRAL, then BALANCED's row rescaling. */
typedef enum dale_colei_init { DALE_COLEI_INIT_STANDARD, DALE_COLEI_INIT_BALANCED, DALE_COLEI_INIT_SPECTRAL,
                               DALE_COLEI_INIT_SPECTRAL_BALANCED, DALE_COLEI_INIT_COUNT } dale_colei_init;
/* Name of a ColEI init ("?" when out of range). */
DALE_API const char *dale_colei_init_name(dale_colei_init t);
/* Parse "standard" | "balanced" | "spectral" | "spectral-balanced" into *out; DALE_ERR_ARG with the
 * known names (and the nearest one) otherwise. */
DALE_API dale_status dale_colei_init_parse(const char *s, dale_colei_init *out);

#define DALE_MAX_DENSE 8

/* Which arithmetic computes a network's products (and, in the trainer, its
 * softmax cross-entropy; docs/performance.md, Two arithmetics):
 *   BLAS  (0, the default) dale's kernels where their size rules say so,
 *         OpenBLAS's sgemm for the rest (larger products, the dense and
 *         readout forward) and libm's exp: the results of earlier versions,
 *         which depend on the machine's OpenBLAS kernel and thread count;
 *   DALE  every product in dale's own kernels and dale's own exp and log:
 *         the same bits on every machine, instruction set and thread count.
 * The two differ by float round-off only. */
typedef enum dale_numerics { DALE_NUMERICS_BLAS = 0, DALE_NUMERICS_DALE = 1 } dale_numerics;

typedef struct dale_net_config {
    dale_model_type type;
    size_t input;        /* d: input width                                      */
    size_t layers;       /* L >= 1 recurrent cells                              */
    size_t hidden;       /* n: width of every cell                              */
    size_t output;       /* m: readout width                                    */
    size_t ndense;       /* number of ReLU dense layers between cells and readout */
    size_t dense[DALE_MAX_DENSE];
    /* E/I structure */
    double ei_ratio;     /* nE:nI, > 0 (9 = 10 % inhibitory); ColEI split and DANN auto counts */
    size_t dann_ni_in;   /* DANN inhibitory units on the input side of a cell (0: auto)   */
    size_t dann_ni_rec;  /* DANN inhibitory units on the recurrent side (0: auto)         */
    size_t dann_ni_out;  /* DANN inhibitory units of the readout and dense layers (0: auto) */
    /* initialisation */
    double rho;          /* ColEI: spectral radius of W after rescaling (default 1.5)   */
    int zero_diag;       /* ColEI: zero the diagonal of W before rescaling (ref: 1)     */
    dale_colei_dist colei_dist; /* ColEI weight family (ref: exponential)            */
    double gamma_shape;  /* ColEI gamma family shape k (default 2)                  */
    double numerator;    /* RNN/DANN variance numerator ν (default 1/3)             */
    int dann_wie_random; /* DANN recurrent W_IE: 0 mean row of W_EE (paper), 1 iid Exp */
    int rnn_input_he;    /* RNN: first-layer U ~ N(0, 2/d) instead of U[-1/√n, 1/√n] */
    int bias_centering;  /* ColEI first layer b = -√d·input_mean (ref: 0 = off)     */
    double input_mean;   /* dataset mean for bias centering                         */
    /* cell dynamics (0 = relu, so a zeroed config keeps the discrete ReLU cell) */
    dale_dynamics_type dynamics;
    double alpha;        /* leaky*: update rate dt/tau in (0, 1] of every unit, or
                            of the E units when alpha_i is set (default 1)        */
    dale_numerics numerics; /* arithmetic of the products (0 = BLAS, the default)    */
    /* leaky dynamics, noise and regularisers (zero: off, as before) */
    double alpha_i;      /* leaky*: rate of ColEI's inhibitory units (0: alpha); the
                            other models have no inhibitory hidden units (DANN's
                            inhibition is instantaneous), so it must be 0 there    */
    double noise_rec;    /* sigma_rec >= 0 of the recurrent noise (see above)      */
    double noise_in;     /* sigma_in >= 0: the first cell reads x_t + eta_t,
                            eta_t ~ N(0, 2 sigma_in^2 / alpha) per input channel   */
    int h0_learn;        /* 1: a learned initial state per cell, parameter "cellK.h0"
                            (n): h_0 (relu, leaky) or s_0 (leaky-state, h_0 =
                            relu(s_0)), the same for every sequence of a batch   */
    double rate_l2;      /* lambda >= 0: dale_net_rate_penalty / its gradient      */
    /* generated connectivity masks of every cell's recurrent W (0 = none,
     * so a zeroed config keeps dense connectivity; dale_net_masks_draw) */
    double sparsity;     /* fraction of W's entries removed, in [0, 1)            */
    int no_autapses;     /* 1: W's diagonal removed (no self-connections)          */
    /* ColEI recurrent init beyond the paper (0 = standard, so a zeroed
     * config keeps the paper's init) */
    dale_colei_init colei_init;
    long colei_init_iters;   /* spectral: projection rounds, >= 1 (default 20)          */
    double colei_init_floor; /* spectral: floor delta in [0, 1): every off-diagonal entry
                                keeps |w| >= delta * mean|w| of its round (default 0.05) */
} dale_net_config;

/* Fill cfg with the reference defaults (type rnn, 1 layer, ratio 9, ρ 1.5,
 * zero diagonal, ν = 1/3, mean-row W_IE, relu dynamics, alpha 1, no noise,
 * h_0 = 0, no rate penalty); sizes are left 0 for the caller. */
DALE_API void dale_net_config_defaults(dale_net_config *cfg);

/* E/I split of a population of N units for ratio r = nE:nI (docs/reference-behaviour.md, E/I split):
 * nI = ceil(N / (r + 1)) computed in double, nE = N - nI. */
DALE_API void dale_ei_split(size_t N, double ratio, size_t *nE, size_t *nI);

/* Parameter flags. */
enum {
    DALE_P_NONNEG = 1u << 0, /* constrained >= 0 (ColEI *_pos, DANN factors): projected */
    DALE_P_FREEZE = 1u << 1, /* recurrent W / dense W: subject to sign freezing        */
    DALE_P_BIAS = 1u << 2,
    DALE_P_INHIB = 1u << 3, /* DANN inhibitory factor (U_IE, U_EI, W_IE, W_EI)          */
    DALE_P_REC = 1u << 4,   /* part of the recurrent matrix W                          */
    DALE_P_INHIB_COLS = 1u << 5, /* its last inhib_cols columns read inhibitory units:
                                    the inhibitory gradient scaling multiplies them by
                                    1/cols (ColEI sign-constrained maps, paper Fig. 11) */
};

typedef struct dale_param {
    char name[32];
    size_t rows, cols; /* bias: rows = n, cols = 1 */
    size_t offset;     /* into theta / grad */
    size_t layer;      /* clipping group: cells, then dense layers, then the readout */
    unsigned flags;
    float grad_scale;  /* DANN inhibitory gradient scaling (1 elsewhere)           */
    size_t inhib_cols; /* DALE_P_INHIB_COLS: inhibitory input columns (0 elsewhere) */
} dale_param;

typedef struct dale_net dale_net;

/* Create a network with zeroed parameters.  Validates the config (sizes > 0,
 * ratio > 0, each ColEI split with nE >= 1 and nI >= 1, DANN widths >= 2...).
 * Errors: DALE_ERR_ARG (message names the field), DALE_ERR_NOMEM. */
DALE_API dale_status dale_net_create(const dale_net_config *cfg, dale_net **out);
DALE_API void dale_net_free(dale_net *net); /* NULL-safe */

DALE_API const dale_net_config *dale_net_config_of(const dale_net *net);
DALE_API size_t dale_net_nparams(const dale_net *net);       /* table entries */
DALE_API const dale_param *dale_net_param(const dale_net *net, size_t i);
DALE_API int dale_net_find(const dale_net *net, const char *name); /* index or -1 */
DALE_API size_t dale_net_size(const dale_net *net);          /* floats in theta */
DALE_API float *dale_net_theta(dale_net *net);
DALE_API float *dale_net_grad(dale_net *net);
DALE_API size_t dale_net_ncells(const dale_net *net);
DALE_API size_t dale_net_nlayers(const dale_net *net);       /* cells + dense + readout */

/* E/I split of the units that layer k's weight map reads (cell k's W for
 * k < ncells, else the k-th layer's W): ColEI the column sign split, DANN
 * (columns, inhibitory units), RNN (columns, 0).  Zeros if k is out of range. */
DALE_API void dale_net_ei_units(const dale_net *net, size_t k, size_t *nE, size_t *nI);

/* Spectral radius the model's init targets for cell W (ColEI: rho; RNN and
 * DANN: sqrt(numerator)).  NaN for an unknown type. */
DALE_API double dale_model_init_radius(const dale_net_config *cfg);

/* Reference initialisation of every parameter (paper Sec. 2.2;
 * docs/reference-behaviour.md) drawing from rng.
 * ColEI needs an eigen-solve per cell (DALE_ERR_LAPACK possible). */
DALE_API dale_status dale_net_init(dale_net *net, dale_rng *rng);

/* Eigenvalues of cell k's W as initialised (ColEI only: they come free with
 * the init's eigen-solve, scaled by ρ/ρ0), sorted by descending modulus,
 * into re[n], im[n].  DALE_ERR_STATE for other models or before an init.
 * They describe the parameters as initialised: the net cannot tell when
 * theta changes, so use them straight after dale_net_init. */
DALE_API dale_status dale_net_init_eigvals(const dale_net *net, size_t cell, double *re, double *im);

/* Effective matrices of cell k (its W (n, n) and U (n, d)) into caller
 * buffers, or of the readout when k == ncells (W only, (m, n)).  Builds them
 * from the current parameters. */
DALE_API dale_status dale_net_effective(dale_net *net, size_t cell, float *W, float *U);

/* ------------------------------------------------ connectivity masks
 *
 * A mask fixes which connections of a map exist: a 0/1 matrix of the map's
 * shape (post x pre, row = receiving unit).  The masked entries of the
 * EFFECTIVE map are exactly 0 in every forward, backward, spectrum and
 * saved W_eff, and stay so through training:
 *   rnn, colei  the parameter itself (W, W_pos) is 0 there; its gradient
 *               is 0 there, and dale_net_masks_apply (called by the update
 *               after every step) sets it to 0 again;
 *   dann        the mask applies to the effective map, M = mask * (W_EE -
 *               W_EI W_IE): a removed connection is removed with its
 *               inhibitory pathway; W_EE is 0 there, the factors W_EI,
 *               W_IE stay dense (interneurons reach every unit).
 * The forward enforces it too (a loaded parameter that is not 0 at a
 * masked entry is set to 0).  Which maps: layer k < ncells with rec = 1 is
 * cell k's W, rec = 0 its U; a layer k >= ncells (rec = 0) a dense layer's
 * or the readout's W (the readout is layer nlayers - 1).
 *
 * Generated masks (config sparsity, no_autapses) cover every cell's W: each
 * entry is removed with probability `sparsity` (one uniform per entry,
 * row-major, from dale_rng_fork(rng, DALE_MASK_LABEL + cell)) and, with
 * no_autapses, the diagonal; a caller's mask (dale_net_set_mask) is
 * multiplied by the generated one.  ColEI rescales the MASKED W to its
 * spectral radius rho at init. */
#define DALE_MASK_LABEL 0x6d61736b00ull /* "mask" */

/* Shape of the map (layer, rec) as above.  DALE_ERR_ARG for a map that does
 * not exist (rec = 1 on a layer that is no cell, layer out of range). */
DALE_API dale_status dale_net_map_shape(const dale_net *net, size_t layer, int rec, size_t *rows, size_t *cols);
/* Set (copy) the caller's mask of map (layer, rec), rows x cols floats all
 * 0 or 1; NULL removes it.  The parameters' masked entries are set to 0 at
 * once.  Errors: DALE_ERR_ARG (no such map; a value other than 0 or 1,
 * naming its position), DALE_ERR_NOMEM. */
DALE_API dale_status dale_net_set_mask(dale_net *net, size_t layer, int rec, const float *mask);
/* The mask in force on map (layer, rec) (caller's times generated), or NULL
 * when none (or no such map).  Owned by net; valid until the next set or draw. */
DALE_API const float *dale_net_mask(const dale_net *net, size_t layer, int rec);
/* 1 when any map has a mask. */
DALE_API int dale_net_has_masks(const dale_net *net);
/* Draw the generated masks of the config's sparsity / no_autapses from
 * forks of rng (rng is not advanced), combine them with the caller's and
 * zero the masked parameters.  Nothing to draw: only the combination.
 * dale_net_init calls it first, so `dale_net_init` alone gives the masked
 * network.  Errors: DALE_ERR_NOMEM. */
DALE_API dale_status dale_net_masks_draw(dale_net *net, dale_rng *rng);
/* Set every masked entry of the parameters to 0 (no-op without masks). */
DALE_API void dale_net_masks_apply(dale_net *net);

/* Size the activation plan for sequences of at most T steps and B samples. */
DALE_API dale_status dale_net_plan(dale_net *net, size_t T, size_t B);

/* Forward pass over x (T, B, d).  all_steps = 0 evaluates dense layers and the
 * readout at the last step only (output (B, m)); 1 at every step (output
 * (T, B, m)).  Overwrites the activations; returns a view of the output in
 * *out (owned by net, valid until the next forward).  The net keeps a
 * pointer to x for the backward pass: x must stay alive and unchanged until
 * dale_net_backward has run. */
DALE_API dale_status dale_net_forward(dale_net *net, const float *x, size_t T, size_t B,
                                      int all_steps, const float **out);

/* BPTT for the last forward: dout has the output's layout.  ACCUMULATES the
 * raw-parameter gradients into grad (call dale_net_zero_grad first).
 * DALE_ERR_STATE unless a forward has run since the last backward. */
DALE_API dale_status dale_net_backward(dale_net *net, const float *dout);
DALE_API void dale_net_zero_grad(dale_net *net);

/* Noise of the forward passes.  With rng non-NULL every later forward draws
 * its noise from the net's own copy of *rng, which it advances; with NULL
 * (the state after dale_net_create) forwards are noiseless.  Nothing is
 * drawn when noise_rec and noise_in are both 0.  The draws of one forward,
 * each sd * dale_rng_normal(rng, 0, 1), come in this order: with noise_in > 0
 * the input noise eta of every entry of x (T, B, d) in memory order, sd =
 * sqrt(2 / alpha) sigma_in; then with noise_rec > 0, per cell and per step
 * t = 1..T, eps_t (B, n) in memory order, sd of unit j = sqrt(2 / a_j)
 * sigma_rec (relu, leaky) or sqrt(2 a_j) sigma_rec (leaky-state).  The
 * backward of a noisy forward differentiates through that noise sample. */
DALE_API void dale_net_set_noise(dale_net *net, const dale_rng *rng);

/* The update rate a_j of unit j of every cell (alpha, or alpha_i for ColEI's
 * inhibitory units; 1 for relu).  NaN when j is out of range. */
DALE_API double dale_net_unit_alpha(const dale_net *net, size_t j);

/* rate_l2 penalty of the last forward: lambda times the mean of h_t^2 over
 * every cell, step t = 1..T, batch row and unit (0 when lambda = 0).  The
 * backward adds its gradient, 2 lambda h_t / (L T B n), to dL/dh_t, so a
 * caller that trains adds this value to its loss. */
DALE_API double dale_net_rate_penalty(const dale_net *net);
/* The hidden states h_1..h_T of recurrent cell `cell` (0-based) computed by
 * the last dale_net_forward: time-major (T, B, n), n = the cell width, with
 * *T and *B (may be NULL) those of that forward.  A view owned by net, valid
 * until the next forward or plan.  NULL (and *T = *B = 0) when no forward
 * has run since the last plan or backward, or cell >= dale_net_ncells. */
DALE_API const float *dale_net_states(const dale_net *net, size_t cell, size_t *T, size_t *B);

#ifdef __cplusplus
}
#endif
#endif
