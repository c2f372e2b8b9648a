/* lmconv.c — converters for language modelling data: the wink-embeddings
 * JSON to GloVe text (streaming), and a Bible verse dump to PTB format.
 *
 * Streaming JSON: the 307 MB wink file is read in 64 KiB chunks through a
 * byte reader that tracks line and column; a recursive-descent parser (depth
 * limit 64) walks it, skipping every member except "dimensions" and
 * "vectors".  Inside "vectors" each value must be a flat array of numbers
 * (D floats, the l2 norm, the word index); the number texts of vocabulary
 * words are kept verbatim, everything else is discarded as it is read, so
 * peak memory is the kept vectors (about 1 KB per word) plus the chunk.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dale/lm.h"
#include "dale/rng.h"
#include "internal.h"

/* ------------------------------------------------------ byte reader */

#define CHUNK (1 << 16)
#define MAX_DEPTH 64

typedef struct jr {
    FILE *f;
    const char *path;
    unsigned char buf[CHUNK];
    size_t pos, len;
    size_t line, col;
    char *tok;          /* current string or number text, NUL-terminated */
    size_t tlen, tcap;
} jr;

static int jr_peek(jr *r)
{
    if (r->pos == r->len) {
        r->len = fread(r->buf, 1, CHUNK, r->f);
        r->pos = 0;
        if (r->len == 0) return -1;
    }
    return r->buf[r->pos];
}

static int jr_get(jr *r)
{
    int ch = jr_peek(r);
    if (ch < 0) return -1;
    r->pos++;
    if (ch == '\n') { r->line++; r->col = 1; }
    else r->col++;
    return ch;
}

static dale_status jr_err(jr *r, const char *what)
{
    if (ferror(r->f)) return DALE_FAIL(DALE_ERR_IO, "%s: read error", r->path);
    return DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu:%zu: %s", r->path, r->line, r->col, what);
}

static void skip_ws(jr *r)
{
    int ch;
    while ((ch = jr_peek(r)) == ' ' || ch == '\t' || ch == '\n' || ch == '\r') jr_get(r);
}

static dale_status tok_put(jr *r, char ch)
{
    if (r->tlen + 2 > r->tcap) {
        size_t cap = r->tcap ? r->tcap * 2 : 256;
        char *t = dalei_realloc(r->tok, cap, 1);
        if (!t) return DALE_ERR_NOMEM;
        r->tok = t;
        r->tcap = cap;
    }
    r->tok[r->tlen++] = ch;
    r->tok[r->tlen] = '\0';
    return DALE_OK;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static dale_status read_u4(jr *r, unsigned *u)
{
    *u = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(jr_get(r));
        if (h < 0) return jr_err(r, "bad \\u escape");
        *u = *u * 16 + (unsigned)h;
    }
    return DALE_OK;
}

/* A JSON string (the opening quote next), decoded to UTF-8 into r->tok. */
static dale_status parse_string(jr *r)
{
    dale_status st;
    r->tlen = 0;
    if ((st = tok_put(r, 0))) return st;
    r->tlen = 0;
    if (jr_get(r) != '"') return jr_err(r, "expected a string");
    for (;;) {
        int ch = jr_get(r);
        if (ch < 0) return jr_err(r, "end of file inside a string");
        if (ch == '"') return DALE_OK;
        if (ch < 0x20) return jr_err(r, "control character inside a string");
        if (ch != '\\') {
            if ((st = tok_put(r, (char)ch))) return st;
            continue;
        }
        ch = jr_get(r);
        const char *map = "\"\"\\\\//b\bf\fn\nr\rt\t";
        const char *m = ch > 0 ? strchr(map, ch) : NULL;
        if (m && ((m - map) % 2) == 0) {
            if ((st = tok_put(r, m[1]))) return st;
            continue;
        }
        if (ch != 'u') return jr_err(r, "bad escape in a string");
        unsigned u;
        if ((st = read_u4(r, &u))) return st;
        if (u >= 0xD800 && u <= 0xDBFF) { /* surrogate pair */
            unsigned lo;
            if (jr_get(r) != '\\' || jr_get(r) != 'u') return jr_err(r, "unpaired surrogate in \\u escape");
            if ((st = read_u4(r, &lo))) return st;
            if (lo < 0xDC00 || lo > 0xDFFF) return jr_err(r, "unpaired surrogate in \\u escape");
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else if (u >= 0xDC00 && u <= 0xDFFF)
            return jr_err(r, "unpaired surrogate in \\u escape");
        if (u == 0) return jr_err(r, "\\u0000 (NUL) in a string");
        char e[4];
        int n;
        if (u < 0x80) { e[0] = (char)u; n = 1; }
        else if (u < 0x800) { e[0] = (char)(0xC0 | (u >> 6)); e[1] = (char)(0x80 | (u & 63)); n = 2; }
        else if (u < 0x10000) {
            e[0] = (char)(0xE0 | (u >> 12)); e[1] = (char)(0x80 | ((u >> 6) & 63)); e[2] = (char)(0x80 | (u & 63)); n = 3;
        } else {
            e[0] = (char)(0xF0 | (u >> 18)); e[1] = (char)(0x80 | ((u >> 12) & 63));
            e[2] = (char)(0x80 | ((u >> 6) & 63)); e[3] = (char)(0x80 | (u & 63)); n = 4;
        }
        for (int k = 0; k < n; k++)
            if ((st = tok_put(r, e[k]))) return st;
    }
}

/* A JSON number (RFC 8259 grammar), its text into r->tok. */
static dale_status parse_number(jr *r)
{
    dale_status st;
    r->tlen = 0;
    if ((st = tok_put(r, 0))) return st;
    r->tlen = 0;
    int ch = jr_peek(r);
#define TAKE() do { if ((st = tok_put(r, (char)jr_get(r)))) return st; ch = jr_peek(r); } while (0)
    if (ch == '-') TAKE();
    if (ch == '0') TAKE();
    else if (ch >= '1' && ch <= '9') { while (ch >= '0' && ch <= '9') TAKE(); }
    else return jr_err(r, "expected a value");
    if (ch == '.') {
        TAKE();
        if (!(ch >= '0' && ch <= '9')) return jr_err(r, "digit expected after '.'");
        while (ch >= '0' && ch <= '9') TAKE();
    }
    if (ch == 'e' || ch == 'E') {
        TAKE();
        if (ch == '+' || ch == '-') TAKE();
        if (!(ch >= '0' && ch <= '9')) return jr_err(r, "digit expected in the exponent");
        while (ch >= '0' && ch <= '9') TAKE();
    }
#undef TAKE
    return DALE_OK;
}

static dale_status expect_lit(jr *r, const char *lit)
{
    for (const char *p = lit; *p; p++)
        if (jr_get(r) != *p) return jr_err(r, "bad literal (true, false or null expected)");
    return DALE_OK;
}

/* Skip any value. */
static dale_status skip_value(jr *r, int depth)
{
    dale_status st;
    if (depth > MAX_DEPTH) return jr_err(r, "nesting deeper than 64");
    skip_ws(r);
    int ch = jr_peek(r);
    if (ch == '"') return parse_string(r);
    if (ch == 't') return expect_lit(r, "true");
    if (ch == 'f') return expect_lit(r, "false");
    if (ch == 'n') return expect_lit(r, "null");
    if (ch == '[' || ch == '{') {
        int obj = ch == '{', close = obj ? '}' : ']';
        jr_get(r);
        skip_ws(r);
        if (jr_peek(r) == close) { jr_get(r); return DALE_OK; }
        for (;;) {
            if (obj) {
                skip_ws(r);
                if ((st = parse_string(r))) return st;
                skip_ws(r);
                if (jr_get(r) != ':') return jr_err(r, "':' expected");
            }
            if ((st = skip_value(r, depth + 1))) return st;
            skip_ws(r);
            ch = jr_get(r);
            if (ch == close) return DALE_OK;
            if (ch != ',') return jr_err(r, obj ? "',' or '}' expected" : "',' or ']' expected");
        }
    }
    return parse_number(r);
}

/* ---------------------------------------------------- vocabulary set */

typedef struct vset {
    const char *const *words;
    size_t n, nslots;
    size_t *slots; /* index + 1 */
} vset;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static long vset_find(const vset *v, const char *w)
{
    size_t mask = v->nslots - 1;
    for (size_t i = (size_t)hash_str(w) & mask; v->slots[i]; i = (i + 1) & mask)
        if (!strcmp(v->words[v->slots[i] - 1], w)) return (long)(v->slots[i] - 1);
    return -1;
}

static dale_status vset_build(vset *v, const char *const *words, size_t n)
{
    v->words = words;
    v->n = n;
    v->nslots = 16;
    while (v->nslots < 2 * n + 2) v->nslots *= 2;
    v->slots = dalei_calloc(v->nslots, sizeof(size_t));
    if (!v->slots) return DALE_ERR_NOMEM;
    for (size_t k = 0; k < n; k++) {
        if (vset_find(v, words[k]) >= 0) continue; /* a repeated word: first wins */
        size_t mask = v->nslots - 1, i = (size_t)hash_str(words[k]) & mask;
        while (v->slots[i]) i = (i + 1) & mask;
        v->slots[i] = k + 1;
    }
    return DALE_OK;
}

/* ------------------------------------------------------- wink → GloVe */

typedef struct wink {
    jr *r;
    vset vs;
    char **kept;   /* per vocab word: "v1 ... vD" or NULL */
    long D;        /* -1 until known */
    char *line;    /* number texts of the current vector */
    size_t llen, lcap;
} wink;

static dale_status line_add(wink *w, const char *s)
{
    size_t n = strlen(s);
    if (w->llen + n + 2 > w->lcap) {
        size_t cap = w->lcap ? w->lcap : 4096;
        while (cap < w->llen + n + 2) cap *= 2;
        char *l = dalei_realloc(w->line, cap, 1);
        if (!l) return DALE_ERR_NOMEM;
        w->line = l;
        w->lcap = cap;
    }
    if (w->llen) w->line[w->llen++] = ' ';
    memcpy(w->line + w->llen, s, n + 1);
    w->llen += n;
    return DALE_OK;
}

/* The "vectors" object: {word: [D floats, norm, index], ...}. */
static dale_status parse_vectors(wink *w)
{
    jr *r = w->r;
    dale_status st;
    skip_ws(r);
    if (jr_get(r) != '{') return jr_err(r, "\"vectors\" must be an object");
    skip_ws(r);
    if (jr_peek(r) == '}') { jr_get(r); return DALE_OK; }
    for (;;) {
        skip_ws(r);
        if ((st = parse_string(r))) return st;
        long id = vset_find(&w->vs, r->tok);
        if (id >= 0 && w->kept[id]) id = -1; /* a repeated key: first wins */
        skip_ws(r);
        if (jr_get(r) != ':') return jr_err(r, "':' expected");
        skip_ws(r);
        if (jr_get(r) != '[') return jr_err(r, "a vector must be an array of numbers");
        size_t count = 0;
        w->llen = 0;
        skip_ws(r);
        if (jr_peek(r) == ']') jr_get(r);
        else
            for (;;) {
                skip_ws(r);
                int ch = jr_peek(r);
                if (ch != '-' && !(ch >= '0' && ch <= '9')) return jr_err(r, "a vector entry must be a number");
                if ((st = parse_number(r))) return st;
                /* Keep the first D texts (all, while D is unknown). */
                if (id >= 0 && (w->D < 0 || (long)count < w->D) && (st = line_add(w, r->tok))) return st;
                count++;
                skip_ws(r);
                ch = jr_get(r);
                if (ch == ']') break;
                if (ch != ',') return jr_err(r, "',' or ']' expected in a vector");
            }
        if (w->D < 0) {
            /* No "dimensions" before the vectors: the first vector says (D + 2). */
            if (count < 3) return jr_err(r, "a vector needs D numbers, the norm and the index");
            w->D = (long)count - 2;
            if (id >= 0) { /* drop the norm and the index texts */
                for (int k = 0; k < 2; k++) {
                    char *sp = strrchr(w->line, ' ');
                    if (sp) *sp = '\0';
                }
                w->llen = strlen(w->line);
            }
        }
        if ((long)count != w->D + 2) {
            char msg[128];
            snprintf(msg, sizeof msg, "vector of %zu numbers, want %ld (D = %ld, then the norm and the index)", count,
                     w->D + 2, w->D);
            return jr_err(r, msg);
        }
        if (id >= 0) {
            if (!(w->kept[id] = dalei_alloc(w->llen + 1, 1))) return DALE_ERR_NOMEM;
            memcpy(w->kept[id], w->line, w->llen + 1);
        }
        skip_ws(r);
        int ch = jr_get(r);
        if (ch == '}') return DALE_OK;
        if (ch != ',') return jr_err(r, "',' or '}' expected between vectors");
    }
}

dale_status dale_wink_to_glove(const char *json_path, const char *const *vocab, size_t n, const char *out_path,
                               size_t *written)
{
    wink w;
    memset(&w, 0, sizeof w);
    w.D = -1;
    char *out = NULL;
    dale_status st = DALE_OK;
    jr *r = dalei_calloc(1, sizeof *r);
    if (!r) return DALE_ERR_NOMEM;
    w.r = r;
    r->path = json_path;
    r->line = r->col = 1;
    if (!(r->f = fopen(json_path, "rb"))) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", json_path, strerror(errno));
        goto cleanup;
    }
    if ((st = vset_build(&w.vs, vocab, n))) goto cleanup;
    if (!(w.kept = dalei_calloc(n ? n : 1, sizeof(char *)))) { st = DALE_ERR_NOMEM; goto cleanup; }
    skip_ws(r);
    if (jr_get(r) != '{') { st = jr_err(r, "the file must hold a JSON object"); goto cleanup; }
    int have_vectors = 0;
    skip_ws(r);
    if (jr_peek(r) == '}') jr_get(r);
    else
        for (;;) {
            skip_ws(r);
            if ((st = parse_string(r))) goto cleanup;
            int dims = !strcmp(r->tok, "dimensions"), vecs = !strcmp(r->tok, "vectors");
            skip_ws(r);
            if (jr_get(r) != ':') { st = jr_err(r, "':' expected"); goto cleanup; }
            if (vecs) {
                if (have_vectors) { st = jr_err(r, "a second \"vectors\" member"); goto cleanup; }
                have_vectors = 1;
                if ((st = parse_vectors(&w))) goto cleanup;
            } else if (dims) {
                skip_ws(r);
                if ((st = parse_number(r))) goto cleanup;
                char *e;
                long d = strtol(r->tok, &e, 10);
                if (*e || d < 1 || d > 100000) { st = jr_err(r, "\"dimensions\" must be an integer in 1..100000"); goto cleanup; }
                if (have_vectors && d != w.D) { st = jr_err(r, "\"dimensions\" disagrees with the vectors"); goto cleanup; }
                w.D = d;
            } else if ((st = skip_value(r, 1))) goto cleanup;
            skip_ws(r);
            int ch = jr_get(r);
            if (ch == '}') break;
            if (ch != ',') { st = jr_err(r, "',' or '}' expected"); goto cleanup; }
        }
    skip_ws(r);
    if (jr_peek(r) >= 0) { st = jr_err(r, "text after the JSON object"); goto cleanup; }
    if (ferror(r->f)) { st = DALE_FAIL(DALE_ERR_IO, "%s: read error", json_path); goto cleanup; }
    if (!have_vectors) { st = DALE_FAIL(DALE_ERR_FORMAT, "%s: no \"vectors\" member", json_path); goto cleanup; }
    /* Output: one "word v1 ... vD" line per kept word, in vocabulary order. */
    size_t total = 1, cnt = 0;
    for (size_t k = 0; k < n; k++)
        if (w.kept[k]) total += strlen(vocab[k]) + strlen(w.kept[k]) + 2;
    if (!(out = dalei_alloc(total, 1))) { st = DALE_ERR_NOMEM; goto cleanup; }
    size_t len = 0;
    for (size_t k = 0; k < n; k++) {
        if (!w.kept[k]) continue;
        len += (size_t)sprintf(out + len, "%s %s\n", vocab[k], w.kept[k]);
        cnt++;
    }
    if ((st = dalei_write_file_atomic(out_path, out, len))) goto cleanup;
    if (written) *written = cnt;
cleanup:
    if (r->f) fclose(r->f);
    dalei_free(r->tok);
    dalei_free(r);
    dalei_free(w.line);
    dalei_free(w.vs.slots);
    if (w.kept)
        for (size_t k = 0; k < n; k++) dalei_free(w.kept[k]);
    dalei_free(w.kept);
    dalei_free(out);
    return st;
}

/* ------------------------------------------------------- verses → PTB */

typedef struct kjv {
    char *text;       /* all word tokens, NUL-separated */
    size_t tlen, tcap;
    size_t *tok;      /* offset of each token */
    size_t ntok, kcap;
    size_t *vstart;   /* first token of each verse (nverse + 1 entries) */
    size_t nverse, vcap;
} kjv;

static dale_status push_tok(kjv *k, const char *s, size_t n)
{
    if (k->tlen + n + 1 > k->tcap) {
        size_t cap = k->tcap ? k->tcap * 2 : 1 << 20;
        while (cap < k->tlen + n + 1) cap *= 2;
        char *t = dalei_realloc(k->text, cap, 1);
        if (!t) return DALE_ERR_NOMEM;
        k->text = t;
        k->tcap = cap;
    }
    if (k->ntok == k->kcap) {
        size_t cap = k->kcap ? k->kcap * 2 : 1 << 16;
        size_t *t = dalei_realloc(k->tok, cap, sizeof(size_t));
        if (!t) return DALE_ERR_NOMEM;
        k->tok = t;
        k->kcap = cap;
    }
    k->tok[k->ntok++] = k->tlen;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        k->text[k->tlen++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    k->text[k->tlen++] = '\0';
    return DALE_OK;
}

static dale_status push_verse(kjv *k)
{
    if (k->nverse + 2 > k->vcap) {
        size_t cap = k->vcap ? k->vcap * 2 : 1 << 12;
        size_t *v = dalei_realloc(k->vstart, cap, sizeof(size_t));
        if (!v) return DALE_ERR_NOMEM;
        k->vstart = v;
        k->vcap = cap;
    }
    k->vstart[k->nverse++] = k->ntok;
    return DALE_OK;
}

static int is_alpha(int ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }

/* Tokenise one verse text [p, e). */
static dale_status verse_tokens(kjv *k, const char *p, const char *e)
{
    dale_status st;
    while (p < e) {
        if (!is_alpha((unsigned char)*p)) { p++; continue; }
        const char *q = p;
        while (q < e && is_alpha((unsigned char)*q)) q++;
        if ((st = push_tok(k, p, (size_t)(q - p)))) return st;
        p = q;
        /* "king's" -> "king" "'s": an apostrophe between letters starts a token. */
        if (p + 1 < e && *p == '\'' && is_alpha((unsigned char)p[1])) {
            q = p + 1;
            while (q < e && is_alpha((unsigned char)*q)) q++;
            if ((st = push_tok(k, p, (size_t)(q - p)))) return st;
            p = q;
        }
    }
    return DALE_OK;
}

static const char *g_text; /* qsort context (single-threaded converter) */

static int cmp_tok(const void *a, const void *b)
{
    return strcmp(g_text + *(const size_t *)a, g_text + *(const size_t *)b);
}

typedef struct type_count {
    size_t off, count;
} type_count;

static int cmp_freq(const void *a, const void *b)
{
    const type_count *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(g_text + x->off, g_text + y->off);
}

dale_status dale_kjv_to_ptb(const char *dump_path, const char *out_dir, size_t vocab, uint64_t seed, size_t counts[4])
{
    kjv k;
    memset(&k, 0, sizeof k);
    char *buf = NULL, *out = NULL;
    size_t len = 0, *sorted = NULL, *perm = NULL;
    type_count *types = NULL;
    unsigned char *keep = NULL, *split = NULL;
    dale_status st = dalei_read_file(dump_path, SIZE_MAX, &buf, &len);
    if (st) return st;
    /* Verses: "REF text" per line; the reference is the first field. */
    for (char *p = buf; p < buf + len;) {
        char *e = memchr(p, '\n', (size_t)(buf + len - p));
        if (!e) e = buf + len;
        char *q = p;
        while (q < e && *q != ' ') q++;
        if (q < e && q > p) {
            if ((st = push_verse(&k)) || (st = verse_tokens(&k, q, e))) goto cleanup;
            if (k.vstart[k.nverse - 1] == k.ntok) k.nverse--; /* a verse without words */
        }
        p = e + 1;
    }
    if (k.nverse == 0) { st = DALE_FAIL(DALE_ERR_FORMAT, "%s: no verses (want lines \"REF text\")", dump_path); goto cleanup; }
    if ((st = push_verse(&k))) goto cleanup; /* sentinel */
    k.nverse--;
    /* Types and counts: sort token offsets by string, count runs. */
    g_text = k.text;
    sorted = dalei_alloc(k.ntok, sizeof(size_t));
    types = dalei_alloc(k.ntok, sizeof(type_count));
    if (!sorted || !types) { st = DALE_ERR_NOMEM; goto cleanup; }
    {
        size_t *offs = dalei_alloc(k.ntok, sizeof(size_t));
        if (!offs) { st = DALE_ERR_NOMEM; goto cleanup; }
        for (size_t i = 0; i < k.ntok; i++) offs[i] = k.tok[i];
        qsort(offs, k.ntok, sizeof(size_t), cmp_tok);
        size_t nt = 0;
        for (size_t i = 0; i < k.ntok; i++) {
            if (i == 0 || strcmp(k.text + offs[i], k.text + offs[i - 1])) types[nt++] = (type_count){offs[i], 0};
            types[nt - 1].count++;
        }
        dalei_free(offs);
        if (counts) counts[3] = nt;
        /* rank by frequency (ties: byte order), keep the top vocab - 2
         * (<unk> and <eos> complete the vocabulary) */
        qsort(types, nt, sizeof(type_count), cmp_freq);
        size_t nkeep = vocab > 2 ? vocab - 2 : 0;
        if (nkeep > nt) nkeep = nt;
        /* kept words, sorted by string for binary search */
        for (size_t i = 0; i < nkeep; i++) sorted[i] = types[i].off;
        qsort(sorted, nkeep, sizeof(size_t), cmp_tok);
        if (!(keep = dalei_calloc(k.ntok, 1))) { st = DALE_ERR_NOMEM; goto cleanup; }
        for (size_t i = 0; i < k.ntok; i++) {
            size_t off = k.tok[i];
            const size_t *hit = bsearch(&off, sorted, nkeep, sizeof(size_t), cmp_tok);
            keep[i] = hit != NULL;
        }
    }
    /* Split verses 90/5/5 by a seeded shuffle; files keep Bible order. */
    if (!(perm = dalei_alloc(k.nverse, sizeof(size_t))) || !(split = dalei_alloc(k.nverse, 1))) {
        st = DALE_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t v = 0; v < k.nverse; v++) perm[v] = v;
    dale_rng rng;
    dale_rng_seed(&rng, seed);
    dale_rng_shuffle(&rng, perm, k.nverse);
    size_t nval = k.nverse * 5 / 100, ntest = k.nverse * 5 / 100, ntrain = k.nverse - nval - ntest;
    for (size_t j = 0; j < k.nverse; j++) split[perm[j]] = j < ntrain ? 0 : j < ntrain + nval ? 1 : 2;
    if (!(out = dalei_alloc(k.tlen + 6 * k.ntok + k.nverse + 16, 1))) { st = DALE_ERR_NOMEM; goto cleanup; }
    static const char *const names[3] = {"ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"};
    for (int s = 0; s < 3; s++) {
        size_t o = 0, nt = 0;
        for (size_t v = 0; v < k.nverse; v++) {
            if (split[v] != s) continue;
            for (size_t i = k.vstart[v]; i < k.vstart[v + 1]; i++) {
                const char *w = keep[i] ? k.text + k.tok[i] : "<unk>";
                size_t wl = strlen(w);
                if (i > k.vstart[v]) out[o++] = ' ';
                memcpy(out + o, w, wl);
                o += wl;
                nt++;
            }
            out[o++] = '\n';
        }
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", out_dir, names[s]);
        if ((st = dalei_write_file_atomic(path, out, o))) goto cleanup;
        if (counts) counts[s] = nt;
    }
cleanup:
    dalei_free(buf);
    dalei_free(out);
    dalei_free(sorted);
    dalei_free(types);
    dalei_free(keep);
    dalei_free(split);
    dalei_free(perm);
    dalei_free(k.text);
    dalei_free(k.tok);
    dalei_free(k.vstart);
    return st;
}
