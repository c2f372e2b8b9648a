/* colei_init_table.c — the init table of docs/beyond.md: for each model /
 * ColEI init, size n and inhibitory fraction p, over seeds 0..K-1 (the seed
 * of `dale train --seed k`), the recurrent W's NSE, σ_max, ρ, density
 * (fraction of non-zero off-diagonal entries), column participation
 * PR = mean_j (Σ_i |w_ij|)² / (n Σ_i w_ij²) (1: flat columns, 1/n: one entry),
 * max_i |Σ_j w_ij| / Σ_j |w_ij| (0: every row balanced), sign violations
 * (entries whose sign differs from their column's), and the CPU seconds of
 * dale_net_init.  Built and run by hand (docs/beyond.md):
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/colei_init_table.c \
 *      build/libdale.a -lopenblas -llapacke -lzip -lz -lcjson -lsqlite3 -lm -lpthread -o build/colei_init_table
 *   build/colei_init_table SEEDS "100 300 1000" "0.01 0.1 0.5" [MODEL:INIT ...]
 * MODEL:INIT is rnn, dann, colei:standard, colei:balanced, colei:spectral,
 * colei:gamma0.2 (standard init, gamma family of shape 0.2); iters/floor of
 * spectral from DALE_COLEI_ITERS / DALE_COLEI_FLOOR.
 * One tab-separated line per cell: mean and sd over seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dale/embed.h"
#include "dale/model.h"
#include "dale/spectral.h"
#include "dale/status.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct acc { double s, s2; long k; } acc;
static void acc_add(acc *a, double x) { a->s += x; a->s2 += x * x; a->k++; }
static double acc_mean(const acc *a) { return a->k ? a->s / (double)a->k : NAN; }
static double acc_sd(const acc *a)
{
    if (a->k < 2) return 0;
    double m = acc_mean(a), v = (a->s2 - (double)a->k * m * m) / (double)(a->k - 1);
    return v > 0 ? sqrt(v) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s SEEDS \"N ...\" \"P ...\" [MODEL:INIT ...]\n", argv[0]);
        return 2;
    }
    long seeds = atol(argv[1]);
    const char *defs[] = {"rnn", "dann", "colei:standard", "colei:balanced", "colei:spectral", "colei:gamma0.2"};
    const char **which = argc > 4 ? (const char **)(argv + 4) : defs;
    int nwhich = argc > 4 ? argc - 4 : (int)(sizeof defs / sizeof defs[0]);
    printf("init\tn\tp_inhib\tseeds\tnse\tnse_sd\tsigma_max\tsigma_max_sd\trho\trho_sd\tdensity\tpart_ratio\t"
           "max_row_imbalance\tsign_violations\tcpu_s_per_init\n");
    char nbuf[256], pbuf[256];
    snprintf(nbuf, sizeof nbuf, "%s", argv[2]);
    for (char *ns = strtok(nbuf, " "); ns; ns = strtok(NULL, " ")) {
        size_t n = (size_t)atol(ns);
        snprintf(pbuf, sizeof pbuf, "%s", argv[3]);
        char *save = NULL;
        for (char *ps = strtok_r(pbuf, " ", &save); ps; ps = strtok_r(NULL, " ", &save)) {
            double p = atof(ps);
            for (int w = 0; w < nwhich; w++) {
                dale_net_config c;
                dale_net_config_defaults(&c);
                c.input = 1;
                c.hidden = n;
                c.output = 1;
                c.ei_ratio = 1.0 / p - 1.0;
                const char *spec = which[w];
                if (!strncmp(spec, "rnn", 3)) c.type = DALE_MODEL_RNN;
                else if (!strncmp(spec, "dann", 4)) c.type = DALE_MODEL_DANN;
                else {
                    c.type = DALE_MODEL_COLEI;
                    const char *iname = strchr(spec, ':') ? strchr(spec, ':') + 1 : "standard";
                    if (!strncmp(iname, "gamma", 5)) {
                        c.colei_dist = DALE_DIST_GAMMA;
                        c.gamma_shape = atof(iname + 5);
                    } else if (dale_colei_init_parse(iname, &c.colei_init)) {
                        fprintf(stderr, "%s\n", dale_last_error());
                        return 2;
                    }
                    if (getenv("DALE_COLEI_ITERS")) c.colei_init_iters = atol(getenv("DALE_COLEI_ITERS"));
                    if (getenv("DALE_COLEI_FLOOR")) c.colei_init_floor = atof(getenv("DALE_COLEI_FLOOR"));
                }
                if ((c.type == DALE_MODEL_RNN || c.type == DALE_MODEL_DANN) && p != atof(argv[3]) &&
                    c.type == DALE_MODEL_RNN)
                    continue; /* the RNN has no E/I split: one row per n */
                acc nse = {0}, smax = {0}, rho = {0}, dens = {0}, pr = {0}, imb = {0}, cpu = {0};
                long viol = 0;
                float *W = malloc(n * n * sizeof(float));
                double *A = malloc(n * n * sizeof(double));
                for (long s = 0; s < seeds; s++) {
                    dale_net *net = NULL;
                    if (dale_net_create(&c, &net)) {
                        fprintf(stderr, "%s\n", dale_last_error());
                        return 1;
                    }
                    double t0 = cpu_now();
                    if (dale_net_init_seed(net, (uint64_t)s)) {
                        fprintf(stderr, "%s\n", dale_last_error());
                        return 1;
                    }
                    acc_add(&cpu, cpu_now() - t0);
                    dale_net_effective(net, 0, W, NULL);
                    size_t ne = 0, ni = 0;
                    if (c.type == DALE_MODEL_COLEI) dale_ei_split(n, c.ei_ratio, &ne, &ni);
                    size_t nz = 0;
                    double prs = 0, worst = 0;
                    for (size_t k = 0; k < n * n; k++) A[k] = (double)W[k];
                    for (size_t i = 0; i < n; i++) {
                        double rs = 0, ra = 0;
                        for (size_t j = 0; j < n; j++) {
                            double x = A[i * n + j];
                            rs += x;
                            ra += fabs(x);
                            if (i != j && x != 0) nz++;
                            if (c.type == DALE_MODEL_COLEI && ((j < ne && x < 0) || (j >= ne && x > 0))) viol++;
                        }
                        if (ra > 0 && fabs(rs) / ra > worst) worst = fabs(rs) / ra;
                    }
                    for (size_t j = 0; j < n; j++) {
                        double l1 = 0, l2 = 0;
                        for (size_t i = 0; i < n; i++) {
                            l1 += fabs(A[i * n + j]);
                            l2 += A[i * n + j] * A[i * n + j];
                        }
                        prs += l2 > 0 ? l1 * l1 / ((double)n * l2) : 0;
                    }
                    dale_spectrum_summary sm;
                    if (dale_spectrum_summarize(A, n, &sm, NULL, NULL, NULL)) {
                        fprintf(stderr, "%s\n", dale_last_error());
                        return 1;
                    }
                    acc_add(&nse, sm.nse);
                    acc_add(&smax, sm.sigma_max);
                    acc_add(&rho, sm.rho);
                    acc_add(&dens, (double)nz / (double)(n * n - n));
                    acc_add(&pr, prs / (double)n);
                    acc_add(&imb, worst);
                    dale_net_free(net);
                }
                free(W);
                free(A);
                printf("%s\t%zu\t%s\t%ld\t%.4f\t%.4f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.2e\t%ld\t%.3f\n", spec, n,
                       c.type == DALE_MODEL_RNN ? "-" : ps, seeds, acc_mean(&nse), acc_sd(&nse), acc_mean(&smax),
                       acc_sd(&smax), acc_mean(&rho), acc_sd(&rho), acc_mean(&dens), acc_mean(&pr),
                       acc_mean(&imb), viol, acc_mean(&cpu));
                fflush(stdout);
            }
        }
    }
    return 0;
}
