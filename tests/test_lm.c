/* test_lm.c — language modelling data on synthetic files written here: the
 * PTB-format corpus reader (exact ids, first-appearance order over train,
 * valid, test, <eos>, counts) and every bad input; the GloVe-text vector
 * reader (values, D detection, ragged lines, coverage, zero vs random OOV);
 * the streaming wink JSON converter against a whole-file cJSON reference
 * (escapes, exponents, nested members, a token across a 64 KiB chunk edge)
 * and its errors; the verse-dump converter; the lm task's window layout,
 * short final windows and evaluation rows of window+1 tokens; chunking
 * invariance of evaluation; allocation failures without leaks. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "dale/eval.h"
#include "dale/lm.h"
#include "dale/model.h"
#include "internal.h"

static char root[256];

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) { perror(p); exit(1); }
    fwrite(text, 1, len, f);
    fclose(f);
}

static void wf(const char *dir, const char *name, const char *text) { write_file(dir, name, text, strlen(text)); }

static const char *mkdir_in(const char *name)
{
    static char d[8][512];
    static int k;
    char *p = d[k++ % 8];
    snprintf(p, 512, "%s/%s", root, name);
    mkdir(p, 0755);
    return p;
}

static void test_corpus(void)
{
    const char *d = mkdir_in("c1");
    /* a blank line is one <eos>; the last line has no newline in valid */
    wf(d, "ptb.train.txt", " a b \n\n c a\n");
    wf(d, "ptb.valid.txt", "d a");
    wf(d, "ptb.test.txt", "e\t b \r\n");
    dale_corpus *c = NULL;
    CHECK_OK(dale_corpus_load(d, 10, &c));
    if (!c) return;
    CHECK(dale_corpus_vocab(c) == 6, "vocab %zu", dale_corpus_vocab(c));
    const char *order[6] = {"a", "b", "<eos>", "c", "d", "e"};
    for (size_t i = 0; i < 6; i++) {
        const char *w = dale_corpus_word(c, i);
        CHECK(w && !strcmp(w, order[i]), "word %zu is '%s', want '%s'", i, w ? w : "(null)", order[i]);
        CHECK(dale_corpus_id(c, order[i]) == (long)i, "id of %s", order[i]);
    }
    CHECK(dale_corpus_id(c, "zz") == -1, "absent word");
    CHECK(dale_corpus_word(c, 6) == NULL, "word out of range");
    size_t n;
    const int32_t *t = dale_corpus_tokens(c, DALE_SPLIT_TRAIN, &n);
    int32_t want_tr[] = {0, 1, 2, 2, 3, 0, 2};
    CHECK(n == 7, "train tokens %zu", n);
    for (size_t i = 0; i < 7 && i < n; i++) CHECK(t[i] == want_tr[i], "train token %zu: %d", i, t[i]);
    t = dale_corpus_tokens(c, DALE_SPLIT_VAL, &n);
    CHECK(n == 3 && t[0] == 4 && t[1] == 0 && t[2] == 2, "valid tokens (n %zu)", n);
    t = dale_corpus_tokens(c, DALE_SPLIT_TEST, &n);
    CHECK(n == 3 && t[0] == 5 && t[1] == 1 && t[2] == 2, "test tokens (n %zu)", n);
    dale_corpus_free(c);

    /* train.txt / valid.txt / test.txt spelling */
    const char *d2 = mkdir_in("c2");
    wf(d2, "train.txt", "x y\n");
    wf(d2, "valid.txt", "y\n");
    wf(d2, "test.txt", "x\n");
    CHECK_OK(dale_corpus_load(d2, 0, &c));
    if (c) {
        CHECK(dale_corpus_vocab(c) == 3, "short names: vocab %zu", dale_corpus_vocab(c));
        CHECK(strstr(dale_corpus_path(c, DALE_SPLIT_VAL), "/valid.txt") != NULL, "path %s",
              dale_corpus_path(c, DALE_SPLIT_VAL));
    }
    dale_corpus_free(c);
}

static void expect_err(dale_status st, dale_status want, const char *needle, const char *what)
{
    CHECK(st == want, "%s: status %d, want %d (%s)", what, st, want, dale_last_error());
    CHECK(strstr(dale_last_error(), needle) != NULL, "%s: message '%s' lacks '%s'", what, dale_last_error(), needle);
}

static void test_corpus_errors(void)
{
    dale_corpus *c = NULL;
    const char *d = mkdir_in("bad1");
    wf(d, "ptb.train.txt", "a b\n");
    wf(d, "ptb.test.txt", "a\n");
    expect_err(dale_corpus_load(d, 0, &c), DALE_ERR_IO, "ptb.valid.txt: missing", "missing valid");
    CHECK(c == NULL, "no corpus on error");
    wf(d, "ptb.valid.txt", " \n\t\n");
    expect_err(dale_corpus_load(d, 0, &c), DALE_ERR_FORMAT, "ptb.valid.txt: empty", "blank valid");
    wf(d, "ptb.valid.txt", "");
    expect_err(dale_corpus_load(d, 0, &c), DALE_ERR_FORMAT, "ptb.valid.txt: empty", "empty valid");
    /* vocabulary a b <eos> c d e f = 7 types; limit 5 is passed in valid line 2 */
    wf(d, "ptb.valid.txt", "a c\nd e\n");
    wf(d, "ptb.test.txt", "f\n");
    expect_err(dale_corpus_load(d, 5, &c), DALE_ERR_ARG, "vocabulary of 7 types exceeds the limit of 5", "limit");
    CHECK(strstr(dale_last_error(), "ptb.valid.txt:2") != NULL, "limit names file:line: %s", dale_last_error());
    CHECK_OK(dale_corpus_load(d, 7, &c)); /* exactly at the limit */
    dale_corpus_free(c);
    c = NULL;
    /* invalid UTF-8: line 2, byte 4 (0xff), then a truncated sequence, an
     * overlong encoding, a surrogate and a NUL */
    write_file(d, "ptb.test.txt", "ok\nab \xff z\n", 10);
    expect_err(dale_corpus_load(d, 0, &c), DALE_ERR_FORMAT, "ptb.test.txt:2:4: invalid UTF-8", "bad byte");
    write_file(d, "ptb.test.txt", "ok \xc3", 4);
    expect_err(dale_corpus_load(d, 0, &c), DALE_ERR_FORMAT, "ptb.test.txt:1:4: invalid UTF-8", "truncated seq");
    write_file(d, "ptb.test.txt", "\xc0\xaf\n", 3);
    expect_err(dale_corpus_load(d, 0, &c), DALE_ERR_FORMAT, "ptb.test.txt:1:1: invalid UTF-8", "overlong");
    write_file(d, "ptb.test.txt", "x\n\xed\xa0\x80\n", 6);
    expect_err(dale_corpus_load(d, 0, &c), DALE_ERR_FORMAT, "ptb.test.txt:2:1: invalid UTF-8", "surrogate");
    write_file(d, "ptb.test.txt", "a\0b\n", 4);
    expect_err(dale_corpus_load(d, 0, &c), DALE_ERR_FORMAT, "ptb.test.txt:1:2: NUL", "NUL");
    write_file(d, "ptb.test.txt", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n", 15);
    CHECK_OK(dale_corpus_load(d, 0, &c)); /* valid multi-byte words */
    if (c) CHECK(dale_corpus_id(c, "caf\xc3\xa9") >= 0, "UTF-8 word");
    dale_corpus_free(c);
    c = NULL;
    expect_err(dale_corpus_load("/nonexistent/dir", 0, &c), DALE_ERR_IO, "/nonexistent/dir/ptb.train.txt", "no dir");
    CHECK(dalei_alloc_live() == 0, "no leaks after errors (%ld live)", dalei_alloc_live());
}

static void test_vectors(void)
{
    const char *d = mkdir_in("v1");
    wf(d, "ptb.train.txt", "a b c\n");
    wf(d, "ptb.valid.txt", "a\n");
    wf(d, "ptb.test.txt", "b\n");
    dale_corpus *c = NULL;
    CHECK_OK(dale_corpus_load(d, 0, &c));
    if (!c) return;
    char vp[600];
    snprintf(vp, sizeof vp, "%s/vec.txt", d);
    /* ids: a 0, b 1, c 2, <eos> 3; zz is not in the vocabulary; a repeated
     * word keeps its first vector */
    wf(d, "vec.txt", "a 1 2 3\nzz 4 5 6\r\nc -1e-1 0.5 7E2\na 9 9 9\n");
    float *tab = NULL;
    size_t D = 0, cov = 0;
    CHECK_OK(dale_vectors_load(vp, c, 0, 1, &tab, &D, &cov));
    CHECK(D == 3 && cov == 2, "D %zu covered %zu", D, cov);
    if (tab) {
        const float want[12] = {1, 2, 3, 0, 0, 0, -0.1f, 0.5f, 700, 0, 0, 0};
        for (int i = 0; i < 12; i++) CHECK(tab[i] == want[i], "table[%d] = %g, want %g", i, (double)tab[i], (double)want[i]);
    }
    dale_vectors_free(tab);
    /* random OOV: rows of b and <eos> drawn, found rows unchanged, seeded */
    float *r1 = NULL, *r2 = NULL, *r3 = NULL;
    CHECK_OK(dale_vectors_load(vp, c, 1, 7, &r1, &D, &cov));
    CHECK_OK(dale_vectors_load(vp, c, 1, 7, &r2, &D, &cov));
    CHECK_OK(dale_vectors_load(vp, c, 1, 8, &r3, &D, &cov));
    if (r1 && r2 && r3) {
        CHECK(r1[0] == 1 && r1[8] == 700, "found rows kept");
        CHECK(r1[3] != 0 && r1[9] != 0, "OOV rows drawn");
        CHECK(!memcmp(r1, r2, 12 * sizeof(float)), "same seed, same table");
        CHECK(memcmp(r1, r3, 12 * sizeof(float)) != 0, "other seed, other table");
    }
    dale_vectors_free(r1);
    dale_vectors_free(r2);
    dale_vectors_free(r3);
    /* D detection: 5 numbers */
    wf(d, "vec.txt", "q 1 2 3 4 5\nb 1 1 1 1 1\n");
    CHECK_OK(dale_vectors_load(vp, c, 0, 1, &tab, &D, &cov));
    CHECK(D == 5 && cov == 1, "D %zu cov %zu", D, cov);
    dale_vectors_free(tab);
    tab = NULL;
    /* ragged line, a non-number, an empty file */
    wf(d, "vec.txt", "a 1 2\nb 1\n");
    expect_err(dale_vectors_load(vp, c, 0, 1, &tab, &D, &cov), DALE_ERR_FORMAT, "vec.txt:2: 1 numbers, want 2", "ragged");
    wf(d, "vec.txt", "a 1 2\nb 1 2 3\n");
    expect_err(dale_vectors_load(vp, c, 0, 1, &tab, &D, &cov), DALE_ERR_FORMAT, "vec.txt:2: 3 numbers, want 2", "long");
    wf(d, "vec.txt", "a 1 2\nb 1 x2\n");
    expect_err(dale_vectors_load(vp, c, 0, 1, &tab, &D, &cov), DALE_ERR_FORMAT, "vec.txt:2: field 3 ('x2')", "nan");
    wf(d, "vec.txt", "");
    expect_err(dale_vectors_load(vp, c, 0, 1, &tab, &D, &cov), DALE_ERR_FORMAT, "empty", "empty vectors");
    wf(d, "vec.txt", "a\n");
    expect_err(dale_vectors_load(vp, c, 0, 1, &tab, &D, &cov), DALE_ERR_FORMAT, "vec.txt:1: a word without numbers", "no numbers");
    expect_err(dale_vectors_load("/nonexistent/v.txt", c, 0, 1, &tab, &D, &cov), DALE_ERR_IO, "/nonexistent/v.txt", "missing");
    CHECK(tab == NULL, "no table on error");
    dale_corpus_free(c);
    CHECK(dalei_alloc_live() == 0, "no leaks (%ld live)", dalei_alloc_live());
}

/* The converter's output against a whole-file cJSON parse. */
static void check_against_cjson(const char *json_path, const char *out_path, const char *const *vocab, size_t n,
                                size_t D)
{
    FILE *f = fopen(json_path, "rb");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    CHECK(fread(buf, 1, (size_t)len, f) == (size_t)len, "read json");
    buf[len] = 0;
    fclose(f);
    cJSON *root_j = cJSON_Parse(buf);
    CHECK(root_j != NULL, "cJSON parses the test file");
    cJSON *vecs = cJSON_GetObjectItemCaseSensitive(root_j, "vectors");
    FILE *o = fopen(out_path, "r");
    CHECK(o != NULL, "output exists");
    char line[4096];
    size_t k = 0, lines = 0;
    while (o && fgets(line, sizeof line, o)) {
        lines++;
        /* next vocabulary word that the JSON has */
        while (k < n && !cJSON_GetObjectItemCaseSensitive(vecs, vocab[k])) k++;
        CHECK(k < n, "more output lines than words with vectors");
        if (k >= n) break;
        size_t wl = strlen(vocab[k]);
        CHECK(!strncmp(line, vocab[k], wl) && line[wl] == ' ', "line %zu is for '%s': %s", lines, vocab[k], line);
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(vecs, vocab[k]);
        char *p = line + wl;
        for (size_t j = 0; j < D; j++) {
            char *e;
            double v = strtod(p, &e);
            CHECK(e != p && v == cJSON_GetArrayItem(arr, (int)j)->valuedouble, "'%s'[%zu]: %g vs %g", vocab[k], j, v,
                  cJSON_GetArrayItem(arr, (int)j)->valuedouble);
            p = e;
        }
        CHECK(*p == '\n', "'%s': exactly D numbers", vocab[k]);
        k++;
    }
    if (o) fclose(o);
    size_t want = 0;
    for (size_t i = 0; i < n; i++) want += cJSON_GetObjectItemCaseSensitive(vecs, vocab[i]) != NULL;
    CHECK(lines == want, "%zu lines, want %zu", lines, want);
    cJSON_Delete(root_j);
    free(buf);
}

static void test_wink(void)
{
    const char *d = mkdir_in("w1");
    char jp[600], op[600];
    snprintf(jp, sizeof jp, "%s/w.json", d);
    snprintf(op, sizeof op, "%s/out.txt", d);
    /* a long skipped string first, so later tokens cross the 64 KiB chunk edge */
    size_t pad = 65536 - 40;
    char *big = malloc(pad + 2048);
    size_t len = (size_t)sprintf(big, "{\"precision\": 8, \"pad\": \"");
    memset(big + len, 'x', pad);
    len += pad;
    len += (size_t)sprintf(big + len,
                           "\", \"meta\": {\"nested\": [[1, 2, [3, -4.5e-3]], {\"k\": \"y\\\"z\\\\\"}], \"t\": true, "
                           "\"f\": false, \"n\": null, \"e\": [], \"o\": {}},\n"
                           "  \"dimensions\": 3, \"words\": [\"a\", \"b\"],\n"
                           "  \"vectors\": {\"a\": [1e-3, -2.5E+2, 0, 9.9, 0],\n"
                           "    \"b\\u00e9\": [1, 2, 3, 4, 1], \"q\\\"x\": [0.1, 0.2, 0.3, 1, 2],\n"
                           "    \"\\ud83d\\ude00\": [7, 8, 9, 1, 4],"
                           "    \"c\": [-0.0, 1.5e2, 3.25, 4, 3], \"a\": [5, 5, 5, 5, 5]},\n"
                           "  \"unkVector\": [0, 0, 0, 0, -1]}\n");
    write_file(d, "w.json", big, len);
    const char *vocab[] = {"c", "b\xc3\xa9", "missing", "a", "q\"x", "\xf0\x9f\x98\x80"};
    size_t written = 0;
    CHECK_OK(dale_wink_to_glove(jp, vocab, 6, op, &written));
    CHECK(written == 5, "written %zu", written);
    FILE *o = fopen(op, "r");
    char line[256] = "";
    CHECK(o && fgets(line, sizeof line, o) && !strcmp(line, "c -0.0 1.5e2 3.25\n"), "first line verbatim: %s", line);
    CHECK(o && fgets(line, sizeof line, o) && !strcmp(line, "b\xc3\xa9 1 2 3\n"), "escaped word: %s", line);
    CHECK(o && fgets(line, sizeof line, o) && !strcmp(line, "a 1e-3 -2.5E+2 0\n"), "first 'a' wins: %s", line);
    if (o) fclose(o);
    /* the converter's output equals a whole-file parse (first 'a': cJSON
     * keeps the first of a repeated key too) */
    check_against_cjson(jp, op, vocab, 6, 3);
    /* no "dimensions": D from the first vector (count - 2) */
    wf(d, "w.json", "{\"vectors\": {\"a\": [1, 2, 3.5, 4], \"c\": [5, 6, 7, 8]}}");
    CHECK_OK(dale_wink_to_glove(jp, vocab, 6, op, &written));
    CHECK(written == 2, "written %zu", written);
    o = fopen(op, "r");
    CHECK(o && fgets(line, sizeof line, o) && !strcmp(line, "c 5 6\n"), "D from the first vector: %s", line);
    if (o) fclose(o);
    /* errors: wrong length, bad number, truncated, nested vector, trailing text */
    const char *bad[][2] = {
        {"{\"dimensions\": 3, \"vectors\": {\"a\": [1, 2, 3, 4]}}", "1:48: vector of 4 numbers, want 5"},
        {"{\"vectors\": {\"a\": [1, 2, 01, 4]}}", "expected"},
        {"{\"vectors\": {\"a\": [1, 2.e5, 3, 4]}}", "digit expected after '.'"},
        {"{\"vectors\": {\"a\": [1, 2, 3, 4]", "',' or '}' expected"},
        {"{\"vectors\": {\"a\": [1, [2], 3, 4]}}", "a vector entry must be a number"},
        {"{\"vectors\": {}} x", "text after the JSON object"},
        {"{\"x\": 1}", "no \"vectors\" member"},
        {"{\"vectors\": {\"\\u0000\": [1, 2, 3]}}", "NUL"},
        {"{\"vectors\": {\"\\ud800x\": [1, 2, 3]}}", "unpaired surrogate"},
        {"{\"a\": tru}", "bad literal"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wf(d, "w.json", bad[i][0]);
        dale_status st = dale_wink_to_glove(jp, vocab, 6, op, &written);
        CHECK(st == DALE_ERR_FORMAT && strstr(dale_last_error(), bad[i][1]) && strstr(dale_last_error(), "w.json:"),
              "bad json %zu: status %d, message '%s', want '%s'", i, st, dale_last_error(), bad[i][1]);
    }
    /* deep nesting is refused, not a stack overflow */
    char deep[400];
    size_t k = (size_t)sprintf(deep, "{\"m\": ");
    for (int i = 0; i < 100; i++) deep[k++] = '[';
    deep[k] = 0;
    wf(d, "w.json", deep);
    expect_err(dale_wink_to_glove(jp, vocab, 6, op, &written), DALE_ERR_FORMAT, "nesting deeper than 64", "deep");
    expect_err(dale_wink_to_glove("/nonexistent/w.json", vocab, 6, op, &written), DALE_ERR_IO, "/nonexistent/w.json",
               "missing json");
    free(big);
    CHECK(dalei_alloc_live() == 0, "no leaks (%ld live)", dalei_alloc_live());
}

static void test_kjv(void)
{
    const char *d = mkdir_in("k1");
    char dump[600];
    snprintf(dump, sizeof dump, "%s/dump.txt", d);
    /* 40 verses; "the" is most frequent (60), then 40 each of "'s" "and"
     * "house" "king" "men" (ties by byte order: "men" is cut), 40 "zz.." once */
    char text[8192];
    size_t len = 0;
    for (int v = 0; v < 40; v++)
        len += (size_t)sprintf(text + len, "Ge%d:%d The KING's house, 3 men%s and Zz%c%c.\n", v / 10 + 1, v % 10 + 1,
                               v % 2 ? " the" : "", 'a' + v % 26, 'a' + v / 26);
    write_file(d, "dump.txt", text, len);
    size_t counts[4];
    const char *out = mkdir_in("k1/out");
    CHECK_OK(dale_kjv_to_ptb(dump, out, 7, 42, counts));
    /* per verse: the king 's house men and zzN (+ the on odd verses) */
    CHECK(counts[0] + counts[1] + counts[2] == 40 * 7 + 20, "tokens %zu %zu %zu", counts[0], counts[1], counts[2]);
    CHECK(counts[3] == 6 + 40, "types %zu", counts[3]);
    dale_corpus *c = NULL;
    CHECK_OK(dale_corpus_load(out, 0, &c));
    if (c) {
        /* 5 kept words + <unk> + <eos> = vocab 7 */
        CHECK(dale_corpus_vocab(c) == 7, "vocab %zu", dale_corpus_vocab(c));
        CHECK(dale_corpus_id(c, "'s") >= 0 && dale_corpus_id(c, "<unk>") >= 0 && dale_corpus_id(c, "zz3") < 0,
              "apostrophe split and <unk>");
        CHECK(dale_corpus_id(c, "king") >= 0 && dale_corpus_id(c, "men") < 0, "ties broken by byte order");
        size_t n[3];
        for (int s = 0; s < 3; s++) dale_corpus_tokens(c, (dale_split)s, &n[s]);
        /* 40 verses: 2 valid, 2 test, 36 train; <eos> per verse */
        CHECK(n[1] == counts[1] + 2 && n[2] == counts[2] + 2 && n[0] == counts[0] + 36, "split sizes %zu %zu %zu",
              n[0], n[1], n[2]);
        const int32_t *t = dale_corpus_tokens(c, DALE_SPLIT_TRAIN, &n[0]);
        CHECK(!strcmp(dale_corpus_word(c, (size_t)t[0]), "the") && !strcmp(dale_corpus_word(c, (size_t)t[2]), "'s"),
              "first verse starts 'the king 's'");
    }
    dale_corpus_free(c);
    /* same seed, same files; the split depends on the seed */
    size_t c2[4];
    const char *out2 = mkdir_in("k1/out2");
    CHECK_OK(dale_kjv_to_ptb(dump, out2, 7, 42, c2));
    CHECK(!memcmp(counts, c2, sizeof c2), "deterministic");
    wf(d, "empty.txt", "\n\n");
    snprintf(dump, sizeof dump, "%s/empty.txt", d);
    expect_err(dale_kjv_to_ptb(dump, out2, 7, 42, c2), DALE_ERR_FORMAT, "no verses", "empty dump");
    CHECK(dalei_alloc_live() == 0, "no leaks (%ld live)", dalei_alloc_live());
}

/* Corpus with ids = word numbers: train "w0 .. w8" (+ <eos> = id 9). */
static const char *make_task_dir(void)
{
    const char *d = mkdir_in("t1");
    wf(d, "ptb.train.txt", "w0 w1 w2 w3 w4 w5 w6 w7 w8\n");
    wf(d, "ptb.valid.txt", "w1 w2 w3 w4 w5 w6 w7\n");
    wf(d, "ptb.test.txt", "w0 w1 w2\n");
    /* D = 2: (id, -id) so every input can be traced back; <eos> has none */
    char v[512];
    size_t len = 0;
    for (int i = 0; i < 9; i++) len += (size_t)sprintf(v + len, "w%d %d %d\n", i, i, -i);
    write_file(d, "vec.txt", v, len);
    return d;
}

static void test_task_layout(void)
{
    const char *d = make_task_dir();
    char vp[600];
    snprintf(vp, sizeof vp, "%s/vec.txt", d);
    dale_lm_config lc = {d, vp, 0, 2, 3, 0, 0};
    dale_task *t = NULL;
    CHECK_OK(dale_task_lm_create(&lc, &t));
    if (!t) return;
    /* 10 tokens / 2 streams = R 5 rows; stream 0 = tokens 0..4, stream 1 = 5..9 */
    CHECK(t->T == 3 && t->input == 2 && t->output == 10, "T %zu input %zu output %zu", t->T, t->input, t->output);
    CHECK(t->count[DALE_SPLIT_TRAIN] == 4, "start rows %zu", t->count[DALE_SPLIT_TRAIN]);
    CHECK(t->count[DALE_SPLIT_VAL] == 2 && t->count[DALE_SPLIT_TEST] == 1, "eval rows %zu %zu",
          t->count[DALE_SPLIT_VAL], t->count[DALE_SPLIT_TEST]);
    CHECK(t->sample_rows[DALE_SPLIT_TRAIN] == 2 && t->loss == DALE_LOSS_CE_EVERY, "multi-row samples");
    size_t lens[5] = {3, 3, 2, 1, 0};
    for (size_t i = 0; i < 5; i++) CHECK(dale_lm_window_len(t, i) == lens[i], "window %zu has %zu steps", i, dale_lm_window_len(t, i));
    float x[3 * 2 * 2];
    int32_t y[3 * 2];
    for (size_t i = 0; i < 4; i++) {
        size_t idx = i, L = t->steps(t, DALE_SPLIT_TRAIN, &idx, 1);
        CHECK(L == lens[i], "steps(%zu) = %zu", i, L);
        CHECK_OK(t->batch(t, DALE_SPLIT_TRAIN, &idx, 1, x, NULL, y));
        for (size_t tt = 0; tt < L; tt++)
            for (size_t s = 0; s < 2; s++) {
                size_t tok = s * 5 + i + tt, nxt = tok + 1;
                float want = tok < 9 ? (float)tok : 0.0f; /* <eos> has the zero vector */
                CHECK(x[(tt * 2 + s) * 2] == want && x[(tt * 2 + s) * 2 + 1] == -want, "x start %zu t %zu s %zu", i, tt, s);
                CHECK(y[tt * 2 + s] == (int32_t)nxt, "y start %zu t %zu s %zu: %d want %zu", i, tt, s, y[tt * 2 + s], nxt);
            }
    }
    size_t two[2] = {0, 1}, bad = 4;
    CHECK(t->steps(t, DALE_SPLIT_TRAIN, two, 2) == 0, "a training batch is one window");
    CHECK(t->steps(t, DALE_SPLIT_TRAIN, &bad, 1) == 0, "start row out of range");
    CHECK(t->batch(t, DALE_SPLIT_TRAIN, &bad, 1, x, NULL, y) == DALE_ERR_ARG, "batch out of range");
    /* valid: w1..w7 <eos> = ids 1..7, 9; rows of 4: [1 2 3 4] [5 6 7 9] */
    size_t idx[2] = {1, 0};
    CHECK(t->steps(t, DALE_SPLIT_VAL, idx, 2) == 3, "eval steps");
    CHECK_OK(t->batch(t, DALE_SPLIT_VAL, idx, 2, x, NULL, y));
    const int32_t rows[2][4] = {{1, 2, 3, 4}, {5, 6, 7, 9}};
    for (size_t tt = 0; tt < 3; tt++)
        for (size_t b = 0; b < 2; b++) {
            const int32_t *r = rows[idx[b]];
            CHECK(x[(tt * 2 + b) * 2] == (float)r[tt] && y[tt * 2 + b] == r[tt + 1], "val t %zu b %zu", tt, b);
        }
    size_t far = 2;
    CHECK(t->batch(t, DALE_SPLIT_VAL, &far, 1, x, NULL, y) == DALE_ERR_ARG, "eval row out of range");
    CHECK(t->summary && strstr(t->summary, "9 of 10 words covered"), "summary: %s", t->summary ? t->summary : "");
    dale_task_free(t);

    /* reshaping with the reference window: rows of 51, the rest dropped */
    const char *d2 = mkdir_in("t2");
    char *txt = malloc(20000);
    size_t len = 0;
    for (int i = 0; i < 120; i++) len += (size_t)sprintf(txt + len, "w%d%s", i % 9, i % 20 == 19 ? "\n" : " ");
    write_file(d2, "ptb.valid.txt", txt, len); /* 120 words + 6 <eos> = 126 tokens: 2 rows */
    write_file(d2, "ptb.test.txt", txt, 60 * 3); /* 60 words on 3 lines: 63 tokens, 1 row */
    len = 0;
    for (int i = 0; i < 1000; i++) len += (size_t)sprintf(txt + len, "w%d%s", i % 9, i % 10 == 9 ? "\n" : " ");
    write_file(d2, "ptb.train.txt", txt, len); /* 1100 tokens: 17 rows of 64 (1088 used) */
    free(txt);
    lc.corpus = d2;
    lc.streams = 64;
    lc.window = 50;
    CHECK_OK(dale_task_lm_create(&lc, &t));
    if (t) {
        CHECK(t->count[DALE_SPLIT_VAL] == 2, "126 valid tokens -> 2 rows of 51 (%zu)", t->count[DALE_SPLIT_VAL]);
        CHECK(t->count[DALE_SPLIT_TEST] == 1, "63 test tokens -> 1 row (%zu)", t->count[DALE_SPLIT_TEST]);
        CHECK(t->count[DALE_SPLIT_TRAIN] == 16, "1100 tokens / 64 streams = 17 rows, 16 starts (%zu)",
              t->count[DALE_SPLIT_TRAIN]);
        CHECK(dale_lm_window_len(t, 0) == 16 && dale_lm_window_len(t, 15) == 1, "short windows when rows < 51");
    }
    dale_task_free(t);
    t = NULL;
    /* too little data */
    lc.streams = 2000;
    expect_err(dale_task_lm_create(&lc, &t), DALE_ERR_ARG, "too few for 2 rows", "short train");
    lc.streams = 64;
    lc.window = 200;
    expect_err(dale_task_lm_create(&lc, &t), DALE_ERR_ARG, "fewer than one evaluation row of 201", "short valid");
    CHECK(dalei_alloc_live() == 0, "no leaks (%ld live)", dalei_alloc_live());
}

/* Evaluation through dale_batch: chunking does not change the result, the
 * predictions are rows x window, training windows of any length run. */
static void test_eval_chunks(void)
{
    const char *d = make_task_dir();
    char vp[600];
    snprintf(vp, sizeof vp, "%s/vec.txt", d);
    dale_lm_config lc = {d, vp, 0, 2, 3, 0, 0};
    dale_task *t = NULL;
    CHECK_OK(dale_task_lm_create(&lc, &t));
    if (!t) return;
    dale_net_config nc;
    dale_net_config_defaults(&nc);
    nc.type = DALE_MODEL_DANN;
    nc.input = t->input;
    nc.output = t->output;
    nc.layers = 2;
    nc.hidden = 6;
    nc.ndense = 1;
    nc.dense[0] = 5;
    dale_net *net = NULL;
    CHECK_OK(dale_net_create(&nc, &net));
    dale_rng r;
    dale_rng_seed(&r, 3);
    CHECK_OK(dale_net_init(net, &r));
    dale_batch b;
    CHECK_OK(dale_batch_init(&b, net, t, 2));
    double l1, e1, l2, e2;
    CHECK_OK(dale_evaluate(&b, DALE_SPLIT_VAL, 1, &l1, &e1));
    CHECK_OK(dale_evaluate(&b, DALE_SPLIT_VAL, 2, &l2, &e2));
    CHECK(fabs(l1 - l2) < 1e-6 * fabs(l1) && e1 == e2, "chunking: %.9g vs %.9g", l1, l2);
    CHECK(b.npred == 2 * 3, "last chunk predictions %zu", b.npred);
    /* training windows: one sample, all streams; the short final one too */
    double loss;
    size_t corr, i3 = 3, i0 = 0;
    CHECK_OK(dale_batch_run(&b, DALE_SPLIT_TRAIN, &i3, 1, 1, &loss, &corr));
    CHECK(b.npred == 1 * 2 && isfinite(loss), "final window: 1 step x 2 streams (%zu)", b.npred);
    CHECK_OK(dale_batch_run(&b, DALE_SPLIT_TRAIN, &i0, 1, 1, &loss, &corr));
    CHECK(b.npred == 3 * 2, "full window: 3 steps x 2 streams (%zu)", b.npred);
    size_t two[2] = {0, 1};
    CHECK(dale_batch_run(&b, DALE_SPLIT_TRAIN, two, 2, 0, &loss, &corr) == DALE_ERR_SHAPE, "two windows do not fit");
    CHECK_OK(dale_evaluate(&b, DALE_SPLIT_TRAIN, 2, &l1, &e1)); /* every window, one at a time */
    CHECK(isfinite(l1), "train split evaluates");
    CHECK(fabs(dale_lm_perplexity(2.0) - exp(2.0)) < 1e-12 && isnan(dale_lm_perplexity(20.5)) &&
              isnan(dale_lm_perplexity((double)NAN)) && dale_lm_perplexity(20.0) == exp(20.0),
          "perplexity rule");
    dale_batch_free(&b);
    dale_net_free(net);
    dale_task_free(t);
    CHECK(dalei_alloc_live() == 0, "no leaks (%ld live)", dalei_alloc_live());
}

static void test_alloc_failures(void)
{
    const char *d = make_task_dir();
    char vp[600];
    snprintf(vp, sizeof vp, "%s/vec.txt", d);
    dale_lm_config lc = {d, vp, 0, 2, 3, 1, 5};
    int ok = 0, nomem = 0, other = 0;
    for (long n = 1; n < 200 && !ok; n++) {
        dale_task *t = NULL;
        dalei_alloc_fail_at(n);
        dale_status st = dale_task_lm_create(&lc, &t);
        dalei_alloc_fail_at(0);
        if (st == DALE_OK) ok = 1;
        else if (st == DALE_ERR_NOMEM) nomem++;
        else other++;
        dale_task_free(t);
        CHECK(dalei_alloc_live() == 0, "fail at %ld: %ld allocations leaked", n, dalei_alloc_live());
    }
    CHECK(ok && nomem > 5 && other == 0, "task create under failures: ok %d nomem %d other %d", ok, nomem, other);
    const char *vocab[] = {"a", "c"};
    const char *w = mkdir_in("w2");
    char jp[600], op[600];
    snprintf(jp, sizeof jp, "%s/w.json", w);
    snprintf(op, sizeof op, "%s/o.txt", w);
    wf(w, "w.json", "{\"dimensions\": 2, \"vectors\": {\"a\": [1, 2, 3, 4], \"c\": [5, 6, 7, 8]}}");
    ok = nomem = other = 0;
    for (long n = 1; n < 100 && !ok; n++) {
        size_t written;
        dalei_alloc_fail_at(n);
        dale_status st = dale_wink_to_glove(jp, vocab, 2, op, &written);
        dalei_alloc_fail_at(0);
        if (st == DALE_OK) ok = 1;
        else if (st == DALE_ERR_NOMEM) nomem++;
        else other++;
        CHECK(dalei_alloc_live() == 0, "wink fail at %ld: %ld leaked", n, dalei_alloc_live());
    }
    CHECK(ok && nomem > 3 && other == 0, "converter under failures: ok %d nomem %d other %d", ok, nomem, other);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/dale_test_lm.%ld", (long)getpid());
    mkdir(root, 0755);
    test_corpus();
    test_corpus_errors();
    test_vectors();
    test_wink();
    test_kjv();
    test_task_layout();
    test_eval_chunks();
    test_alloc_failures();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0) printf("warning: could not remove %s\n", root);
    return check_done("test_lm");
}
