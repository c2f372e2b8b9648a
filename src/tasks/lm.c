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
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "dale/lm.h"
#include "dale/taskdesc.h"
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

/* ------------------------------------------------------------ registry */

static const dale_task_option lm_options[] = {
    {"corpus", DALE_OPT_STR, "", "PTB-format directory (ptb.{train,valid,test}.txt); \"\": DATA/kjv", NULL, 0},
    {"vectors", DALE_OPT_STR, "", "frozen word vectors, GloVe text format; \"\": DATA/glove100/vectors.txt", NULL, 0},
    {"window", DALE_OPT_LONG, "50", "BPTT window; evaluation rows are window+1 tokens", NULL, 1},
    {"oov", DALE_OPT_STR, "zero", "words without a vector get zero (reference) | random (N(0, rms^2), seed data_seed)",
     "zero|random", 0},
    {"vocab_limit", DALE_OPT_LONG, "10000", "refuse a corpus with more word types (0: no limit)", NULL, 0},
};

/* The PTB script: 64 streams, 3 epochs, lr 0.805 (ColEI 1.554) x 0.99 after
 * every 50th window, clip 1 everywhere, 3 x 500 cells and dense 500,500,
 * the standard RNN's W signs frozen, DANN's recurrent W_IE random;
 * evaluation in chunks of 64 rows. */
static const dale_task_default lm_defaults[] = {
    {NULL, "hidden", "500"},    {NULL, "layers", "3"},          {NULL, "dense", "500,500"},
    {NULL, "batch", "64"},      {NULL, "epochs", "3"},          {NULL, "eval_every", "50"},
    {NULL, "eval_batch", "64"}, {NULL, "lr", "0.805"},          {"colei", "lr", "1.554"},
    {NULL, "lr_decay", "0.99"}, {NULL, "lr_decay_every", "50"}, {NULL, "clip", "1"},
    {"rnn", "sign_freeze", "on"}, {NULL, "dann_wie", "random"},
};

static dale_status lm_resolve(const dale_options *o)
{
    char data[512], v[560];
    dale_opt_str(o, "data", data, sizeof data);
    dale_status st = DALE_OK;
    if (dale_opt_is(o, "corpus", "")) {
        snprintf(v, sizeof v, "%.500s/kjv", data);
        st = o->set(o->ctx, "corpus", v);
    }
    if (!st && dale_opt_is(o, "vectors", "")) {
        snprintf(v, sizeof v, "%.480s/glove100/vectors.txt", data);
        st = o->set(o->ctx, "vectors", v);
    }
    return st;
}

/* Width of the vectors in a GloVe text file: the fields of its first line
 * less the word (0 if unreadable). */
static double vectors_width(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int c, in_field = 0;
    double fields = 0;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        int space = c == ' ' || c == '\t' || c == '\r';
        if (!space && !in_field) fields++;
        in_field = !space;
    }
    fclose(f);
    return fields > 1 ? fields - 1 : 0;
}

/* What the shape needs of a corpus: token counts and vocabulary.  Reading
 * them means reading the corpus, and a sweep asks for the shape of many
 * runs over one corpus (its cost, its updates, its memory), so the last
 * answer is kept, keyed by the directory, the vocabulary limit and the
 * size and modification time of its split files. */
typedef struct corpus_facts {
    char dir[512];
    long limit;
    double stamp;   /* sum over the split files found of size + mtime */
    int ok;         /* the corpus loaded */
    double n[3], V;
} corpus_facts;

static double corpus_stamp(const char *dir)
{
    static const char *const base[3] = {"train", "valid", "test"};
    double st = 0;
    for (int k = 0; k < 3; k++) {
        char p[600];
        struct stat sb;
        snprintf(p, sizeof p, "%s/ptb.%s.txt", dir, base[k]);
        if (stat(p, &sb) != 0) snprintf(p, sizeof p, "%s/%s.txt", dir, base[k]);
        if (stat(p, &sb) == 0) st += (double)sb.st_size + (double)sb.st_mtime * 1e-3 + (double)sb.st_mtim.tv_nsec * 1e-12;
    }
    return st;
}

static void corpus_facts_of(const char *dir, long limit, corpus_facts *f)
{
    static corpus_facts last;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    double stamp = corpus_stamp(dir);
    pthread_mutex_lock(&lock);
    if (last.dir[0] && !strcmp(last.dir, dir) && last.limit == limit && last.stamp == stamp) {
        *f = last;
        pthread_mutex_unlock(&lock);
        return;
    }
    pthread_mutex_unlock(&lock);
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    f->limit = limit;
    f->stamp = stamp;
    dale_corpus *c = NULL;
    if (dale_corpus_load(dir, limit > 0 ? (size_t)limit : 0, &c) == DALE_OK) {
        for (int k = 0; k < 3; k++) {
            size_t m;
            dale_corpus_tokens(c, (dale_split)k, &m);
            f->n[k] = (double)m;
        }
        f->V = (double)dale_corpus_vocab(c);
        f->ok = 1;
    }
    dale_corpus_free(c);
    pthread_mutex_lock(&lock);
    last = *f;
    pthread_mutex_unlock(&lock);
}

/* The corpus in place (token counts and vocabulary), else a PTB-sized one
 * (929k / 73k / 82k tokens, a vocabulary at the limit). */
static dale_status lm_shape(const dale_options *o, dale_task_shape *s)
{
    char corpus[512], vectors[512];
    dale_opt_str(o, "corpus", corpus, sizeof corpus);
    dale_opt_str(o, "vectors", vectors, sizeof vectors);
    double L = (double)dale_opt_long(o, "window"), S = (double)dale_opt_long(o, "batch");
    long limit = dale_opt_long(o, "vocab_limit");
    double n[3] = {929589, 73760, 82430}, V = limit > 0 ? (double)limit : 10000;
    corpus_facts f;
    if (corpus[0]) corpus_facts_of(corpus, limit, &f);
    if (corpus[0] && f.ok) {
        memcpy(n, f.n, sizeof n);
        V = f.V;
    }
    double D = vectors_width(vectors);
    if (S < 1) S = 1;
    if (L < 1) L = 1;
    memset(s, 0, sizeof *s);
    s->T = s->Tin = L;
    s->input = D > 0 ? D : 100;
    s->output = V;
    s->ntrain = floor(n[0] / S) - 1;
    if (s->ntrain < 1) s->ntrain = 1;
    s->neval = floor(n[1] / (L + 1)) + floor(n[2] / (L + 1));
    s->eval_max = fmax(floor(n[1] / (L + 1)), floor(n[2] / (L + 1)));
    s->rows = S;
    s->every_step = 1;
    s->data_bytes = 4.0 * (n[0] + n[1] + n[2]) + 4.0 * s->input * V;
    return DALE_OK;
}

static dale_status lm_create(const dale_options *o, dale_task **out)
{
    char corpus[512], vectors[512];
    dale_lm_config lc = {dale_opt_str(o, "corpus", corpus, sizeof corpus),
                         dale_opt_str(o, "vectors", vectors, sizeof vectors),
                         (size_t)dale_opt_long(o, "vocab_limit"),
                         (size_t)dale_opt_long(o, "batch"),
                         (size_t)dale_opt_long(o, "window"),
                         dale_opt_is(o, "oov", "random"),
                         dale_opt_u64(o, "data_seed")};
    return dale_task_lm_create(&lc, out);
}

const dale_task_desc dalei_task_lm = {
    "lm", "word-level language modelling on a PTB-format corpus with frozen word vectors (cross-entropy at every step)",
    lm_options, sizeof lm_options / sizeof lm_options[0],
    lm_defaults, sizeof lm_defaults / sizeof lm_defaults[0],
    lm_resolve, lm_shape, lm_create,
};
