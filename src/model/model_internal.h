/* model_internal.h — the layout of dale_net shared by the model files, and
 * the two registries: models (reparameterisations) and cell dynamics.
 *
 * A layer owns one or two "maps": an effective matrix M (rows x cols) that a
 * model builds from raw parameters held in theta.  The three map kinds are
 * the shared building blocks of the models' reparameterisations:
 *   MAP_PLAIN    M = P                       (eff/geff alias theta/grad)
 *   MAP_COLSIGN  M = P diag(sign)            (sign over input columns)
 *   MAP_DANN     M = EE - EI * IE            (three non-negative factors)
 * Each kind has eff_forward (build M), eff_backward (chain dL/dM to the raw
 * parameters); the update policies never see maps, only the parameter table.
 */
#ifndef DALE_MODEL_INTERNAL_H
#define DALE_MODEL_INTERNAL_H

#include "dale/model.h"
#include "dale/rng.h"

typedef enum map_kind { MAP_PLAIN, MAP_COLSIGN, MAP_DANN } map_kind;

typedef struct dale_map {
    map_kind kind;
    size_t rows, cols;
    size_t ni;         /* DANN: inhibitory units; COLSIGN: inhibitory columns */
    int p_main;        /* PLAIN: P; COLSIGN: P (>= 0); DANN: EE */
    int p_ie, p_ei;    /* DANN: IE (ni, cols), EI (rows, ni); else -1 */
    float *sign;       /* COLSIGN: (cols) +1 / -1; owned */
    float *eff;        /* effective M (rows, cols): alias of theta for PLAIN */
    float *geff;       /* dL/dM: alias of grad for PLAIN, owned scratch otherwise */
    /* COLSIGN with every sign +1 (a first layer reading the network's
     * input): M = P diag(1) = P exactly and dP = 0 + G = G, so eff and geff
     * alias theta and grad as for PLAIN, and the map costs no passes. */
    int alias;
    /* Connectivity mask (mask.c): NULL, or 0/1 of (rows, cols), owned.
     * mask = umask (set by the caller) times gmask (drawn from the config's
     * sparsity / autapses at init); NULL when both are. */
    float *mask, *umask, *gmask;
} dale_map;

typedef enum layer_kind { LAYER_CELL, LAYER_DENSE, LAYER_READOUT } layer_kind;

typedef struct dale_layer {
    layer_kind kind;
    size_t in, out;    /* input width, output width */
    dale_map U;        /* cells: input map; dense/readout: the weight map */
    dale_map W;        /* cells only: recurrent map */
    int p_b;           /* bias parameter index */
    /* activations (owned, sized by the plan):
     *   cell:   H (T+1, B, out), H[0] = 0; dH (T, B, out) scratch for BPTT
     *   dense:  A (R, out) post-ReLU, dA (R, out); R = T*B or B
     *   readout: A (R, out) linear output, dA unused */
    float *H, *dH, *A, *dA;
    float *Z;          /* cells whose dynamics keep z_t: (T+1, B, out), block t the
                          pre-activation of step t (leaky: z_t + eps_t; leaky-state:
                          s_t, block 0 = s_0); else NULL */
    float *C;          /* cells with Z: (2, B, out) backward scratch: the carried
                          dL/ds of leaky-state, then dL/dh_0 (h0_learn) */
    float *rate;       /* cells: (2, out) per-unit a_j, then 1 - a_j, as floats */
    int p_h0;          /* cells: parameter index of the learned h_0, or -1 */
    /* cells with out <= DALEI_SMM_MAX_N (owned, one block): the maps packed
     * for linalg/kernels.c at each forward, W's rows padded to ldp floats:
     *   Wt (out, ldp) = W^T for the forward,  Wp (out, ldp) = W for BPTT,
     *   Ut (in, out) = U^T for the input projection.
     * NULL for wider cells, which use dale_sgemm on the maps directly. */
    float *Wt, *Wp, *Ut;
    size_t ldp;
} dale_layer;

typedef struct dalei_model_ops dalei_model_ops;
typedef struct dalei_dynamics_ops dalei_dynamics_ops;

struct dale_net {
    dale_net_config cfg;
    const dalei_model_ops *ops;     /* cfg.type's registry entry    */
    const dalei_dynamics_ops *dyn;  /* cfg.dynamics' registry entry */
    size_t ncells, nlayers;    /* nlayers = ncells + ndense + 1 */
    dale_layer *layers;
    size_t nparams;
    dale_param *params;
    size_t size;               /* floats in theta */
    float *theta, *grad;
    /* plan */
    size_t plan_T, plan_B;
    /* state of the last forward (for backward) */
    int have_forward;
    size_t fwd_T, fwd_B;
    int fwd_all;
    int fwd_kern;              /* the forward's route: 0 dale_sgemm only, 1 dale's kernels
                                  within their size rules, 2 dale's kernels only (net.c) */
    const float *fwd_x;
    size_t fwd_Tx;             /* steps 0..fwd_Tx-1 of x hold a non-zero; later ones are all 0 */
    /* noise (dale_net_set_noise) and the rate penalty */
    dale_rng noise;            /* the stream forwards draw from while noise_on */
    int noise_on;
    float *Xn;                 /* noise_in > 0: the noisy input of the last forward (plan_T, plan_B, d) */
    float *E;                  /* noise_rec > 0: one step's eps (plan_B, n) */
    double *noise_sd;          /* noise_rec > 0: the sd of each unit's eps (n) */
    double rate_pen;           /* rate_l2 penalty of the last forward */
    /* numerics = dale: scratch for M^T of the widest dense or readout
     * layer and DANN's negated factors (net.c); NULL otherwise */
    float *scratch;
    /* ColEI: eigenvalues of each cell's W from the init's eigen-solve,
     * (ncells, 2, n) re then im; valid while have_init_eig */
    double *init_eig;
    int have_init_eig;
    /* dalei_net_backward_fresh: gfresh[i] while parameter i's gradient has
     * had no contribution yet (it is written, not added to); gfresh_on
     * while such a backward runs (net.c) */
    unsigned char *gfresh;
    int gfresh_on;
};

/* Build every layer's effective matrices from theta (net.c). */
void dalei_net_build_effective(dale_net *net);

/* ------------------------------------------------------ parameter table */

typedef struct dalei_table {
    dale_param *p;
    size_t n, cap, size;
} dalei_table;

/* Append parameter "<prefix>.<name>" (rows, cols) of clipping group `layer`
 * and return its index (net.c). */
int dalei_table_add(dalei_table *tb, const char *prefix, const char *name, size_t rows,
                    size_t cols, size_t layer, unsigned flags, float grad_scale);

/* Where a map sits, as a model's describe hook sees it. */
typedef struct dalei_site {
    const char *prefix; /* "cellK", "denseK" or "out"                          */
    const char *wname;  /* "U" (cell input map) or "W" (recurrent, dense, readout) */
    size_t rows, cols;  /* post x pre                                           */
    size_t layer;       /* clipping group                                       */
    int rec;            /* the recurrent W of a cell                            */
    int cell;           /* a map of a recurrent cell (else dense or readout)    */
    int first_input;    /* cell 0's U: it reads the data, not an E/I population */
} dalei_site;

/* ------------------------------------------------------- model registry
 *
 * One table per model (src/model/<name>.c), listed in registry.c in the
 * order of dale_model_type.  Every hook is required except check. */
struct dalei_model_ops {
    dale_model_info info; /* first: dale_model_at returns &ops->info */
    /* Model-specific config checks after the generic ones (NULL: none). */
    dale_status (*check)(const dale_net_config *cfg);
    /* Declare the raw parameters of map m at site s (dalei_table_add) and set
     * m's kind (MAP_*), p_main / p_ie / p_ei and ni.  m arrives zeroed with
     * rows, cols set and p_ie = p_ei = -1. */
    void (*describe)(dalei_table *tb, dale_map *m, const dale_net_config *cfg, const dalei_site *s);
    /* Initialise cell l's U from ru and W from rw (bias already 0).  May
     * fill net->init_eig (2n doubles per cell) when the model has
     * DALE_MODEL_INIT_EIGS. */
    dale_status (*init_cell)(dale_net *net, size_t l, dale_rng *ru, dale_rng *rw);
    /* Initialise dense or readout layer l's W from r (bias already 0). */
    void (*init_dense)(dale_net *net, size_t l, dale_rng *r);
    /* Spectral radius the init targets for a cell's W. */
    double (*init_radius)(const dale_net_config *cfg);
};

extern const dalei_model_ops dalei_model_rnn, dalei_model_colei, dalei_model_dann;
/* Registry entry of t, NULL when out of range (registry.c). */
const dalei_model_ops *dalei_model_ops_of(dale_model_type t);
/* "rnn, colei or dann": every canonical name, into buf; returns buf. */
const char *dalei_model_names(char *buf, size_t cap);

/* ------------------------------------------------------ dynamics registry
 *
 * A cell's step from z_t to h_t and its backward, called per step on the
 * (rows, n) block of the batch, with the cell's per-unit rates
 * rate[j] = a_j, rate[n + j] = 1 - a_j.  Every hook is required except check. */
struct dalei_dynamics_ops {
    const char *name;
    const char *const *aliases; /* NULL-terminated */
    const char *summary;
    /* h = relu(z): the kernels' fused ReLU epilogue computes the step and its
     * mask (linalg/kernels.h); only the discrete ReLU cell sets it. */
    int fused_relu;
    /* The backward needs z_t: the forward stores it in the layer's Z. */
    int keeps_preact;
    /* Recurrent noise is scaled by sqrt(2 a_j) (state form), else sqrt(2 / a_j). */
    int state_form;
    dale_status (*check)(const dale_net_config *cfg);
    /* h (rows, n) holds z_t on entry and h_t on return; hprev = h_{t-1};
     * z: where to keep the pre-activation (keeps_preact) or NULL; zprev: the
     * kept one of step t - 1 (block 0 of Z at t = 1); eps: the step's noise
     * (rows, n) or NULL. */
    void (*step)(const float *rate, size_t rows, size_t n, float *h, const float *hprev, float *z,
                 const float *zprev, const float *eps);
    /* dh holds dL/dh_t (complete) on entry and dL/dz_t on return; the direct
     * path h_{t-1} -> h_t is accumulated into dprev (NULL: not wanted); carry
     * (rows, n), zero before step T: the state form's dL/ds_t carried to
     * step t - 1; h = h_t, z = the kept pre-activation (or NULL). */
    void (*back)(const float *rate, size_t rows, size_t n, float *dh, float *dprev, float *carry,
                 const float *h, const float *z);
};

extern const dalei_dynamics_ops dalei_dyn_relu, dalei_dyn_leaky, dalei_dyn_leaky_state;
const dalei_dynamics_ops *dalei_dynamics_ops_of(dale_dynamics_type t);

/* ------------------------------------------------ connectivity masks
 * (mask.c).  Masked entries are 0 in the effective map: the model's main
 * parameter (P, W_pos, EE) is kept 0 there and the built map, its gradient
 * dL/dM are zeroed there (DANN: M = mask * (EE - EI IE)). */
void dalei_map_mask_params(dale_net *net, dale_map *m); /* main parameter's masked entries := 0 */
/* ColEI: turn a cell's sampled recurrent W_pos (diagonal zeroed and masked
 * as configured) into the configured colei_init before the rescaling to rho
 * (colei_init.c; standard: unchanged).  rw: the recurrent stream, forked
 * only.  DALE_ERR_NOMEM, or an SVD failure. */
dale_status dalei_colei_init_apply(dale_net *net, dale_map *m, const dale_rng *rw);
void dalei_map_mask_eff(dale_map *m);                   /* eff's masked entries := 0 */
void dalei_map_mask_grad(dale_map *m);                  /* geff's masked entries := 0 */
void dalei_map_mask_free(dale_map *m);

/* ------------------------------------------- shared init building blocks
 * (init.c): fills of count floats from rng. */
float *dalei_net_param(dale_net *net, int idx); /* theta of parameter idx */
void dalei_fill_uniform(float *M, size_t count, double bound, dale_rng *rng); /* U[-b, b] */
void dalei_fill_normal(float *M, size_t count, double sd, dale_rng *rng);     /* N(0, sd²) */
void dalei_fill_exp(float *M, size_t count, double scale, dale_rng *rng);     /* Exp(mean scale) */

#endif
