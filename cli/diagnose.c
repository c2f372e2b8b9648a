/* diagnose.c — `dale diagnose FILE...`: spectrum and a verdict per matrix.
 *
 * For each square matrix (see matio.h for the sources): n, NSE, σmax, ρ,
 * Frobenius norm, row sums (E/I balance), the sign structure of the columns,
 * and a short verdict.  The verdict compares the NSE with that of a
 * standard (PyTorch-uniform) RNN of the same n: the mean over 3 library
 * draws (seeds 0-2) for n <= 1000, else the quarter-circle estimate
 * dale_nse_rnn_reference(n).  Rules (docs/spectral.md):
 *   gap = NSE_rnn - NSE:  > 0.10 poor,  > 0.03 somewhat less flat,  else fine;
 *   σmax > 3ρ: strongly non-normal, clip gradients;
 *   every column single-signed with both signs present: obeys Dale's law.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "dale/linalg.h"
#include "dale/spectrum.h"
#include "dale/trainer.h"
#include "internal.h"
#include "matio.h"

#define RNN_DRAWS 3

static void diagnose_usage(FILE *f)
{
    fputs("usage: dale diagnose [--json] [--threads N] FILE...\n\n"
          "Spectral diagnosis of square matrices (e.g. a recurrent weight matrix).\n"
          "FILE is one of\n"
          "  X.npy           a 2-D square float32/float64 array\n"
          "  X.npz           every cellK.W_eff of a dale run file (final.npz, checkpoint.npz),\n"
          "                  or every square 2-D float member of another archive\n"
          "  X.npz:key       one member\n"
          "  X.csv / X.txt   numbers separated by commas or whitespace, same count per line\n"
          "                  (blank lines and lines starting with # are skipped)\n\n"
          "Prints n, NSE, sigma_max, rho, Frobenius norm, row sums (E/I balance), column sign\n"
          "structure and a verdict that compares the NSE with a standard RNN of the same size.\n\n"
          "options:\n"
          "  --json        print a JSON array (one object per matrix) instead of text (default: off)\n"
          "  --threads N   threads for the reference RNN draws (default: online CPUs)\n"
          "  --help        this text\n\n"
          "Exit codes: 0 ok, 1 a file could not be read or analysed, 2 usage error.\n",
          f);
}

typedef struct diag {
    dale_spectrum_summary s;
    size_t pos, neg, mixed, zero; /* columns all >= 0 (some > 0), all <= 0 (some < 0), both, all 0 */
    double nse_rnn;
    int rnn_sampled;
    char verdict[5][240];
    int nverdict;
} diag;

/* Reference NSE of a standard RNN of size n (see the file comment). */
static dale_status rnn_reference(size_t n, int threads, double *nse, int *sampled)
{
    *sampled = 0;
    if (n < 2 || n > 1000) {
        *nse = dale_nse_rnn_reference(n);
        return DALE_OK;
    }
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = DALE_MODEL_RNN;
    c.hidden = n;
    dale_spectrum_job job = {&c, 0, RNN_DRAWS};
    dale_spectrum_set set;
    char what[64];
    snprintf(what, sizeof what, "the RNN reference draws (n %zu)", n);
    threads = cli_fit_memory("dale diagnose", what, 0, 64.0 * (double)n * (double)n, threads, -1);
    if (!threads) return DALE_ERR_NOMEM;
    dale_status st = dale_spectrum_sample(&job, 1, DALE_SPEC_NO_EIG, threads, &set);
    if (st) return st;
    double sd;
    dale_mean_sd(&set.sum[0].nse, set.inits, sizeof set.sum[0] / sizeof(double), nse, &sd);
    dale_spectrum_set_free(&set);
    *sampled = 1;
    return DALE_OK;
}

static void add_verdict(diag *d, const char *fmt, double a, double b)
{
    if (d->nverdict < 5) snprintf(d->verdict[d->nverdict++], sizeof d->verdict[0], fmt, a, b);
}

static dale_status analyse(const cli_matrix *m, int threads, diag *d)
{
    memset(d, 0, sizeof *d);
    size_t n = m->rows;
    /* checked before LAPACK runs: OpenBLAS spins when its buffer cannot be mapped */
    char what[64];
    snprintf(what, sizeof what, "the spectrum of a %zu x %zu matrix", n, m->cols);
    if (!cli_fit_memory("dale diagnose", what, 0, 64.0 * (double)n * (double)m->cols, 1, -1)) return DALE_ERR_NOMEM;
    dale_status st = dale_spectrum_summarize(m->data, n, &d->s, NULL, NULL, NULL);
    if (st) return st;
    if (!(d->s.sigma_max > 0))
        return DALE_FAIL(DALE_ERR_NUMERIC, "the matrix is all zeros (no spectrum: NSE undefined)");
    for (size_t j = 0; j < n; j++) {
        int p = 0, q = 0;
        for (size_t i = 0; i < n; i++) {
            p |= m->data[i * n + j] > 0;
            q |= m->data[i * n + j] < 0;
        }
        if (p && q) d->mixed++;
        else if (p) d->pos++;
        else if (q) d->neg++;
        else d->zero++;
    }
    if ((st = rnn_reference(n, threads, &d->nse_rnn, &d->rnn_sampled))) return st;
    double gap = d->nse_rnn - d->s.nse;
    if (m->updates > 0 && d->nverdict < 5) {
        /* The paper relates the spectrum at initialisation to how well a
         * network will learn; a trained matrix is described, not forecast. */
        snprintf(d->verdict[d->nverdict++], sizeof d->verdict[0],
                 "trained for %ld updates: NSE %.2f describes the trained matrix (a standard RNN "
                 "initialisation of this size: %.2f); the learning forecast is for initial matrices "
                 "(this run's update-0 row of metrics.csv, or dale spectrum)",
                 m->updates, d->s.nse, d->nse_rnn);
    } else if (n < 2) add_verdict(d, "a 1 x 1 matrix has no spectrum shape to judge", 0, 0);
    else if (gap > 0.10)
        add_verdict(d, "NSE %.2f vs %.2f for a standard RNN of this size: spectrum dominated by a few "
                       "large singular values - expect slower, worse learning (paper section 3)",
                    d->s.nse, d->nse_rnn);
    else if (gap > 0.03)
        add_verdict(d, "NSE %.2f vs %.2f for a standard RNN of this size: somewhat less flat "
                       "(unimodal) than a standard RNN - expect learning a little worse",
                    d->s.nse, d->nse_rnn);
    else
        add_verdict(d, "NSE %.2f vs %.2f for a standard RNN of this size: singular values as "
                       "clustered as a standard RNN's - the spectrum gives no reason to expect poor learning",
                    d->s.nse, d->nse_rnn);
    if (d->s.rho > 0 && d->s.sigma_max > 3.0 * d->s.rho)
        add_verdict(d, "sigma_max = %.3g = %.1f x rho: strongly non-normal (large transient "
                       "amplification) - clip gradients",
                    d->s.sigma_max, d->s.sigma_max / d->s.rho);
    if (d->mixed == 0 && d->pos > 0 && d->neg > 0)
        add_verdict(d, "column signs obey Dale's law: %.0f excitatory and %.0f inhibitory columns",
                    (double)d->pos, (double)d->neg);
    else if (!strcmp(m->model, "dann") && d->mixed > 0 && m->factors_nonneg == 1)
        add_verdict(d, "a DANN effective matrix W = W_EE - W_EI W_IE: its %.0f mixed-sign columns are expected; "
                       "Dale's law holds on the factors (W_EE, W_IE, W_EI all >= 0)",
                    (double)d->mixed, 0);
    else if (!strcmp(m->model, "dann") && d->mixed > 0 && m->factors_nonneg == 0)
        add_verdict(d, "a DANN effective matrix whose factors are NOT all >= 0: Dale's law is broken "
                       "(was --project off?)", 0, 0);
    return DALE_OK;
}

static void print_text(const cli_matrix *m, const diag *d)
{
    const dale_spectrum_summary *s = &d->s;
    printf("%s\n", m->label);
    printf("  n            %zu\n", s->n);
    printf("  NSE          %.4f   (standard RNN of this size: %.4f, %s)\n", s->nse, d->nse_rnn,
           d->rnn_sampled ? "mean of 3 draws" : "quarter-circle estimate");
    printf("  sigma_max    %.4g\n", s->sigma_max);
    printf("  rho          %.4g\n", s->rho);
    printf("  Frobenius    %.4g\n", s->frob);
    printf("  row sums     %.4g +- %.4g   (E/I balance: mean +- sd over rows)\n", s->rowsum_mean,
           s->rowsum_sd);
    printf("  columns      %zu all >= 0, %zu all <= 0, %zu mixed sign%s\n", d->pos, d->neg, d->mixed,
           d->zero ? "" : "");
    if (d->zero) printf("               (%zu all-zero columns)\n", d->zero);
    for (int i = 0; i < d->nverdict; i++) printf("  verdict      %s\n", d->verdict[i]);
}

static cJSON *to_json(const cli_matrix *m, const diag *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "matrix", m->label);
    cJSON_AddNumberToObject(o, "n", (double)d->s.n);
    cJSON_AddNumberToObject(o, "nse", d->s.nse);
    cJSON_AddNumberToObject(o, "sigma_max", d->s.sigma_max);
    cJSON_AddNumberToObject(o, "rho", d->s.rho);
    cJSON_AddNumberToObject(o, "frobenius", d->s.frob);
    cJSON_AddNumberToObject(o, "rowsum_mean", d->s.rowsum_mean);
    cJSON_AddNumberToObject(o, "rowsum_sd", d->s.rowsum_sd);
    cJSON_AddNumberToObject(o, "columns_nonneg", (double)d->pos);
    cJSON_AddNumberToObject(o, "columns_nonpos", (double)d->neg);
    cJSON_AddNumberToObject(o, "columns_mixed", (double)d->mixed);
    cJSON_AddNumberToObject(o, "columns_zero", (double)d->zero);
    cJSON_AddNumberToObject(o, "nse_rnn_reference", d->nse_rnn);
    cJSON_AddStringToObject(o, "nse_rnn_reference_source", d->rnn_sampled ? "3 draws" : "quarter-circle");
    if (m->model[0]) cJSON_AddStringToObject(o, "model", m->model);
    if (m->updates >= 0) cJSON_AddNumberToObject(o, "updates", (double)m->updates);
    cJSON *v = cJSON_AddArrayToObject(o, "verdict");
    for (int i = 0; v && i < d->nverdict; i++) cJSON_AddItemToArray(v, cJSON_CreateString(d->verdict[i]));
    return o;
}

int cmd_diagnose(int argc, char **argv)
{
    int json = 0, threads = cli_default_threads(), nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            diagnose_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--threads")) {
            char *end;
            long t = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end || t < 1 || t > 4096) {
                fprintf(stderr, "dale diagnose: --threads needs a positive integer\n");
                return 2;
            }
            threads = (int)t;
            i++;
        } else if (!strncmp(a, "--", 2)) {
            fprintf(stderr, "dale diagnose: unknown option '%s' (see dale diagnose --help)\n", a);
            return 2;
        } else nfiles++;
    }
    if (nfiles == 0) {
        fprintf(stderr, "dale diagnose: no FILE given\n");
        diagnose_usage(stderr);
        return 2;
    }
    dale_set_blas_threads(1);
    int rc = 0;
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    int first = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads")) { i++; continue; }
        if (!strncmp(argv[i], "--", 2)) continue;
        cli_matrix *mats = NULL;
        size_t count = 0;
        if (cli_load_matrices(argv[i], 1, &mats, &count)) {
            fprintf(stderr, "dale diagnose: %s\n", dale_last_error());
            rc = 1;
            continue;
        }
        for (size_t k = 0; k < count; k++) {
            diag d;
            if (analyse(&mats[k], threads, &d)) {
                fprintf(stderr, "dale diagnose: %s: %s\n", mats[k].label, dale_last_error());
                rc = 1;
                continue;
            }
            if (json) cJSON_AddItemToArray(arr, to_json(&mats[k], &d));
            else {
                if (!first) printf("\n");
                print_text(&mats[k], &d);
                first = 0;
            }
        }
        cli_matrices_free(mats, count);
    }
    if (json) {
        char *text = cJSON_Print(arr);
        if (text) printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(arr);
    }
    return rc;
}
