/* bench_svals.c — median time of dale_svals (dgesdd, values only) on a random
 * N x N float64 matrix, the C side of the "singular values of a 1000 x 1000
 * matrix" row of `make bench` (bench/numpy_spectrum.py svals is the NumPy side).
 *
 * usage: bench_svals N REPS     prints "dale,svals,N,median_seconds"
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "dale/linalg.h"
#include "dale/rng.h"
#include "dale/status.h"
#include "dale/trainer.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (n == 0 || reps < 1 || reps > 64) return 2;
    double *A = malloc(n * n * sizeof *A), *s = malloc(n * sizeof *s), t[64];
    if (!A || !s) return 1;
    dale_rng r;
    dale_rng_seed(&r, 0);
    for (size_t k = 0; k < n * n; k++) A[k] = dale_rng_normal(&r, 0.0, 1.0);
    dale_set_blas_threads(1);
    for (int rep = -1; rep < reps; rep++) {
        double t0 = now();
        if (dale_svals(A, n, n, s)) { fprintf(stderr, "%s\n", dale_last_error()); return 1; }
        if (rep >= 0) t[rep] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmpd);
    printf("dale,svals,%zu,%.4f\n", n, t[reps / 2]);
    free(A);
    free(s);
    return 0;
}
