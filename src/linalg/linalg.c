/* linalg.c — BLAS/LAPACK wrappers: sgemm, SVD (dgesdd) and eigenvalues (dgeev).
 *
 * Layout.  dale stores every matrix row-major.  LAPACK is called through the
 * column-major `_work` entry points, which take the caller's buffers as they
 * are (the row-major `_work` variants would transpose into hidden mallocs).
 * The conversion is free because a row-major (m, n) buffer *is* the
 * column-major (n, m) matrix Aᵀ:
 *   - singular values and eigenvalues of Aᵀ equal those of A, so dgesdd and
 *     dgeev simply run on Aᵀ;
 *   - for the thin SVD, Aᵀ = U' Σ V'ᵀ gives A = V' Σ U'ᵀ.  The column-major
 *     (k, m) buffer dgesdd writes for V'ᵀ is the row-major (m, k) buffer of
 *     U = V', and the column-major (n, k) buffer of U' is the row-major (k, n)
 *     buffer of Vt = U'ᵀ.  So dgesdd writes straight into the caller's U and Vt.
 *
 * Every LAPACK wrapper copies its input (LAPACK overwrites it), refuses
 * non-finite input (LAPACK may loop or return garbage on NaN/Inf), queries
 * the optimal workspace once per call, allocates input copy and workspace
 * in one dalei_alloc block, and frees it on every path.  `info < 0` means we
 * passed a bad argument (a bug: DALE_ASSERT); `info > 0` is a convergence
 * failure and becomes DALE_ERR_LAPACK naming the routine.
 */
#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "dale/linalg.h"
#include "internal.h"

/* Largest dimension LAPACK/BLAS can take: their integers are lapack_int
 * (32-bit in the Debian LP64 build) and the CBLAS int. */
#define DIM_MAX ((size_t)INT_MAX)

/* ---------------------------------------------------------------- sgemm */

/* C (M, N) = alpha op(A) op(B) + beta C.  Stored shapes: A is (M, K) or,
 * transposed, (K, M); B is (K, N) or (N, K); the row strides must cover the
 * stored row length.  Bad sizes are programmer errors (DALE_ASSERT), as this
 * is a kernel with no status to return. */
void dale_sgemm(int ta, int tb, size_t M, size_t N, size_t K, float alpha,
                const float *A, size_t lda, const float *B, size_t ldb,
                float beta, float *C, size_t ldc)
{
    DALE_ASSERT(M <= DIM_MAX && N <= DIM_MAX && K <= DIM_MAX);
    DALE_ASSERT(lda <= DIM_MAX && ldb <= DIM_MAX && ldc <= DIM_MAX);
    if (M == 0 || N == 0) return;
    DALE_ASSERT(C != NULL && ldc >= N);
    if (K == 0) {
        /* op(A) op(B) is the zero matrix.  BLAS convention: beta = 0 sets C
         * to zero without reading it (so garbage or NaN in C is not kept). */
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++)
                C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    DALE_ASSERT(A != NULL && B != NULL);
    DALE_ASSERT(lda >= (ta ? M : K));
    DALE_ASSERT(ldb >= (tb ? K : N));
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

/* ------------------------------------------------------------- helpers */

/* Shared argument checks of the LAPACK wrappers: non-NULL buffers, sizes in
 * (0, INT_MAX], m*n representable, every entry finite.  `fn` names the
 * public function in messages. */
static dale_status check_matrix(const char *fn, const double *A, size_t m, size_t n)
{
    if (!A) return DALE_FAIL(DALE_ERR_ARG, "%s: A must not be NULL", fn);
    if (m == 0 || n == 0)
        return DALE_FAIL(DALE_ERR_ARG, "%s: matrix dimensions must be > 0 (got %zu x %zu)", fn,
                         m, n);
    if (m > DIM_MAX || n > DIM_MAX || m > SIZE_MAX / n)
        return DALE_FAIL(DALE_ERR_ARG, "%s: matrix %zu x %zu is too large for LAPACK", fn, m, n);
    for (size_t i = 0; i < m * n; i++)
        if (!isfinite(A[i]))
            return DALE_FAIL(DALE_ERR_NUMERIC, "%s: A[%zu, %zu] is not finite (%g)", fn, i / n,
                             i % n, A[i]);
    return DALE_OK;
}

/* Turn a workspace-size query answer (a double in work[0]) into a count.
 * Rounded up, and never below `minimum`: some LAPACK versions return a
 * slightly low value for large sizes because the float loses low bits. */
static size_t lwork_from_query(double q, size_t minimum)
{
    size_t w = q > 0.0 && q < (double)DIM_MAX ? (size_t)ceil(q) : minimum;
    return w < minimum ? minimum : w;
}

/* --------------------------------------------------------------- dgesdd */

/* Runs dgesdd on the row-major (m, n) A, viewed as the column-major (n, m)
 * matrix Aᵀ (see the file comment).  jobz 'N' fills s only; 'S' also fills
 * U (m, k) and Vt (k, n) row-major, k = min(m, n).  Scratch: one block with
 * the copy of A, the int workspace and the double workspace. */
static dale_status gesdd(const char *fn, char jobz, const double *A, size_t m, size_t n,
                         double *U, double *s, double *Vt)
{
    dale_status st = check_matrix(fn, A, m, n);
    if (st) return st;
    if (!s) return DALE_FAIL(DALE_ERR_ARG, "%s: s must not be NULL", fn);
    if (jobz == 'S' && (!U || !Vt))
        return DALE_FAIL(DALE_ERR_ARG, "%s: U and Vt must not be NULL", fn);

    /* Column-major view: lapack sees an (n, m) matrix with leading dim n. */
    const lapack_int lm = (lapack_int)n, ln = (lapack_int)m;
    const size_t k = m < n ? m : n;
    /* Column-major U' is (n, k) with ldu n (our Vt); V'ᵀ is (k, m) with ldvt
     * k (our U).  With jobz 'N' neither is touched; LAPACK wants ld >= 1. */
    const lapack_int ldu = jobz == 'N' ? 1 : lm, ldvt = jobz == 'N' ? 1 : (lapack_int)k;
    double dummy = 0.0;
    double *u = jobz == 'N' ? &dummy : Vt, *vt = jobz == 'N' ? &dummy : U;

    /* iwork is 8 min(m, n) integers for every jobz.  The int block is sized
     * in doubles so the double workspace after it stays aligned. */
    if (k > SIZE_MAX / 8 / sizeof(lapack_int))
        return DALE_FAIL(DALE_ERR_ARG, "%s: matrix %zu x %zu is too large", fn, m, n);
    const size_t niw = (8 * k * sizeof(lapack_int) + sizeof(double) - 1) / sizeof(double);
    const size_t na = m * n;
    double *block = NULL;

    double query = 0.0;
    lapack_int info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, jobz, lm, ln, &dummy, lm, s, u, ldu,
                                          vt, ldvt, &query, -1, NULL);
    DALE_ASSERT(info >= 0);
    const size_t lwork = lwork_from_query(query, 1);
    if (lwork > (size_t)INT_MAX || na > SIZE_MAX - niw || na + niw > SIZE_MAX - lwork)
        return DALE_FAIL(DALE_ERR_ARG, "%s: matrix %zu x %zu is too large", fn, m, n);

    block = dalei_alloc(na + niw + lwork, sizeof(double));
    if (!block) return DALE_ERR_NOMEM;
    double *a = block;
    lapack_int *iwork = (lapack_int *)(block + na);
    double *work = block + na + niw;
    memcpy(a, A, na * sizeof *a);

    info = LAPACKE_dgesdd_work(LAPACK_COL_MAJOR, jobz, lm, ln, a, lm, s, u, ldu, vt, ldvt, work,
                               (lapack_int)lwork, iwork);
    DALE_ASSERT(info >= 0);
    if (info > 0)
        st = DALE_FAIL(DALE_ERR_LAPACK,
                       "dgesdd: singular values of a %zu x %zu matrix did not converge (info %d)",
                       m, n, (int)info);
    dalei_free(block);
    return st;
}

/* s[min(m, n)] descending (dgesdd returns them sorted, non-negative). */
dale_status dale_svals(const double *A, size_t m, size_t n, double *s)
{
    return gesdd("dale_svals", 'N', A, m, n, NULL, s, NULL);
}

dale_status dale_svd(const double *A, size_t m, size_t n, double *U, double *s, double *Vt)
{
    return gesdd("dale_svd", 'S', A, m, n, U, s, Vt);
}

/* ---------------------------------------------------------------- dgeev */

/* Eigenvalues of the row-major (n, n) A into wr/wi, in LAPACK's order; the
 * caller has run check_matrix.  dgeev runs on the column-major view Aᵀ,
 * which has the same eigenvalues.
 * Complex eigenvalues come in conjugate pairs (positive imaginary part
 * first), and a pair has bit-identical real parts and |imaginary parts|. */
static dale_status geev(const char *fn, const double *A, size_t n, double *wr, double *wi)
{
    dale_status st = DALE_OK;
    const lapack_int ln = (lapack_int)n;
    double dummy = 0.0, query = 0.0;
    lapack_int info = LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', 'N', ln, &dummy, ln, wr, wi,
                                         &dummy, 1, &dummy, 1, &query, -1);
    DALE_ASSERT(info >= 0);
    /* Minimum for JOBVL = JOBVR = 'N' is 3n. */
    const size_t lwork = lwork_from_query(query, 3 * n);
    const size_t na = n * n;
    if (lwork > (size_t)INT_MAX || na > SIZE_MAX - lwork)
        return DALE_FAIL(DALE_ERR_ARG, "%s: matrix %zu x %zu is too large", fn, n, n);

    double *block = dalei_alloc(na + lwork, sizeof(double));
    if (!block) return DALE_ERR_NOMEM;
    double *a = block, *work = block + na;
    memcpy(a, A, na * sizeof *a);

    info = LAPACKE_dgeev_work(LAPACK_COL_MAJOR, 'N', 'N', ln, a, ln, wr, wi, &dummy, 1, &dummy, 1,
                              work, (lapack_int)lwork);
    DALE_ASSERT(info >= 0);
    if (info > 0)
        st = DALE_FAIL(DALE_ERR_LAPACK,
                       "dgeev: QR iteration failed to compute all eigenvalues of a %zu x %zu "
                       "matrix (info %d)",
                       n, n, (int)info);
    dalei_free(block);
    return st;
}

/* Order of dale_eigvals: descending modulus, then larger real part, then
 * larger imaginary part.  Exact comparisons, so the order is a strict weak
 * ordering; conjugate pairs tie exactly on modulus and real part (see geev)
 * and therefore come out as (a + bi, a − bi). */
typedef struct eig_pair {
    double re, im, mod;
} eig_pair;

static int eig_cmp(const void *pa, const void *pb)
{
    const eig_pair *a = pa, *b = pb;
    if (a->mod != b->mod) return a->mod > b->mod ? -1 : 1;
    if (a->re != b->re) return a->re > b->re ? -1 : 1;
    if (a->im != b->im) return a->im > b->im ? -1 : 1;
    return 0;
}

dale_status dale_eigvals(const double *A, size_t n, double *re, double *im)
{
    dale_status st = check_matrix("dale_eigvals", A, n, n);
    if (st) return st;
    if (!re || !im) return DALE_FAIL(DALE_ERR_ARG, "dale_eigvals: re and im must not be NULL");
    st = geev("dale_eigvals", A, n, re, im);
    if (st) return st;
    eig_pair *p = dalei_alloc(n, sizeof *p);
    if (!p) return DALE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        p[i] = (eig_pair){re[i], im[i], hypot(re[i], im[i])}; /* hypot: no overflow */
    qsort(p, n, sizeof *p, eig_cmp);
    for (size_t i = 0; i < n; i++) {
        re[i] = p[i].re;
        im[i] = p[i].im;
    }
    dalei_free(p);
    return DALE_OK;
}

/* ρ = max_i |λ_i|; no sorting needed.  Scratch: wr and wi (2n doubles). */
dale_status dale_spectral_radius(const double *A, size_t n, double *rho)
{
    dale_status st = check_matrix("dale_spectral_radius", A, n, n);
    if (st) return st;
    if (!rho) return DALE_FAIL(DALE_ERR_ARG, "dale_spectral_radius: rho must not be NULL");
    double *w = dalei_alloc(2 * n, sizeof *w); /* n <= INT_MAX: no overflow */
    if (!w) return DALE_ERR_NOMEM;
    st = geev("dale_spectral_radius", A, n, w, w + n);
    if (st == DALE_OK) {
        double r = 0.0;
        for (size_t i = 0; i < n; i++) r = fmax(r, hypot(w[i], w[n + i]));
        *rho = r;
    }
    dalei_free(w);
    return st;
}
