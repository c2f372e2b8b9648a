/* seqmnist.c — sequential MNIST / Fashion-MNIST (paper Sec. 6.2.2;
 * docs/reference-behaviour.md, Tasks).
 *
 * The four IDX files are read once; images stay uint8 (N, rows, cols) in
 * memory (47 MB for MNIST's training set) and each batch scales its pixels
 * to [0, 1] by /255, nothing else.  Sequence layouts, for an image p of
 * rows x cols pixels (row-major):
 *   row       T = rows steps of cols inputs: x[t][b][i] = p[t*cols + i] / 255
 *   pixel     T = rows*cols steps of 1 input: x[t][b][0] = p[t] / 255
 *   permuted  as pixel, but x[t][b][0] = p[perm[t]] / 255 with one fixed
 *             permutation drawn from perm_seed (a Fisher-Yates shuffle)
 * Splits index into the files: test = the t10k file; train = the training
 * file (reference) or, with paper_split, the training file minus a
 * validation hold-out of one sixth of it (10000 of 60000) chosen by a
 * shuffle of rng(val_seed): after shuffling 0..N-1 the first N/6 indices
 * (sorted) are validation and the rest (sorted) training.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "dale/fileio.h"
#include "dale/idx.h"
#include "dale/rng.h"
#include "dale/taskdesc.h"
#include "internal.h"

#define NCLASS 10

typedef struct seqmnist {
    dale_task task;
    dale_idx img[2], lab[2]; /* [0] training file, [1] test file */
    size_t rows, cols, npix;
    int variant;
    uint32_t *perm;          /* (npix) permuted variant, else NULL */
    uint32_t *split_idx[3];  /* split sample -> file item; NULL: identity */
    float scale[256];        /* scale[v] = (float)v / 255.0f, the pixels' floats */
} seqmnist;

static const char *const file_names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* dst[i] = (float)src[i] / 255.0f for i < d; with SSE2 sixteen at a time:
 * the vector division rounds every lane as the scalar one does (IEEE), so
 * the floats are the same. */
static void scale_row(float *dst, const uint8_t *src, size_t d)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i zero = _mm_setzero_si128();
    const __m128 k255 = _mm_set1_ps(255.0f);
    for (; i + 16 <= d; i += 16) {
        __m128i u = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
        __m128i lo = _mm_unpacklo_epi8(u, zero), hi = _mm_unpackhi_epi8(u, zero);
        _mm_storeu_ps(dst + i, _mm_div_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, zero)), k255));
        _mm_storeu_ps(dst + i + 4, _mm_div_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, zero)), k255));
        _mm_storeu_ps(dst + i + 8, _mm_div_ps(_mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, zero)), k255));
        _mm_storeu_ps(dst + i + 12, _mm_div_ps(_mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, zero)), k255));
    }
    for (; i + 4 <= d; i += 4) {
        int32_t w;
        memcpy(&w, src + i, sizeof w);
        __m128i u = _mm_cvtsi32_si128(w);
        __m128i q = _mm_unpacklo_epi16(_mm_unpacklo_epi8(u, zero), zero);
        _mm_storeu_ps(dst + i, _mm_div_ps(_mm_cvtepi32_ps(q), k255));
    }
#endif
    for (; i < d; i++) dst[i] = (float)src[i] / 255.0f;
}

/* Samples are gathered GATHER at a time: their images are located (and
 * fetched from memory together: a training batch draws them from all over
 * the file), then written step by step, so the time-major x is written in
 * runs of GATHER * d floats instead of d floats T * B apart. */
#define GATHER 64

static dale_status seqmnist_batch(dale_task *t, dale_split split, const size_t *idx, size_t B,
                                  float *x, float *yf, int32_t *yi)
{
    (void)yf;
    seqmnist *m = t->impl;
    int f = split == DALE_SPLIT_TEST;
    const dale_idx *img = &m->img[f], *lab = &m->lab[f];
    const float *scale = m->scale; /* pixel variants: one looked-up float per step */
    size_t npix = m->npix, T = t->T, d = t->input;
    const uint8_t *src[GATHER];
    for (size_t b0 = 0; b0 < B; b0 += GATHER) {
        size_t nb = B - b0 < GATHER ? B - b0 : GATHER;
        for (size_t j = 0; j < nb; j++) {
            size_t i = idx[b0 + j];
            if (i >= t->count[split])
                return DALE_FAIL(DALE_ERR_ARG, "seqmnist: sample %zu out of range (split has %zu)", i,
                                 t->count[split]);
            size_t s = m->split_idx[split] ? m->split_idx[split][i] : i;
            src[j] = img->data + s * npix;
            for (size_t k = 0; k < npix; k += 64) __builtin_prefetch(src[j] + k);
            yi[b0 + j] = (int32_t)lab->data[s];
        }
        for (size_t k = 0; k < T; k++) {
            float *xt = x + (k * B + b0) * d;
            if (m->variant == 0) {
                for (size_t j = 0; j < nb; j++) scale_row(xt + j * d, src[j] + k * d, d);
            } else {
                size_t q = m->perm ? m->perm[k] : k;
                for (size_t j = 0; j < nb; j++) xt[j] = scale[src[j][q]];
            }
        }
    }
    return DALE_OK;
}

static void free_impl(seqmnist *m)
{
    for (int f = 0; f < 2; f++) {
        dale_idx_free(&m->img[f]);
        dale_idx_free(&m->lab[f]);
    }
    dalei_free(m->perm);
    for (int k = 0; k < 3; k++) dalei_free(m->split_idx[k]);
    dalei_free(m);
}

static void seqmnist_destroy(dale_task *t) { free_impl(t->impl); }

/* Read one of the four files: dir/NAME or dir/NAME.gz, with a hint naming
 * `dale data get` when neither exists. */
static dale_status read_file(const char *dir, int which, dale_idx *out)
{
    char path[4200];
    if (!dale_data_locate(dir, file_names[which], path, sizeof path)) {
        /* dir is DATA/NAME: suggest the data set and the data directory. */
        char data[4096];
        snprintf(data, sizeof data, "%s", dir);
        char *slash = strrchr(data, '/');
        const char *name = slash ? slash + 1 : data;
        const char *set = !strcmp(name, "fashion-mnist") ? "fashion-mnist" : "mnist";
        if (slash) *slash = '\0';
        else snprintf(data, sizeof data, ".");
        return DALE_FAIL(DALE_ERR_IO, "%s: missing (neither it nor %s.gz exists)\nhint: run `dale data get %s --data %s`",
                         path, path, set, data);
    }
    return dale_idx_read(path, (size_t)1 << 28, out);
}

static dale_status check_pair(const char *dir, int f, const dale_idx *img, const dale_idx *lab,
                              size_t rows, size_t cols)
{
    const char *in = file_names[2 * f], *ln = file_names[2 * f + 1];
    if (img->ndim != 3)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s/%s: images need 3 dimensions (N, rows, cols), the file has %d",
                         dir, in, img->ndim);
    if (rows && (img->dim[1] != rows || img->dim[2] != cols))
        return DALE_FAIL(DALE_ERR_FORMAT, "%s/%s: images are %zux%zu, the training images %zux%zu", dir, in,
                         img->dim[1], img->dim[2], rows, cols);
    if (lab->ndim != 1)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s/%s: labels need 1 dimension, the file has %d", dir, ln, lab->ndim);
    if (lab->dim[0] != img->dim[0])
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: %s holds %zu images but %s holds %zu labels", dir, in,
                         img->dim[0], ln, lab->dim[0]);
    for (size_t s = 0; s < lab->count; s++)
        if (lab->data[s] >= NCLASS)
            return DALE_FAIL(DALE_ERR_FORMAT, "%s/%s: label %u of item %zu is out of range (0-9)", dir, ln,
                             (unsigned)lab->data[s], s);
    return DALE_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

dale_status dale_task_seqmnist_create(const dale_seqmnist_config *cfg, dale_task **out)
{
    dale_status st = DALE_OK;
    size_t *shuf = NULL;
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_task_seqmnist_create: out is NULL");
    *out = NULL;
    if (!cfg || !cfg->dir) return DALE_FAIL(DALE_ERR_ARG, "dale_task_seqmnist_create: no data directory");
    if (cfg->variant < 0 || cfg->variant > 2)
        return DALE_FAIL(DALE_ERR_ARG, "seqmnist: variant must be 0 (row), 1 (pixel) or 2 (permuted), got %d",
                         cfg->variant);
    seqmnist *m = dalei_calloc(1, sizeof *m);
    if (!m) return DALE_ERR_NOMEM;
    dale_task *t = &m->task;
    m->variant = cfg->variant;
    for (int v = 0; v < 256; v++) m->scale[v] = (float)v / 255.0f;
    for (int f = 0; f < 2 && !st; f++) {
        if ((st = read_file(cfg->dir, 2 * f, &m->img[f]))) break;
        if ((st = read_file(cfg->dir, 2 * f + 1, &m->lab[f]))) break;
        st = check_pair(cfg->dir, f, &m->img[f], &m->lab[f], m->rows, m->cols);
        if (!st && f == 0) {
            m->rows = m->img[0].dim[1];
            m->cols = m->img[0].dim[2];
        }
    }
    if (st) goto cleanup;
    m->npix = m->rows * m->cols;
    size_t N = m->img[0].dim[0];
    if (cfg->paper_split) {
        size_t nval = N / 6;
        if (nval == 0) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: %zu training images are too few for a validation hold-out",
                           cfg->dir, N);
            goto cleanup;
        }
        shuf = dalei_alloc(N, sizeof(size_t));
        m->split_idx[DALE_SPLIT_VAL] = dalei_alloc(nval, sizeof(uint32_t));
        m->split_idx[DALE_SPLIT_TRAIN] = dalei_alloc(N - nval, sizeof(uint32_t));
        if (!shuf || !m->split_idx[DALE_SPLIT_VAL] || !m->split_idx[DALE_SPLIT_TRAIN]) {
            st = DALE_ERR_NOMEM;
            goto cleanup;
        }
        for (size_t k = 0; k < N; k++) shuf[k] = k;
        dale_rng rng;
        dale_rng_seed(&rng, cfg->val_seed);
        dale_rng_shuffle(&rng, shuf, N);
        for (size_t k = 0; k < N; k++) {
            if (k < nval) m->split_idx[DALE_SPLIT_VAL][k] = (uint32_t)shuf[k];
            else m->split_idx[DALE_SPLIT_TRAIN][k - nval] = (uint32_t)shuf[k];
        }
        qsort(m->split_idx[DALE_SPLIT_VAL], nval, sizeof(uint32_t), cmp_u32);
        qsort(m->split_idx[DALE_SPLIT_TRAIN], N - nval, sizeof(uint32_t), cmp_u32);
        t->count[DALE_SPLIT_TRAIN] = N - nval;
        t->count[DALE_SPLIT_VAL] = nval;
    } else {
        t->count[DALE_SPLIT_TRAIN] = N;
    }
    t->count[DALE_SPLIT_TEST] = m->img[1].dim[0];
    if (cfg->variant == 2) {
        if (!(m->perm = dalei_alloc(m->npix, sizeof(uint32_t)))) { st = DALE_ERR_NOMEM; goto cleanup; }
        dalei_free(shuf);
        if (!(shuf = dalei_alloc(m->npix, sizeof(size_t)))) { st = DALE_ERR_NOMEM; goto cleanup; }
        for (size_t k = 0; k < m->npix; k++) shuf[k] = k;
        dale_rng rng;
        dale_rng_seed(&rng, cfg->perm_seed);
        dale_rng_shuffle(&rng, shuf, m->npix);
        for (size_t k = 0; k < m->npix; k++) m->perm[k] = (uint32_t)shuf[k];
    }
    /* Pixel mean /255 over the training split (ColEI bias centring). */
    double sum = 0;
    size_t ntr = t->count[DALE_SPLIT_TRAIN];
    for (size_t k = 0; k < ntr; k++) {
        size_t s = m->split_idx[DALE_SPLIT_TRAIN] ? m->split_idx[DALE_SPLIT_TRAIN][k] : k;
        const uint8_t *p = m->img[0].data + s * m->npix;
        uint64_t acc = 0;
        for (size_t i = 0; i < m->npix; i++) acc += p[i];
        sum += (double)acc;
    }
    t->input_mean = sum / ((double)ntr * (double)m->npix * 255.0);
    t->name = "seqmnist";
    t->T = cfg->variant == 0 ? m->rows : m->npix;
    t->input = cfg->variant == 0 ? m->cols : 1;
    t->output = NCLASS;
    t->loss = DALE_LOSS_CE_LAST;
    t->batch = seqmnist_batch;
    t->destroy = seqmnist_destroy;
    t->impl = m;
cleanup:
    dalei_free(shuf);
    if (st) {
        free_impl(m);
        return st;
    }
    *out = t;
    return DALE_OK;
}

/* ------------------------------------------------------------ registry */

static const dale_task_option seqmnist_options[] = {
    {"dataset", DALE_OPT_STR, "mnist", "images: mnist | fashion-mnist", "mnist|fashion-mnist", 0},
    {"variant", DALE_OPT_STR, "row", "sequence: row (28 steps x 28) | pixel (784 x 1) | permuted", "row|pixel|permuted", 0},
    {"perm_seed", DALE_OPT_U64, "0", "seed of the fixed pixel permutation (permuted variant)", NULL, 0},
};

/* The Fig. 2B script: batch 32, 30 epochs, lr 0.01 constant; ColEI clipped
 * at 10 per tensor, the others not clipped. */
static const dale_task_default seqmnist_defaults[] = {
    {NULL, "hidden", "100"},    {NULL, "batch", "32"},     {NULL, "epochs", "30"}, {NULL, "eval_every", "100"},
    {NULL, "lr", "0.01"},       {NULL, "lr_decay", "1"},   {NULL, "lr_decay_every", "0"},
    {NULL, "clip", "0"},        {"colei", "clip", "10"},
};

static void seqmnist_dir(const dale_options *o, char *dir, size_t cap)
{
    char data[512], set[512];
    snprintf(dir, cap, "%s/%s", dale_opt_str(o, "data", data, sizeof data), dale_opt_str(o, "dataset", set, sizeof set));
}

/* The shape of the data set in place (image count and size from the IDX
 * headers), or of MNIST when it is not there. */
static dale_status seqmnist_shape(const dale_options *o, dale_task_shape *s)
{
    char dir[1100], path[1200];
    seqmnist_dir(o, dir, sizeof dir);
    double ntr = 60000, nte = 10000, rows = 28, cols = 28;
    size_t dim[DALE_IDX_MAXDIM];
    if (dale_data_locate(dir, file_names[0], path, sizeof path) && dale_idx_peek(path, dim) == 3) {
        ntr = (double)dim[0];
        rows = (double)dim[1];
        cols = (double)dim[2];
        if (dale_data_locate(dir, file_names[2], path, sizeof path) && dale_idx_peek(path, dim) == 3)
            nte = (double)dim[0];
    }
    int pixel = !dale_opt_is(o, "variant", "row");
    double nval = dale_opt_is(o, "split", "paper") ? floor(ntr / 6) : 0;
    memset(s, 0, sizeof *s);
    s->T = s->Tin = pixel ? rows * cols : rows;
    s->input = pixel ? 1 : cols;
    s->output = NCLASS;
    s->ntrain = ntr - nval;
    s->neval = nval + nte;
    s->eval_max = nval > nte ? nval : nte;
    s->rows = 1;
    s->data_bytes = (ntr + nte) * (rows * cols + 1);
    return DALE_OK;
}

static dale_status seqmnist_create(const dale_options *o, dale_task **out)
{
    char dir[1100];
    seqmnist_dir(o, dir, sizeof dir);
    dale_seqmnist_config mc = {dir,
                               dale_opt_is(o, "variant", "pixel")      ? 1
                               : dale_opt_is(o, "variant", "permuted") ? 2
                                                                       : 0,
                               dale_opt_u64(o, "perm_seed"), dale_opt_is(o, "split", "paper"),
                               dale_opt_u64(o, "data_seed")};
    return dale_task_seqmnist_create(&mc, out);
}

const dale_task_desc dalei_task_seqmnist = {
    "seqmnist", "sequential MNIST / Fashion-MNIST from DATA/<dataset> (cross-entropy at the last step)",
    seqmnist_options, sizeof seqmnist_options / sizeof seqmnist_options[0],
    seqmnist_defaults, sizeof seqmnist_defaults / sizeof seqmnist_defaults[0],
    NULL, seqmnist_shape, seqmnist_create,
};
