/* bench_kernels.c — GFLOP/s of dalei_gemm_acc / dalei_smm against OpenBLAS
 * sgemm on the products of the large models (lm readout, objrec input,
 * DANN), and of the per-step product 32 x 1000 x 1000.
 *
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc bench/bench_kernels.c \
 *      build/libdale.a -lopenblas -llapacke -lzip -lz -lcjson -lsqlite3 -lm -lpthread
 *   OPENBLAS_NUM_THREADS=1 ./a.out [threads] [reps] [shape-filter]
 *
 * Per shape: best of `reps` calls, process CPU time and wall time (the
 * machine is shared: CPU time is the figure to quote for 1 thread; for 2
 * threads, wall time on an idle machine). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "linalg/kernels.h"

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

struct shape { const char *name; int smm, ta; size_t M, N, K; };

static const struct shape shapes[] = {
    {"step 32x1000x1000 smm", 1, 0, 32, 1000, 1000},
    {"step 32x100x100 smm", 1, 0, 32, 100, 100},
    {"small 32x1000x1000 acc", 0, 0, 32, 1000, 1000},
    {"lm fwd 3200x10000x500", 0, 0, 3200, 10000, 500},
    {"lm dM ta 10000x500x3200", 0, 1, 10000, 500, 3200},
    {"lm dx 3200x500x10000", 0, 0, 3200, 500, 10000},
    {"dense 3200x500x500", 0, 0, 3200, 500, 500},
    {"objrec fwd 80x1000x7225", 0, 0, 80, 1000, 7225},
    {"objrec fwd 16x1000x7225", 0, 0, 16, 1000, 7225},
    {"objrec dU ta 1000x7225x80", 0, 1, 1000, 7225, 80},
    {"dann U 1000x7225x100", 0, 0, 1000, 7225, 100},
    {"dann ta 100x7225x1000", 0, 1, 100, 7225, 1000},
    {"dann 1000x100x7225", 0, 0, 1000, 100, 7225},
};

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1, reps = argc > 2 ? atoi(argv[2]) : 3;
    const char *filter = argc > 3 ? argv[3] : NULL;
    dalei_kernels_set_threads(threads);
    static float ref_a[32 * 128], ref_p[128 * 128], ref_c[32 * 128];
    for (int i = 0; i < 128 * 128; i++) ref_p[i] = (float)(i % 9) * 0.01f;
    for (int i = 0; i < 32 * 128; i++) ref_a[i] = (float)(i % 5) * 0.01f;
    printf("path %s, %d kernel thread(s)\n", dalei_smm_path_name(dalei_smm_path()), dalei_kernels_threads());
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const struct shape *sh = &shapes[s];
        if (filter && !strstr(sh->name, filter)) continue;
        size_t M = sh->M, N = sh->N, K = sh->K, ldp = sh->smm ? dalei_smm_ld(N) : N;
        float *A = malloc(M * K * sizeof(float)), *P = calloc(K * ldp, sizeof(float));
        float *C = calloc(M * N, sizeof(float));
        for (size_t i = 0; i < M * K; i++) A[i] = (float)(i % 7) * 0.01f - 0.03f;
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < N; j++) P[k * ldp + j] = (float)((k + j) % 5) * 0.01f - 0.02f;
        size_t lda = sh->ta ? M : K;
        int inner = (int)(2e9 / (2.0 * (double)(M * N * K))) + 1;
        double best[3][2] = {{1e30, 1e30}, {1e30, 1e30}, {1e30, 1e30}};
        for (int r = 0; r < reps; r++)
            for (int who = 0; who < 3; who++) {
                if (who == 2) { /* the reference: an L1-resident product, same moment */
                    double c0 = now(CLOCK_THREAD_CPUTIME_ID);
                    for (int it = 0; it < 400; it++)
                        dalei_smm(32, 128, 128, ref_a, 128, ref_p, 128, ref_c, 128, DALEI_EPI_NONE,
                                  NULL, 0);
                    double c = (now(CLOCK_THREAD_CPUTIME_ID) - c0) / 400;
                    if (c < best[2][0]) best[2][0] = c;
                    continue;
                }
                double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
                for (int it = 0; it < inner; it++) {
                    if (who == 0) {
                        if (sh->smm)
                            dalei_smm(M, N, K, A, K, P, ldp, C, N, DALEI_EPI_RELU, NULL, 0);
                        else
                            dalei_gemm_acc(sh->ta, M, N, K, A, lda, P, ldp, C, N);
                    } else {
                        cblas_sgemm(CblasRowMajor, sh->ta ? CblasTrans : CblasNoTrans, CblasNoTrans,
                                    (int)M, (int)N, (int)K, 1.0f, A, (int)lda, P, (int)ldp, 1.0f, C,
                                    (int)N);
                    }
                }
                double c = (now(CLOCK_PROCESS_CPUTIME_ID) - c0) / inner;
                double w = (now(CLOCK_MONOTONIC) - w0) / inner;
                if (c < best[who][0]) best[who][0] = c;
                if (w < best[who][1]) best[who][1] = w;
            }
        double fl = 2.0 * (double)M * (double)N * (double)K * 1e-9;
        double rf = 2.0 * 32 * 128 * 128 * 1e-9 / best[2][0];
        printf("%-26s dale cpu %6.1f wall %6.1f GF/s (%8.3f ms) | blas cpu %6.1f wall %6.1f | "
               "ref %5.1f: dale %3.0f%% blas %3.0f%%\n",
               sh->name, fl / best[0][0], fl / best[0][1], 1e3 * best[0][1], fl / best[1][0],
               fl / best[1][1], rf, 100 * fl / best[0][0] / rf, 100 * fl / best[1][0] / rf);
        fflush(stdout);
        free(A); free(P); free(C);
    }
    return 0;
}
