/* dexp.c — exp and log in double precision with the same bits on every
 * instruction-set path (dexp.h says where they are used and why).
 *
 * exp(x).  Clamp x to [-800, 720] (NaN passes: the comparisons are false),
 * so that every later step stays in range; then the classic reduction
 *     n = round(x / ln 2),   r = (x - n ln2_hi) - n ln2_lo,   |r| <= 0.35,
 * where ln2_hi has 32 significant bits, so n ln2_hi is exact for |n| <=
 * 2^21 (Cody and Waite).  n is rounded with the 1.5 * 2^52 shifter: adding
 * it leaves n (ties to even) in the low mantissa bits.  exp(r) is its
 * Taylor polynomial of degree 13 by Horner (truncation below 5e-18
 * relative), and the result is p 2^n1 2^n2 with n1 = floor(n / 2) and
 * n2 = n - n1, two normal powers of two built from their exponent bits:
 * one scale would overflow or underflow for the subnormal and the
 * overflowing results, two give them their correctly scaled values (0 for
 * x = -800, +inf for x = 720).
 *
 * log(x).  x = m 2^e with m in (sqrt(1/2), sqrt(2)], f = m - 1 (exact),
 * s = f / (2 + f), log m = 2 atanh s = 2s + s R(s^2) with R the series'
 * next 11 terms (|s| <= 0.172: truncation below 1e-18), evaluated as
 * f - (f^2/2 - s (f^2/2 + R)) as in fdlibm, plus e ln2_hi + e ln2_lo.
 * Scalar only: the loss takes one log per row.
 *
 * Same bits everywhere.  Every step is one IEEE double operation (a
 * rounded multiply or add, never fused: -std=c11 keeps GCC from
 * contracting, the pragma keeps Clang from it), integer operations on the
 * exponent bits, or a bit-mask select, in the same order in the scalar
 * reference and in the vector paths (GCC/Clang vector types compiled for
 * 16-, 32- and 64-byte vectors through __attribute__((target)), chosen
 * like linalg/kernels.c's by dalei_smm_path).
 */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
#include "linalg/dexp.h"
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "linalg/kernels.h"

#define EXP_LO (-800.0)
#define EXP_HI 720.0
#define LOG2E 0x1.71547652b82fep+0
#define LN2HI 0x1.62e42fee00000p-1
#define LN2LO 0x1.a39ef35793c76p-33
#define SHIFTER 0x1.8p52
#define SHIFTER_BITS 0x4338000000000000LL

/* 1/k!, k = 13 down to 2 */
#define C13 0x1.6124613a86d09p-33
#define C12 0x1.1eed8eff8d898p-29
#define C11 0x1.ae64567f544e4p-26
#define C10 0x1.27e4fb7789f5cp-22
#define C9 0x1.71de3a556c734p-19
#define C8 0x1.a01a01a01a01ap-16
#define C7 0x1.a01a01a01a01ap-13
#define C6 0x1.6c16c16c16c17p-10
#define C5 0x1.1111111111111p-7
#define C4 0x1.5555555555555p-5
#define C3 0x1.5555555555555p-3
#define C2 0x1.0000000000000p-1

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static double of_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

double dalei_exp(double x)
{
    if (x < EXP_LO) x = EXP_LO;
    if (x > EXP_HI) x = EXP_HI;
    double t = x * LOG2E, kd = t + SHIFTER, nd = kd - SHIFTER;
    double r = (x - nd * LN2HI) - nd * LN2LO;
    double p = C13;
    p = p * r + C12;
    p = p * r + C11;
    p = p * r + C10;
    p = p * r + C9;
    p = p * r + C8;
    p = p * r + C7;
    p = p * r + C6;
    p = p * r + C5;
    p = p * r + C4;
    p = p * r + C3;
    p = p * r + C2;
    p = p * r + 1.0;
    p = p * r + 1.0;
    int64_t n = (int64_t)(bits_of(kd) - (uint64_t)SHIFTER_BITS);
    int64_t n1 = n >> 1, n2 = n - n1; /* floor(n / 2): arithmetic shift */
    double s1 = of_bits((uint64_t)(n1 + 1023) << 52), s2 = of_bits((uint64_t)(n2 + 1023) << 52);
    return (p * s1) * s2;
}

double dalei_log(double x)
{
    if (x != x || x < 0) return (double)NAN;
    if (x == 0) return -(double)INFINITY;
    if (x > DBL_MAX) return x; /* +inf */
    int e = 0;
    if (x < DBL_MIN) { /* subnormal: scale into the normal range (exact) */
        x *= 0x1p54;
        e = -54;
    }
    uint64_t b = bits_of(x);
    e += (int)((b >> 52) & 0x7ff) - 1023;
    double m = of_bits((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL); /* [1, 2) */
    if (m > 0x1.6a09e667f3bcdp+0) { /* sqrt(2) */
        m *= 0.5;
        e += 1;
    }
    double f = m - 1.0, s = f / (2.0 + f), z = s * s, hfsq = 0.5 * f * f;
    double R = 0.08695652173913043;   /* 2/23 */
    R = R * z + 0.09523809523809523;  /* 2/21 */
    R = R * z + 0.10526315789473684;  /* 2/19 */
    R = R * z + 0.11764705882352941;  /* 2/17 */
    R = R * z + 0.13333333333333333;  /* 2/15 */
    R = R * z + 0.15384615384615385;  /* 2/13 */
    R = R * z + 0.18181818181818182;  /* 2/11 */
    R = R * z + 0.2222222222222222;   /* 2/9 */
    R = R * z + 0.2857142857142857;   /* 2/7 */
    R = R * z + 0.4;                  /* 2/5 */
    R = R * z + 0.6666666666666666;   /* 2/3 */
    R = R * z;
    double de = (double)e;
    /* 2s + sR = f - (hfsq - s (hfsq + R)) (as 2s = f - fs): f is exact,
     * so the rounding errors stay in the small correction (fdlibm's form) */
    return de * LN2HI + ((f - (hfsq - (s * (hfsq + R) + de * LN2LO))));
}

/* The fixed combination of the eight partial sums. */
static double combine8(const double *s)
{
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

double dalei_exp_row_naive(const float *z, size_t m, double shift, double *e)
{
    double s[8] = {0};
    for (size_t j = 0; j < m; j++) {
        double y = dalei_exp((double)z[j] - shift);
        if (e) e[j] = y;
        s[j % 8] = s[j % 8] + y;
    }
    return combine8(s);
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define DEXP_X86 1
#define ATTR_AVX2 __attribute__((target("avx2")))
#define ATTR_AVX512 __attribute__((target("avx512f")))
#else
#define DEXP_X86 0
#endif
#define ATTR_PORTABLE

/* One path: VD holds W doubles, VL / VU the same lanes as signed /
 * unsigned 64-bit integers, VF W floats.  The selects are bit masks
 * (a vector comparison gives all-ones or all-zero lanes). */
#define DEXP_PATH(NAME, ATTR, VD, VL, VU, VF, W)                                             \
    ATTR static inline __attribute__((always_inline)) VD NAME##_exp(VD x)                   \
    {                                                                                        \
        const VD zero = {0};                                                                 \
        const VD lo = zero + EXP_LO, hi = zero + EXP_HI;                                     \
        VL below = x < lo, above = x > hi;                                                   \
        x = (VD)(((VL)x & ~below) | ((VL)lo & below));                                       \
        x = (VD)(((VL)x & ~above) | ((VL)hi & above));                                       \
        VD t = x * LOG2E, kd = t + SHIFTER, nd = kd - SHIFTER;                               \
        VD r = (x - nd * LN2HI) - nd * LN2LO;                                                \
        VD p = zero + C13;                                                                   \
        p = p * r + C12;                                                                     \
        p = p * r + C11;                                                                     \
        p = p * r + C10;                                                                     \
        p = p * r + C9;                                                                      \
        p = p * r + C8;                                                                      \
        p = p * r + C7;                                                                      \
        p = p * r + C6;                                                                      \
        p = p * r + C5;                                                                      \
        p = p * r + C4;                                                                      \
        p = p * r + C3;                                                                      \
        p = p * r + C2;                                                                      \
        p = p * r + 1.0;                                                                     \
        p = p * r + 1.0;                                                                     \
        VL n = (VL)((VU)kd - (uint64_t)SHIFTER_BITS);                                        \
        VL n1 = n >> 1, n2 = n - n1;                                                         \
        VD s1 = (VD)((VU)(n1 + 1023) << 52), s2 = (VD)((VU)(n2 + 1023) << 52);               \
        return (p * s1) * s2;                                                                \
    }                                                                                        \
    ATTR static void NAME##_array(const double *x, double *y, size_t n)                      \
    {                                                                                        \
        size_t i = 0;                                                                        \
        for (; i + (W) <= n; i += (W)) {                                                     \
            VD v;                                                                            \
            memcpy(&v, x + i, sizeof v);                                                     \
            v = NAME##_exp(v);                                                               \
            memcpy(y + i, &v, sizeof v);                                                     \
        }                                                                                    \
        if (i < n) {                                                                         \
            double b[W] = {0};                                                               \
            memcpy(b, x + i, (n - i) * sizeof(double));                                      \
            VD v;                                                                            \
            memcpy(&v, b, sizeof v);                                                         \
            v = NAME##_exp(v);                                                               \
            memcpy(b, &v, sizeof v);                                                         \
            memcpy(y + i, b, (n - i) * sizeof(double));                                      \
        }                                                                                    \
    }                                                                                        \
    /* 8 / W accumulators: lane l of acc[v] holds the partial sum of the \
     * j = v W + l (mod 8); the tail's missing lanes get exp(EXP_LO) = 0. */                  \
    ATTR static double NAME##_row(const float *z, size_t m, double shift, double *e)         \
    {                                                                                        \
        VD acc[8 / (W)];                                                                     \
        memset(acc, 0, sizeof acc);                                                          \
        size_t j = 0;                                                                        \
        for (; j + 8 <= m; j += 8) {                                                         \
            _Pragma("GCC unroll 4") for (size_t v = 0; v < 8 / (W); v++)                     \
            {                                                                                \
                VF f;                                                                        \
                memcpy(&f, z + j + v * (W), sizeof f);                                       \
                VD y = NAME##_exp(__builtin_convertvector(f, VD) - shift);                   \
                if (e) memcpy(e + j + v * (W), &y, sizeof y);                                \
                acc[v] = acc[v] + y;                                                         \
            }                                                                                \
        }                                                                                    \
        if (j < m) {                                                                         \
            double xb[8], yb[8];                                                             \
            for (size_t i = 0; i < 8; i++) xb[i] = j + i < m ? (double)z[j + i] - shift : EXP_LO; \
            for (size_t v = 0; v < 8 / (W); v++) {                                           \
                VD x;                                                                        \
                memcpy(&x, xb + v * (W), sizeof x);                                          \
                VD y = NAME##_exp(x);                                                        \
                memcpy(yb + v * (W), &y, sizeof y);                                          \
                acc[v] = acc[v] + y;                                                         \
            }                                                                                \
            if (e) memcpy(e + j, yb, (m - j) * sizeof(double));                              \
        }                                                                                    \
        double s[8];                                                                         \
        memcpy(s, acc, sizeof s);                                                            \
        return combine8(s);                                                                  \
    }

typedef double v2d __attribute__((vector_size(16)));
typedef int64_t v2l __attribute__((vector_size(16)));
typedef uint64_t v2u __attribute__((vector_size(16)));
typedef float v2s __attribute__((vector_size(8)));
DEXP_PATH(dexp_portable, ATTR_PORTABLE, v2d, v2l, v2u, v2s, 2)

#if DEXP_X86
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4l __attribute__((vector_size(32)));
typedef uint64_t v4u __attribute__((vector_size(32)));
typedef float v4s __attribute__((vector_size(16)));
DEXP_PATH(dexp_avx2, ATTR_AVX2, v4d, v4l, v4u, v4s, 4)
typedef double v8d __attribute__((vector_size(64)));
typedef int64_t v8l __attribute__((vector_size(64)));
typedef uint64_t v8u __attribute__((vector_size(64)));
typedef float v8s __attribute__((vector_size(32)));
DEXP_PATH(dexp_avx512, ATTR_AVX512, v8d, v8l, v8u, v8s, 8)
#endif

void dalei_exp_array(const double *x, double *y, size_t n)
{
    switch (dalei_smm_path()) {
#if DEXP_X86
    case DALEI_SMM_AVX512: dexp_avx512_array(x, y, n); return;
    case DALEI_SMM_AVX2: dexp_avx2_array(x, y, n); return;
#endif
    default: dexp_portable_array(x, y, n); return;
    }
}

double dalei_exp_row(const float *z, size_t m, double shift, double *e)
{
    switch (dalei_smm_path()) {
#if DEXP_X86
    case DALEI_SMM_AVX512: return dexp_avx512_row(z, m, shift, e);
    case DALEI_SMM_AVX2: return dexp_avx2_row(z, m, shift, e);
#endif
    default: return dexp_portable_row(z, m, shift, e);
    }
}
