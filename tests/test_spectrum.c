/* test_spectrum.c — sampling many initialisations, histograms, statistics,
 * the spectrum transplant and the NSE table against the released recipe
 * (docs/reference-behaviour.md, NSE table recipe).
 *
 * - transplant: U_Aᵀ C V_A = diag(σ_B) for square and rectangular shapes
 *   (the vectors of A are kept and B's values are taken exactly);
 *   transplanting A's own values gives A back;
 * - draw k of dale_spectrum_sample is the W of a network initialised from
 *   seed0 + k, even one with other input/output widths (what dale train
 *   builds), for rnn, colei and dann;
 * - results do not depend on the thread count (byte-identical);
 * - histogram density integrates to 1, mean/sd (ddof 1), the RNN NSE
 *   reference formula;
 * - Table 3 cells agree with the released recipe within 0.01: n = 100 over 60 seeds,
 *   n = 300 over 20, n = 1000 over 3 seeds (seed sd there is <= 0.002, so
 *   the mean of 3 is within ~0.001 of the population mean);
 * - allocation failures at every step give a clean error and no leak.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/linalg.h"
#include "dale/rng.h"
#include "dale/spectrum.h"
#include "dale/trainer.h"
#include "internal.h"

static void random_matrix(double *A, size_t m, size_t n, uint64_t seed)
{
    dale_rng r;
    dale_rng_seed(&r, seed);
    for (size_t i = 0; i < m * n; i++) A[i] = dale_rng_normal(&r, 0.0, 1.0);
}

/* U_Aᵀ C V_A must be diag(σ_B): A's singular pairs kept, B's values taken. */
static void test_transplant_shape(size_t m, size_t n)
{
    size_t k = m < n ? m : n;
    double *A = malloc(m * n * sizeof *A), *B = malloc(m * n * sizeof *B), *C = malloc(m * n * sizeof *C);
    double *U = malloc(m * k * sizeof *U), *s = malloc(k * sizeof *s), *Vt = malloc(k * n * sizeof *Vt);
    double *sb = malloc(k * sizeof *sb), *D = malloc(k * k * sizeof *D), *want = calloc(k * k, sizeof *want);
    random_matrix(A, m, n, 11 + m);
    random_matrix(B, m, n, 99 + n);
    for (size_t i = 0; i < m * n; i++) B[i] *= 3.0; /* different scale from A */
    CHECK_OK(dale_transplant(A, B, m, n, C));
    CHECK_OK(dale_svd(A, m, n, U, s, Vt));
    CHECK_OK(dale_svals(B, m, n, sb));
    /* D = Uᵀ C Vᵀᵀ: D[p][q] = Σ_i Σ_j U[i][p] C[i][j] Vt[q][j] */
    for (size_t p = 0; p < k; p++)
        for (size_t q = 0; q < k; q++) {
            double acc = 0;
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) acc += U[i * k + p] * C[i * n + j] * Vt[q * n + j];
            D[p * k + q] = acc;
        }
    for (size_t p = 0; p < k; p++) want[p * k + p] = sb[p];
    char label[64];
    snprintf(label, sizeof label, "transplant %zux%zu: U_A^T C V_A = diag(sigma_B)", m, n);
    check_close_d(label, D, want, k * k, 1e-11 * sb[0], 0);
    /* C's singular values are exactly B's (to rounding). */
    double *sc = malloc(k * sizeof *sc);
    CHECK_OK(dale_svals(C, m, n, sc));
    snprintf(label, sizeof label, "transplant %zux%zu: svals(C) = svals(B)", m, n);
    check_close_d(label, sc, sb, k, 1e-12 * sb[0], 1e-12);
    /* Own values give A back. */
    CHECK_OK(dale_transplant_values(A, s, m, n, C));
    snprintf(label, sizeof label, "transplant %zux%zu: own values reproduce A", m, n);
    check_close_d(label, C, A, m * n, 1e-12 * s[0], 0);
    free(A); free(B); free(C); free(U); free(s); free(Vt); free(sb); free(D); free(want); free(sc);
}

static dale_net_config make_cfg(dale_model_type t, size_t n, double inhib)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = t;
    c.hidden = n;
    c.input = c.output = 1;
    c.ei_ratio = 1.0 / inhib - 1.0;
    return c;
}

/* Draw k = the W of a net with other widths initialised from seed0 + k. */
static void test_draw_is_train_init(dale_model_type t)
{
    const size_t n = 24, K = 4;
    const uint64_t seed0 = 7;
    dale_net_config c = make_cfg(t, n, 0.25);
    dale_spectrum_job job = {&c, seed0, K};
    dale_spectrum_set set;
    CHECK_OK(dale_spectrum_sample(&job, 1, DALE_SPEC_KEEP, 2, &set));
    if (!set.sum) return;
    double *W = malloc(n * n * sizeof *W), *W2 = malloc(n * n * sizeof *W2), *s = malloc(n * sizeof *s);
    float *Wf = malloc(n * n * sizeof *Wf);
    for (size_t k = 0; k < K; k++) {
        dale_net_config tc = c;
        tc.input = 3; /* the adding task's widths: W must not depend on them */
        tc.output = 2;
        dale_net *net = NULL;
        dale_rng rng;
        CHECK_OK(dale_net_create(&tc, &net));
        dale_rng_seed(&rng, seed0 + k);
        CHECK_OK(dale_net_init(net, &rng));
        CHECK_OK(dale_net_effective(net, 0, Wf, NULL));
        dale_net_free(net);
        for (size_t i = 0; i < n * n; i++) W[i] = (double)Wf[i];
        CHECK_OK(dale_spectrum_draw(&c, seed0 + k, W2, NULL, NULL));
        CHECK(memcmp(W, W2, n * n * sizeof *W) == 0, "%s draw %zu: dale_spectrum_draw differs from the net init",
              dale_model_name(t), k);
        CHECK_OK(dale_svals(W, n, n, s));
        char label[64];
        snprintf(label, sizeof label, "%s draw %zu svals = init of seed %llu", dale_model_name(t), k,
                 (unsigned long long)(seed0 + k));
        check_close_d(label, set.svals + k * n, s, n, 1e-13, 1e-12);
        CHECK(fabs(set.sum[k].nse - dale_nse(s, n)) < 1e-12, "%s draw %zu nse", dale_model_name(t), k);
    }
    if (t == DALE_MODEL_COLEI)
        CHECK(set.nE == 18 && set.nI == 6, "colei split of 24 at ratio 3: %zu/%zu", set.nE, set.nI);
    dale_spectrum_set_free(&set);
    free(W); free(W2); free(s); free(Wf);
}

static void test_thread_independence(void)
{
    dale_net_config c[3] = {make_cfg(DALE_MODEL_COLEI, 40, 0.1), make_cfg(DALE_MODEL_DANN, 50, 0.1),
                            make_cfg(DALE_MODEL_RNN, 30, 0.1)};
    dale_spectrum_job jobs[3] = {{&c[0], 0, 9}, {&c[1], 100, 7}, {&c[2], 5, 11}};
    dale_spectrum_set a[3], b[3];
    CHECK_OK(dale_spectrum_sample(jobs, 3, DALE_SPEC_KEEP, 1, a));
    CHECK_OK(dale_spectrum_sample(jobs, 3, DALE_SPEC_KEEP, 3, b));
    for (int j = 0; j < 3; j++) {
        if (!a[j].sum || !b[j].sum) continue;
        size_t kn = a[j].inits * a[j].n;
        CHECK(memcmp(a[j].sum, b[j].sum, a[j].inits * sizeof *a[j].sum) == 0, "job %d summaries differ", j);
        CHECK(memcmp(a[j].svals, b[j].svals, kn * sizeof(double)) == 0, "job %d svals differ", j);
        CHECK(memcmp(a[j].eig_re, b[j].eig_re, kn * sizeof(double)) == 0 &&
                  memcmp(a[j].eig_im, b[j].eig_im, kn * sizeof(double)) == 0,
              "job %d eigenvalues differ", j);
        dale_spectrum_set_free(&a[j]);
        dale_spectrum_set_free(&b[j]);
    }
    /* ColEI draws keep the init's eigenvalues: ρ = 1.5 to rounding. */
}

static void test_histogram_stats(void)
{
    double x[] = {0.0, 0.5, 1.0, 1.0, 2.0, -1.0, (double)NAN};
    double d[2];
    size_t outside = 0;
    CHECK_OK(dale_histogram(x, 7, 0.0, 1.0, 2, d, &outside));
    CHECK(d[0] == 0.5 && d[1] == 1.5 && outside == 2, "histogram %g %g outside %zu", d[0], d[1], outside);
    /* Normalisation on many values. */
    size_t N = 10000, B = 37;
    double *v = malloc(N * sizeof *v), *h = malloc(B * sizeof *h);
    dale_rng r;
    dale_rng_seed(&r, 3);
    for (size_t i = 0; i < N; i++) v[i] = dale_rng_exponential(&r, 1.0);
    CHECK_OK(dale_histogram(v, N, 0.0, 3.0, B, h, &outside));
    double area = 0;
    for (size_t b = 0; b < B; b++) area += h[b] * 3.0 / (double)B;
    CHECK(fabs(area - 1.0) < 1e-12, "histogram area %.15g", area);
    CHECK(outside > 0, "exponential values above 3 are outside");
    CHECK(dale_histogram(v, N, 1.0, 1.0, B, h, NULL) == DALE_ERR_ARG, "lo == hi refused");
    CHECK(dale_histogram(v, N, 0.0, 1.0, 0, h, NULL) == DALE_ERR_ARG, "0 bins refused");
    free(v);
    free(h);
    double m, sd, y[] = {1, 2, 3, 4};
    dale_mean_sd(y, 4, 1, &m, &sd);
    CHECK(m == 2.5 && fabs(sd - sqrt(5.0 / 3.0)) < 1e-15, "mean %g sd %g (ddof 1)", m, sd);
    dale_mean_sd(y, 2, 2, &m, &sd);
    CHECK(m == 2.0 && fabs(sd - sqrt(2.0)) < 1e-15, "strided mean %g sd %g", m, sd);
    CHECK(fabs(dale_nse_rnn_reference(100) - 0.954) < 0.002 && fabs(dale_nse_rnn_reference(300) - 0.962) < 0.002 &&
              fabs(dale_nse_rnn_reference(1000) - 0.969) < 0.002,
          "RNN NSE reference %g %g %g", dale_nse_rnn_reference(100), dale_nse_rnn_reference(300),
          dale_nse_rnn_reference(1000));
}

/* Table 3 (the released code's recipe). */
static void test_table3(void)
{
    static const struct { dale_model_type t; double p; double ref[3]; } rows[] = {
        {DALE_MODEL_COLEI, 0.01, {0.509, 0.603, 0.681}}, {DALE_MODEL_COLEI, 0.10, {0.798, 0.841, 0.875}},
        {DALE_MODEL_COLEI, 0.50, {0.921, 0.941, 0.956}}, {DALE_MODEL_DANN, 0.01, {0.949, 0.961, 0.968}},
        {DALE_MODEL_DANN, 0.10, {0.949, 0.961, 0.968}},  {DALE_MODEL_DANN, 0.50, {0.949, 0.961, 0.968}},
        {DALE_MODEL_RNN, 0.10, {0.954, 0.962, 0.969}},
    };
    const size_t sizes[3] = {100, 300, 1000}, seeds[3] = {60, 20, 3};
    dale_net_config cfg[21];
    dale_spectrum_job jobs[21];
    dale_spectrum_set sets[21];
    size_t nj = 0;
    for (size_t s = 0; s < 3; s++)
        for (size_t r = 0; r < 7; r++) {
            if (s == 2 && rows[r].t == DALE_MODEL_DANN && rows[r].p != 0.10) continue; /* same W for every p */
            cfg[nj] = make_cfg(rows[r].t, sizes[s], rows[r].p);
            jobs[nj] = (dale_spectrum_job){&cfg[nj], 0, seeds[s]};
            nj++;
        }
    CHECK_OK(dale_spectrum_sample(jobs, nj, DALE_SPEC_NO_EIG, 2, sets));
    if (!sets[0].sum) return;
    for (size_t j = 0, s = 0; s < 3; s++)
        for (size_t r = 0; r < 7; r++) {
            if (s == 2 && rows[r].t == DALE_MODEL_DANN && rows[r].p != 0.10) continue;
            double m, sd;
            dale_mean_sd(&sets[j].sum[0].nse, sets[j].inits, sizeof(dale_spectrum_summary) / sizeof(double), &m, &sd);
            CHECK(fabs(m - rows[r].ref[s]) <= 0.01, "%s p %.2f n %zu: NSE %.4f +- %.4f over %zu seeds, code recipe %.3f",
                  dale_model_name(rows[r].t), rows[r].p, sizes[s], m, sd, seeds[s], rows[r].ref[s]);
            if (rows[r].t == DALE_MODEL_COLEI)
                CHECK(fabs(sets[j].sum[0].rho - 1.5) < 1e-12, "ColEI rho %.17g (init eigenvalues)", sets[j].sum[0].rho);
            else
                CHECK(isnan(sets[j].sum[0].rho), "NO_EIG leaves rho NaN for %s", dale_model_name(rows[r].t));
            dale_spectrum_set_free(&sets[j]);
            j++;
        }
}

static void test_errors_and_alloc(void)
{
    dale_net_config c = make_cfg(DALE_MODEL_COLEI, 12, 0.1);
    dale_spectrum_job job = {&c, 0, 0};
    dale_spectrum_set set;
    CHECK(dale_spectrum_sample(&job, 1, 0, 1, &set) == DALE_ERR_ARG, "inits 0 refused");
    dale_net_config bad = c;
    bad.ei_ratio = -1;
    job = (dale_spectrum_job){&bad, 0, 3};
    CHECK(dale_spectrum_sample(&job, 1, 0, 2, &set) == DALE_ERR_ARG && strstr(dale_last_error(), "ratio"),
          "bad ratio refused: %s", dale_last_error());
    CHECK(set.sum == NULL, "failed sample leaves the set empty");
    /* Every allocation failure (single thread: the worker runs here). */
    job = (dale_spectrum_job){&c, 0, 3};
    long base = dalei_alloc_live();
    int failed_cleanly = 1, succeeded = 0;
    for (long at = 1; at < 200 && !succeeded; at++) {
        dalei_alloc_fail_at(at);
        dale_status st = dale_spectrum_sample(&job, 1, DALE_SPEC_KEEP, 1, &set);
        dalei_alloc_fail_at(0);
        if (st == DALE_OK) {
            succeeded = 1;
            dale_spectrum_set_free(&set);
        } else if (st != DALE_ERR_NOMEM || set.sum) failed_cleanly = 0;
        if (dalei_alloc_live() != base) failed_cleanly = 0;
    }
    CHECK(succeeded && failed_cleanly, "sample under allocation failures: clean errors, no leaks");
    double A[12], B[12], C[12];
    random_matrix(A, 3, 4, 1);
    random_matrix(B, 3, 4, 2);
    succeeded = 0;
    failed_cleanly = 1;
    for (long at = 1; at < 50 && !succeeded; at++) {
        dalei_alloc_fail_at(at);
        dale_status st = dale_transplant(A, B, 3, 4, C);
        dalei_alloc_fail_at(0);
        if (st == DALE_OK) succeeded = 1;
        else if (st != DALE_ERR_NOMEM) failed_cleanly = 0;
        if (dalei_alloc_live() != base) failed_cleanly = 0;
    }
    CHECK(succeeded && failed_cleanly, "transplant under allocation failures");
    B[5] = (double)NAN;
    CHECK(dale_transplant(A, B, 3, 4, C) == DALE_ERR_NUMERIC, "NaN donor refused");
}

int main(void)
{
    dale_set_blas_threads(1);
    test_transplant_shape(6, 6);
    test_transplant_shape(5, 8);
    test_transplant_shape(8, 5);
    test_draw_is_train_init(DALE_MODEL_RNN);
    test_draw_is_train_init(DALE_MODEL_COLEI);
    test_draw_is_train_init(DALE_MODEL_DANN);
    test_thread_independence();
    test_histogram_stats();
    test_errors_and_alloc();
    test_table3();
    return check_done("test_spectrum");
}
