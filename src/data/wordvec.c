/* wordvec.c — the GloVe-text word-vector reader of the word-level language
 * modelling task (dale/lm.h): one (V, D) table in corpus id order. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dale/lm.h"
#include "dale/rng.h"
#include "internal.h"

/* ----------------------------------------------------------- vectors */

void dale_vectors_free(float *table) { dalei_free(table); }

/* Read one line (without '\n') into *buf (grown as needed); 0 at EOF. */
static int read_line(FILE *f, char **buf, size_t *cap, size_t *len, dale_status *st)
{
    size_t n = 0;
    int ch, any = 0;
    while ((ch = getc(f)) != EOF) {
        any = 1;
        if (ch == '\n') break;
        if (n + 1 >= *cap) {
            size_t nc = *cap ? *cap * 2 : 4096;
            char *nb = dalei_realloc(*buf, nc, 1);
            if (!nb) { *st = DALE_ERR_NOMEM; return 0; }
            *buf = nb;
            *cap = nc;
        }
        (*buf)[n++] = (char)ch;
    }
    if (!any) return 0;
    if (!*buf) {
        if (!(*buf = dalei_alloc(1, 1))) { *st = DALE_ERR_NOMEM; return 0; }
        *cap = 1;
    }
    (*buf)[n] = '\0';
    *len = n;
    return 1;
}

dale_status dale_vectors_load(const char *path, const dale_corpus *c, int oov_random, uint64_t seed, float **table,
                              size_t *D_out, size_t *covered)
{
    *table = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open word vectors: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, len, lineno = 0, D = 0, V = dale_corpus_vocab(c), found = 0;
    float *tab = NULL, *tmp = NULL;
    unsigned char *seen = dalei_calloc(V ? V : 1, 1);
    dale_status st = seen ? DALE_OK : DALE_ERR_NOMEM;
    double sumsq = 0;
    size_t nsq = 0;
    while (!st && read_line(f, &line, &cap, &len, &st)) {
        lineno++;
        if (len && line[len - 1] == '\r') line[--len] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) { st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu: empty line (want: word v1 ... vD)", path, lineno); break; }
        char *w = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        char *wend = p;
        if (D == 0) {
            /* Detect D from the first line: the number of fields after the word. */
            for (char *q = p; *q;) {
                while (*q == ' ' || *q == '\t') q++;
                if (!*q) break;
                D++;
                while (*q && *q != ' ' && *q != '\t') q++;
            }
            if (D == 0) { st = DALE_FAIL(DALE_ERR_FORMAT, "%s:1: a word without numbers", path); break; }
            tab = dalei_calloc(V ? V * D : 1, sizeof(float));
            tmp = dalei_alloc(D, sizeof(float));
            if (!tab || !tmp) { st = DALE_ERR_NOMEM; break; }
        }
        size_t k = 0;
        for (;;) {
            while (*p == ' ' || *p == '\t') p++;
            if (!*p) break;
            char *e;
            errno = 0;
            float v = strtof(p, &e);
            if (e == p || (*e && *e != ' ' && *e != '\t') || !isfinite(v)) {
                char *fe = p;
                while (*fe && *fe != ' ' && *fe != '\t') fe++;
                st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu: field %zu ('%.*s') is not a finite number", path, lineno,
                               k + 2, (int)(fe - p < 40 ? fe - p : 40), p);
                break;
            }
            if (k < D) tmp[k] = v;
            k++;
            p = e;
        }
        if (st) break;
        if (k != D) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu: %zu numbers, want %zu (the first line's count)", path, lineno, k, D);
            break;
        }
        char save = *wend;
        *wend = '\0';
        long id = dale_corpus_id(c, w);
        *wend = save;
        if (id >= 0 && !seen[id]) {
            seen[id] = 1;
            found++;
            memcpy(tab + (size_t)id * D, tmp, D * sizeof(float));
            for (size_t j = 0; j < D; j++) sumsq += (double)tmp[j] * (double)tmp[j];
            nsq += D;
        }
    }
    if (!st && ferror(f)) st = DALE_FAIL(DALE_ERR_IO, "%s: read error", path);
    if (!st && D == 0) st = DALE_FAIL(DALE_ERR_FORMAT, "%s: empty (no vectors)", path);
    if (!st && oov_random) {
        /* Words without a vector: N(0, s^2), s the RMS entry of the found ones. */
        double sd = nsq ? sqrt(sumsq / (double)nsq) : 1.0;
        dale_rng r;
        dale_rng_seed(&r, seed);
        for (size_t id = 0; id < V; id++)
            if (!seen[id])
                for (size_t j = 0; j < D; j++) tab[id * D + j] = (float)dale_rng_normal(&r, 0.0, sd);
    }
    fclose(f);
    dalei_free(line);
    dalei_free(tmp);
    dalei_free(seen);
    if (st) {
        dalei_free(tab);
        return st;
    }
    *table = tab;
    *D_out = D;
    *covered = found;
    return DALE_OK;
}
