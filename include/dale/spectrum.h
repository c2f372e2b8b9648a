/* dale/spectrum.h — spectra of many initialisations, histograms, transplants.
 *
 * Sampling.  Draw k of a model configuration is the effective recurrent
 * matrix W of cell 0 of a network initialised from seed `seed0 + k`:
 *     dale_rng_seed(&rng, seed0 + k); dale_net_create(cfg'); dale_net_init;
 *     dale_net_effective(cell 0)  (float32, converted to float64)
 * where cfg' is cfg with one layer, input width 1, output width 1 and no
 * dense layers.  Cell 0's W has its own forked RNG stream (model/init.c), so
 * it does not depend on those widths: draw k is exactly the W that
 * `dale train --seed seed0+k` (same model options) starts from.
 *
 * Draws run in parallel on `threads` POSIX threads, each handling whole
 * draws with whatever BLAS threading the caller set (the CLI pins BLAS to
 * one thread); results are stored by draw index, so they are identical for
 * every thread count.  Draws of models with DALE_MODEL_INIT_EIGS (ColEI)
 * reuse the eigenvalues of the init's own eigen-solve
 * (dale_net_init_eigvals: the eigenvalues of the float64 matrix before its
 * rounding to float32, so ρ is exactly cfg.rho); the others (RNN, DANN)
 * run dale_eigvals.  Singular values always come from dale_svals.
 */
#ifndef DALE_SPECTRUM_H
#define DALE_SPECTRUM_H

#include <stddef.h>
#include <stdint.h>
#include "dale/model.h"
#include "dale/spectral.h"
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Flags of dale_spectrum_sample. */
enum {
    DALE_SPEC_KEEP = 1u << 0,   /* keep every singular value and eigenvalue (svals, eig_re, eig_im) */
    DALE_SPEC_NO_EIG = 1u << 1, /* skip eigenvalues where they cost a solve (RNN, DANN): rho = NaN  */
};

/* The draws of one configuration.  Arrays are owned by the struct and are
 * (inits, n) row-major (draw k's values in row k; singular values
 * descending, eigenvalues by descending modulus), NULL without
 * DALE_SPEC_KEEP (eig_re/eig_im also NULL with DALE_SPEC_NO_EIG unless the
 * model is ColEI). */
typedef struct dale_spectrum_set {
    dale_net_config cfg;      /* as sampled (1 layer, input 1, output 1) */
    uint64_t seed0;
    size_t inits, n;
    size_t nE, nI;            /* E/I counts of W's columns (dale_net_ei_units: ColEI split; DANN: n, recurrent nI; RNN: n, 0) */
    dale_spectrum_summary *sum; /* inits summaries */
    double *svals, *eig_re, *eig_im;
} dale_spectrum_set;

/* One job of dale_spectrum_sample: a configuration, its first seed and its
 * number of draws. */
typedef struct dale_spectrum_job {
    const dale_net_config *cfg; /* only type and init options are used */
    uint64_t seed0;
    size_t inits;
} dale_spectrum_job;

/* Sample every job's draws (all jobs share one pool of `threads` workers;
 * threads <= 0 means 1; larger matrices are started first).  Fills out[j]
 * for job j; free each with dale_spectrum_set_free.  Errors:
 * DALE_ERR_ARG (NULL, inits 0, invalid config: message from dale_net_create),
 * DALE_ERR_NOMEM, DALE_ERR_LAPACK, DALE_ERR_NUMERIC, DALE_ERR_STATE (thread
 * start failure).  An error in a worker thread stops the others and is
 * reported in the calling thread's dale_last_error().  On failure every
 * out[j] is left empty (zeroed). */
DALE_API dale_status dale_spectrum_sample(const dale_spectrum_job *jobs, size_t njobs,
                                          unsigned flags, int threads, dale_spectrum_set *out);
/* The same with a progress callback: after each finished draw, with the
 * draws done so far, their total and the draw's n; called from the worker
 * threads one at a time (under the pool's lock), so it must be quick. */
typedef void (*dale_spectrum_progress)(size_t done, size_t total, size_t n, void *user);
DALE_API dale_status dale_spectrum_sample_progress(const dale_spectrum_job *jobs, size_t njobs, unsigned flags,
                                                   int threads, dale_spectrum_set *out,
                                                   dale_spectrum_progress progress, void *user);
/* The same with connectivity masks of W: W_masks[j] (NULL, or W_masks
 * NULL: none) is job j's mask, (n, n) row-major floats all 0 or 1 (post x
 * pre, as dale_net_set_mask), set on every draw's network before
 * dale_net_init, so the draw is the masked effective W that `dale train
 * --mask-rec` starts from (ColEI rescales the masked matrix to its rho).
 * It combines with the config's generated masks (sparsity, no_autapses).
 * The masks are the caller's and read only.  Errors as
 * dale_spectrum_sample_progress, and DALE_ERR_ARG for a value other than
 * 0/1 (message from dale_net_set_mask). */
DALE_API dale_status dale_spectrum_sample_masked(const dale_spectrum_job *jobs, const float *const *W_masks,
                                                 size_t njobs, unsigned flags, int threads, dale_spectrum_set *out,
                                                 dale_spectrum_progress progress, void *user);
DALE_API void dale_spectrum_set_free(dale_spectrum_set *s); /* frees the arrays; NULL-safe */

/* The (n, n) float64 W of the draw with `seed` (see the file comment) into
 * W[n*n], n = cfg->hidden; if re/im are non-NULL also its eigenvalues as the
 * sampler computes them (ColEI: from the init).  Errors as dale_net_create,
 * dale_net_init, dale_eigvals. */
DALE_API dale_status dale_spectrum_draw(const dale_net_config *cfg, uint64_t seed, double *W,
                                        double *re, double *im);
/* dale_spectrum_draw with W's connectivity mask W_mask ((n, n) 0/1, or
 * NULL: exactly dale_spectrum_draw), as a job's W_mask.  Errors as
 * dale_spectrum_draw and dale_net_set_mask (a value other than 0/1). */
DALE_API dale_status dale_spectrum_draw_masked(const dale_net_config *cfg, const float *W_mask, uint64_t seed,
                                               double *W, double *re, double *im);

/* Histogram of x[0..count) over `bins` equal bins of [lo, hi] as a density
 * like numpy.histogram(density=True): density[b] = c_b / (C · width) with
 * c_b the count of bin b (the last bin includes hi), C the number of values
 * inside [lo, hi], width = (hi - lo)/bins, so Σ density·width = 1 when
 * C > 0 (all zeros when C = 0).  Non-finite values are ignored.  *outside
 * (may be NULL) gets the number of finite values outside [lo, hi].
 * Errors: DALE_ERR_ARG (NULL, bins 0, not lo < hi). */
DALE_API dale_status dale_histogram(const double *x, size_t count, double lo, double hi,
                                    size_t bins, double *density, size_t *outside);

/* Mean and sample standard deviation (ddof 1; 0 for one value, NaN for
 * none) of x[0], x[stride], ..., x[(count-1)·stride]. */
DALE_API void dale_mean_sd(const double *x, size_t count, size_t stride, double *mean, double *sd);

/* Spectrum transplant (paper Sec. 2.3.1): out = U_A diag(σ_B) V_Aᵀ where
 * A_vectors = U_A diag(σ_A) V_Aᵀ is the thin SVD of the (m, n) A and σ_B
 * are the k = min(m, n) singular values of the (m, n) B, both sorted
 * descending (the k-th largest donor value goes with A's k-th singular
 * pair).  All row-major; out is (m, n) and may not alias the inputs.
 * Scratch: U (m, k), σ_A (k), Vᵀ (k, n), σ_B (k).  Errors: DALE_ERR_ARG,
 * DALE_ERR_NUMERIC (non-finite entry), DALE_ERR_LAPACK, DALE_ERR_NOMEM. */
DALE_API dale_status dale_transplant(const double *A_vectors, const double *B_values, size_t m,
                                     size_t n, double *out);
/* Same with the donor's singular values given directly (sigma[k],
 * any order: they are sorted descending first). */
DALE_API dale_status dale_transplant_values(const double *A_vectors, const double *sigma,
                                            size_t m, size_t n, double *out);

/* Reference NSE of a standard (PyTorch-uniform) RNN matrix of size n from
 * the quarter-circle law of its singular values: 1 - c/ln n with
 * c = E[x ln x], x = σ/E[σ] (c ≈ 0.21686); within 0.002 of the mean over
 * draws for n >= 100 (the released recipe: 0.954, 0.962, 0.969 at 100, 300, 1000).
 * NaN for n < 2. */
DALE_API double dale_nse_rnn_reference(size_t n);

#ifdef __cplusplus
}
#endif
#endif
