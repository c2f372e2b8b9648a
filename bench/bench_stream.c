/* bench_stream.c — how much a second core adds to memory-bound passes.
 *
 * The objrec update at 1 x 1000 is mostly passes over arrays of its 8.2 M
 * parameters (33 MB each, larger than the caches): the gradient's norm, the
 * SGD step, the products that write the input gradient.  This times three
 * such passes through the pool's range split (dalei_par_range, as the
 * update uses it) with 1 and 2 threads, best of REPS, wall clock:
 *   read   a sum over g's bits          (one stream in)
 *   write  g = 0                        (one stream out)
 *   step   th -= lr g                   (two in, one out: the SGD step)
 * and prints GB/s and the 2-thread speed-up of each.  A speed-up well under
 * 2 means the two cores share one memory bandwidth, and a step bound by
 * these passes cannot run twice as fast on both of them.
 *
 * usage: bench_stream [N floats (8225000)] [REPS (9)] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "linalg/kernels.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *g, *th;
static uint32_t part_sum[2]; /* one per thread (at most 2 here) */

/* The bits of g summed as integers: a sum the compiler may vectorise (a
 * float sum is one chain of dependent adds and would time the adder). */
static void read_range(void *arg, size_t lo, size_t hi)
{
    (void)arg;
    uint32_t s = 0;
    for (size_t k = lo; k < hi; k++) {
        uint32_t b;
        memcpy(&b, g + k, sizeof b);
        s += b;
    }
    part_sum[lo != 0] = s; /* keeps the loads */
}

static void write_range(void *arg, size_t lo, size_t hi)
{
    (void)arg;
    memset(g + lo, 0, (hi - lo) * sizeof(float));
}

static void step_range(void *arg, size_t lo, size_t hi)
{
    (void)arg;
    for (size_t k = lo; k < hi; k++) th[k] -= 0.01f * g[k];
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 8225000;
    int reps = argc > 2 ? atoi(argv[2]) : 9;
    g = malloc(n * sizeof(float));
    th = malloc(n * sizeof(float));
    float *flush = malloc((size_t)64 << 20);
    if (!g || !th || !flush) return 1;
    for (size_t k = 0; k < n; k++) g[k] = th[k] = 1.0f;
    static const char *const name[] = {"read", "write", "step"};
    static void (*const fn[])(void *, size_t, size_t) = {read_range, write_range, step_range};
    static const double streams[] = {1, 1, 3}; /* arrays moved per element */
    printf("pass,threads,ms,GB_s\n");
    double best[3][2];
    for (int p = 0; p < 3; p++)
        for (int t = 1; t <= 2; t++) {
            best[p][t - 1] = 1e30;
            dalei_kernels_set_threads(t);
            for (int r = 0; r < reps; r++) {
                memset(flush, r, (size_t)64 << 20); /* start from memory, as in the update */
                double t0 = now();
                dalei_par_range(n, 16, n, fn[p], NULL);
                double dt = now() - t0;
                if (dt < best[p][t - 1]) best[p][t - 1] = dt;
            }
            printf("%s,%d,%.3f,%.1f\n", name[p], t, 1e3 * best[p][t - 1],
                   streams[p] * 4.0 * (double)n / best[p][t - 1] * 1e-9);
        }
    for (int p = 0; p < 3; p++) printf("%s,speedup,%.2f\n", name[p], best[p][0] / best[p][1]);
    if (part_sum[0] + part_sum[1] == 1) printf("(sum 1)\n");
    free(g);
    free(th);
    free(flush);
    return 0;
}
