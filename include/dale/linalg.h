/* dale/linalg.h — BLAS/LAPACK wrappers.  Row-major at the boundary.
 *
 * Training runs in float32 (sgemm); spectra in float64 (dgeev, dgesdd).
 * The LAPACK wrappers copy their input (LAPACK overwrites it), query the
 * optimal workspace once per call, check `info` (info < 0 is a bug and
 * asserts; info > 0 becomes DALE_ERR_LAPACK naming the routine) and return
 * results in a documented order.
 */
#ifndef DALE_LINALG_H
#define DALE_LINALG_H

#include <stddef.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* C = alpha * op(A) op(B) + beta * C, row-major.  op(A) is (M, K), op(B) is
 * (K, N), C is (M, N); ta/tb non-zero mean "use the transpose"; lda/ldb/ldc
 * are row strides of the stored matrices. */
DALE_API void dale_sgemm(int ta, int tb, size_t M, size_t N, size_t K, float alpha,
                         const float *A, size_t lda, const float *B, size_t ldb,
                         float beta, float *C, size_t ldc);

/* Singular values of the (m, n) row-major matrix A, descending, into
 * s[min(m,n)].  No vectors (dgesdd JOBZ='N'). */
DALE_API dale_status dale_svals(const double *A, size_t m, size_t n, double *s);

/* Thin SVD A = U diag(s) Vt: U (m, k), s (k), Vt (k, n), k = min(m, n),
 * s descending, all row-major (dgesdd JOBZ='S'). */
DALE_API dale_status dale_svd(const double *A, size_t m, size_t n, double *U, double *s,
                              double *Vt);

/* Eigenvalues of the square (n, n) row-major matrix A (dgeev, no vectors):
 * re[n], im[n], sorted by descending modulus (ties: larger real part first,
 * then larger imaginary part). */
DALE_API dale_status dale_eigvals(const double *A, size_t n, double *re, double *im);

/* Spectral radius max |λ| of the square matrix A. */
DALE_API dale_status dale_spectral_radius(const double *A, size_t n, double *rho);

/* Pin BLAS to n threads (n < 1 means 1).  dale's policy: 1 per run, so
 * sums are ordered the same every time; parallelism comes from running
 * several runs.  Process-wide (OpenBLAS). */
DALE_API void dale_set_blas_threads(int n);

/* A run's threads: n BLAS threads (as dale_set_blas_threads) and n parts
 * for each of dale's own products that is large enough to split (n < 1
 * means 1).  The kernels split their output, never a sum, so their results
 * do not depend on n; OpenBLAS's do (the "blas" arithmetic, see
 * docs/performance.md).  Process-wide. */
DALE_API void dale_set_threads(int n);

#ifdef __cplusplus
}
#endif
#endif
