/* npy_fixture.h — the tests' own reader for the NumPy reference fixtures
 * (tests/ref/linalg, written by tools/ref/make_linalg_ref.py), shared by
 * test_linalg.c and test_spectral.c.  Kept apart from the library's NPY
 * module so that these tests do not depend on it. */
#ifndef DALE_TESTS_NPY_FIXTURE_H
#define DALE_TESTS_NPY_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Minimal reader for the fixtures: a little-endian float64 C-order .npy
 * (version 1, 2 or 3) with up to 2 dimensions.  Returns a malloc'd array
 * dir/name and its shape (rows, cols; cols = 1 for 1-d), or NULL with a
 * message. */
static double *npy_fixture(const char *dir, const char *name, size_t *rows, size_t *cols)
{
    char path[256];
    snprintf(path, sizeof path, "%s%s", dir, name);
    FILE *f = fopen(path, "rb");
    double *data = NULL;
    char *hdr = NULL;
    if (!f) {
        printf("cannot open %s (run /usr/bin/python3 tools/ref/make_linalg_ref.py)\n", path);
        return NULL;
    }
    unsigned char pre[12];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) goto bad;
    size_t hlen;
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2) goto bad;
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
               (size_t)pre[11] << 24;
    } else {
        goto bad;
    }
    hdr = malloc(hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) goto bad;
    hdr[hlen] = '\0';
    if (!strstr(hdr, "'descr': '<f8'") || !strstr(hdr, "'fortran_order': False")) goto bad;
    const char *sp = strstr(hdr, "'shape': (");
    if (!sp) goto bad;
    sp += strlen("'shape': (");
    size_t dims[2] = {1, 1};
    int nd = 0;
    while (*sp != ')') {
        char *end;
        unsigned long long v = strtoull(sp, &end, 10);
        if (end == sp || nd == 2) goto bad;
        dims[nd++] = (size_t)v;
        sp = end;
        while (*sp == ',' || *sp == ' ') sp++;
    }
    size_t count = dims[0] * dims[1];
    data = malloc(count ? count * sizeof *data : 1);
    if (!data || fread(data, sizeof *data, count, f) != count || fgetc(f) != EOF) goto bad;
    free(hdr);
    fclose(f);
    *rows = dims[0];
    *cols = dims[1];
    return data;
bad:
    printf("bad or truncated fixture %s\n", path);
    free(data);
    free(hdr);
    fclose(f);
    return NULL;
}

/* The four fixtures of one square reference matrix NAME in dir: NAME.npy
 * (n, n), NAME_svals.npy (n), NAME_eig.npy (n, 2: real, imaginary) and
 * NAME_scalars.npy (6).  ok: all present with these shapes. */
typedef struct npy_square_ref {
    double *A, *svals, *eig, *scalars;
    size_t n;
    int ok;
} npy_square_ref;

static npy_square_ref npy_square_ref_load(const char *dir, const char *name)
{
    npy_square_ref r;
    char file[96];
    size_t c, sn, sc, en, ec, qn, qc;
    snprintf(file, sizeof file, "%s.npy", name);
    r.A = npy_fixture(dir, file, &r.n, &c);
    snprintf(file, sizeof file, "%s_svals.npy", name);
    r.svals = npy_fixture(dir, file, &sn, &sc);
    snprintf(file, sizeof file, "%s_eig.npy", name);
    r.eig = npy_fixture(dir, file, &en, &ec);
    snprintf(file, sizeof file, "%s_scalars.npy", name);
    r.scalars = npy_fixture(dir, file, &qn, &qc);
    r.ok = r.A && r.svals && r.eig && r.scalars && c == r.n && sn == r.n && en == r.n && ec == 2 && qn == 6;
    return r;
}

static void npy_square_ref_free(npy_square_ref *r)
{
    free(r->A);
    free(r->svals);
    free(r->eig);
    free(r->scalars);
}

#endif
