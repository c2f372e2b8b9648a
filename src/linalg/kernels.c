/* kernels.c — the products of a training step: C = epi(C + op(A) P), and
 * the branch-free elementwise passes around them.
 *
 * Shapes.  op(A) is (M, K), P is (K, N), C is (M, N), all row-major.  The
 * per-step products of BPTT (dalei_smm) have M = B (batch, ~32) and
 * K = N = n (hidden, <= DALEI_SMM_MAX_N):
 *   forward   h_t    = relu(h_t + h_{t-1} W^T)    P = W^T packed, epi RELU
 *   backward  dz_{t-1} = [h_{t-1} > 0] (dh_{t-1} + dz_t W)  P = W, epi MASK
 * (h_t enters holding x_t U^T + b, dh_{t-1} the gradient from above).  The
 * products over all steps (dalei_gemm_acc: X U^T, dW = dZ^T H, dU, dx)
 * use the same tiles with A possibly transposed and P unpadded.
 *
 * Why not sgemm.  A 32 x 100 x 100 product is 0.64 MFLOP, about 5 us; a
 * general GEMM spends a noticeable part of that packing A and P into its
 * panel layout and choosing a kernel, and dale calls it 2(T-1) times per
 * training step.  Here P is packed once per forward (net.c), A is read in
 * place, and the ReLU / its mask ride along in the epilogue instead of
 * taking their own pass over C.  On this project's machines (AMD Zen with
 * AVX-512) the tiles below run at 200-237 GFLOP/s on one core, against
 * about 110 for OpenBLAS's AVX2 kernels (docs/performance.md).
 *
 * Algorithm ("axpy form").  For a tile of MR rows of C and NV vectors of W
 * floats each, the accumulators stay in registers while k runs 0..K-1:
 *     acc[r][:] += A[r][k] * P[k][j0 : j0 + NV W]
 * i.e. each step broadcasts one A element and multiplies it into a row of P
 * (contiguous, so plain vector loads).  The sum over k is never split or
 * reordered, so every output is C + A[i][0] P[0][j] + A[i][1] P[1][j] + ...
 * evaluated left to right with IEEE single rounding after each multiply and
 * each add: the same arithmetic as the three-loop reference
 * dalei_smm_naive, bit for bit, whatever the vector width.  No FMA is used
 * for that reason (an FMA rounds once, so results would depend on the CPU);
 * on AMD Zen the separate multiply and add pipes give the same peak rate.
 * The C standard mode (-std=c11) keeps GCC from contracting a*b+c into
 * an FMA; Clang contracts within an expression by default, hence the
 * FP_CONTRACT pragma below (GCC ignores it with a warning, so Clang only).
 *
 * Tiles.  Column blocks are the outer loop so one (K, NV W) panel of P stays
 * in L1 (or L2 for long K) while all row tiles pass over it.  Full tiles
 * are MR x NV vectors; the last rows use MR/2- and 1-row tiles, the last
 * columns 1-vector tiles whose out-of-range lanes read P's zero padding
 * (dalei_smm: ldp is N rounded up to 16) or a padded copy of the last
 * columns (dalei_gemm_acc), and are never stored.
 *
 * Paths.  The same source is compiled three times: portable (16-byte
 * vectors, SSE2 on x86-64 or scalar code elsewhere), AVX2 (32-byte vectors)
 * and AVX-512 (64-byte vectors) through __attribute__((target)), and the
 * widest the CPU supports is chosen at run time (__builtin_cpu_supports).
 * The kernels use GCC/Clang vector types rather than intrinsics: the code
 * stays one readable C body, and the tile shape is a macro argument.
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "linalg/kernels.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SMM_X86 1
#include <immintrin.h>
#define ATTR_AVX2 __attribute__((target("avx2")))
#define ATTR_AVX512 __attribute__((target("avx512f")))
#else
#define SMM_X86 0
#endif
#define ATTR_PORTABLE

#define SMM_PAD 16

size_t dalei_smm_ld(size_t N) { return (N + SMM_PAD - 1) / SMM_PAD * SMM_PAD; }

/* One tile: rows r = 0..MR-1 of C, NV vectors of W floats starting at
 * column 0 of the pointers given; `ncols` (<= NV W) columns are valid.
 * Vectors move through memcpy (unaligned loads/stores after optimisation).
 * The unroll pragmas make the register tiles explicit to GCC: with the
 * loops over r and v unrolled, acc is scalarised into MR * NV registers.
 *
 * The epilogue runs on the registers before the store, as a bit mask
 * (a comparison of vector types gives all-ones / all-zeros lanes), never
 * as a branch: a per-element branch on the sign of c mispredicts about
 * half the time on ReLU networks and cost more than the product itself
 * (measured, docs/performance.md).  RELU keeps lanes where !(c < 0), so
 * NaN passes; MASK keeps lanes where y > 0. */
#define SMM_TILE(FN, ATTR, VT, VI, W, MR, NV, TA)                                           \
    ATTR static void FN(size_t K, const float *A, size_t lda, const float *P, size_t ldp,    \
                        float *C, size_t ldc, size_t ncols, int epi, const float *Y,        \
                        size_t ldy)                                                         \
    {                                                                                       \
        VT acc[MR][NV];                                                                     \
        const int zc = epi & DALEI_C_ZERO; /* C taken as +0, not read */                   \
        const int cy = epi & DALEI_C_ROW;  /* C taken from Y's rows, not read */            \
        epi &= ~(DALEI_C_ZERO | DALEI_C_ROW);                                               \
        _Pragma("GCC unroll 16") for (size_t r = 0; r < (MR); r++)                          \
            _Pragma("GCC unroll 16") for (size_t v = 0; v < (NV); v++)                      \
        {                                                                                   \
            size_t j = v * (W);                                                             \
            const float *c0 = cy ? Y + r * ldy : C + r * ldc;                               \
            if (zc) {                                                                       \
                const VT zero = {0};                                                        \
                acc[r][v] = zero;                                                           \
            } else if (j + (W) <= ncols) {                                                  \
                memcpy(&acc[r][v], c0 + j, sizeof(VT));                                     \
            } else {                                                                        \
                float t[W] = {0};                                                           \
                if (j < ncols) memcpy(t, c0 + j, (ncols - j) * sizeof(float));              \
                memcpy(&acc[r][v], t, sizeof(VT));                                          \
            }                                                                               \
        }                                                                                   \
        for (size_t k = 0; k < K; k++) {                                                    \
            const float *p = P + k * ldp;                                                   \
            VT b[NV];                                                                       \
            _Pragma("GCC unroll 16") for (size_t v = 0; v < (NV); v++)                      \
                memcpy(&b[v], p + v * (W), sizeof(VT));                                     \
            _Pragma("GCC unroll 16") for (size_t r = 0; r < (MR); r++)                      \
            {                                                                               \
                const float a = (TA) ? A[k * lda + r] : A[r * lda + k];                     \
                _Pragma("GCC unroll 16") for (size_t v = 0; v < (NV); v++)                  \
                    acc[r][v] = acc[r][v] + b[v] * a;                                       \
            }                                                                               \
        }                                                                                   \
        _Pragma("GCC unroll 16") for (size_t r = 0; r < (MR); r++)                          \
            _Pragma("GCC unroll 16") for (size_t v = 0; v < (NV); v++)                      \
        {                                                                                   \
            size_t j = v * (W);                                                             \
            if (epi == DALEI_EPI_RELU) {                                                    \
                const VT zero = {0};                                                        \
                VI keep = ~(acc[r][v] < zero);                                              \
                acc[r][v] = (VT)((VI)acc[r][v] & keep);                                     \
            } else if (epi == DALEI_EPI_MASK) {                                             \
                VT y, zero = {0};                                                           \
                if (j + (W) <= ncols) {                                                     \
                    memcpy(&y, Y + r * ldy + j, sizeof(VT));                                \
                } else {                                                                    \
                    float t[W] = {0};                                                       \
                    if (j < ncols) memcpy(t, Y + r * ldy + j, (ncols - j) * sizeof(float)); \
                    memcpy(&y, t, sizeof(VT));                                              \
                }                                                                           \
                acc[r][v] = (VT)((VI)acc[r][v] & (VI)(y > zero));                           \
            }                                                                               \
            if (j + (W) <= ncols) {                                                         \
                memcpy(C + r * ldc + j, &acc[r][v], sizeof(VT));                            \
            } else if (j < ncols) {                                                         \
                float t[W];                                                                 \
                memcpy(t, &acc[r][v], sizeof(VT));                                          \
                memcpy(C + r * ldc + j, t, (ncols - j) * sizeof(float));                    \
            }                                                                               \
        }                                                                                   \
    }

/* The driver of one path and one layout of A (TA: A is stored transposed,
 * (K, M), so a tile's MR values of one k are contiguous): column blocks of
 * NV W floats (then 1-vector blocks for the rest); row tiles of MR, then
 * at most one of MR/2, then single rows (a 1-row tile loads as much of P
 * as it multiplies, so few rows should take that route). */
#define SMM_DRIVER(NAME, ATTR, VT, VI, W, MR, NV, TA)                                       \
    SMM_TILE(NAME##_full, ATTR, VT, VI, W, MR, NV, TA)                                      \
    SMM_TILE(NAME##_half, ATTR, VT, VI, W, (MR) / 2, NV, TA)                                \
    SMM_TILE(NAME##_row1, ATTR, VT, VI, W, 1, NV, TA)                                       \
    SMM_TILE(NAME##_col1, ATTR, VT, VI, W, MR, 1, TA)                                       \
    SMM_TILE(NAME##_halfcol1, ATTR, VT, VI, W, (MR) / 2, 1, TA)                             \
    SMM_TILE(NAME##_one, ATTR, VT, VI, W, 1, 1, TA)                                         \
    ATTR static void NAME(size_t M, size_t N, size_t K, const float *A, size_t lda,         \
                          const float *P, size_t ldp, float *C, size_t ldc, int epi,        \
                          const float *Y, size_t ldy)                                       \
    {                                                                                       \
        const size_t astep = (TA) ? 1 : lda; /* from one row of op(A) to the next */       \
        size_t j0 = 0;                                                                      \
        while (j0 < N) {                                                                    \
            const int wide = N - j0 >= (NV) * (W);                                          \
            const size_t bw = wide ? (NV) * (W) : (N - j0 < (W) ? N - j0 : (W));            \
            size_t i0 = 0;                                                                  \
            while (i0 < M) {                                                                \
                const float *a = A + i0 * astep, *p = P + j0, *y = Y ? Y + i0 * ldy + j0 : NULL; \
                float *c = C + i0 * ldc + j0;                                               \
                SMM_PREFETCH_C(c, ldc, i0, M, MR, bw);                                      \
                if (i0 + (MR) <= M) {                                                       \
                    if (wide) NAME##_full(K, a, lda, p, ldp, c, ldc, bw, epi, y, ldy);      \
                    else NAME##_col1(K, a, lda, p, ldp, c, ldc, bw, epi, y, ldy);           \
                    i0 += (MR);                                                             \
                } else if (i0 + (MR) / 2 <= M) {                                            \
                    if (wide) NAME##_half(K, a, lda, p, ldp, c, ldc, bw, epi, y, ldy);      \
                    else NAME##_halfcol1(K, a, lda, p, ldp, c, ldc, bw, epi, y, ldy);       \
                    i0 += (MR) / 2;                                                         \
                } else {                                                                    \
                    if (wide) NAME##_row1(K, a, lda, p, ldp, c, ldc, bw, epi, y, ldy);      \
                    else NAME##_one(K, a, lda, p, ldp, c, ldc, bw, epi, y, ldy);            \
                    i0 += 1;                                                                \
                }                                                                           \
            }                                                                               \
            j0 += bw;                                                                       \
        }                                                                                   \
    }

/* Before a row tile starts, ask for the C rows of the next one (the tile
 * after it in the same column block): with C too large for the caches its
 * rows are far apart (a new page each for the lm readout's 10000 columns),
 * and the tile's K steps hide the latency.  Only addresses inside C. */
#define SMM_PREFETCH_C(c, ldc, i0, M, MR, bw)                                               \
    do {                                                                                    \
        const size_t nr_ = (M) - (i0) > 2 * (MR) ? (MR) : (M) - (i0) > (MR) ? (M) - (i0) - (MR) : 0; \
        for (size_t r_ = 0; r_ < nr_; r_++) {                                               \
            const float *cn_ = (c) + ((MR) + r_) * (ldc);                                   \
            __builtin_prefetch(cn_, 1);                                                     \
            if ((bw) > 16) __builtin_prefetch(cn_ + 16, 1);                                 \
            __builtin_prefetch(cn_ + (bw) - 1, 1);                                          \
        }                                                                                   \
    } while (0)

#define SMM_PATH(NAME, ATTR, VT, VI, W, MR, NV)                                             \
    SMM_DRIVER(NAME, ATTR, VT, VI, W, MR, NV, 0)                                            \
    SMM_DRIVER(NAME##_ta, ATTR, VT, VI, W, MR, NV, 1)

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
/* 4 x 2 tiles of 4-float vectors: 8 accumulators + 2 of P + 1 broadcast fit
 * the 16 SSE registers. */
SMM_PATH(smm_portable, ATTR_PORTABLE, v4f, v4i, 4, 4, 2)

#if SMM_X86
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef int32_t v16i __attribute__((vector_size(64)));
/* AVX2: 4 x 2 tiles of 8 floats (8 accumulators of 16 ymm registers). */
SMM_PATH(smm_avx2, ATTR_AVX2, v8f, v8i, 8, 4, 2)
/* AVX-512: 8 x 2 tiles of 16 floats: 16 accumulators of 32 zmm registers,
 * 2 loads of P per 16 multiply-adds. */
SMM_PATH(smm_avx512, ATTR_AVX512, v16f, v16i, 16, 8, 2)

/* Lanes 4 r..4 r + nc - 1 of v from p + r ld, r = 0..3, the other lanes
 * kept (t4_load) / to p + r ld from the same lanes (t4_store): masked
 * whole-vector accesses based 4 r floats before row r, so lane 4 r lands
 * on its first float; masked-off lanes are never touched (nor can fault). */
ATTR_AVX512 static inline __attribute__((always_inline)) __m512 t4_load(__m512 v, const float *p, size_t ld,
                                                                       size_t nc)
{
    const unsigned m = (1u << nc) - 1;
    _Pragma("GCC unroll 4") for (unsigned r = 0; r < 4; r++)
        v = _mm512_mask_loadu_ps(v, (__mmask16)(m << 4 * r),
                                 (const void *)((uintptr_t)(p + r * ld) - 4 * r * sizeof(float)));
    return v;
}

ATTR_AVX512 static inline __attribute__((always_inline)) void t4_store(float *p, size_t ld, size_t nc, __m512 v)
{
    const unsigned m = (1u << nc) - 1;
    _Pragma("GCC unroll 4") for (unsigned r = 0; r < 4; r++)
        _mm512_mask_storeu_ps((void *)((uintptr_t)(p + r * ld) - 4 * r * sizeof(float)), (__mmask16)(m << 4 * r), v);
}

/* AVX-512, a last block of nc <= 4 columns (H = 100: 96 + 4).  In the
 * driver above it takes a 16-lane tile per 8 rows with 12 lanes idle: as
 * many multiplies and adds per k as half a full tile, for an eighth of its
 * columns, and 18 % of the time of a 1000 x 100 x 100 product (measured).
 * Here one vector holds 4 rows x 4 columns, lane 4 r + j = C[r][j]: per k,
 * each row's a[r][k] spread over its four lanes (an in-lane permute) times
 * P's row k repeated four times.  Each lane still computes c + a_0 p_0 +
 * a_1 p_1 + ... in k order with a rounded multiply and add (a p = p a
 * exactly), so the bits are those of the driver.  Without A stored
 * transposed, four k at a time: row r's a[r][k..k+3] fill lanes
 * 4 r..4 r + 3, and the permute for k + q picks element q of each row.
 * Intrinsics here: GCC 12 lowers the 4-to-16-lane shuffles of vector
 * types through the stack. */
ATTR_AVX512 static inline __attribute__((always_inline)) void
tail4_tile(const int G, int ta, size_t K, const float *A, size_t lda, const float *P, size_t ldp,
           float *C, size_t ldc, size_t nc, int epi, int zc, int cy, const float *Y, size_t ldy)
{
    __m512 acc[4];
    _Pragma("GCC unroll 4") for (int g = 0; g < G; g++) {
        acc[g] = _mm512_setzero_ps();
        if (!zc) acc[g] = cy ? t4_load(acc[g], Y + 4 * g * ldy, ldy, nc) : t4_load(acc[g], C + 4 * g * ldc, ldc, nc);
    }
    size_t k = 0;
    if (!ta)
        for (; k + 4 <= K; k += 4) {
            const __m512 p0 = _mm512_broadcast_f32x4(_mm_loadu_ps(P + k * ldp));
            const __m512 p1 = _mm512_broadcast_f32x4(_mm_loadu_ps(P + (k + 1) * ldp));
            const __m512 p2 = _mm512_broadcast_f32x4(_mm_loadu_ps(P + (k + 2) * ldp));
            const __m512 p3 = _mm512_broadcast_f32x4(_mm_loadu_ps(P + (k + 3) * ldp));
            _Pragma("GCC unroll 4") for (int g = 0; g < G; g++) {
                const float *a = A + 4 * g * lda + k;
                __m512 z = _mm512_castps128_ps512(_mm_loadu_ps(a));
                z = _mm512_insertf32x4(z, _mm_loadu_ps(a + lda), 1);
                z = _mm512_insertf32x4(z, _mm_loadu_ps(a + 2 * lda), 2);
                z = _mm512_insertf32x4(z, _mm_loadu_ps(a + 3 * lda), 3);
                acc[g] = _mm512_add_ps(acc[g], _mm512_mul_ps(_mm512_permute_ps(z, 0x00), p0));
                acc[g] = _mm512_add_ps(acc[g], _mm512_mul_ps(_mm512_permute_ps(z, 0x55), p1));
                acc[g] = _mm512_add_ps(acc[g], _mm512_mul_ps(_mm512_permute_ps(z, 0xaa), p2));
                acc[g] = _mm512_add_ps(acc[g], _mm512_mul_ps(_mm512_permute_ps(z, 0xff), p3));
            }
        }
    const __m512i spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    for (; k < K; k++) {
        const __m512 pv = _mm512_broadcast_f32x4(_mm_loadu_ps(P + k * ldp));
        _Pragma("GCC unroll 4") for (int g = 0; g < G; g++) {
            const __m128 a4 = ta ? _mm_loadu_ps(A + k * lda + 4 * g)
                                 : _mm_set_ps(A[(4 * g + 3) * lda + k], A[(4 * g + 2) * lda + k],
                                              A[(4 * g + 1) * lda + k], A[(4 * g) * lda + k]);
            const __m512 av = _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(a4));
            acc[g] = _mm512_add_ps(acc[g], _mm512_mul_ps(av, pv));
        }
    }
    _Pragma("GCC unroll 4") for (int g = 0; g < G; g++) {
        if (epi == DALEI_EPI_RELU) {
            /* keep lanes where !(c < 0): NaN passes */
            const __mmask16 neg = _mm512_cmp_ps_mask(acc[g], _mm512_setzero_ps(), _CMP_LT_OQ);
            acc[g] = _mm512_maskz_mov_ps((__mmask16)~neg, acc[g]);
        } else if (epi == DALEI_EPI_MASK) {
            const __m512 y = t4_load(_mm512_setzero_ps(), Y + 4 * g * ldy, ldy, nc);
            acc[g] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GT_OQ), acc[g]);
        }
        t4_store(C + 4 * g * ldc, ldc, nc, acc[g]);
    }
}

ATTR_AVX512 static void tail4_avx512(int ta, size_t M, size_t nc, size_t K, const float *A, size_t lda,
                                     const float *P, size_t ldp, float *C, size_t ldc, int epi,
                                     const float *Y, size_t ldy)
{
    const int zc = epi & DALEI_C_ZERO, cy = epi & DALEI_C_ROW, e = epi & ~(DALEI_C_ZERO | DALEI_C_ROW);
    const size_t astep = ta ? 1 : lda;
    size_t i0 = 0;
    for (; i0 + 16 <= M; i0 += 16)
        tail4_tile(4, ta, K, A + i0 * astep, lda, P, ldp, C + i0 * ldc, ldc, nc, e, zc, cy,
                   Y ? Y + i0 * ldy : NULL, ldy);
    for (; i0 + 8 <= M; i0 += 8)
        tail4_tile(2, ta, K, A + i0 * astep, lda, P, ldp, C + i0 * ldc, ldc, nc, e, zc, cy,
                   Y ? Y + i0 * ldy : NULL, ldy);
    for (; i0 + 4 <= M; i0 += 4)
        tail4_tile(1, ta, K, A + i0 * astep, lda, P, ldp, C + i0 * ldc, ldc, nc, e, zc, cy,
                   Y ? Y + i0 * ldy : NULL, ldy);
    if (i0 < M)
        (ta ? smm_avx512_ta : smm_avx512)(M - i0, nc, K, A + i0 * astep, lda, P, ldp, C + i0 * ldc, ldc,
                                          epi, Y ? Y + i0 * ldy : NULL, ldy);
}
#endif

/* ------------------------------------------------------------ dispatch */

static const char *const path_names[] = {"portable", "avx2", "avx512"};

const char *dalei_smm_path_name(int path)
{
    return path >= 0 && path <= 2 ? path_names[path] : "?";
}

/* Widest path this CPU runs. */
static int cpu_best(void)
{
#if SMM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return DALEI_SMM_AVX512;
    if (__builtin_cpu_supports("avx2")) return DALEI_SMM_AVX2;
#endif
    return DALEI_SMM_PORTABLE;
}

/* -2: not resolved yet.  Atomic so a race between first callers is benign
 * (they compute the same value). */
static _Atomic int path_now = -2;

static int resolve(int want)
{
    int best = cpu_best();
    if (want == DALEI_SMM_AUTO) {
        const char *e = getenv("DALE_SMM");
        if (e && !strcmp(e, "portable")) want = DALEI_SMM_PORTABLE;
        else if (e && !strcmp(e, "avx2")) want = DALEI_SMM_AVX2;
        else if (e && !strcmp(e, "avx512")) want = DALEI_SMM_AVX512;
    }
    return want == DALEI_SMM_AUTO || want > best ? best : want;
}

int dalei_smm_path(void)
{
    int p = atomic_load_explicit(&path_now, memory_order_relaxed);
    if (p < 0) {
        p = resolve(DALEI_SMM_AUTO);
        atomic_store_explicit(&path_now, p, memory_order_relaxed);
    }
    return p;
}

int dalei_smm_force(int path)
{
    int p = resolve(path);
    atomic_store_explicit(&path_now, p, memory_order_relaxed);
    return p;
}

/* Vector width (floats) of each path. */
static const size_t path_width[] = {4, 8, 16};
/* Width (floats) of each path's full tile: NV W. */
static const size_t path_wide[] = {8, 16, 32};

/* Run the path in use on a padded P (tail vectors load whole). */
static void run_padded(int path, int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                       const float *P, size_t ldp, float *C, size_t ldc, int epi, const float *Y,
                       size_t ldy)
{
    switch (path) {
#if SMM_X86
    case DALEI_SMM_AVX512:
        if (N % 16 && N % 16 <= 4 && M >= 4) {
            const size_t nm = N - N % 16;
            if (nm) (ta ? smm_avx512_ta : smm_avx512)(M, nm, K, A, lda, P, ldp, C, ldc, epi, Y, ldy);
            tail4_avx512(ta, M, N - nm, K, A, lda, P + nm, ldp, C + nm, ldc, epi, Y ? Y + nm : NULL, ldy);
            return;
        }
        (ta ? smm_avx512_ta : smm_avx512)(M, N, K, A, lda, P, ldp, C, ldc, epi, Y, ldy);
        return;
    case DALEI_SMM_AVX2:
        (ta ? smm_avx2_ta : smm_avx2)(M, N, K, A, lda, P, ldp, C, ldc, epi, Y, ldy);
        return;
#endif
    default:
        (ta ? smm_portable_ta : smm_portable)(M, N, K, A, lda, P, ldp, C, ldc, epi, Y, ldy);
        return;
    }
}

/* Cache blocking.  The path drivers above keep one (K, NV W) panel of P in
 * cache while every row tile of C passes over it, and each row tile reads
 * its MR rows of A over all of K.  That is right for the per-step products
 * (K <= 2048, M ~ 32), but with a long K the panel leaves L1 and with many
 * rows A leaves L2, so large products run in blocks:
 *   K chunks of at most BLOCK_K rows (a P panel of BLOCK_K x 32 floats is
 *     32 KiB: L1), in k order; C holds the running sum between chunks
 *     (each tile loads C, adds its chunk's terms in k order and stores it;
 *     storing and reloading a float changes nothing), so every output is
 *     still C + a_0 b_0 + a_1 b_1 + ... left to right, bit for bit;
 *   inside a chunk, row blocks of at most BLOCK_M rows (an A block of
 *     BLOCK_M x BLOCK_K floats is 256 KiB: L2), each run over all columns.
 * The epilogue (dalei_smm) applies in the last chunk only.  Blocking moves
 * no term of any sum, so it changes speed, never bits.
 *
 * An unpadded P (dalei_gemm_acc: rows may end right after column N): the
 * columns up to the last multiple of the vector width run in place (they
 * load whole vectors only); the last N mod W columns of each K chunk are
 * copied into a zero-padded stack buffer of W-float rows and run from
 * there (no epilogue on this route: DALEI_EPI_NONE only). */
#define BLOCK_K 256
#define BLOCK_M 256

/* One K chunk of one row block through packed panels: each (kc, NV W)
 * panel of P is copied into a contiguous zero-padded buffer, and all row
 * tiles of the block run from there.  A P with long rows (the lm
 * readout's 10000 columns, objrec's 7225) otherwise puts every k of a
 * panel in its own page; packed, a panel is 8 pages and streams.  While a
 * panel is copied, the next one is requested from memory, and the first C
 * rows it will update.  (Tried and dropped, no gain measured: spreading
 * those requests over the row tiles, and copying a transposed A with long
 * rows into contiguous slices.)  The copy moves values: same bits. */
static void run_packed(int path, int ta, size_t mc, size_t N, size_t kc, const float *a,
                       size_t lda, const float *P, size_t ldp, float *C, size_t ldc, int epi,
                       const float *Y, size_t ldy, float *buf)
{
    const size_t W = path_width[path], wide = path_wide[path];
    for (size_t j0 = 0; j0 < N; j0 += wide) {
        const size_t bw = N - j0 < wide ? N - j0 : wide, bwp = (bw + W - 1) / W * W;
        const size_t jn = j0 + wide, wn = jn < N ? (N - jn < wide ? N - jn : wide) : 0;
        for (size_t k = 0; k < kc; k++) {
            const float *p = P + k * ldp + j0;
            if (wn) {
                __builtin_prefetch(p + wide);
                if (wn > 16) __builtin_prefetch(p + wide + 16);
                __builtin_prefetch(p + wide + wn - 1);
            }
            memcpy(buf + k * bwp, p, bw * sizeof(float));
            if (bwp > bw) memset(buf + k * bwp + bw, 0, (bwp - bw) * sizeof(float));
        }
        if (wn)
            for (size_t r = 0; r < mc && r < 8; r++) __builtin_prefetch(C + r * ldc + jn, 1);
        run_padded(path, ta, mc, bw, kc, a, lda, buf, bwp, C + j0, ldc, epi, Y ? Y + j0 : NULL,
                   ldy);
    }
}

/* Whether to copy P panel by panel: a panel serves M / MR row tiles, and
 * below 8 of them its copy costs more than it saves unless P is far too
 * large for the caches (measured: 32 x 1000 x 1000 and 32 x 100 x 100 run
 * faster in place, the objrec input product 16..80 x 1000 x 7225 faster
 * copied); a P that fits in L2 (K N < 2^16 floats) stays in place too.
 * In place, only an unpadded tail is copied. */
static int want_pack(size_t M, size_t N, size_t K)
{
    return (M >= 64 && K * N >= ((size_t)1 << 16)) || (M >= 16 && K * N >= ((size_t)1 << 22));
}

static void run_blocked(int path, int ta, int padded, size_t M, size_t N, size_t K,
                        const float *A, size_t lda, const float *P, size_t ldp, float *C,
                        size_t ldc, int epi, const float *Y, size_t ldy)
{
    const size_t W = path_width[path], Nm = padded ? N : N - N % W, tail = N - Nm;
    const int pack = K > 0 && want_pack(M, N, K);
    const size_t nk = K > BLOCK_K ? (K + BLOCK_K - 1) / BLOCK_K : 1;
    const size_t kcs = (K + nk - 1) / nk; /* chunks of equal size (the last may be shorter) */
    const size_t nm = M > BLOCK_M ? (M + BLOCK_M - 1) / BLOCK_M : 1;
    const size_t mcs = nm == 1 ? M : ((M + nm - 1) / nm + 7) / 8 * 8;
    float buf[BLOCK_K * 32];
    const int zc = epi & (DALEI_C_ZERO | DALEI_C_ROW); /* how the first K chunk starts */
    epi &= ~(DALEI_C_ZERO | DALEI_C_ROW);
    for (size_t k0 = 0; k0 < K || k0 == 0; k0 += kcs) {
        const size_t kc = K - k0 < kcs ? K - k0 : kcs;
        const int z = k0 == 0 ? zc : 0;
        const int e = (k0 + kc >= K ? epi : DALEI_EPI_NONE) | z;
        if (tail && !pack)
            for (size_t k = 0; k < kc; k++) {
                memcpy(buf + k * W, P + (k0 + k) * ldp + Nm, tail * sizeof(float));
                memset(buf + k * W + tail, 0, (W - tail) * sizeof(float));
            }
        const float *a = ta ? A + k0 * lda : A + k0;
        for (size_t i0 = 0; i0 < M; i0 += mcs) {
            const size_t mc = M - i0 < mcs ? M - i0 : mcs;
            const float *ai = ta ? a + i0 : a + i0 * lda;
            if (pack) {
                run_packed(path, ta, mc, N, kc, ai, lda, P + k0 * ldp, ldp, C + i0 * ldc, ldc, e,
                           Y ? Y + i0 * ldy : NULL, ldy, buf);
                continue;
            }
            if (Nm)
                run_padded(path, ta, mc, Nm, kc, ai, lda, P + k0 * ldp, ldp, C + i0 * ldc, ldc,
                           e, Y ? Y + i0 * ldy : NULL, ldy);
            if (tail)
                run_padded(path, ta, mc, tail, kc, ai, lda, buf, W, C + i0 * ldc + Nm, ldc,
                           DALEI_EPI_NONE | z, Y ? Y + i0 * ldy + Nm : NULL, ldy);
        }
        if (K == 0) break;
    }
}

/* Thread split.  With dalei_kernels_set_threads(n > 1) a product of at
 * least SPLIT_MIN multiply-adds is cut into n parts of the OUTPUT: row
 * ranges (multiples of 8 rows) when M >= N, so the threads share P and
 * each reads its own rows of A, else column ranges (multiples of 64
 * columns: whole vector tiles on every path, and dalei_smm's zero padding
 * stays where the kernels expect it).  Each part is the serial blocked
 * product on its sub-block, written by one thread only; the sum over k is
 * never split, so every output sees the same terms in the same order
 * whichever thread computes it and however many there are. */
#define SPLIT_MIN ((size_t)1 << 21)
#define SPLIT_ROWS 8
#define SPLIT_COLS 64

struct split_job {
    int path, ta, padded, by_rows;
    size_t M, N, K, lda, ldp, ldc, ldy;
    const float *A, *P, *Y;
    float *C;
    int epi;
};

static void split_part(void *arg, int part, int nparts)
{
    const struct split_job *j = arg;
    const size_t q = j->by_rows ? SPLIT_ROWS : SPLIT_COLS, len = j->by_rows ? j->M : j->N;
    const size_t units = (len + q - 1) / q, np = (size_t)nparts, p = (size_t)part;
    size_t lo = units * p / np * q, hi = units * (p + 1) / np * q;
    if (hi > len) hi = len;
    if (lo >= hi) return;
    if (j->by_rows) {
        const float *a = j->ta ? j->A + lo : j->A + lo * j->lda;
        run_blocked(j->path, j->ta, j->padded, hi - lo, j->N, j->K, a, j->lda, j->P, j->ldp,
                    j->C + lo * j->ldc, j->ldc, j->epi, j->Y ? j->Y + lo * j->ldy : NULL, j->ldy);
    } else {
        run_blocked(j->path, j->ta, j->padded, j->M, hi - lo, j->K, j->A, j->lda, j->P + lo,
                    j->ldp, j->C + lo, j->ldc, j->epi, j->Y ? j->Y + lo : NULL, j->ldy);
    }
}

static void run_product(int ta, int padded, size_t M, size_t N, size_t K, const float *A,
                        size_t lda, const float *P, size_t ldp, float *C, size_t ldc, int epi,
                        const float *Y, size_t ldy)
{
    const int path = dalei_smm_path();
    int n = dalei_kernels_threads();
    if (n > 1 && M * N * (K ? K : 1) >= SPLIT_MIN) {
        const int by_rows = M >= N;
        const size_t q = by_rows ? SPLIT_ROWS : SPLIT_COLS, len = by_rows ? M : N;
        const size_t units = (len + q - 1) / q;
        if ((size_t)n > units) n = (int)units;
        if (n > 1) {
            struct split_job j = {path, ta, padded, by_rows, M, N, K, lda, ldp, ldc, ldy,
                                  A, P, Y, C, epi};
            dalei_pool_run(split_part, &j, n);
            return;
        }
    }
    run_blocked(path, ta, padded, M, N, K, A, lda, P, ldp, C, ldc, epi, Y, ldy);
}

/* -1: not resolved yet (DALE_SMM=blas turns the kernels off). */
static _Atomic int kernels_on = -1;

int dalei_kernels_enabled(void)
{
    int on = atomic_load_explicit(&kernels_on, memory_order_relaxed);
    if (on < 0) {
        const char *e = getenv("DALE_SMM");
        on = !(e && !strcmp(e, "blas"));
        atomic_store_explicit(&kernels_on, on, memory_order_relaxed);
    }
    return on;
}

int dalei_kernels_enable(int on)
{
    int prev = dalei_kernels_enabled();
    atomic_store_explicit(&kernels_on, on != 0, memory_order_relaxed);
    return prev;
}

void dalei_smm(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *P,
               size_t ldp, float *C, size_t ldc, int epi, const float *Y, size_t ldy)
{
    DALE_ASSERT(ldp >= dalei_smm_ld(N) && lda >= K && ldc >= N);
    DALE_ASSERT(epi != DALEI_EPI_MASK || (Y != NULL && ldy >= N));
    if (M == 0 || N == 0) return;
    run_product(0, 1, M, N, K, A, lda, P, ldp, C, ldc, epi, Y, ldy);
}

void dalei_gemm_acc(int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                    const float *P, size_t ldp, float *C, size_t ldc)
{
    DALE_ASSERT(lda >= (ta ? M : K) && ldp >= N && ldc >= N);
    if (M == 0 || N == 0) return;
    run_product(ta, 0, M, N, K, A, lda, P, ldp, C, ldc, DALEI_EPI_NONE, NULL, 0);
}

void dalei_gemm_set(int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                    const float *P, size_t ldp, float *C, size_t ldc)
{
    DALE_ASSERT(lda >= (ta ? M : K) && ldp >= N && ldc >= N);
    if (M == 0 || N == 0) return;
    run_product(ta, 0, M, N, K, A, lda, P, ldp, C, ldc, DALEI_EPI_NONE | DALEI_C_ZERO, NULL, 0);
}

void dalei_gemm_bias(int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                     const float *P, size_t ldp, const float *b, float *C, size_t ldc)
{
    DALE_ASSERT(lda >= (ta ? M : K) && ldp >= N && ldc >= N && b != NULL);
    if (M == 0 || N == 0) return;
    run_product(ta, 0, M, N, K, A, lda, P, ldp, C, ldc, DALEI_EPI_NONE | DALEI_C_ROW, b, 0);
}

/* Reference of dalei_gemm_acc: c = C[i][j]; for k: c = c + op(A)[i][k] P[k][j]. */
void dalei_gemm_acc_naive(int ta, size_t M, size_t N, size_t K, const float *A, size_t lda,
                          const float *P, size_t ldp, float *C, size_t ldc)
{
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            float c = C[i * ldc + j];
            for (size_t k = 0; k < K; k++)
                c = c + (ta ? A[k * lda + i] : A[i * lda + k]) * P[k * ldp + j];
            C[i * ldc + j] = c;
        }
}

/* Reference: c = C[i][j]; for k: c = c + A[i][k] * P[k][j]; then epi. */
void dalei_smm_naive(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *P,
                     size_t ldp, float *C, size_t ldc, int epi, const float *Y, size_t ldy)
{
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            float c = C[i * ldc + j];
            for (size_t k = 0; k < K; k++) c = c + A[i * lda + k] * P[k * ldp + j];
            if (epi == DALEI_EPI_RELU) c = c < 0.0f ? 0.0f : c;
            else if (epi == DALEI_EPI_MASK) c = Y[i * ldy + j] > 0.0f ? c : 0.0f;
            C[i * ldc + j] = c;
        }
}

/* ------------------------------------------------- elementwise passes */

/* The ReLU passes outside the per-step products (the first step, dense
 * layers, the last step's mask, wide cells), as 4-lane bit-mask selects:
 * at -O2 GCC 12 compiles the scalar `y < 0 ? 0 : y` loop to a compare and
 * branch per element, and that branch mispredicts on ReLU data.  The tail
 * goes through a zero-padded temporary vector. */
#define V4_LOAD(dst, src, cnt)                                \
    do {                                                      \
        if ((cnt) == 4) {                                     \
            memcpy(&(dst), (src), sizeof(v4f));               \
        } else {                                              \
            float t_[4] = {0};                                \
            memcpy(t_, (src), (cnt) * sizeof(float));         \
            memcpy(&(dst), t_, sizeof(v4f));                  \
        }                                                     \
    } while (0)

/* ------------------------------------- elementwise passes on the pool
 *
 * With --threads N the passes below split a large array into N contiguous
 * ranges (rows, or whole 16-column blocks for dalei_add_rows) and run them
 * on the pool.  Each element is computed exactly as in one thread (these
 * are elementwise operations, and the bias sum keeps its row order), so
 * the bits do not depend on N.  Below EW_PAR_MIN elements one thread does
 * it.  Measured (bench/bench_stream.c, workers asleep before each pass): at
 * 2^18 floats a second thread made a pass slower (SGD step 71 -> 82 us,
 * write 17 -> 50 us: waking the worker costs about 30 us), at 2^19 faster
 * (146 -> 115 us), at 2^20 1.6x.  2^20 kept every pass over a 1000 x 1000
 * map (10^6 entries) on one thread; 2^19 splits them. */
#define EW_PAR_MIN ((size_t)1 << 19)

struct range_job {
    void (*fn)(void *arg, size_t lo, size_t hi);
    void *arg;
    size_t n, q;
};

static void range_part(void *arg, int part, int nparts)
{
    const struct range_job *j = arg;
    const size_t units = (j->n + j->q - 1) / j->q, np = (size_t)nparts, p = (size_t)part;
    size_t lo = units * p / np * j->q, hi = units * (p + 1) / np * j->q;
    if (hi > j->n) hi = j->n;
    if (lo < hi) j->fn(j->arg, lo, hi);
}

void dalei_par_range(size_t n, size_t q, size_t work, void (*fn)(void *arg, size_t lo, size_t hi), void *arg)
{
    int t = dalei_kernels_threads();
    if (q == 0) q = 1;
    const size_t units = (n + q - 1) / q;
    if ((size_t)t > units) t = (int)units;
    if (t > 1 && work >= EW_PAR_MIN) {
        struct range_job j = {fn, arg, n, q};
        dalei_pool_run(range_part, &j, t);
    } else if (n) {
        fn(arg, 0, n);
    }
}

static void relu_range(void *arg, size_t lo, size_t hi)
{
    float *y = arg;
    const v4f zero = {0};
    for (size_t k = lo; k < hi; k += 4) {
        size_t cnt = hi - k < 4 ? hi - k : 4;
        v4f v;
        V4_LOAD(v, y + k, cnt);
        v = (v4f)((v4i)v & ~(v < zero));
        memcpy(y + k, &v, cnt * sizeof(float));
    }
}

/* Ranges start at multiples of 4 (q = 4), so the vectors are those of one
 * thread; an elementwise select either way. */
void dalei_relu(float *y, size_t n) { dalei_par_range(n, 4, n, relu_range, y); }

/* The job of a pass that writes y from x, element by element. */
struct pair_job {
    float *y;
    const float *x;
};

/* dy (y) = dy where the activation (x) > 0, else 0 */
static void mask_range(void *arg, size_t lo, size_t hi)
{
    const struct pair_job *j = arg;
    const v4f zero = {0};
    for (size_t k = lo; k < hi; k += 4) {
        size_t cnt = hi - k < 4 ? hi - k : 4;
        v4f d, v;
        V4_LOAD(d, j->y + k, cnt);
        V4_LOAD(v, j->x + k, cnt);
        d = (v4f)((v4i)d & (v > zero));
        memcpy(j->y + k, &d, cnt * sizeof(float));
    }
}

void dalei_relu_mask(float *dy, const float *y, size_t n)
{
    struct pair_job j = {dy, y};
    dalei_par_range(n, 4, n, mask_range, &j);
}

struct rows_job {
    float *y;
    const float *x;
    const float *s;
    size_t R, n;
    int acc;
};

/* Columns lo..hi-1 of db += sum over rows of dy, in blocks of up to
 * AR_W columns: the block's running sums stay in L1 while the rows stream
 * past in order (a row of a 10 000-wide readout is 40 KB, so walking one
 * column group down all rows, as before, touched a new cache line per
 * row).  Each db[j] still gets dy[0][j], dy[1][j], ... added in row order. */
#define AR_W 512
static void add_rows_range(void *arg, size_t lo, size_t hi)
{
    const struct rows_job *j = arg;
    float *db = j->y;
    const float *dy = j->x;
    const size_t R = j->R, n = j->n;
    v4f acc[AR_W / 4];
    for (size_t b0 = lo; b0 < hi; b0 += AR_W) {
        const size_t w = hi - b0 < AR_W ? hi - b0 : AR_W, nv = (w + 3) / 4;
        for (size_t v = 0; v < nv; v++) {
            size_t cnt = w - 4 * v < 4 ? w - 4 * v : 4;
            V4_LOAD(acc[v], db + b0 + 4 * v, cnt);
        }
        for (size_t r = 0; r < R; r++) {
            const float *row = dy + r * n + b0;
            for (size_t v = 0; v < nv; v++) {
                size_t cnt = w - 4 * v < 4 ? w - 4 * v : 4;
                v4f x;
                V4_LOAD(x, row + 4 * v, cnt);
                acc[v] = acc[v] + x;
            }
        }
        for (size_t v = 0; v < nv; v++) {
            size_t cnt = w - 4 * v < 4 ? w - 4 * v : 4;
            memcpy(db + b0 + 4 * v, &acc[v], cnt * sizeof(float));
        }
    }
}

/* db[j] += dy[0][j] + dy[1][j] + ... in row order (the bias gradient);
 * vectorised over j, so each db[j] sees the same additions in the same
 * order as the scalar loop. */
void dalei_add_rows(float *db, const float *dy, size_t R, size_t n)
{
    struct rows_job j = {db, dy, NULL, R, n, 0};
    dalei_par_range(n, 16, R * n, add_rows_range, &j);
}

static void fill_range(void *arg, size_t lo, size_t hi)
{
    const struct rows_job *j = arg;
    for (size_t r = lo; r < hi; r++) memcpy(j->y + r * j->n, j->x, j->n * sizeof(float));
}

static void zero_range(void *arg, size_t lo, size_t hi)
{
    memset((float *)arg + lo, 0, (hi - lo) * sizeof(float));
}

void dalei_zero(float *y, size_t n) { dalei_par_range(n, 16, n, zero_range, y); }

static void copy_range(void *arg, size_t lo, size_t hi)
{
    const struct pair_job *j = arg;
    memcpy(j->y + lo, j->x + lo, (hi - lo) * sizeof(float));
}

void dalei_copy(float *y, const float *x, size_t n)
{
    struct pair_job j = {y, x};
    dalei_par_range(n, 16, n, copy_range, &j);
}

static void negate_range(void *arg, size_t lo, size_t hi)
{
    const struct pair_job *j = arg;
    for (size_t k = lo; k < hi; k++) j->y[k] = -j->x[k];
}

void dalei_negate(float *y, const float *x, size_t n)
{
    struct pair_job j = {y, x};
    dalei_par_range(n, 16, n, negate_range, &j);
}

void dalei_fill_rows(float *y, const float *b, size_t R, size_t n)
{
    struct rows_job j = {y, b, NULL, R, n, 0};
    dalei_par_range(R, 1, R * n, fill_range, &j);
}

/* y[i][j] = x[i][j] * s[j] (acc = 0) or y[i][j] += x[i][j] * s[j] (acc = 1)
 * over an (R, C) row-major block: ColEI's effective matrix and its
 * gradient chain (s = +-1, so the product is exact).  s = NULL means 1. */
static void scale_cols_range(void *arg, size_t lo, size_t hi)
{
    const struct rows_job *jb = arg;
    const float *x = jb->x, *s = jb->s;
    float *y = jb->y;
    const size_t C = jb->n;
    const int acc = jb->acc;
    /* Whole 4-float vectors with fixed-size loads and stores, then the
     * row's tail one element at a time: the same multiply (and add) per
     * element as the scalar loop, so the same bits. */
    for (size_t i = lo; i < hi; i++) {
        const float *xr = x + i * C;
        float *yr = y + i * C;
        size_t j = 0;
        for (; j + 4 <= C; j += 4) {
            v4f xv, sv = {1, 1, 1, 1}, yv = {0, 0, 0, 0};
            memcpy(&xv, xr + j, sizeof xv);
            if (s) memcpy(&sv, s + j, sizeof sv);
            if (acc) {
                memcpy(&yv, yr + j, sizeof yv);
                yv = yv + xv * sv;
            } else {
                yv = xv * sv;
            }
            memcpy(yr + j, &yv, sizeof yv);
        }
        for (; j < C; j++) {
            float sj = s ? s[j] : 1.0f;
            yr[j] = acc ? yr[j] + xr[j] * sj : xr[j] * sj;
        }
    }
}

void dalei_scale_cols(float *y, const float *x, const float *s, size_t R, size_t C, int acc)
{
    struct rows_job j = {y, x, s, R, C, acc};
    dalei_par_range(R, 1, R * C, scale_cols_range, &j);
}

/* ----------------------------------------------- sum of squares, 8 lanes */

/* Element k of g goes to lane k % 8 as (double)g[k]^2, each lane adds in
 * index order, and the lanes meet pairwise at the end.  Every path does
 * exactly these double multiplies and adds (no FMA: contraction is off),
 * so all three give the same value.  The portable body is the 64-byte
 * vector that GCC splits into SSE2 halves (three times the read time of
 * the array, measured); the AVX2 body holds the lanes in two 4-double
 * vectors and the AVX-512 body in one, both about as fast as reading. */
typedef double v4d __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));

static double lanes_end(double s[8], const float *g, size_t k, size_t n)
{
    for (size_t j = 0; k < n; k++, j++) s[j] += (double)g[k] * (double)g[k];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

#define SUMSQ8_V8(NAME, ATTR, END)                                                                 \
    ATTR static double NAME(const float *g, size_t n)                                              \
    {                                                                                              \
        v8d acc = {0, 0, 0, 0, 0, 0, 0, 0};                                                        \
        size_t k = 0;                                                                              \
        for (; k + 8 <= n; k += 8) {                                                               \
            v8d x = {g[k], g[k + 1], g[k + 2], g[k + 3], g[k + 4], g[k + 5], g[k + 6], g[k + 7]};  \
            acc += x * x;                                                                          \
        }                                                                                          \
        double s[8];                                                                               \
        memcpy(s, &acc, sizeof s);                                                                 \
        END;                                                                                       \
        return lanes_end(s, g, k, n);                                                              \
    }

/* GCC 12 leaves the upper halves of the vector registers dirty when these
 * wide functions call the SSE2 lanes_end (no vzeroupper was emitted), and
 * then every SSE instruction of the rest of the update ran slower: the
 * ColEI objrec update took 24 ms instead of 17 (measured).  So the wide
 * bodies clear them explicitly. */
#define NO_END ((void)0)
#define VZEROUPPER __builtin_ia32_vzeroupper()
SUMSQ8_V8(sumsq8_portable, ATTR_PORTABLE, NO_END)
#if SMM_X86
SUMSQ8_V8(sumsq8_avx512, ATTR_AVX512, VZEROUPPER)

ATTR_AVX2 static double sumsq8_avx2(const float *g, size_t n)
{
    v4d a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        v4d x0 = {g[k], g[k + 1], g[k + 2], g[k + 3]}, x1 = {g[k + 4], g[k + 5], g[k + 6], g[k + 7]};
        a0 += x0 * x0;
        a1 += x1 * x1;
    }
    double s[8];
    memcpy(s, &a0, sizeof a0);
    memcpy(s + 4, &a1, sizeof a1);
    VZEROUPPER;
    return lanes_end(s, g, k, n);
}
#endif

double dalei_sumsq8(const float *g, size_t n)
{
    switch (dalei_smm_path()) {
#if SMM_X86
    case DALEI_SMM_AVX512: return sumsq8_avx512(g, n);
    case DALEI_SMM_AVX2: return sumsq8_avx2(g, n);
#endif
    default: return sumsq8_portable(g, n);
    }
}
