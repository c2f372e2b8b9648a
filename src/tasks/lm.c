/* lm.c — word-level language modelling (spec §4.3): the PTB-format corpus
 * reader, the GloVe-text word-vector reader and the lm task.
 *
 * Corpus: each split file is read whole (PTB train is 5 MB), checked for
 * UTF-8 and NUL bytes, then tokenised in place.  The vocabulary is an
 * open-addressing hash table (FNV-1a, linear probing, load <= 1/2) over an
 * arena of NUL-terminated words; ids follow first appearance over train,
 * valid, test.
 *
 * Task layout.  Training: R = floor(n / S) rows of S streams; the token of
 * row r, stream s is ids[s R + r] (the reference's view(S, -1).t()).  A
 * window starting at row i has L = min(window, R-1-i) steps and fills the
 * batch x (L, S, D) time-major with targets yi (L, S).  Evaluation: rows of
 * window+1 consecutive tokens, sample r = row r, x (window, B, D).
 * Only ids are kept per split; x is looked up in the (V, D) vector table per
 * batch, so nothing is allocated per token or per batch.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "dale/lm.h"
#include "dale/rng.h"
#include "internal.h"

/* ------------------------------------------------------------ corpus */

struct dale_corpus {
    char *arena;          /* words, NUL-terminated, in id order */
    size_t arena_len, arena_cap;
    size_t *off;          /* id -> offset into arena */
    size_t nvocab, off_cap;
    size_t *slots;        /* hash table of id+1 (0 = empty) */
    size_t nslots;
    int32_t *ids[3];
    size_t ntok[3];
    char path[3][1024];
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static const char *cword(const dale_corpus *c, size_t id) { return c->arena + c->off[id]; }

/* Slot of word s[0..n) (empty slot if absent). */
static size_t find_slot(const dale_corpus *c, const char *s, size_t n)
{
    size_t mask = c->nslots - 1, i = (size_t)fnv1a(s, n) & mask;
    while (c->slots[i]) {
        const char *w = cword(c, c->slots[i] - 1);
        if (!strncmp(w, s, n) && w[n] == '\0') return i;
        i = (i + 1) & mask;
    }
    return i;
}

static dale_status grow_table(dale_corpus *c)
{
    size_t ns = c->nslots ? c->nslots * 2 : 1024;
    size_t *slots = dalei_calloc(ns, sizeof(size_t));
    if (!slots) return DALE_ERR_NOMEM;
    dalei_free(c->slots);
    c->slots = slots;
    c->nslots = ns;
    for (size_t id = 0; id < c->nvocab; id++) {
        const char *w = cword(c, id);
        c->slots[find_slot(c, w, strlen(w))] = id + 1;
    }
    return DALE_OK;
}

/* Id of word s[0..n), adding it if new. */
static dale_status intern(dale_corpus *c, const char *s, size_t n, int32_t *id)
{
    if (2 * (c->nvocab + 1) > c->nslots) {
        dale_status st = grow_table(c);
        if (st) return st;
    }
    size_t i = find_slot(c, s, n);
    if (c->slots[i]) {
        *id = (int32_t)(c->slots[i] - 1);
        return DALE_OK;
    }
    if (c->nvocab >= (size_t)INT32_MAX) return DALE_FAIL(DALE_ERR_ARG, "corpus: more than 2^31 word types");
    if (c->arena_len + n + 1 > c->arena_cap) {
        size_t cap = c->arena_cap ? c->arena_cap : 1 << 16;
        while (cap < c->arena_len + n + 1) cap *= 2;
        char *a = dalei_realloc(c->arena, cap, 1);
        if (!a) return DALE_ERR_NOMEM;
        c->arena = a;
        c->arena_cap = cap;
    }
    if (c->nvocab == c->off_cap) {
        size_t cap = c->off_cap ? c->off_cap * 2 : 1024;
        size_t *o = dalei_realloc(c->off, cap, sizeof(size_t));
        if (!o) return DALE_ERR_NOMEM;
        c->off = o;
        c->off_cap = cap;
    }
    memcpy(c->arena + c->arena_len, s, n);
    c->arena[c->arena_len + n] = '\0';
    c->off[c->nvocab] = c->arena_len;
    c->arena_len += n + 1;
    c->slots[i] = c->nvocab + 1;
    *id = (int32_t)c->nvocab++;
    return DALE_OK;
}

/* Check UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF) and NUL. */
static dale_status check_utf8(const char *path, const unsigned char *s, size_t n)
{
    size_t line = 1, col0 = 0;
    for (size_t i = 0; i < n;) {
        unsigned char ch = s[i];
        size_t k = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (ch == '\n') { line++; col0 = ++i; continue; }
        if (ch == 0)
            return DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu:%zu: NUL byte in a text file", path, line, i - col0 + 1);
        if (ch < 0x80) { i++; continue; }
        if (ch >= 0xC2 && ch <= 0xDF) k = 1;
        else if (ch >= 0xE0 && ch <= 0xEF) { k = 2; if (ch == 0xE0) lo = 0xA0; if (ch == 0xED) hi = 0x9F; }
        else if (ch >= 0xF0 && ch <= 0xF4) { k = 3; if (ch == 0xF0) lo = 0x90; if (ch == 0xF4) hi = 0x8F; }
        else return DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu:%zu: invalid UTF-8 (byte 0x%02x)", path, line, i - col0 + 1, ch);
        for (size_t j = 1; j <= k; j++) {
            unsigned char cc = i + j < n ? s[i + j] : 0;
            unsigned l = j == 1 ? lo : 0x80, h = j == 1 ? hi : 0xBF;
            if (cc < l || cc > h)
                return DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu:%zu: invalid UTF-8 (byte 0x%02x starts a broken sequence)",
                                 path, line, i - col0 + 1, ch);
        }
        i += k + 1;
    }
    return DALE_OK;
}

static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f'; }

/* Tokenise one split: every line's words then "<eos>".  *over_line records
 * the line where the vocabulary first passed `limit` (left 0 if it did not). */
static dale_status read_split(dale_corpus *c, int s, size_t limit, size_t *over_line)
{
    char *buf;
    size_t len = 0;
    dale_status st = dalei_read_file(c->path[s], SIZE_MAX, &buf, &len);
    if (st) return st;
    int32_t *ids = NULL;
    if ((st = check_utf8(c->path[s], (const unsigned char *)buf, len))) goto done;
    /* Upper bound on tokens: words <= (len+1)/2, plus one <eos> per line. */
    size_t lines = len && buf[len - 1] != '\n' ? 1 : 0, words = 0;
    for (size_t i = 0; i < len; i++) lines += buf[i] == '\n';
    for (size_t i = 0; i < len; i++)
        if (!is_space(buf[i]) && buf[i] != '\n' && (i == 0 || is_space(buf[i - 1]) || buf[i - 1] == '\n')) words++;
    if (words == 0) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: empty (no words)", c->path[s]);
        goto done;
    }
    ids = dalei_alloc(words + lines, sizeof(int32_t));
    if (!ids) { st = DALE_ERR_NOMEM; goto done; }
    size_t n = 0, line = 1;
    for (size_t i = 0; i < len;) {
        /* one line: [i, e); a blank line is a single "<eos>" */
        size_t e = i;
        while (e < len && buf[e] != '\n') e++;
        for (size_t p = i; p < e;) {
            while (p < e && is_space(buf[p])) p++;
            size_t q = p;
            while (q < e && !is_space(buf[q])) q++;
            if (q > p) {
                if ((st = intern(c, buf + p, q - p, &ids[n++]))) goto done;
                if (limit && c->nvocab > limit && !*over_line) *over_line = line;
            }
            p = q;
        }
        if ((st = intern(c, "<eos>", 5, &ids[n++]))) goto done;
        if (limit && c->nvocab > limit && !*over_line) *over_line = line;
        line++;
        i = e + 1;
    }
    c->ids[s] = ids;
    c->ntok[s] = n;
    ids = NULL;
done:
    dalei_free(ids);
    dalei_free(buf);
    return st;
}

dale_status dale_corpus_load(const char *dir, size_t vocab_limit, dale_corpus **out)
{
    *out = NULL;
    if (!dir || !dir[0]) return DALE_FAIL(DALE_ERR_ARG, "dale_corpus_load: no corpus directory");
    dale_corpus *c = dalei_calloc(1, sizeof *c);
    if (!c) return DALE_ERR_NOMEM;
    static const char *const base[3] = {"train", "valid", "test"};
    dale_status st = DALE_OK;
    for (int s = 0; s < 3; s++) {
        FILE *f;
        snprintf(c->path[s], sizeof c->path[s], "%s/ptb.%s.txt", dir, base[s]);
        if ((f = fopen(c->path[s], "rb"))) { fclose(f); continue; }
        snprintf(c->path[s], sizeof c->path[s], "%s/%s.txt", dir, base[s]);
        if ((f = fopen(c->path[s], "rb"))) { fclose(f); continue; }
        st = DALE_FAIL(DALE_ERR_IO, "%s/ptb.%s.txt: missing (nor %s/%s.txt): %s", dir, base[s], dir, base[s],
                       strerror(errno));
        goto fail;
    }
    size_t over_line = 0;
    int over_split = -1;
    for (int s = 0; s < 3; s++) {
        if ((st = read_split(c, s, vocab_limit, &over_line))) goto fail;
        if (over_line && over_split < 0) over_split = s;
    }
    if (vocab_limit && c->nvocab > vocab_limit) {
        st = DALE_FAIL(DALE_ERR_ARG,
                       "%s/{train,valid,test}: vocabulary of %zu types exceeds the limit of %zu "
                       "(first passed at %s:%zu); raise --vocab-limit or map rare words to <unk>",
                       dir, c->nvocab, vocab_limit, c->path[over_split], over_line);
        goto fail;
    }
    *out = c;
    return DALE_OK;
fail:
    dale_corpus_free(c);
    return st;
}

void dale_corpus_free(dale_corpus *c)
{
    if (!c) return;
    dalei_free(c->arena);
    dalei_free(c->off);
    dalei_free(c->slots);
    for (int s = 0; s < 3; s++) dalei_free(c->ids[s]);
    dalei_free(c);
}

size_t dale_corpus_vocab(const dale_corpus *c) { return c->nvocab; }

const char *dale_corpus_word(const dale_corpus *c, size_t id) { return id < c->nvocab ? cword(c, id) : NULL; }

long dale_corpus_id(const dale_corpus *c, const char *word)
{
    if (!c->nslots) return -1;
    size_t i = find_slot(c, word, strlen(word));
    return c->slots[i] ? (long)(c->slots[i] - 1) : -1;
}

const int32_t *dale_corpus_tokens(const dale_corpus *c, dale_split s, size_t *n)
{
    *n = c->ntok[s];
    return c->ids[s];
}

const char *dale_corpus_path(const dale_corpus *c, dale_split s) { return c->path[s]; }

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
    size_t cap = 0, len, lineno = 0, D = 0, V = c->nvocab, found = 0;
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
