/* test_idx.c — IDX reader, SHA-256 and the sequential-MNIST task on
 * synthetic files written here: every batch is checked exactly (row-wise,
 * pixel-wise, permuted), the splits and the seeded validation hold-out, and
 * each bad input (wrong magic, truncation, count mismatch, labels out of
 * range, missing or unreadable files) gives a clear error and no leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "dale/data.h"
#include "dale/idx.h"
#include "dale/rng.h"
#include "dale/task.h"
#include "internal.h"

#define NTR 60
#define NTE 20
#define R 28
#define C 28

static char root[256];

static uint8_t pix(size_t s, size_t i) { return (uint8_t)((s * 37 + i * 11 + (i / 28) * 5) % 256); }
static uint8_t lab(size_t s, int test) { return (uint8_t)((s * 3 + (size_t)test) % 10); }

/* Write a full synthetic set into root/name (gz: compressed files). */
static void write_set(const char *name, int gz, size_t ntr, size_t nte)
{
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    mkdir(dir, 0755);
    const char *fn[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                         "t10k-labels-idx1-ubyte"};
    for (int f = 0; f < 2; f++) {
        size_t n = f ? nte : ntr;
        uint8_t *img = malloc(n * R * C), *l = malloc(n);
        for (size_t s = 0; s < n; s++) {
            for (size_t i = 0; i < R * C; i++) img[s * R * C + i] = pix(s + 1000 * (size_t)f, i);
            l[s] = lab(s, f);
        }
        size_t d3[3] = {n, R, C}, d1[1] = {n};
        snprintf(p, sizeof p, "%s/%s%s", dir, fn[2 * f], gz ? ".gz" : "");
        CHECK_OK(dale_idx_write(p, gz, 3, d3, img));
        snprintf(p, sizeof p, "%s/%s%s", dir, fn[2 * f + 1], gz ? ".gz" : "");
        CHECK_OK(dale_idx_write(p, gz, 1, d1, l));
        free(img);
        free(l);
    }
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot create %s", path);
    if (!f) return;
    fwrite(b, 1, n, f);
    fclose(f);
}

static void test_sha256(void)
{
    const struct { const char *msg; const char *hex; } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t k = 0; k < 3; k++) {
        dale_sha256 s;
        uint8_t d[32];
        char hex[65];
        dale_sha256_init(&s);
        dale_sha256_update(&s, v[k].msg, strlen(v[k].msg));
        dale_sha256_final(&s, d);
        dale_sha256_hex(d, hex);
        CHECK(!strcmp(hex, v[k].hex), "sha256('%s') = %s", v[k].msg, hex);
    }
    /* One million 'a', fed in uneven pieces to exercise the buffering. */
    dale_sha256 s;
    uint8_t d[32];
    char hex[65], a[2000];
    memset(a, 'a', sizeof a);
    dale_sha256_init(&s);
    size_t left = 1000000, step = 1;
    while (left) {
        size_t n = step < left ? step : left;
        dale_sha256_update(&s, a, n);
        left -= n;
        step = step % 997 + 63;
    }
    dale_sha256_final(&s, d);
    dale_sha256_hex(d, hex);
    CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "a^1e6 -> %s", hex);
    /* The file hash is the uncompressed one, for plain and gzip alike. */
    char p1[600], p2[600], h1[65], h2[65];
    size_t n1 = 0, n2 = 0;
    snprintf(p1, sizeof p1, "%s/plain/train-labels-idx1-ubyte", root);
    snprintf(p2, sizeof p2, "%s/gz/train-labels-idx1-ubyte.gz", root);
    CHECK_OK(dale_file_sha256(p1, h1, &n1));
    CHECK_OK(dale_file_sha256(p2, h2, &n2));
    CHECK(!strcmp(h1, h2) && n1 == n2 && n1 == 8 + NTR, "plain %s (%zu) vs gz %s (%zu)", h1, n1, h2, n2);
}

static void test_roundtrip(void)
{
    char p[600];
    uint8_t data[2 * 3 * 5];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7);
    size_t dim[3] = {2, 3, 5};
    for (int gz = 0; gz < 2; gz++) {
        snprintf(p, sizeof p, "%s/rt%d.idx", root, gz);
        CHECK_OK(dale_idx_write(p, gz, 3, dim, data));
        dale_idx a;
        CHECK_OK(dale_idx_read(p, 0, &a));
        CHECK(a.ndim == 3 && a.dim[0] == 2 && a.dim[1] == 3 && a.dim[2] == 5 && a.count == 30, "shape");
        CHECK(a.data && !memcmp(a.data, data, 30), "data gz=%d", gz);
        dale_idx_free(&a);
        dale_idx_free(&a); /* idempotent */
    }
}

/* Expect dale_idx_read to fail with `code` and a message containing `want`. */
static void expect_idx_fail(const char *path, size_t max, dale_status code, const char *want)
{
    dale_idx a;
    long live = dalei_alloc_live();
    dale_status st = dale_idx_read(path, max, &a);
    CHECK(st == code, "%s: status %d, want %d (%s)", path, st, code, dale_last_error());
    CHECK(strstr(dale_last_error(), want) && strstr(dale_last_error(), path), "%s: message '%s' lacks '%s'", path,
          dale_last_error(), want);
    CHECK(a.data == NULL && dalei_alloc_live() == live, "no buffer left");
}

static void test_bad_idx(void)
{
    char p[600];
    const uint8_t good[] = {0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4};
    snprintf(p, sizeof p, "%s/raw-magic", root);
    const uint8_t m1[] = {0x12, 0x34, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4};
    write_bytes(p, m1, sizeof m1);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "not an IDX file");
    const uint8_t m2[] = {0, 0, 0x0d, 1, 0, 0, 0, 1, 1, 2, 3, 4};
    write_bytes(p, m2, sizeof m2);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "element type 0x0d");
    const uint8_t m3[] = {0, 0, 8, 0};
    write_bytes(p, m3, sizeof m3);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "0 dimensions");
    const uint8_t m4[] = {0, 0, 8};
    write_bytes(p, m4, sizeof m4);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "too short");
    snprintf(p, sizeof p, "%s/raw-trunc", root);
    write_bytes(p, good, sizeof good - 1);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "truncated");
    write_bytes(p, good, 10);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "holds 2");
    const uint8_t hdr_short[] = {0, 0, 8, 2, 0, 0, 0, 4};
    write_bytes(p, hdr_short, sizeof hdr_short);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "truncated IDX header");
    snprintf(p, sizeof p, "%s/raw-trail", root);
    const uint8_t trail[] = {0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4, 5};
    write_bytes(p, trail, sizeof trail);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "trailing bytes");
    /* Absurd dimensions are refused before allocating (no 16 EB buffer). */
    snprintf(p, sizeof p, "%s/raw-huge", root);
    const uint8_t huge[] = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0};
    write_bytes(p, huge, sizeof huge);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "size limit");
    const uint8_t zero[] = {0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 3};
    write_bytes(p, zero, sizeof zero);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "empty");
    write_bytes(p, good, sizeof good);
    expect_idx_fail(p, 3, DALE_ERR_FORMAT, "size limit");
    /* Truncated gzip: a valid stream cut short. */
    char gz[600];
    snprintf(gz, sizeof gz, "%s/gz/train-images-idx3-ubyte.gz", root);
    FILE *f = fopen(gz, "rb");
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    snprintf(p, sizeof p, "%s/raw-cut.gz", root);
    write_bytes(p, buf, n / 2);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "truncated");
    /* A gzip stream missing only its 8-byte trailer (CRC, length). */
    write_bytes(p, buf, n - 4);
    expect_idx_fail(p, 0, DALE_ERR_FORMAT, "");
    char h[65];
    CHECK(dale_file_sha256(p, h, NULL) == DALE_ERR_FORMAT, "sha256 of a cut gzip fails: %s", dale_last_error());
    /* Missing file; a directory where a file should be. */
    snprintf(p, sizeof p, "%s/nonexistent", root);
    expect_idx_fail(p, 0, DALE_ERR_IO, "No such file");
    expect_idx_fail(root, 0, DALE_ERR_IO, "is a directory");
    CHECK(dale_file_sha256(root, h, NULL) == DALE_ERR_IO, "sha256 of a directory");
}

/* Reference x for one sample, layout by variant. */
static float want_x(size_t s_file, int test, int variant, const size_t *perm, size_t t, size_t i)
{
    size_t s = s_file + (test ? 1000 : 0);
    size_t pos = variant == 0 ? t * C + i : variant == 1 ? t : perm[t];
    return (float)pix(s, pos) / 255.0f;
}

static void check_batch(dale_task *t, dale_split split, const size_t *idx, const size_t *file_idx, size_t B,
                        int variant, const size_t *perm, const char *label)
{
    size_t T = t->T, d = t->input;
    float *x = malloc(T * B * d * sizeof(float)), *want = malloc(T * B * d * sizeof(float));
    int32_t *yi = malloc(B * sizeof(int32_t));
    CHECK_OK(t->batch(t, split, idx, B, x, NULL, yi));
    int test = split == DALE_SPLIT_TEST, labels_ok = 1;
    for (size_t b = 0; b < B; b++) {
        for (size_t k = 0; k < T; k++)
            for (size_t i = 0; i < d; i++)
                want[(k * B + b) * d + i] = want_x(file_idx[b], test, variant, perm, k, i);
        labels_ok &= yi[b] == lab(file_idx[b], test);
    }
    check_close(label, x, want, T * B * d, 0, 0);
    CHECK(!memcmp(x, want, T * B * d * sizeof(float)), "%s: the same bits as (float)p / 255.0f", label);
    CHECK(labels_ok, "%s: labels", label);
    free(x);
    free(want);
    free(yi);
}

static void test_task(const char *set)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", root, set);
    long live = dalei_alloc_live();
    for (int variant = 0; variant < 3; variant++) {
        dale_seqmnist_config cfg = {dir, variant, 7, 0, 0};
        dale_task *t;
        CHECK_OK(dale_task_seqmnist_create(&cfg, &t));
        if (!t) return;
        CHECK(t->T == (variant ? 784u : 28u) && t->input == (variant ? 1u : 28u) && t->output == 10, "shape");
        CHECK(t->loss == DALE_LOSS_CE_LAST, "loss");
        CHECK(t->count[DALE_SPLIT_TRAIN] == NTR && t->count[DALE_SPLIT_VAL] == 0 && t->count[DALE_SPLIT_TEST] == NTE,
              "counts %zu %zu %zu", t->count[0], t->count[1], t->count[2]);
        double sum = 0;
        for (size_t s = 0; s < NTR; s++)
            for (size_t i = 0; i < R * C; i++) sum += pix(s, i);
        double mean = sum / (NTR * R * C * 255.0);
        CHECK(fabs(t->input_mean - mean) < 1e-12, "input mean %.15g want %.15g", t->input_mean, mean);
        size_t perm[784];
        if (variant == 2) {
            dale_rng rng;
            dale_rng_seed(&rng, 7);
            for (size_t k = 0; k < 784; k++) perm[k] = k;
            dale_rng_shuffle(&rng, perm, 784);
            int moved = 0;
            for (size_t k = 0; k < 784; k++) moved += perm[k] != k;
            CHECK(moved > 700, "the permutation moves pixels (%d)", moved);
        }
        size_t idx[4] = {3, 0, NTR - 1, 17};
        char label[64];
        snprintf(label, sizeof label, "%s train batch, variant %d", set, variant);
        check_batch(t, DALE_SPLIT_TRAIN, idx, idx, 4, variant, perm, label);
        size_t tidx[3] = {NTE - 1, 5, 0};
        snprintf(label, sizeof label, "%s test batch, variant %d", set, variant);
        check_batch(t, DALE_SPLIT_TEST, tidx, tidx, 3, variant, perm, label);
        /* Batches larger than the task's gather block (64 samples), with
         * repeats and a partial last block: every pixel value 0..255 occurs. */
        size_t big[150], tbig[131];
        for (size_t b = 0; b < 150; b++) big[b] = (b * 7 + 3) % NTR;
        for (size_t b = 0; b < 131; b++) tbig[b] = (b * 3 + 1) % NTE;
        snprintf(label, sizeof label, "%s train batch of 150, variant %d", set, variant);
        check_batch(t, DALE_SPLIT_TRAIN, big, big, 150, variant, perm, label);
        snprintf(label, sizeof label, "%s test batch of 131, variant %d", set, variant);
        check_batch(t, DALE_SPLIT_TEST, tbig, tbig, 131, variant, perm, label);
        float x[28 * 28];
        int32_t yi[1];
        size_t bad = NTE;
        CHECK(t->batch(t, DALE_SPLIT_TEST, &bad, 1, x, NULL, yi) == DALE_ERR_ARG, "out-of-range sample refused");
        dale_task_free(t);
    }
    CHECK(dalei_alloc_live() == live, "no leak (%ld live, want %ld)", dalei_alloc_live(), live);
}

static void test_paper_split(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/plain", root);
    dale_seqmnist_config cfg = {dir, 0, 0, 1, 11};
    dale_task *t, *t2, *t3;
    CHECK_OK(dale_task_seqmnist_create(&cfg, &t));
    CHECK_OK(dale_task_seqmnist_create(&cfg, &t2));
    cfg.val_seed = 12;
    CHECK_OK(dale_task_seqmnist_create(&cfg, &t3));
    size_t nval = NTR / 6;
    CHECK(t->count[DALE_SPLIT_TRAIN] == NTR - nval && t->count[DALE_SPLIT_VAL] == nval &&
              t->count[DALE_SPLIT_TEST] == NTE, "paper counts %zu %zu %zu", t->count[0], t->count[1], t->count[2]);
    /* Identify each split sample by its label + first pixel: pix(s, 0) = s*37 % 256 is unique for s < 60. */
    int seen[NTR] = {0}, same = 1, differs = 0;
    float x[28 * 28];
    int32_t yi[1];
    for (int sp = 0; sp < 2; sp++) {
        dale_split split = sp ? DALE_SPLIT_VAL : DALE_SPLIT_TRAIN;
        for (size_t k = 0; k < t->count[split]; k++) {
            float x2[28 * 28], x3[28 * 28];
            int32_t y2[1], y3[1];
            CHECK_OK(t->batch(t, split, &k, 1, x, NULL, yi));
            CHECK_OK(t2->batch(t2, split, &k, 1, x2, NULL, y2));
            CHECK_OK(t3->batch(t3, split, &k, 1, x3, NULL, y3));
            same &= !memcmp(x, x2, sizeof x);
            differs |= memcmp(x, x3, sizeof x) != 0;
            long s = -1;
            for (size_t c = 0; c < NTR; c++)
                if ((float)pix(c, 0) / 255.0f == x[0] && (float)pix(c, 1) / 255.0f == x[1]) s = (long)c;
            CHECK(s >= 0 && yi[0] == lab((size_t)s, 0), "sample found, label right");
            if (s >= 0) seen[s] += sp ? 100 : 1;
            if (sp == 1 && s >= 0) {
                size_t fi = (size_t)s;
                check_batch(t, DALE_SPLIT_VAL, &k, &fi, 1, 0, NULL, "validation sample");
            }
        }
    }
    int disjoint = 1, nv = 0;
    for (size_t s = 0; s < NTR; s++) {
        disjoint &= seen[s] == 1 || seen[s] == 100;
        nv += seen[s] == 100;
    }
    CHECK(disjoint && nv == (int)nval, "train and validation partition the file (%d in validation)", nv);
    CHECK(same, "the hold-out is a function of the seed");
    CHECK(differs, "another seed holds out other images");
    dale_task_free(t);
    dale_task_free(t2);
    dale_task_free(t3);
}

/* Copy the plain set into root/name, then damage one file with `fn`. */
static void bad_set(const char *name, const char *file, const void *bytes, size_t n)
{
    write_set(name, 0, NTR, NTE);
    char p[600];
    snprintf(p, sizeof p, "%s/%s/%s", root, name, file);
    if (bytes) write_bytes(p, bytes, n);
}

static void expect_task_fail(const char *name, dale_status code, const char *want)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    dale_seqmnist_config cfg = {dir, 0, 0, 0, 0};
    dale_task *t = (dale_task *)1;
    long live = dalei_alloc_live();
    dale_status st = dale_task_seqmnist_create(&cfg, &t);
    CHECK(st == code && t == NULL, "%s: status %d want %d (%s)", name, st, code, dale_last_error());
    CHECK(strstr(dale_last_error(), want) != NULL, "%s: message '%s' lacks '%s'", name, dale_last_error(), want);
    CHECK(dalei_alloc_live() == live, "%s: no leak", name);
}

static void test_bad_sets(void)
{
    /* Label 10 in the training labels. */
    uint8_t l[8 + NTR] = {0, 0, 8, 1, 0, 0, 0, NTR};
    for (size_t s = 0; s < NTR; s++) l[8 + s] = lab(s, 0);
    l[8 + 13] = 10;
    bad_set("badlabel", "train-labels-idx1-ubyte", l, sizeof l);
    expect_task_fail("badlabel", DALE_ERR_FORMAT, "label 10 of item 13 is out of range");
    /* 59 labels for 60 images. */
    l[7] = NTR - 1;
    l[8 + 13] = 3;
    bad_set("count", "train-labels-idx1-ubyte", l, sizeof l - 1);
    expect_task_fail("count", DALE_ERR_FORMAT, "holds 60 images but train-labels-idx1-ubyte holds 59 labels");
    /* Wrong magic in the test images. */
    const uint8_t m[] = {0x1f, 0x00, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28};
    bad_set("badmagic", "t10k-images-idx3-ubyte", m, sizeof m);
    expect_task_fail("badmagic", DALE_ERR_FORMAT, "not an IDX file");
    /* Test images of another size. */
    write_set("shape", 0, NTR, NTE);
    char p[600];
    snprintf(p, sizeof p, "%s/shape/t10k-images-idx3-ubyte", root);
    uint8_t img[NTE * 14 * 14] = {0};
    size_t d3[3] = {NTE, 14, 14};
    CHECK_OK(dale_idx_write(p, 0, 3, d3, img));
    expect_task_fail("shape", DALE_ERR_FORMAT, "are 14x14, the training images 28x28");
    /* Truncated plain file; truncated gzip. */
    snprintf(p, sizeof p, "%s/plain/train-images-idx3-ubyte", root);
    FILE *f = fopen(p, "rb");
    static uint8_t buf[16 + NTR * R * C];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    bad_set("trunc", "train-images-idx3-ubyte", buf, n - 100);
    expect_task_fail("trunc", DALE_ERR_FORMAT, "truncated");
    write_set("truncgz", 1, NTR, NTE);
    snprintf(p, sizeof p, "%s/truncgz/t10k-images-idx3-ubyte.gz", root);
    f = fopen(p, "rb");
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_bytes(p, buf, n / 2);
    expect_task_fail("truncgz", DALE_ERR_FORMAT, "truncated");
    /* Missing file: names it and the command that fetches it. */
    write_set("missing", 0, NTR, NTE);
    snprintf(p, sizeof p, "%s/missing/t10k-labels-idx1-ubyte", root);
    unlink(p);
    expect_task_fail("missing", DALE_ERR_IO, "t10k-labels-idx1-ubyte: missing");
    expect_task_fail("missing", DALE_ERR_IO, "hint: run `dale data get mnist --data ");
    mkdir(p, 0755); /* a directory where the file should be */
    expect_task_fail("missing", DALE_ERR_IO, "is a directory");
    expect_task_fail("nowhere", DALE_ERR_IO, "train-images-idx3-ubyte: missing");
    write_set("fashion-mnist", 0, NTR, NTE);
    snprintf(p, sizeof p, "%s/fashion-mnist/train-labels-idx1-ubyte", root);
    unlink(p);
    expect_task_fail("fashion-mnist", DALE_ERR_IO, "dale data get fashion-mnist");
}

/* Every allocation failure during create gives NOMEM and no leak. */
static void test_alloc_failures(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/gz", root);
    long live = dalei_alloc_live();
    int clean = 1, reached = 0;
    for (long k = 1; k < 40 && !reached; k++) {
        for (int variant = 2; variant <= 2; variant++) {
            dale_seqmnist_config cfg = {dir, variant, 1, 1, 2};
            dale_task *t = NULL;
            dalei_alloc_fail_at(k);
            dale_status st = dale_task_seqmnist_create(&cfg, &t);
            dalei_alloc_fail_at(0);
            if (st == DALE_OK) { reached = 1; dale_task_free(t); }
            else clean &= st == DALE_ERR_NOMEM && t == NULL;
            clean &= dalei_alloc_live() == live;
        }
    }
    CHECK(clean && reached, "allocation failures: clean %d, success reached %d", clean, reached);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/dale-test-idx-XXXXXX");
    if (!mkdtemp(root)) return 1;
    write_set("plain", 0, NTR, NTE);
    write_set("gz", 1, NTR, NTE);
    test_sha256();
    test_roundtrip();
    test_bad_idx();
    test_task("plain");
    test_task("gz");
    test_paper_split();
    test_bad_sets();
    test_alloc_failures();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) printf("note: could not remove %s\n", root);
    return check_done("test_idx");
}
