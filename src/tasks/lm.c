/* lm.c — the word-level language modelling task over a corpus
 * (src/data/corpus.c) and frozen word vectors (src/data/wordvec.c).
 *
 * Layout.  Training: R = floor(n / S) rows of S streams; the token of
 * row r, stream s is ids[s R + r] (the reference's view(S, -1).t()).  A
 * window starting at row i has L = min(window, R-1-i) steps and fills the
 * batch x (L, S, D) time-major with targets yi (L, S).  Evaluation: rows of
 * window+1 consecutive tokens, sample r = row r, x (window, B, D).
 * Only ids are kept per split; x is looked up in the (V, D) vector table per
 * batch, so nothing is allocated per token or per batch.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dale/lm.h"
#include "internal.h"

/* -------------------------------------------------------------- task */

typedef struct lm_task {
    dale_task task;
    dale_corpus *corpus;
    float *vec;        /* (V, D) */
    size_t D, S, L;    /* vector width, streams, window */
    size_t R;          /* training rows */
    size_t erows[3];   /* evaluation rows of valid / test */
    char summary[512];
} lm_task;

double dale_lm_perplexity(double ce) { return isfinite(ce) && ce <= 20.0 ? exp(ce) : (double)NAN; }

static size_t train_len(const lm_task *m, size_t i)
{
    if (i + 1 >= m->R) return 0;
    size_t left = m->R - 1 - i;
    return left < m->L ? left : m->L;
}

size_t dale_lm_window_len(const dale_task *t, size_t start) { return train_len(t->impl, start); }

static size_t lm_steps(const dale_task *t, dale_split split, const size_t *idx, size_t B)
{
    const lm_task *m = t->impl;
    if (B == 0) return 0;
    if (split == DALE_SPLIT_TRAIN) return B == 1 ? train_len(m, idx[0]) : 0;
    return m->L;
}

static void put_vec(const lm_task *m, float *x, int32_t id)
{
    memcpy(x, m->vec + (size_t)id * m->D, m->D * sizeof(float));
}

static dale_status lm_batch(dale_task *t, dale_split split, const size_t *idx, size_t B, float *x, float *yf,
                            int32_t *yi)
{
    (void)yf;
    lm_task *m = t->impl;
    size_t D = m->D, n;
    const int32_t *ids = dale_corpus_tokens(m->corpus, split, &n);
    if (split == DALE_SPLIT_TRAIN) {
        size_t L = B == 1 ? train_len(m, idx[0]) : 0;
        if (L == 0)
            return DALE_FAIL(DALE_ERR_ARG, "lm: training batch must be one start row in [0, %zu) (got %zu samples, "
                             "first %zu)", m->R - 1, B, B ? idx[0] : 0);
        size_t i = idx[0], S = m->S, R = m->R;
        for (size_t tt = 0; tt < L; tt++)
            for (size_t s = 0; s < S; s++) {
                put_vec(m, x + (tt * S + s) * D, ids[s * R + i + tt]);
                yi[tt * S + s] = ids[s * R + i + tt + 1];
            }
        return DALE_OK;
    }
    size_t W = m->L + 1;
    for (size_t b = 0; b < B; b++) {
        if (idx[b] >= m->erows[split])
            return DALE_FAIL(DALE_ERR_ARG, "lm: row %zu out of range (%zu rows)", idx[b], m->erows[split]);
        const int32_t *row = ids + idx[b] * W;
        for (size_t tt = 0; tt < m->L; tt++) {
            put_vec(m, x + (tt * B + b) * D, row[tt]);
            yi[tt * B + b] = row[tt + 1];
        }
    }
    return DALE_OK;
}

static void lm_destroy(dale_task *t)
{
    lm_task *m = t->impl;
    dale_corpus_free(m->corpus);
    dale_vectors_free(m->vec);
    dalei_free(m);
}

dale_status dale_task_lm_create(const dale_lm_config *cfg, dale_task **out)
{
    *out = NULL;
    if (cfg->streams == 0 || cfg->window == 0)
        return DALE_FAIL(DALE_ERR_ARG, "lm: streams and window must be >= 1 (got %zu, %zu)", cfg->streams, cfg->window);
    lm_task *m = dalei_calloc(1, sizeof *m);
    if (!m) return DALE_ERR_NOMEM;
    dale_task *t = &m->task;
    t->impl = m;
    t->destroy = lm_destroy;
    size_t covered = 0;
    dale_status st = dale_corpus_load(cfg->corpus, cfg->vocab_limit, &m->corpus);
    if (st) goto fail;
    if ((st = dale_vectors_load(cfg->vectors, m->corpus, cfg->oov_random, cfg->oov_seed, &m->vec, &m->D, &covered)))
        goto fail;
    m->S = cfg->streams;
    m->L = cfg->window;
    size_t n[3];
    for (int s = 0; s < 3; s++) dale_corpus_tokens(m->corpus, (dale_split)s, &n[s]);
    m->R = n[0] / m->S;
    if (m->R < 2) {
        st = DALE_FAIL(DALE_ERR_ARG, "lm: %s has %zu tokens, too few for 2 rows of %zu streams",
                       dale_corpus_path(m->corpus, DALE_SPLIT_TRAIN), n[0], m->S);
        goto fail;
    }
    for (int s = 1; s < 3; s++) {
        m->erows[s] = n[s] / (m->L + 1);
        if (m->erows[s] == 0) {
            st = DALE_FAIL(DALE_ERR_ARG, "lm: %s has %zu tokens, fewer than one evaluation row of %zu",
                           dale_corpus_path(m->corpus, (dale_split)s), n[s], m->L + 1);
            goto fail;
        }
    }
    size_t V = dale_corpus_vocab(m->corpus);
    t->name = "lm";
    t->T = m->L;
    t->input = m->D;
    t->output = V;
    t->loss = DALE_LOSS_CE_EVERY;
    t->input_mean = 0;
    t->count[DALE_SPLIT_TRAIN] = m->R - 1;
    t->count[DALE_SPLIT_VAL] = m->erows[1];
    t->count[DALE_SPLIT_TEST] = m->erows[2];
    t->sample_rows[DALE_SPLIT_TRAIN] = m->S;
    t->steps = lm_steps;
    t->batch = lm_batch;
    snprintf(m->summary, sizeof m->summary,
             "lm: %zu types; tokens train %zu / valid %zu / test %zu; %zu x %zu training rows, "
             "%zu / %zu evaluation rows of %zu; vectors %zu-d, %zu of %zu words covered (%.1f %%)%s",
             V, n[0], n[1], n[2], m->R, m->S, m->erows[1], m->erows[2], m->L + 1, m->D, covered, V,
             V ? 100.0 * (double)covered / (double)V : 0.0, cfg->oov_random ? ", others random" : ", others zero");
    t->summary = m->summary;
    *out = t;
    return DALE_OK;
fail:
    lm_destroy(t);
    return st;
}
