/* corpus.c — the PTB-format corpus reader of the word-level language
 * modelling task (dale/lm.h).
 *
 * Each split file is read whole (PTB train is 5 MB), checked for UTF-8 and
 * NUL bytes, then tokenised in place.  The vocabulary is an open-addressing
 * hash table (FNV-1a, linear probing, load <= 1/2) over an arena of
 * NUL-terminated words; ids follow first appearance over train, valid, test.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "dale/lm.h"
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
