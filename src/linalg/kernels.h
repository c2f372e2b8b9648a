/* kernels.h — hand-written small-matrix kernels for the per-step products of
 * BPTT (internal; see kernels.c for the layout and the reasoning).
 *
 * The recurrent products of a cell are (B, n) x (n, n) per time step, with
 * B ~ 32 and n ~ 100: too small for a general GEMM to amortise its packing
 * and dispatch, so dale runs them through dalei_smm below when n is at most
 * DALEI_SMM_MAX_N, and through dale_sgemm otherwise.  dalei_gemm_acc is the
 * same kernel without the padding contract, for the products over all
 * steps (dW = dZ^T H and friends).  Both are cache-blocked for any size
 * (the lm readout, objrec's input layer) and can split their output
 * between threads (dalei_kernels_set_threads), with the same bits.
 *
 * Results do not depend on the instruction set chosen at run time: every
 * path forms each output as C + a_0 b_0 + a_1 b_1 + ... in k order with a
 * rounded multiply and a rounded add per term (no FMA, no reassociation), so
 * the portable, AVX2 and AVX-512 paths give identical bits.
 */
#ifndef DALE_LINALG_KERNELS_H
#define DALE_LINALG_KERNELS_H

#include <stddef.h>

/* Widest n for which the network uses dalei_smm.  Measured faster than
 * OpenBLAS 0.3.21's AVX2 kernels up to n = 1000 (and on par with its
 * AVX-512 ones; docs/performance.md); the bound keeps the packed copies of
 * W (2 n^2 floats) small. */
#define DALEI_SMM_MAX_N 2048

/* Epilogues applied to each finished output element c (after all K terms):
 *   NONE  c
 *   RELU  c < 0 ? 0 : c          (NaN stays NaN)
 *   MASK  y > 0 ? c : 0          (y read from Y at the same (i, j))     */
enum { DALEI_EPI_NONE, DALEI_EPI_RELU, DALEI_EPI_MASK };
/* Or-ed into epi (internal to kernels.c): the tiles take C's old values as
 * +0 and never read them (dalei_gemm_set), or as the values of Y's rows,
 * ldy apart (0: one row for every row of C; dalei_gemm_bias). */
#define DALEI_C_ZERO 0x100
#define DALEI_C_ROW 0x200

/* Row stride the packed right-hand operand must have for N columns: N
 * rounded up to a multiple of 16 floats (the kernels read whole vectors;
 * the padding columns are read but never stored). */
size_t dalei_smm_ld(size_t N);

/* C (M, N) = epi(C + A P), all row-major.
 *   A (M, K) with row stride lda >= K;
 *   P (K, N) with row stride ldp >= dalei_smm_ld(N): columns N..ldp-1 must
 *     be readable (zero them when packing);
 *   C (M, N) with row stride ldc >= N, accumulated into;
 *   Y (M, N) with row stride ldy, read only by DALEI_EPI_MASK (else NULL).
 * C must not overlap A, P or Y. */
void dalei_smm(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *P,
               size_t ldp, float *C, size_t ldc, int epi, const float *Y, size_t ldy);

/* C (M, N) += op(A) P without any padding contract: op(A) is (M, K), A
 * stored (M, K) with row stride lda (ta = 0) or (K, M) (ta = 1, the
 * transposed operand of dW = dZ^T H); P (K, N) with row stride ldp >= N.
 * Same arithmetic and order as dalei_smm (bit-identical on every path). */
void dalei_gemm_acc(int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                    const float *P, size_t ldp, float *C, size_t ldc);
/* C = +0 + op(A) P: the same bits as dalei_zero(C) then dalei_gemm_acc,
 * without reading C (every output starts from +0, then its terms in k
 * order; a sum that is -0 stays +0 as it would after zeroing). */
void dalei_gemm_set(int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                    const float *P, size_t ldp, float *C, size_t ldc);
/* C = b + op(A) P, b one row of N floats: every row of C starts from b,
 * then its terms in k order; the same bits as dalei_fill_rows(C, b, M, N)
 * then dalei_gemm_acc, without the pass that writes b into C. */
void dalei_gemm_bias(int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                     const float *P, size_t ldp, const float *b, float *C, size_t ldc);
void dalei_gemm_acc_naive(int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                          const float *P, size_t ldp, float *C, size_t ldc);

/* The same product as three plain loops: the reference the tests compare
 * dalei_smm with (tests/test_kernels.c).  Same summation order, so equal bits. */
void dalei_smm_naive(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *P,
                     size_t ldp, float *C, size_t ldc, int epi, const float *Y, size_t ldy);

/* Elementwise passes, branch-free (kernels.c says why):
 *   dalei_relu       y = y < 0 ? 0 : y            (NaN stays NaN)
 *   dalei_relu_mask  dy = y > 0 ? dy : 0
 *   dalei_add_rows   db[j] += sum_r dy[r][j], r in order; dy is (R, n)  */
void dalei_relu(float *y, size_t n);
void dalei_relu_mask(float *dy, const float *y, size_t n);
void dalei_add_rows(float *db, const float *dy, size_t R, size_t n);
/* y = x diag(s) (acc = 0) or y += x diag(s) (acc = 1), x and y (R, C); s (C)
 * or NULL for all ones.  Same arithmetic as the scalar loops. */
void dalei_scale_cols(float *y, const float *x, const float *s, size_t R, size_t C, int acc);
/* y[r][:] = b[:] for r = 0..R-1 (y (R, n)): the bias rows a product then
 * accumulates into. */
void dalei_fill_rows(float *y, const float *b, size_t R, size_t n);
/* y[0..n-1] = 0 (+0.0f); y[0..n-1] = x[0..n-1]; y[0..n-1] = -x[0..n-1]
 * (an exact sign flip; no overlap). */
void dalei_zero(float *y, size_t n);
void dalei_copy(float *y, const float *x, size_t n);
void dalei_negate(float *y, const float *x, size_t n);
/* Sum of (double)g[k]^2 in eight lanes (element k in lane k % 8, each lane
 * in index order, then ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7))):
 * the gradient norm of numerics = dale.  The same value on every path. */
double dalei_sumsq8(const float *g, size_t n);

/* These passes split large arrays between the pool's threads (see
 * dalei_kernels_set_threads) by contiguous ranges; every element is
 * computed as in one thread, so the bits do not depend on the count.
 * dalei_par_range is that split for other elementwise loops: fn(arg, lo,
 * hi) over [0, n) in ranges whose starts are multiples of q, on up to the
 * pool's thread count when `work` (elements touched) is large enough, else
 * fn(arg, 0, n) on the caller.  Ranges must write disjoint memory. */
void dalei_par_range(size_t n, size_t q, size_t work, void (*fn)(void *arg, size_t lo, size_t hi), void *arg);

/* Threads per product (default 1; clamped to 1..64).  With n > 1,
 * dalei_smm and dalei_gemm_acc split the output of a large enough product
 * (rows or whole vector tiles of columns, never the sum over k) between
 * the caller and n - 1 pooled worker threads (linalg/threads.c): results
 * are bit-identical for every n.  The setting is process-wide. */
void dalei_kernels_set_threads(int n);
int dalei_kernels_threads(void);

/* Run fn(arg, part, nparts) for part = 0..nparts-1, part 0 on the calling
 * thread and the others on the pool's workers (started on first use);
 * returns when all parts are done.  If the pool is busy (another thread's
 * job), or nparts <= 1, the caller runs every part itself in order.  Parts
 * must write disjoint memory. */
void dalei_pool_run(void (*fn)(void *arg, int part, int nparts), void *arg, int nparts);

/* Instruction-set paths.  dalei_smm_path() is the one dalei_smm uses now:
 * the widest the CPU supports, unless forced.  dalei_smm_force(p) makes
 * dalei_smm use path p when the CPU supports it (tests, benchmarks) and
 * returns the path now in use; DALEI_SMM_AUTO restores the default.  The
 * environment variable DALE_SMM=portable|avx2|avx512 forces a path too. */
enum { DALEI_SMM_AUTO = -1, DALEI_SMM_PORTABLE = 0, DALEI_SMM_AVX2 = 1, DALEI_SMM_AVX512 = 2 };
int dalei_smm_path(void);
int dalei_smm_force(int path);
const char *dalei_smm_path_name(int path);

/* Whether the network uses these kernels at all (default 1).  0 sends
 * every product of a step to dale_sgemm, as before the kernels existed:
 * for tests (both routes must agree to round-off) and benchmarks.  Also
 * DALE_SMM=blas in the environment.  Returns the previous setting. */
int dalei_kernels_enabled(void);
int dalei_kernels_enable(int on);

#endif
