/* transplant.c — `dale transplant`: singular vectors of one matrix with the
 * singular values of another (paper Sec. 2.3.1): C = U_A diag(σ_B) V_Aᵀ, thin SVD,
 * both spectra descending.  Each side is a matrix file (see matio.h) or a
 * model spec: the recurrent W of an initialised network (same draw as
 * `dale spectrum` / `dale train` with that seed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "dale/config.h"
#include "dale/npy.h"
#include "dale/spectrum.h"
#include "dale/trainer.h"
#include "internal.h"
#include "matio.h"

static void transplant_usage(FILE *f)
{
    fputs("usage: dale transplant --vectors A --values B --out C.npy [options]\n\n"
          "Writes C = U_A diag(sigma_B) V_A^T (float64 .npy): the singular vectors of A with the\n"
          "singular values of B, the k-th largest value of B paired with A's k-th singular pair\n"
          "(thin SVD, k = min(rows, cols); A and B must have the same shape).\n\n"
          "A and B are matrix files (X.npy, X.npz:key, X.csv; see dale diagnose --help) or\n"
          "model specs MODEL[:SEED] (",
          f);
    for (size_t i = 0; i < dale_model_count(); i++) fprintf(f, "%s%s", i ? ", " : "", dale_model_at(i)->name);
    fputs("): the recurrent W at init of seed SEED\n"
          "(default 0), the draw `dale spectrum --seed SEED` and `dale train --seed SEED` use.\n\n"
          "options:\n"
          "  --vectors A        matrix or model spec giving the singular vectors (required)\n"
          "  --values B         matrix or model spec giving the singular values (required)\n"
          "  --out C.npy        output file (required)\n"
          "  --hidden N         size of model-spec matrices (default: 100)\n"
          "  --inhib P          inhibitory fraction of model-spec matrices (default: unset, ratio 9)\n"
          "  --ei-ratio R       E:I ratio of model-spec matrices (default: 9)\n"
          "  --rho X            ColEI spectral radius of model-spec matrices (default: 1.5)\n"
          "  --zero-diag on|off ColEI diagonal zeroing of model-spec matrices (default: on)\n"
          "  --help             this text\n\n"
          "Exit codes: 0 ok, 1 runtime error, 2 usage error.\n",
          f);
}

/* A model spec "MODEL[:SEED]" (no such file exists): sample its W. */
static int model_spec(const char *s, dale_run_config *c, cli_matrix *m, int *is_model)
{
    char model[32];
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    *is_model = 0;
    if (len >= sizeof model) return 0;
    snprintf(model, sizeof model, "%.*s", (int)len, s);
    const dale_model_info *info = dale_model_find(model);
    if (!info || strcmp(model, info->name)) return 0; /* canonical names only, as before */
    *is_model = 1;
    unsigned long long seed = 0;
    if (colon) {
        char *end;
        errno = 0;
        seed = strtoull(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end) {
            fprintf(stderr, "dale transplant: '%s': expected MODEL:SEED with a non-negative seed\n", s);
            return 2;
        }
    }
    dale_run_config cc = *c;
    snprintf(cc.model, sizeof cc.model, "%s", model);
    dale_net_config nc;
    if (dale_config_resolve(&cc) || cli_net_config(&cc, &nc)) {
        fprintf(stderr, "dale transplant: %s\n", dale_last_error());
        return 2;
    }
    size_t n = nc.hidden;
    snprintf(m->label, sizeof m->label, "%s", s);
    m->rows = m->cols = n;
    m->data = dalei_alloc(n * n, sizeof(double));
    if (!m->data || dale_spectrum_draw(&nc, (uint64_t)seed, m->data, NULL, NULL)) {
        fprintf(stderr, "dale transplant: %s\n", dale_last_error());
        return 1;
    }
    return 0;
}

/* Load one side: model spec or a single matrix from a file. */
static int load_side(const char *what, const char *s, dale_run_config *c, cli_matrix *m)
{
    memset(m, 0, sizeof *m);
    int is_model = 0;
    /* access, not a probe open: opening a FIFO would block */
    if (access(s, R_OK) != 0) {
        int rc = model_spec(s, c, m, &is_model);
        if (is_model) return rc;
    }
    cli_matrix *mats = NULL;
    size_t count = 0;
    if (cli_load_matrices(s, 0, &mats, &count)) {
        fprintf(stderr, "dale transplant: %s: %s\n", what, dale_last_error());
        return 1;
    }
    if (count != 1) {
        fprintf(stderr, "dale transplant: %s: %s holds %zu matrices; name one as FILE.npz:key\n", what,
                s, count);
        cli_matrices_free(mats, count);
        return 1;
    }
    *m = mats[0];
    dalei_free(mats);
    return 0;
}

int cmd_transplant(int argc, char **argv)
{
    const char *vec = NULL, *val = NULL, *out = NULL;
    dale_run_config c;
    dale_config_defaults(&c);
    c.hidden = 100;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            transplant_usage(stdout);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "dale transplant: unexpected argument '%s'\n", a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "dale transplant: option '%s' needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--vectors")) vec = v;
        else if (!strcmp(a, "--values")) val = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--hidden") || !strcmp(a, "--inhib") || !strcmp(a, "--ei-ratio") ||
                 !strcmp(a, "--rho") || !strcmp(a, "--zero-diag")) {
            if (dale_config_set(&c, a + 2, v)) {
                fprintf(stderr, "dale transplant: %s\n", dale_last_error());
                return 2;
            }
        } else {
            fprintf(stderr, "dale transplant: unknown option '%s' (see dale transplant --help)\n", a);
            return 2;
        }
    }
    if (!vec || !val || !out) {
        fprintf(stderr, "dale transplant: --vectors, --values and --out are required\n");
        return 2;
    }
    dale_set_blas_threads(1);
    cli_matrix A, B;
    memset(&B, 0, sizeof B);
    double *C = NULL;
    int rc = load_side("--vectors", vec, &c, &A);
    if (rc) return rc;
    if ((rc = load_side("--values", val, &c, &B))) goto done;
    rc = 1;
    if (A.rows != B.rows || A.cols != B.cols) {
        fprintf(stderr, "dale transplant: shapes differ: %s is %zu x %zu, %s is %zu x %zu\n", A.label,
                A.rows, A.cols, B.label, B.rows, B.cols);
        goto done;
    }
    C = dalei_alloc(A.rows * A.cols, sizeof *C);
    if (!C || dale_transplant(A.data, B.data, A.rows, A.cols, C)) {
        fprintf(stderr, "dale transplant: %s\n", dale_last_error());
        goto done;
    }
    size_t shape[2] = {A.rows, A.cols};
    if (dale_npy_write(out, DALE_F64, 2, shape, C)) {
        fprintf(stderr, "dale transplant: %s\n", dale_last_error());
        goto done;
    }
    fprintf(stderr, "dale transplant: wrote %s (%zu x %zu): vectors of %s, singular values of %s\n", out,
            A.rows, A.cols, A.label, B.label);
    rc = 0;
done:
    dalei_free(C);
    dalei_free(A.data);
    dalei_free(B.data);
    return rc;
}
