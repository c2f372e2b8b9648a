/* test_kernels.c — the hand-written kernels of linalg/kernels.c against
 * their naive references.
 *
 * dalei_smm (C = epi(C + A P)) is compared with the three-loop
 * dalei_smm_naive on every instruction-set path this CPU runs (portable,
 * AVX2, AVX-512), for many shapes: odd sizes around the tile widths, K = 0,
 * padded row strides, each epilogue.  dalei_gemm_acc (C += op(A) P, no
 * padding, A plain or transposed) likewise, with P allocated to the exact
 * end of its last row (ASan catches a read past it) and K beyond the
 * kernel's 256-row scratch chunks.  The kernels promise the naive
 * summation order, so the comparison is bit for bit; a double-precision
 * product checks the reference itself within a tolerance.  Guard values
 * around C check that nothing outside the (M, N) block is written.  The
 * elementwise passes (ReLU, mask, bias-gradient row sums, column scaling)
 * are compared with scalar loops, NaN included.  Large products, just past
 * the cache-blocking and thread-split edges, must give the naive bits on
 * every path with 1, 2 and 3 threads; the worker pool must run its parts on
 * distinct threads and serve a second caller.  Finally a whole network's
 * forward and BPTT give identical bits on every path.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/model.h"
#include "dale/rng.h"
#include "internal.h"
#include "linalg/kernels.h"

#define GUARD 12345.0f

static dale_rng rng;

static float frand(void) { return (float)(dale_rng_uniform01(&rng) * 2.0 - 1.0); }

/* One shape on one path: random A, P (padding zero), C (guards outside the
 * block), Y with both signs; kernel vs naive bit for bit, naive vs double. */
static void check_shape(int path, size_t M, size_t N, size_t K, size_t pad, int epi)
{
    size_t lda = K + pad, ldp = dalei_smm_ld(N) + 16 * (pad & 1), ldc = N + pad, ldy = N + 2 * pad;
    float *A = malloc((M * lda + 1) * sizeof(float));
    float *P = calloc(K * ldp + 1, sizeof(float));
    float *C0 = malloc((M * ldc + 1) * sizeof(float)), *C1 = malloc((M * ldc + 1) * sizeof(float));
    float *Y = malloc((M * ldy + 1) * sizeof(float));
    double *D = malloc((M * N + 1) * sizeof(double));
    for (size_t k = 0; k < M * lda; k++) A[k] = frand();
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < N; j++) P[k * ldp + j] = frand();
    for (size_t k = 0; k < M * ldc; k++) C0[k] = (k % ldc) < N ? frand() : GUARD;
    for (size_t k = 0; k < M * ldy; k++) Y[k] = frand();
    memcpy(C1, C0, M * ldc * sizeof(float));
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s = C0[i * ldc + j];
            for (size_t k = 0; k < K; k++) s += (double)A[i * lda + k] * (double)P[k * ldp + j];
            if (epi == DALEI_EPI_RELU && s < 0) s = 0;
            if (epi == DALEI_EPI_MASK && !(Y[i * ldy + j] > 0)) s = 0;
            D[i * N + j] = s;
        }
    const float *Yp = epi == DALEI_EPI_MASK ? Y : NULL;
    dalei_smm_force(path);
    dalei_smm(M, N, K, A, lda, P, ldp, C0, ldc, epi, Yp, ldy);
    dalei_smm_naive(M, N, K, A, lda, P, ldp, C1, ldc, epi, Yp, ldy);
    int same = memcmp(C0, C1, M * ldc * sizeof(float)) == 0;
    CHECK(same, "%s M %zu N %zu K %zu pad %zu epi %d: kernel differs from the naive loops",
          dalei_smm_path_name(path), M, N, K, pad, epi);
    double worst = 0;
    int guards = 1;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < ldc; j++) {
            if (j >= N) { guards &= C0[i * ldc + j] == GUARD; continue; }
            double e = fabs((double)C1[i * ldc + j] - D[i * N + j]);
            if (e > worst) worst = e;
        }
    CHECK(guards, "%s M %zu N %zu: wrote outside the block", dalei_smm_path_name(path), M, N);
    CHECK(worst <= 1e-5 * (double)(K + 1), "naive M %zu N %zu K %zu: off the double product by %g",
          M, N, K, worst);
    free(A); free(P); free(C0); free(C1); free(Y); free(D);
}

static void test_smm(void)
{
    static const size_t Ms[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 32, 33};
    static const size_t Ns[] = {1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 49, 100, 129};
    static const size_t Ks[] = {0, 1, 2, 7, 16, 100};
    int best = dalei_smm_force(DALEI_SMM_AVX512);
    for (int path = DALEI_SMM_PORTABLE; path <= best; path++) {
        for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
            for (size_t b = 0; b < sizeof Ns / sizeof *Ns; b++)
                for (size_t c = 0; c < sizeof Ks / sizeof *Ks; c++) {
                    size_t pad = (a + b + c) % 3;
                    int epi = (int)((a + 2 * b + c) % 3);
                    check_shape(path, Ms[a], Ns[b], Ks[c], pad, epi);
                }
        /* the network's shapes */
        for (int epi = 0; epi < 3; epi++) check_shape(path, 32, 100, 100, 0, epi);
        check_shape(path, 32, 256, 256, 1, DALEI_EPI_MASK);
        printf("ok smm path %s\n", dalei_smm_path_name(path));
    }
    dalei_smm_force(DALEI_SMM_AUTO);
    CHECK(dalei_smm_path() == best, "auto path %d, best %d", dalei_smm_path(), best);
}

/* dalei_gemm_acc vs its naive loops on one shape, P ending exactly at
 * its last used element. */
static void check_gemm(int path, int ta, size_t M, size_t N, size_t K, size_t pad)
{
    size_t lda = (ta ? M : K) + pad, ldp = N + pad, ldc = N + pad;
    size_t na = (ta ? K : M) * lda, np = K ? (K - 1) * ldp + N : 0;
    float *A = malloc((na + 1) * sizeof(float)), *P = malloc((np + 1) * sizeof(float));
    float *C0 = malloc((M * ldc + 1) * sizeof(float)), *C1 = malloc((M * ldc + 1) * sizeof(float));
    for (size_t k = 0; k < na; k++) A[k] = frand();
    for (size_t k = 0; k < np; k++) P[k] = frand();
    for (size_t k = 0; k < M * ldc; k++) C0[k] = (k % ldc) < N ? frand() : GUARD;
    memcpy(C1, C0, M * ldc * sizeof(float));
    dalei_smm_force(path);
    dalei_gemm_acc(ta, M, N, K, A, lda, P, ldp, C0, ldc);
    dalei_gemm_acc_naive(ta, M, N, K, A, lda, P, ldp, C1, ldc);
    CHECK(memcmp(C0, C1, M * ldc * sizeof(float)) == 0,
          "gemm_acc %s ta %d M %zu N %zu K %zu pad %zu differs from the naive loops",
          dalei_smm_path_name(path), ta, M, N, K, pad);
    /* dalei_gemm_set: C's old values (NaN) never read; the bits of zeroing
     * C and adding */
    for (size_t k = 0; k < M * ldc; k++) {
        C0[k] = (k % ldc) < N ? NAN : GUARD;
        C1[k] = (k % ldc) < N ? 0.0f : GUARD;
    }
    dalei_gemm_set(ta, M, N, K, A, lda, P, ldp, C0, ldc);
    dalei_gemm_acc_naive(ta, M, N, K, A, lda, P, ldp, C1, ldc);
    CHECK(memcmp(C0, C1, M * ldc * sizeof(float)) == 0,
          "gemm_set %s ta %d M %zu N %zu K %zu pad %zu differs from zeroing and the naive loops",
          dalei_smm_path_name(path), ta, M, N, K, pad);
    /* dalei_gemm_bias: C's old values (NaN) never read; the bits of
     * writing b into every row and adding */
    float *b = malloc((N + 1) * sizeof(float));
    for (size_t j = 0; j < N; j++) b[j] = j % 5 == 3 ? -0.0f : frand();
    for (size_t k = 0; k < M * ldc; k++) {
        C0[k] = (k % ldc) < N ? NAN : GUARD;
        C1[k] = (k % ldc) < N ? b[k % ldc] : GUARD;
    }
    dalei_gemm_bias(ta, M, N, K, A, lda, P, ldp, b, C0, ldc);
    dalei_gemm_acc_naive(ta, M, N, K, A, lda, P, ldp, C1, ldc);
    CHECK(memcmp(C0, C1, M * ldc * sizeof(float)) == 0,
          "gemm_bias %s ta %d M %zu N %zu K %zu pad %zu differs from bias rows and the naive loops",
          dalei_smm_path_name(path), ta, M, N, K, pad);
    free(A); free(P); free(C0); free(C1); free(b);
}

/* Every term 0 * (-1.5) = -0, so the sum alone is -0, and C = -0 plus it
 * is -0 too; zeroed C plus the terms is +0, and so must gemm_set be, for
 * every element (memcmp tells the two zeros apart). */
static void test_gemm_set_zero_sign(void)
{
    enum { M = 9, N = 37, K = 3 };
    float A[M * K], P[K * N], C[M * N], want[M * N];
    for (size_t k = 0; k < M * K; k++) A[k] = 0.0f;
    for (size_t k = 0; k < K * N; k++) P[k] = -1.5f;
    int best = dalei_smm_force(DALEI_SMM_AVX512);
    for (int path = DALEI_SMM_PORTABLE; path <= best; path++)
        for (int ta = 0; ta < 2; ta++) {
            dalei_smm_force(path);
            for (size_t k = 0; k < M * N; k++) {
                C[k] = -0.0f;
                want[k] = 0.0f;
            }
            dalei_gemm_acc_naive(ta, M, N, K, A, ta ? M : K, P, N, want, N);
            dalei_gemm_set(ta, M, N, K, A, ta ? M : K, P, N, C, N);
            CHECK(memcmp(C, want, sizeof C) == 0, "gemm_set %s ta %d: a sum of -0 terms must come out +0",
                  dalei_smm_path_name(path), ta);
        }
    dalei_smm_force(DALEI_SMM_AUTO);
}

/* dalei_sumsq8 on every path against the definition: element k in lane
 * k % 8, lanes in index order, then ((l0 + l4) + (l1 + l5)) + ((l2 + l6) +
 * (l3 + l7)); lengths around the lane count, a long one, and magnitudes
 * from 1e-20 to 1e20 so that the order of the adds shows. */
static double sumsq8_ref(const float *g, size_t n)
{
    double s[8] = {0};
    for (size_t k = 0; k < n; k++) s[k % 8] += (double)g[k] * (double)g[k];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

static void test_sumsq8(void)
{
    const size_t big = 1000003;
    float *g = malloc(big * sizeof(float));
    for (size_t k = 0; k < big; k++) g[k] = frand() * powf(10.0f, (float)((int)(k % 41) - 20));
    int best = dalei_smm_force(DALEI_SMM_AVX512);
    for (int path = DALEI_SMM_PORTABLE; path <= best; path++) {
        dalei_smm_force(path);
        for (size_t n = 0; n <= 40; n++) {
            double a = dalei_sumsq8(g + 3, n), b = sumsq8_ref(g + 3, n);
            CHECK(memcmp(&a, &b, sizeof a) == 0, "sumsq8 %s n %zu: %.17g, want %.17g", dalei_smm_path_name(path),
                  n, a, b);
        }
        double a = dalei_sumsq8(g, big), b = sumsq8_ref(g, big);
        CHECK(memcmp(&a, &b, sizeof a) == 0, "sumsq8 %s n %zu: %.17g, want %.17g", dalei_smm_path_name(path), big,
              a, b);
    }
    dalei_smm_force(DALEI_SMM_AUTO);
    free(g);
    printf("ok sumsq8 on every path\n");
}

static void test_gemm_acc(void)
{
    static const size_t Ms[] = {1, 2, 3, 5, 8, 12, 13, 100};
    static const size_t Ns[] = {1, 4, 7, 15, 16, 17, 28, 33, 100};
    static const size_t Ks[] = {0, 1, 9, 255, 256, 257, 600};
    int best = dalei_smm_force(DALEI_SMM_AVX512);
    for (int path = DALEI_SMM_PORTABLE; path <= best; path++) {
        for (int ta = 0; ta < 2; ta++)
            for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
                for (size_t b = 0; b < sizeof Ns / sizeof *Ns; b++)
                    for (size_t c = 0; c < sizeof Ks / sizeof *Ks; c++)
                        check_gemm(path, ta, Ms[a], Ns[b], Ks[c], (a + b + c + (size_t)ta) % 3);
        printf("ok gemm_acc path %s\n", dalei_smm_path_name(path));
    }
    dalei_smm_force(DALEI_SMM_AUTO);
}

/* ReLU keeps NaN and maps negatives (not -0) to 0; the mask keeps dy
 * where y > 0; row sums add rows in order.  Scalar references. */
static void test_elementwise(void)
{
    for (size_t n = 0; n < 40; n++) {
        float y[40], r[40], dy[40], dr[40], v[40];
        for (size_t k = 0; k < n; k++) {
            y[k] = frand();
            dy[k] = frand();
            v[k] = frand();
        }
        if (n > 3) y[3] = NAN;
        if (n > 5) y[5] = 0.0f;
        for (size_t k = 0; k < n; k++) {
            r[k] = y[k] < 0.0f ? 0.0f : y[k];
            dr[k] = v[k] > 0.0f ? dy[k] : 0.0f;
        }
        dalei_relu(y, n);
        dalei_relu_mask(dy, v, n);
        CHECK(memcmp(y, r, n * sizeof(float)) == 0, "relu n %zu", n);
        CHECK(memcmp(dy, dr, n * sizeof(float)) == 0, "relu_mask n %zu", n);
        if (n > 3) CHECK(isnan(y[3]), "relu dropped a NaN");
    }
    for (size_t R = 1; R < 9; R += 3)
        for (size_t n = 1; n < 23; n += 5) {
            float dyv[9 * 23], db[23], want[23];
            for (size_t k = 0; k < R * n; k++) dyv[k] = frand();
            for (size_t j = 0; j < n; j++) db[j] = want[j] = frand();
            for (size_t r = 0; r < R; r++)
                for (size_t j = 0; j < n; j++) want[j] += dyv[r * n + j];
            dalei_add_rows(db, dyv, R, n);
            CHECK(memcmp(db, want, n * sizeof(float)) == 0, "add_rows R %zu n %zu", R, n);
            /* scale_cols: y = x diag(s), y += x diag(s), s = NULL */
            float sg[23], y0[9 * 23], y1[9 * 23], w0[9 * 23], w1[9 * 23];
            for (size_t j = 0; j < n; j++) sg[j] = j % 3 ? 1.0f : -1.0f;
            for (size_t k = 0; k < R * n; k++) y1[k] = w1[k] = frand();
            for (size_t r = 0; r < R; r++)
                for (size_t j = 0; j < n; j++) {
                    w0[r * n + j] = dyv[r * n + j] * sg[j];
                    w1[r * n + j] = w1[r * n + j] + dyv[r * n + j] * sg[j];
                }
            dalei_scale_cols(y0, dyv, sg, R, n, 0);
            dalei_scale_cols(y1, dyv, sg, R, n, 1);
            CHECK(memcmp(y0, w0, R * n * sizeof(float)) == 0, "scale_cols R %zu n %zu", R, n);
            CHECK(memcmp(y1, w1, R * n * sizeof(float)) == 0, "scale_cols acc R %zu n %zu", R, n);
            for (size_t k = 0; k < R * n; k++) w1[k] = y1[k] + dyv[k];
            dalei_scale_cols(y1, dyv, NULL, R, n, 1);
            CHECK(memcmp(y1, w1, R * n * sizeof(float)) == 0, "scale_cols add R %zu n %zu", R, n);
        }
}

/* The elementwise passes on arrays large enough to be split between the
 * pool's threads (>= 2^19 elements), with odd sizes so the ranges end
 * inside a vector and inside a 512-column bias block: 1, 2 and 3 threads
 * must give the scalar loops' bits; fill_rows and par_range too. */
static void par_fill(void *arg, size_t lo, size_t hi)
{
    float *a = arg;
    for (size_t k = lo; k < hi; k++) a[k] = (float)k * 0.5f;
}

static void test_elementwise_large(void)
{
    const size_t R = 1031, n = 1037, N = R * n; /* 1 069 147 elements */
    float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *w = malloc(N * sizeof *w);
    float *v = malloc(N * sizeof *v), *db = malloc(n * sizeof *db), *dbw = malloc(n * sizeof *dbw);
    float *b = malloc(n * sizeof *b), *s = malloc(n * sizeof *s);
    if (!x || !y || !w || !v || !db || !dbw || !b || !s) {
        CHECK(0, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < N; k++) {
        x[k] = frand();
        v[k] = frand();
    }
    x[N - 1] = NAN;
    for (size_t j = 0; j < n; j++) {
        b[j] = frand();
        s[j] = j % 5 ? 1.0f : -1.0f;
    }
    for (int th = 1; th <= 3; th++) {
        dalei_kernels_set_threads(th);
        /* relu */
        memcpy(y, x, N * sizeof *y);
        for (size_t k = 0; k < N; k++) w[k] = x[k] < 0.0f ? 0.0f : x[k];
        dalei_relu(y, N);
        CHECK(memcmp(y, w, N * sizeof *y) == 0, "relu, %d threads", th);
        /* relu_mask */
        memcpy(y, x, N * sizeof *y);
        for (size_t k = 0; k < N; k++) w[k] = v[k] > 0.0f ? x[k] : 0.0f;
        dalei_relu_mask(y, v, N);
        CHECK(memcmp(y, w, N * sizeof *y) == 0, "relu_mask, %d threads", th);
        /* add_rows: row order per column */
        for (size_t j = 0; j < n; j++) db[j] = dbw[j] = b[j];
        for (size_t r = 0; r < R; r++)
            for (size_t j = 0; j < n; j++) dbw[j] += v[r * n + j];
        dalei_add_rows(db, v, R, n);
        CHECK(memcmp(db, dbw, n * sizeof *db) == 0, "add_rows, %d threads", th);
        /* fill_rows */
        memset(y, 0, N * sizeof *y);
        dalei_fill_rows(y, b, R, n);
        int same = 1;
        for (size_t r = 0; r < R && same; r++) same = memcmp(y + r * n, b, n * sizeof *b) == 0;
        CHECK(same, "fill_rows, %d threads", th);
        /* scale_cols, accumulating */
        memcpy(y, v, N * sizeof *y);
        for (size_t r = 0; r < R; r++)
            for (size_t j = 0; j < n; j++) w[r * n + j] = v[r * n + j] + x[r * n + j] * s[j];
        dalei_scale_cols(y, x, s, R, n, 1);
        CHECK(memcmp(y, w, N * sizeof *y) == 0, "scale_cols, %d threads", th);
        /* zero */
        memcpy(y, x, N * sizeof *y);
        dalei_zero(y, N);
        same = 1;
        for (size_t k = 0; k < N && same; k++) same = y[k] == 0.0f && !signbit(y[k]);
        CHECK(same, "zero, %d threads", th);
        /* copy */
        memset(y, 0, N * sizeof *y);
        dalei_copy(y, x, N);
        CHECK(memcmp(y, x, N * sizeof *y) == 0, "copy, %d threads", th);
        /* negate (NaN included: its sign flips too) */
        for (size_t k = 0; k < N; k++) w[k] = -x[k];
        dalei_negate(y, x, N);
        CHECK(memcmp(y, w, N * sizeof *y) == 0, "negate, %d threads", th);
        /* par_range covers [0, N) exactly once */
        for (size_t k = 0; k < N; k++) y[k] = -1.0f;
        dalei_par_range(N, 16, N, par_fill, y);
        same = 1;
        for (size_t k = 0; k < N && same; k++) same = y[k] == (float)k * 0.5f;
        CHECK(same, "par_range, %d threads", th);
    }
    dalei_kernels_set_threads(1);
done:
    free(x);
    free(y);
    free(w);
    free(v);
    free(db);
    free(dbw);
    free(b);
    free(s);
}

/* Forward + BPTT of each model (2 cells, hidden 37: odd, crosses tile
 * edges; a dense layer of 11) on every path: the outputs and gradients
 * must be equal bits.  Then the BLAS route (kernels off: dale_sgemm and
 * separate ReLU passes everywhere) must agree to float round-off. */
static void test_net_paths(void)
{
    const size_t T = 6, B = 5, d = 3, m = 4;
    int best = dalei_smm_force(DALEI_SMM_AVX512);
    for (int type = 0; type < DALE_MODEL_COUNT; type++) {
        dale_net_config c;
        dale_net_config_defaults(&c);
        c.type = (dale_model_type)type;
        c.input = d;
        c.hidden = 37;
        c.output = m;
        c.layers = 2;
        c.ndense = 1;
        c.dense[0] = 11;
        dale_net *net = NULL;
        CHECK_OK(dale_net_create(&c, &net));
        if (!net) return;
        CHECK_OK(dale_net_plan(net, T, B));
        dale_rng r;
        dale_rng_seed(&r, 7);
        CHECK_OK(dale_net_init(net, &r));
        float x[6 * 5 * 3], dout[6 * 5 * 4];
        for (size_t k = 0; k < T * B * d; k++) x[k] = (float)dale_rng_uniform01(&r);
        for (size_t k = 0; k < T * B * m; k++) dout[k] = (float)dale_rng_normal(&r, 0, 1);
        size_t n = dale_net_size(net);
        float *ref = malloc(n * sizeof(float)), out0[6 * 5 * 4];
        for (int path = DALEI_SMM_PORTABLE; path <= best; path++) {
            dalei_smm_force(path);
            const float *out;
            CHECK_OK(dale_net_forward(net, x, T, B, 1, &out));
            dale_net_zero_grad(net);
            CHECK_OK(dale_net_backward(net, dout));
            if (path == DALEI_SMM_PORTABLE) {
                memcpy(out0, out, sizeof out0);
                memcpy(ref, dale_net_grad(net), n * sizeof(float));
            } else {
                CHECK(memcmp(out0, out, sizeof out0) == 0, "%s: output differs on path %s",
                      dale_model_name(c.type), dalei_smm_path_name(path));
                CHECK(memcmp(ref, dale_net_grad(net), n * sizeof(float)) == 0,
                      "%s: gradient differs on path %s", dale_model_name(c.type),
                      dalei_smm_path_name(path));
            }
        }
        dalei_kernels_enable(0);
        const float *outb;
        CHECK_OK(dale_net_forward(net, x, T, B, 1, &outb));
        dale_net_zero_grad(net);
        CHECK_OK(dale_net_backward(net, dout));
        dalei_kernels_enable(1);
        check_close("BLAS route output", outb, out0, T * B * m, 1e-5, 1e-4);
        check_close("BLAS route gradient", dale_net_grad(net), ref, n, 1e-5, 1e-4);
        free(ref);
        dale_net_free(net);
    }
    dalei_smm_force(DALEI_SMM_AUTO);
}

/* The training step's backward (dalei_net_backward_fresh: gradients
 * written by their first contribution) against dale_net_zero_grad then
 * dale_net_backward, bit for bit, with NaN in the gradient beforehand so
 * that an entry nothing writes shows: every model, both arithmetics, dense
 * layers, a learned h0, sparse recurrent masks, inputs whose later steps
 * are all zero (objrec) or that are all zero (no input gradient term at
 * all), leaky dynamics.  Afterwards the public backward still adds. */
static void test_backward_fresh(void)
{
    const size_t T = 5, B = 4, d = 40, m = 3;
    float x[5 * 4 * 40], dout[5 * 4 * 3];
    for (int type = 0; type < DALE_MODEL_COUNT; type++)
        for (int num = 0; num < 2; num++)
            for (int variant = 0; variant < 4; variant++) {
                dale_net_config c;
                dale_net_config_defaults(&c);
                c.type = (dale_model_type)type;
                c.numerics = (dale_numerics)num;
                c.input = d;
                c.hidden = 37;
                c.output = m;
                c.layers = variant == 1 ? 2 : 1;
                c.ndense = variant == 1 ? 1 : 0;
                c.dense[0] = 11;
                c.h0_learn = variant == 2;
                c.sparsity = variant == 2 ? 0.3 : 0.0;
                if (variant == 3) c.dynamics = DALE_DYN_LEAKY, c.alpha = 0.5;
                dale_net *net = NULL;
                CHECK_OK(dale_net_create(&c, &net));
                if (!net) return;
                CHECK_OK(dale_net_plan(net, T, B));
                dale_rng r;
                dale_rng_seed(&r, 11 + (uint64_t)variant);
                CHECK_OK(dale_net_init(net, &r));
                if (c.sparsity > 0) CHECK_OK(dale_net_masks_draw(net, &r));
                for (size_t k = 0; k < T * B * m; k++) dout[k] = (float)dale_rng_normal(&r, 0, 1);
                size_t n = dale_net_size(net);
                float *ref = malloc(n * sizeof(float)), *ref2 = malloc(n * sizeof(float));
                for (int in = 0; in < 3; in++) {
                    /* in 0: every step; 1: the first step only; 2: none */
                    for (size_t k = 0; k < T * B * d; k++)
                        x[k] = in == 2 || (in == 1 && k >= B * d) ? 0.0f : (float)dale_rng_uniform01(&r);
                    const float *out;
                    CHECK_OK(dale_net_forward(net, x, T, B, 1, &out));
                    dale_net_zero_grad(net);
                    CHECK_OK(dale_net_backward(net, dout));
                    memcpy(ref, dale_net_grad(net), n * sizeof(float));
                    for (size_t k = 0; k < n; k++) dale_net_grad(net)[k] = NAN;
                    CHECK_OK(dale_net_forward(net, x, T, B, 1, &out));
                    CHECK_OK(dalei_net_backward_fresh(net, dout));
                    CHECK(memcmp(ref, dale_net_grad(net), n * sizeof(float)) == 0,
                          "%s numerics %d variant %d input %d: fresh backward differs from zeroing and adding",
                          dale_model_name(c.type), num, variant, in);
                    /* the public backward adds to what is there, as after zeroing and one backward */
                    CHECK_OK(dale_net_forward(net, x, T, B, 1, &out));
                    CHECK_OK(dale_net_backward(net, dout));
                    memcpy(ref2, dale_net_grad(net), n * sizeof(float));
                    dale_net_zero_grad(net);
                    CHECK_OK(dale_net_forward(net, x, T, B, 1, &out));
                    CHECK_OK(dale_net_backward(net, dout));
                    CHECK_OK(dale_net_forward(net, x, T, B, 1, &out));
                    CHECK_OK(dale_net_backward(net, dout));
                    CHECK(memcmp(ref2, dale_net_grad(net), n * sizeof(float)) == 0,
                          "%s numerics %d variant %d input %d: a backward after a fresh one does not add as "
                          "one after zeroing does", dale_model_name(c.type), num, variant, in);
                }
                free(ref);
                free(ref2);
                dale_net_free(net);
            }
    printf("ok fresh backward\n");
}

/* Large products: the cache blocking (K chunks of 256, row blocks of 256,
 * P copied panel by panel from 64 rows and K N >= 2^16, or from 16 rows
 * when K N >= 2^22) and
 * the thread split (rows in multiples of 8, columns in multiples of
 * 64, from 2^21 multiply-adds) must not move any term of any sum.  Shapes
 * just beyond the block and split edges, M = 1 and N = 1, both layouts of
 * A, ldc > N; each against the naive loops (computed once) on every path
 * with 1, 2 and 3 threads, bit for bit. */
static void check_large(int ta, size_t M, size_t N, size_t K, size_t pad, int best)
{
    size_t lda = (ta ? M : K) + pad, ldp = N + pad, ldc = N + 2 * pad;
    size_t na = (ta ? K : M) * lda, np = K ? (K - 1) * ldp + N : 0;
    float *A = malloc((na + 1) * sizeof(float)), *P = malloc((np + 1) * sizeof(float));
    float *C0 = malloc((M * ldc + 1) * sizeof(float)), *C1 = malloc((M * ldc + 1) * sizeof(float));
    float *Cref = malloc((M * ldc + 1) * sizeof(float));
    for (size_t k = 0; k < na; k++) A[k] = frand();
    for (size_t k = 0; k < np; k++) P[k] = frand();
    for (size_t k = 0; k < M * ldc; k++) C0[k] = (k % ldc) < N ? frand() : GUARD;
    memcpy(Cref, C0, M * ldc * sizeof(float));
    dalei_gemm_acc_naive(ta, M, N, K, A, lda, P, ldp, Cref, ldc);
    float *Zref = malloc((M * ldc + 1) * sizeof(float)); /* zeroed C plus the terms */
    for (size_t k = 0; k < M * ldc; k++) Zref[k] = (k % ldc) < N ? 0.0f : GUARD;
    dalei_gemm_acc_naive(ta, M, N, K, A, lda, P, ldp, Zref, ldc);
    float *b = malloc((N + 1) * sizeof(float)), *Bref = malloc((M * ldc + 1) * sizeof(float));
    for (size_t j = 0; j < N; j++) b[j] = frand();
    for (size_t k = 0; k < M * ldc; k++) Bref[k] = (k % ldc) < N ? b[k % ldc] : GUARD;
    dalei_gemm_acc_naive(ta, M, N, K, A, lda, P, ldp, Bref, ldc); /* bias rows plus the terms */
    for (int path = DALEI_SMM_PORTABLE; path <= best; path++)
        for (int th = 1; th <= 3; th++) {
            dalei_smm_force(path);
            dalei_kernels_set_threads(th);
            memcpy(C1, C0, M * ldc * sizeof(float));
            dalei_gemm_acc(ta, M, N, K, A, lda, P, ldp, C1, ldc);
            CHECK(memcmp(C1, Cref, M * ldc * sizeof(float)) == 0,
                  "gemm_acc %s, %d threads, ta %d M %zu N %zu K %zu pad %zu differs from the "
                  "naive loops", dalei_smm_path_name(path), th, ta, M, N, K, pad);
            for (size_t k = 0; k < M * ldc; k++) C1[k] = (k % ldc) < N ? NAN : GUARD;
            dalei_gemm_set(ta, M, N, K, A, lda, P, ldp, C1, ldc);
            CHECK(memcmp(C1, Zref, M * ldc * sizeof(float)) == 0,
                  "gemm_set %s, %d threads, ta %d M %zu N %zu K %zu pad %zu differs from zeroing "
                  "and the naive loops", dalei_smm_path_name(path), th, ta, M, N, K, pad);
            for (size_t k = 0; k < M * ldc; k++) C1[k] = (k % ldc) < N ? NAN : GUARD;
            dalei_gemm_bias(ta, M, N, K, A, lda, P, ldp, b, C1, ldc);
            CHECK(memcmp(C1, Bref, M * ldc * sizeof(float)) == 0,
                  "gemm_bias %s, %d threads, ta %d M %zu N %zu K %zu pad %zu differs from bias "
                  "rows and the naive loops", dalei_smm_path_name(path), th, ta, M, N, K, pad);
        }
    dalei_kernels_set_threads(1);
    free(A); free(P); free(C0); free(C1); free(Cref); free(Zref); free(b); free(Bref);
}

/* dalei_smm split between threads (the per-step product's shape and odd
 * ones), each epilogue. */
static void check_smm_threads(size_t M, size_t N, size_t K, int epi, int best)
{
    size_t lda = K + 1, ldp = dalei_smm_ld(N), ldc = N + 3, ldy = N;
    float *A = malloc(M * lda * sizeof(float)), *P = calloc(K * ldp + 1, sizeof(float));
    float *C0 = malloc(M * ldc * sizeof(float)), *C1 = malloc(M * ldc * sizeof(float));
    float *Cref = malloc(M * ldc * sizeof(float)), *Y = malloc(M * ldy * sizeof(float));
    for (size_t k = 0; k < M * lda; k++) A[k] = frand();
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < N; j++) P[k * ldp + j] = frand();
    for (size_t k = 0; k < M * ldc; k++) C0[k] = (k % ldc) < N ? frand() : GUARD;
    for (size_t k = 0; k < M * ldy; k++) Y[k] = frand();
    const float *Yp = epi == DALEI_EPI_MASK ? Y : NULL;
    memcpy(Cref, C0, M * ldc * sizeof(float));
    dalei_smm_naive(M, N, K, A, lda, P, ldp, Cref, ldc, epi, Yp, ldy);
    for (int path = DALEI_SMM_PORTABLE; path <= best; path++)
        for (int th = 1; th <= 3; th++) {
            dalei_smm_force(path);
            dalei_kernels_set_threads(th);
            memcpy(C1, C0, M * ldc * sizeof(float));
            dalei_smm(M, N, K, A, lda, P, ldp, C1, ldc, epi, Yp, ldy);
            CHECK(memcmp(C1, Cref, M * ldc * sizeof(float)) == 0,
                  "smm %s, %d threads, M %zu N %zu K %zu epi %d differs from the naive loops",
                  dalei_smm_path_name(path), th, M, N, K, epi);
        }
    dalei_kernels_set_threads(1);
    free(A); free(P); free(C0); free(C1); free(Cref); free(Y);
}

static void test_large(void)
{
    int best = dalei_smm_force(DALEI_SMM_AVX512);
    /* {ta, M, N, K, pad} */
    static const size_t shapes[][5] = {
        {0, 257, 129, 513, 1}, {1, 257, 129, 513, 2}, {0, 263, 65, 257, 0},
        {1, 263, 65, 257, 1},  {0, 1, 4097, 600, 0},  {1, 1, 4097, 600, 3},
        {0, 4100, 1, 600, 1},  {1, 4100, 1, 600, 0},  {0, 520, 200, 33, 2},
        {1, 9, 3000, 255, 1},  {0, 17, 700, 1000, 0}, {1, 513, 63, 129, 1},
        {0, 16, 4200, 1000, 1}, {1, 64, 300, 300, 0}, {0, 100, 300, 257, 2},
        {1, 70, 1000, 70, 1},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        check_large((int)shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], shapes[s][4],
                    best);
    check_smm_threads(32, 1000, 1000, DALEI_EPI_RELU, best);
    check_smm_threads(33, 1001, 300, DALEI_EPI_MASK, best);
    check_smm_threads(300, 129, 520, DALEI_EPI_MASK, best);
    check_smm_threads(70, 250, 300, DALEI_EPI_RELU, best);
    check_smm_threads(64, 1100, 60, DALEI_EPI_NONE, best);
    dalei_smm_force(DALEI_SMM_AUTO);
    printf("ok large products, 1 to 3 threads\n");
}

/* The pool runs part 0 on the caller and the others on distinct workers;
 * a caller that finds it busy runs every part itself.  Two threads using
 * the kernels at once both get exact results (and, under ASan/TSan, no
 * race: the parts write disjoint blocks). */
struct part_rec { pthread_t who[4]; int ran[4]; };

static void record_part(void *arg, int part, int nparts)
{
    struct part_rec *r = arg;
    if (part < 4 && nparts <= 4) {
        r->who[part] = pthread_self();
        r->ran[part]++;
    }
}

/* A second caller: 2-thread products against the naive loops, 20 times;
 * *arg = 1 when all agree (no CHECK here: check.h counts on one thread). */
static void *other_caller(void *arg)
{
    const size_t M = 300, N = 300, K = 300;
    float *A = malloc(M * K * sizeof(float)), *P = malloc(K * N * sizeof(float));
    float *C0 = calloc(M * N, sizeof(float)), *C1 = calloc(M * N, sizeof(float));
    for (size_t k = 0; k < M * K; k++) A[k] = (float)(k % 13) * 0.1f - 0.6f;
    for (size_t k = 0; k < K * N; k++) P[k] = (float)(k % 7) * 0.1f - 0.3f;
    dalei_gemm_acc_naive(0, M, N, K, A, K, P, N, C0, N);
    int ok = 1;
    for (int r = 0; r < 20; r++) {
        memset(C1, 0, M * N * sizeof(float));
        dalei_gemm_acc(0, M, N, K, A, K, P, N, C1, N);
        ok &= memcmp(C0, C1, M * N * sizeof(float)) == 0;
    }
    *(int *)arg = ok;
    free(A); free(P); free(C0); free(C1);
    return NULL;
}

static void test_pool(void)
{
    struct part_rec r;
    memset(&r, 0, sizeof r);
    dalei_pool_run(record_part, &r, 3);
    CHECK(r.ran[0] == 1 && r.ran[1] == 1 && r.ran[2] == 1, "pool ran parts %d %d %d", r.ran[0],
          r.ran[1], r.ran[2]);
    CHECK(pthread_equal(r.who[0], pthread_self()), "part 0 not on the caller");
    CHECK(!pthread_equal(r.who[1], pthread_self()) && !pthread_equal(r.who[2], pthread_self()) &&
              !pthread_equal(r.who[1], r.who[2]),
          "parts 1 and 2 not on two workers");
    dalei_kernels_set_threads(0);
    CHECK(dalei_kernels_threads() == 1, "threads(0) gives %d, want 1", dalei_kernels_threads());
    dalei_kernels_set_threads(1000);
    CHECK(dalei_kernels_threads() == 64, "threads(1000) gives %d, want 64", dalei_kernels_threads());
    dalei_kernels_set_threads(2);
    pthread_t t;
    int other_ok = 0;
    CHECK(pthread_create(&t, NULL, other_caller, &other_ok) == 0, "pthread_create");
    check_large(1, 300, 300, 300, 0, dalei_smm_path());
    pthread_join(t, NULL);
    CHECK(other_ok, "a second caller's products differ from the naive loops");
    dalei_kernels_set_threads(1);
}

int main(void)
{
    dale_rng_seed(&rng, 2024);
    test_smm();
    test_gemm_acc();
    test_large();
    test_pool();
    test_elementwise();
    test_elementwise_large();
    test_net_paths();
    test_gemm_set_zero_sign();
    test_sumsq8();
    test_backward_fresh();
    return check_done("test_kernels");
}
