/* model_internal.h — the layout of dale_net shared by net.c and init.c.
 *
 * A layer owns one or two "maps": an effective matrix M (rows x cols) that a
 * variant builds from raw parameters held in theta.  The three map kinds are
 * the model variants' reparameterisations (STYLE §6):
 *   MAP_PLAIN    M = P                       (eff/geff alias theta/grad)
 *   MAP_COLSIGN  M = P diag(sign)            (sign over input columns)
 *   MAP_DANN     M = EE - EI * IE            (three non-negative factors)
 * Each kind has eff_forward (build M), eff_backward (chain dL/dM to the raw
 * parameters); the update policies never see maps, only the parameter table.
 */
#ifndef DALE_MODEL_INTERNAL_H
#define DALE_MODEL_INTERNAL_H

#include "dale/model.h"

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
    /* cells with out <= DALEI_SMM_MAX_N (owned, one block): the maps packed
     * for linalg/kernels.c at each forward, W's rows padded to ldp floats:
     *   Wt (out, ldp) = W^T for the forward,  Wp (out, ldp) = W for BPTT,
     *   Ut (in, out) = U^T for the input projection.
     * NULL for wider cells, which use dale_sgemm on the maps directly. */
    float *Wt, *Wp, *Ut;
    size_t ldp;
} dale_layer;

struct dale_net {
    dale_net_config cfg;
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
    int fwd_kern;              /* the forward used dale's kernels (linalg/kernels.h) */
    const float *fwd_x;
    size_t fwd_Tx;             /* steps 0..fwd_Tx-1 of x hold a non-zero; later ones are all 0 */
    /* ColEI: eigenvalues of each cell's W from the init's eigen-solve,
     * (ncells, 2, n) re then im; valid while have_init_eig */
    double *init_eig;
    int have_init_eig;
};

/* Build every layer's effective matrices from theta (net.c). */
void dalei_net_build_effective(dale_net *net);

#endif
