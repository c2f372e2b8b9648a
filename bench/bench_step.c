/* bench_step.c — time one training step of dale and the plain-sgemm roofline.
 *
 * Workload (issue 5): a batch of B = 32 sequences of T = 28 steps of d = 28
 * inputs, one ReLU recurrent layer of H units, linear readout to 10 classes,
 * cross-entropy at the last step, the model's reference update (RNN: SGD with
 * per-layer clipping; ColEI: per-tensor clipping + projection; DANN: scaling,
 * per-layer clipping, clamp), clip 10.  Synthetic inputs (uniform [0,1]).
 *
 * Prints one line per (model, H): median seconds per step over repeats, steps/s,
 * effective GFLOP/s (counting 6 T B H^2 + 4 T B d H + 6 B H m flops per step:
 * forward, dW and dh of the recurrence, forward and dU of the input projection,
 * readout), and the GFLOP/s of plain cblas_sgemm calls on the same shapes
 * (the roofline of this machine for this work).  The last column is the
 * median process CPU time per step: on a machine shared with other jobs the
 * wall clock includes time spent waiting for a core, CPU time does not, so
 * single-threaded comparisons use it (run.sh says which it used).
 *
 * $DALE_BENCH_TAG, if set, is appended to the impl column (e.g. "-skx" for a
 * run under another OPENBLAS_CORETYPE); $DALE_BENCH_MODELS limits the models
 * (e.g. "rnn").
 *
 * usage: bench_step [threads] [H ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dale/linalg.h"
#include "dale/model.h"
#include "dale/rng.h"
#include "dale/train.h"
#include "dale/trainer.h"

#define T 28
#define B 32
#define D 28
#define M 10

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
static double cpu_now(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* CPU-time median of the last timed block set (time_model / time_sgemm). */
static double last_cpu;

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double flops_per_step(size_t H)
{
    double h = (double)H;
    return 6.0 * T * B * h * h + 4.0 * T * B * D * h + 6.0 * B * h * M;
}

/* Median time of `reps` blocks of `inner` steps. */
static double time_model(dale_model_type type, size_t H, int reps, int inner)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = type;
    c.input = D;
    c.hidden = H;
    c.output = M;
    dale_net *net;
    if (dale_net_create(&c, &net)) { fprintf(stderr, "%s\n", dale_last_error()); exit(1); }
    dale_net_plan(net, T, B);
    dale_rng r;
    dale_rng_seed(&r, 1);
    if (dale_net_init(net, &r)) { fprintf(stderr, "%s\n", dale_last_error()); exit(1); }
    float *x = malloc(sizeof(float) * T * B * D), dout[B * M];
    int32_t y[B];
    for (size_t k = 0; k < T * B * D; k++) x[k] = (float)dale_rng_uniform01(&r);
    for (int b = 0; b < B; b++) y[b] = (int32_t)dale_rng_below(&r, M);
    dale_update_policy p;
    dale_update_policy_default(type, 10.0, &p);
    double t[64], ct[64];
    for (int rep = -1; rep < reps; rep++) { /* rep -1: warm-up */
        double t0 = now(), c0 = cpu_now();
        for (int i = 0; i < inner; i++) {
            const float *out;
            dale_net_forward(net, x, T, B, 0, &out);
            dale_loss_ce(out, y, B, M, dout, NULL);
            dale_net_zero_grad(net);
            dale_net_backward(net, dout);
            dale_update_apply(net, &p, 0.001, NULL, NULL);
        }
        if (rep >= 0) t[rep] = (now() - t0) / inner, ct[rep] = (cpu_now() - c0) / inner;
    }
    qsort(t, (size_t)reps, sizeof(double), cmpd);
    qsort(ct, (size_t)reps, sizeof(double), cmpd);
    last_cpu = ct[reps / 2];
    free(x);
    dale_net_free(net);
    return t[reps / 2];
}

/* The same matrix products as a step, as bare sgemm calls. */
static double time_sgemm(size_t H, int reps, int inner)
{
    float *X = calloc(T * B * D, sizeof(float)), *Hs = calloc((T + 1) * B * H, sizeof(float));
    float *U = calloc(H * D, sizeof(float)), *W = calloc(H * H, sizeof(float));
    float *G = calloc(H * H, sizeof(float)), *GU = calloc(H * D, sizeof(float));
    for (size_t k = 0; k < H * H; k++) W[k] = 0.001f;
    double t[64], ct[64];
    for (int rep = -1; rep < reps; rep++) {
        double t0 = now(), c0 = cpu_now();
        for (int i = 0; i < inner; i++) {
            dale_sgemm(0, 1, T * B, H, D, 1.0f, X, D, U, D, 0.0f, Hs + B * H, H);
            for (size_t s = 1; s < T; s++)
                dale_sgemm(0, 1, B, H, H, 1.0f, Hs + s * B * H, H, W, H, 1.0f, Hs + (s + 1) * B * H, H);
            for (size_t s = T - 1; s >= 1; s--)
                dale_sgemm(0, 0, B, H, H, 1.0f, Hs + (s + 1) * B * H, H, W, H, 1.0f, Hs + s * B * H, H);
            dale_sgemm(1, 0, H, H, T * B, 1.0f, Hs + B * H, H, Hs, H, 1.0f, G, H);
            dale_sgemm(1, 0, H, D, T * B, 1.0f, Hs + B * H, H, X, D, 1.0f, GU, D);
        }
        if (rep >= 0) t[rep] = (now() - t0) / inner, ct[rep] = (cpu_now() - c0) / inner;
    }
    qsort(t, (size_t)reps, sizeof(double), cmpd);
    qsort(ct, (size_t)reps, sizeof(double), cmpd);
    last_cpu = ct[reps / 2];
    free(X); free(Hs); free(U); free(W); free(G); free(GU);
    return t[reps / 2];
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    size_t Hs[8] = {100, 300, 1000};
    int nH = 3;
    if (argc > 2) {
        nH = 0;
        for (int i = 2; i < argc && nH < 8; i++) Hs[nH++] = (size_t)atol(argv[i]);
    }
    dale_set_blas_threads(threads);
    const char *tag = getenv("DALE_BENCH_TAG"), *only = getenv("DALE_BENCH_MODELS");
    if (!tag) tag = "";
    printf("impl,model,H,threads,sec_per_step,steps_per_s,gflops,cpu_sec_per_step\n");
    for (int h = 0; h < nH; h++) {
        size_t H = Hs[h];
        int inner = H <= 100 ? 50 : H <= 300 ? 10 : 2, reps = 7;
        double fl = flops_per_step(H);
        double ts = time_sgemm(H, reps, inner);
        printf("sgemm%s,roofline,%zu,%d,%.6g,%.2f,%.2f,%.6g\n", tag, H, threads, ts, 1 / ts,
               fl / ts * 1e-9, last_cpu);
        for (int m = 0; m < DALE_MODEL_COUNT; m++) {
            const char *name = dale_model_name((dale_model_type)m);
            if (only && !strstr(only, name)) continue;
            double tm = time_model((dale_model_type)m, H, reps, inner);
            printf("dale%s,%s,%zu,%d,%.6g,%.2f,%.2f,%.6g\n", tag, name, H, threads, tm, 1 / tm,
                   fl / tm * 1e-9, last_cpu);
            fflush(stdout);
        }
    }
    return 0;
}
