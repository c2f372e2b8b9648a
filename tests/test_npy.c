/* test_npy.c — NPY/NPZ reading and writing.
 *
 * 1. Round trips of every dtype with 0-d, 1-d, 3-d (and empty) shapes through
 *    .npy and .npz, plus atomic-write hygiene (no temp files left behind).
 * 2. Reference files written by NumPy (tools/ref/make_npy_ref.py, committed
 *    under tests/ref/npy/): v1 and v2 headers, 0-d, np.savez (stored) and
 *    np.savez_compressed (deflated); fortran-order and big-endian refused.
 * 3. Bad inputs: each gives the right status, a message naming the file, and
 *    no leaked allocation.  Every truncation of a valid image is refused.
 * 4. Allocation-failure sweeps over NPY/NPZ reads and writes.
 * Run from the repository root.  Scratch files live in a mkdtemp directory.
 */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dale/npy.h"
#include "internal.h"
#include "check.h"

#define REF "tests/ref/npy/"

static char tmpdir[64];

static void tpath(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", tmpdir, name);
}

/* Whole file into a malloc'd buffer (test-side memory, not dalei_alloc). */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "cannot create %s", path);
    if (!f) return;
    CHECK(fwrite(buf, 1, len, f) == len, "short write to %s", path);
    fclose(f);
}

/* The last error names `name` (a file path or member). */
static int msg_has(const char *name) { return strstr(dale_last_error(), name) != NULL; }

/* Deterministic bytes for an array of `bytes` bytes, varied by `salt`. */
static void fill(unsigned char *p, size_t bytes, unsigned salt)
{
    for (size_t i = 0; i < bytes; i++) p[i] = (unsigned char)((i * 37u + salt * 11u + 5u) & 0xff);
}

/* ---- 1. round trips ------------------------------------------------------ */

static const dale_dtype all_types[] = {DALE_F32, DALE_F64, DALE_I32, DALE_I64, DALE_U8, DALE_U64, DALE_I8};
#define NTYPES (sizeof all_types / sizeof all_types[0])

typedef struct shape_case {
    int ndim;
    size_t shape[3];
} shape_case;
static const shape_case shapes[] = {{0, {0}}, {1, {7}}, {3, {2, 3, 4}}, {2, {0, 3}}};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static size_t case_count(const shape_case *s)
{
    size_t c = 1;
    for (int i = 0; i < s->ndim; i++) c *= s->shape[i];
    return c;
}

static void check_array(const char *label, const dale_array *a, dale_dtype t, const shape_case *s,
                        const void *want)
{
    size_t count = case_count(s);
    CHECK(a->dtype == t, "%s: dtype %d want %d", label, (int)a->dtype, (int)t);
    CHECK(a->ndim == s->ndim, "%s: ndim %d want %d", label, a->ndim, s->ndim);
    for (int i = 0; i < s->ndim && i < a->ndim; i++)
        CHECK(a->shape[i] == s->shape[i], "%s: shape[%d] %zu want %zu", label, i, a->shape[i], s->shape[i]);
    CHECK(a->count == count, "%s: count %zu want %zu", label, a->count, count);
    CHECK(a->data && memcmp(a->data, want, count * dale_dtype_size(t)) == 0, "%s: data differs", label);
}

static void test_dtypes(void)
{
    static const size_t sz[] = {4, 8, 4, 8, 1, 8, 1};
    static const char *const ds[] = {"<f4", "<f8", "<i4", "<i8", "|u1", "<u8", "|i1"};
    for (size_t i = 0; i < NTYPES; i++) {
        CHECK(dale_dtype_size(all_types[i]) == sz[i], "size of dtype %zu", i);
        CHECK(strcmp(dale_dtype_descr(all_types[i]), ds[i]) == 0, "descr of dtype %zu", i);
    }
    CHECK(dale_dtype_size((dale_dtype)99) == 0, "size of a bad dtype must be 0");
}

static void test_npy_roundtrip(void)
{
    long live0 = dalei_alloc_live();
    unsigned char buf[8 * 24];
    char path[256];
    tpath(path, sizeof path, "rt.npy");
    for (size_t ti = 0; ti < NTYPES; ti++) {
        for (size_t si = 0; si < NSHAPES; si++) {
            dale_dtype t = all_types[ti];
            const shape_case *s = &shapes[si];
            fill(buf, case_count(s) * dale_dtype_size(t), (unsigned)(ti * 10 + si));
            char label[64];
            snprintf(label, sizeof label, "npy %s ndim %d", dale_dtype_descr(t), s->ndim);
            CHECK_OK(dale_npy_write(path, t, s->ndim, s->shape, buf));
            dale_array a;
            CHECK_OK(dale_npy_read(path, &a));
            check_array(label, &a, t, s, buf);
            /* The file is a valid image for the in-memory parser too, and its
             * data starts at a multiple of 64 like NumPy's. */
            size_t len;
            unsigned char *img = slurp(path, &len);
            dale_array b;
            CHECK_OK(dale_npy_parse(img, len, "image", &b));
            check_array(label, &b, t, s, buf);
            CHECK(img && (len - case_count(s) * dale_dtype_size(t)) % 64 == 0, "%s: header not padded to 64",
                  label);
            free(img);
            dale_array_free(&a);
            dale_array_free(&b);
        }
    }
    remove(path);
    dale_array_free(NULL);
    CHECK(dalei_alloc_live() == live0, "npy round trip leaked %ld", dalei_alloc_live() - live0);
}

static void test_npz_roundtrip(void)
{
    long live0 = dalei_alloc_live();
    char path[256];
    tpath(path, sizeof path, "rt.npz");
    spit(path, "old contents", 12); /* commit must replace an existing file */
    unsigned char data[NTYPES][NSHAPES][8 * 24];
    dale_npz_writer *w;
    CHECK_OK(dale_npz_writer_create(path, &w));
    for (size_t ti = 0; ti < NTYPES; ti++)
        for (size_t si = 0; si < NSHAPES; si++) {
            char key[32];
            snprintf(key, sizeof key, "t%zu_s%zu", ti, si);
            fill(data[ti][si], case_count(&shapes[si]) * dale_dtype_size(all_types[ti]), (unsigned)(ti + si * 7));
            CHECK_OK(dale_npz_add(w, key, all_types[ti], shapes[si].ndim, shapes[si].shape, data[ti][si]));
        }
    /* Duplicate keys and bad arguments are refused without harming w. */
    size_t one = 1;
    CHECK(dale_npz_add(w, "t0_s0", DALE_F32, 1, &one, data[0][0]) == DALE_ERR_ARG, "duplicate key");
    CHECK(dale_npz_add(w, "", DALE_F32, 1, &one, data[0][0]) == DALE_ERR_ARG, "empty key");
    CHECK(dale_npz_add(w, "x", DALE_F32, 9, &one, data[0][0]) == DALE_ERR_ARG, "ndim 9");
    CHECK(dale_npz_add(w, "x", DALE_F32, 1, &one, NULL) == DALE_ERR_ARG, "NULL data");
    CHECK_OK(dale_npz_writer_commit(w));

    dale_npz *z;
    CHECK_OK(dale_npz_open(path, &z));
    if (z) {
        CHECK(dale_npz_count(z) == NTYPES * NSHAPES, "member count %zu", dale_npz_count(z));
        CHECK(dale_npz_key(z, 0) && strcmp(dale_npz_key(z, 0), "t0_s0") == 0, "first key");
        CHECK(dale_npz_key(z, NTYPES * NSHAPES) == NULL, "key out of range must be NULL");
        CHECK(dale_npz_has(z, "t6_s3") && !dale_npz_has(z, "t6_s3.npy") && !dale_npz_has(z, "nope"), "has");
        for (size_t ti = 0; ti < NTYPES; ti++)
            for (size_t si = 0; si < NSHAPES; si++) {
                char key[32];
                snprintf(key, sizeof key, "t%zu_s%zu", ti, si);
                dale_array a;
                CHECK_OK(dale_npz_read(z, key, &a));
                check_array(key, &a, all_types[ti], &shapes[si], data[ti][si]);
                dale_array_free(&a);
            }
    }
    dale_npz_close(z);
    dale_npz_close(NULL);

    /* An archive with no members (what np.savez() with no arrays writes). */
    CHECK_OK(dale_npz_writer_create(path, &w));
    CHECK_OK(dale_npz_writer_commit(w));
    CHECK_OK(dale_npz_open(path, &z));
    CHECK(z && dale_npz_count(z) == 0, "empty archive has members");
    dale_npz_close(z);
    dale_npz_writer_free(NULL);

    /* Abandoning a writer leaves the target untouched. */
    CHECK_OK(dale_npz_writer_create(path, &w));
    CHECK_OK(dale_npz_add(w, "a", DALE_F32, 1, &one, data[0][0]));
    dale_npz_writer_free(w);
    CHECK_OK(dale_npz_open(path, &z));
    CHECK(z && dale_npz_count(z) == 0, "abandoned writer changed the file");
    dale_npz_close(z);
    remove(path);
    CHECK(dalei_alloc_live() == live0, "npz round trip leaked %ld", dalei_alloc_live() - live0);
}

/* ---- 2. NumPy reference files ------------------------------------------- */

static void test_reference_files(void)
{
    long live0 = dalei_alloc_live();
    dale_array a;

    CHECK_OK(dale_npy_read(REF "f32_2x3.npy", &a));
    CHECK(a.dtype == DALE_F32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3 && a.count == 6,
          "f32_2x3 header");
    if (a.data && a.count == 6) {
        float want[6];
        for (int i = 0; i < 6; i++) want[i] = (float)i * 0.5f - 1.0f;
        check_close("f32_2x3 values", a.data, want, 6, 0, 0);
    }
    dale_array_free(&a);

    CHECK_OK(dale_npy_read(REF "i64_5.npy", &a));
    CHECK(a.dtype == DALE_I64 && a.ndim == 1 && a.shape[0] == 5, "i64_5 header");
    if (a.data && a.count == 5)
        for (int i = 0; i < 5; i++)
            CHECK(((int64_t *)a.data)[i] == (int64_t)(i - 2) * 1000000000000LL, "i64_5[%d]", i);
    dale_array_free(&a);

    CHECK_OK(dale_npy_read(REF "f64_scalar.npy", &a));
    CHECK(a.dtype == DALE_F64 && a.ndim == 0 && a.count == 1, "f64 0-d header");
    CHECK(a.data && ((double *)a.data)[0] == 3.14159265358979311600, "f64 0-d value");
    dale_array_free(&a);

    CHECK_OK(dale_npy_read(REF "v2_i32_3x2.npy", &a));
    CHECK(a.dtype == DALE_I32 && a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 2, "v2 header");
    if (a.data && a.count == 6)
        for (int i = 0; i < 6; i++) CHECK(((int32_t *)a.data)[i] == 7 * i - 3, "v2[%d]", i);
    dale_array_free(&a);

    CHECK(dale_npy_read(REF "fortran.npy", &a) == DALE_ERR_FORMAT, "fortran order must be refused");
    CHECK(msg_has(REF "fortran.npy") && strstr(dale_last_error(), "Fortran"), "msg: %s", dale_last_error());
    CHECK(a.data == NULL, "failed read must leave data NULL");
    CHECK(dale_npy_read(REF "bigendian.npy", &a) == DALE_ERR_FORMAT, "big-endian must be refused");
    CHECK(msg_has(REF "bigendian.npy") && strstr(dale_last_error(), "big-endian"), "msg: %s", dale_last_error());

    /* np.savez: stored members. */
    dale_npz *z;
    CHECK_OK(dale_npz_open(REF "stored.npz", &z));
    if (z) {
        CHECK(dale_npz_count(z) == 3, "stored.npz count %zu", dale_npz_count(z));
        CHECK_OK(dale_npz_read(z, "a", &a));
        CHECK(a.dtype == DALE_F32 && a.count == 6 && a.data && ((float *)a.data)[5] == 1.5f, "stored a");
        dale_array_free(&a);
        CHECK_OK(dale_npz_read(z, "b", &a));
        CHECK(a.dtype == DALE_U8 && a.count == 4 && a.data && ((uint8_t *)a.data)[3] == 253, "stored b");
        dale_array_free(&a);
        CHECK_OK(dale_npz_read(z, "c", &a));
        CHECK(a.dtype == DALE_F64 && a.ndim == 0 && a.data && ((double *)a.data)[0] == 2.718281828459045,
              "stored c");
        dale_array_free(&a);
    }
    dale_npz_close(z);

    /* np.savez_compressed: deflated members. */
    CHECK_OK(dale_npz_open(REF "deflated.npz", &z));
    if (z) {
        CHECK(dale_npz_count(z) == 3, "deflated.npz count %zu", dale_npz_count(z));
        CHECK_OK(dale_npz_read(z, "big", &a));
        CHECK(a.dtype == DALE_F64 && a.ndim == 1 && a.count == 100, "deflated big header");
        if (a.data && a.count == 100) {
            double want[100];
            for (int i = 0; i < 100; i++) want[i] = sin((double)i);
            check_close_d("deflated big = sin(i)", a.data, want, 100, 1e-15, 0);
        }
        dale_array_free(&a);
        CHECK_OK(dale_npz_read(z, "zeros", &a));
        int allzero = a.data != NULL && a.count == 100;
        for (size_t i = 0; allzero && i < a.count; i++) allzero = ((int32_t *)a.data)[i] == 0;
        CHECK(a.dtype == DALE_I32 && a.ndim == 2 && allzero, "deflated zeros");
        dale_array_free(&a);
        CHECK_OK(dale_npz_read(z, "u64", &a));
        CHECK(a.dtype == DALE_U64 && a.count == 3 && a.data &&
                  ((uint64_t *)a.data)[2] == (UINT64_C(1) << 63) + 2,
              "deflated u64");
        dale_array_free(&a);
    }
    dale_npz_close(z);
    CHECK(dalei_alloc_live() == live0, "reference reads leaked %ld", dalei_alloc_live() - live0);
}

/* ---- 3. bad inputs ---------------------------------------------------------- */

/* A v1.0 image with header text `dict` (padded) and `ndata` data bytes. */
static size_t make_image(unsigned char *buf, const char *dict, size_t ndata)
{
    size_t dn = strlen(dict), hlen = dn + 1;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, dict, dn);
    buf[10 + dn] = '\n';
    fill(buf + 11 + dn, ndata, 3);
    return 11 + dn + ndata;
}

/* Write `len` bytes to a temp file, read it with dale_npy_read, expect
 * `want` and a message naming the file (and containing `frag` if given). */
static void expect_npy_file(const char *name, const void *img, size_t len, dale_status want, const char *frag)
{
    char path[256];
    tpath(path, sizeof path, name);
    spit(path, img, len);
    long live0 = dalei_alloc_live();
    dale_array a;
    dale_status st = dale_npy_read(path, &a);
    CHECK(st == want, "%s: status %d want %d (%s)", name, (int)st, (int)want, dale_last_error());
    CHECK(msg_has(path), "%s: message does not name the file: %s", name, dale_last_error());
    if (frag) CHECK(strstr(dale_last_error(), frag) != NULL, "%s: message lacks '%s': %s", name, frag, dale_last_error());
    CHECK(a.data == NULL, "%s: data not NULL after failure", name);
    CHECK(dalei_alloc_live() == live0, "%s: leaked %ld", name, dalei_alloc_live() - live0);
    remove(path);
}

static void test_bad_npy(void)
{
    unsigned char img[1024];
    size_t n;
    const char *good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

    /* Sanity: the hand-made image is valid, and keys in another order, with
     * double quotes, extra spaces and no trailing comma, are fine. */
    n = make_image(img, good, 24);
    dale_array a;
    CHECK_OK(dale_npy_parse(img, n, "hand-made", &a));
    dale_array_free(&a);
    n = make_image(img, " { \"shape\" : ( 2 , 3 ) , \"fortran_order\":False,\"descr\":\"<f4\"}  ", 24);
    CHECK_OK(dale_npy_parse(img, n, "reordered", &a));
    CHECK(a.ndim == 2 && a.shape[1] == 3, "reordered header parsed wrong");
    dale_array_free(&a);

    char missing[256];
    tpath(missing, sizeof missing, "does_not_exist.npy");
    CHECK(dale_npy_read(missing, &a) == DALE_ERR_IO && msg_has(missing), "missing file: %s", dale_last_error());

    n = make_image(img, good, 24);
    expect_npy_file("truncated_data.npy", img, n - 4, DALE_ERR_FORMAT, "truncated");
    expect_npy_file("truncated_header.npy", img, 40, DALE_ERR_FORMAT, "truncated");
    expect_npy_file("tiny.npy", img, 5, DALE_ERR_FORMAT, NULL);
    expect_npy_file("empty.npy", img, 0, DALE_ERR_FORMAT, NULL);
    n = make_image(img, good, 28);
    expect_npy_file("wrong_size.npy", img, n, DALE_ERR_FORMAT, "wrong size");
    n = make_image(img, good, 24);
    img[1] = 'X';
    expect_npy_file("bad_magic.npy", img, n, DALE_ERR_FORMAT, "magic");
    n = make_image(img, good, 24);
    img[6] = 4;
    expect_npy_file("bad_version.npy", img, n, DALE_ERR_FORMAT, "version");

    static const struct { const char *name, *dict, *frag; } garbage[] = {
        {"garbage.npy", "this is not a dict", "dict"},
        {"garbage2.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3) BLAH", NULL},
        {"trailing.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } x", "after"},
        {"dtype.npy", "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", "<c8"},
        {"struct.npy", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }", "structured"},
        {"nokey.npy", "{'descr': '<f4', 'shape': (2, 3), }", "fortran_order"},
        {"dupkey.npy", "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", "duplicate"},
        {"extrakey.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", "'x'"},
        {"badbool.npy", "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", "True or False"},
        {"badshape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", "shape"},
        {"unterminated.npy", "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3), }", NULL},
        {"manydims.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", "dimensions"},
        {"overflow.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
         "overflows"},
        {"hugedim.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
         "overflows"},
        {"lying.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }", "needs"},
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        n = make_image(img, garbage[i].dict, 24);
        expect_npy_file(garbage[i].name, img, n, DALE_ERR_FORMAT, garbage[i].frag);
    }

    /* Header length pointing past the end of the file. */
    n = make_image(img, good, 24);
    img[8] = 0xff;
    img[9] = 0x7f;
    expect_npy_file("hlen_past_end.npy", img, n, DALE_ERR_FORMAT, "header");

    /* Every proper prefix of a valid NumPy file is refused, and random byte
     * corruption never crashes or leaks (the sanitizer build checks memory). */
    size_t len;
    unsigned char *ref = slurp(REF "f32_2x3.npy", &len);
    CHECK(ref != NULL, "cannot read the reference file");
    if (ref) {
        long live0 = dalei_alloc_live();
        int all_refused = 1;
        for (size_t k = 0; k < len; k++) {
            if (dale_npy_parse(ref, k, "prefix", &a) != DALE_ERR_FORMAT) all_refused = 0;
            dale_array_free(&a);
        }
        CHECK(all_refused, "some truncation of f32_2x3.npy was accepted");
        uint64_t x = 88172645463325252u;
        for (int it = 0; it < 2000; it++) {
            unsigned char *c = malloc(len);
            memcpy(c, ref, len);
            for (int f = 0; f < 3; f++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
                c[x % len] = (unsigned char)(x >> 32);
            }
            if (dale_npy_parse(c, len, "fuzz", &a) == DALE_OK)
                CHECK(a.count * dale_dtype_size(a.dtype) <= len, "fuzz: accepted impossible size");
            dale_array_free(&a);
            free(c);
        }
        CHECK(dalei_alloc_live() == live0, "prefix/fuzz parse leaked %ld", dalei_alloc_live() - live0);
        free(ref);
    }

    /* Argument errors. */
    size_t sh = 3;
    char wpath[256];
    tpath(wpath, sizeof wpath, "argerr.npy");
    CHECK(dale_npy_write(wpath, DALE_F32, 1, &sh, NULL) == DALE_ERR_ARG, "write NULL data");
    CHECK(dale_npy_write(wpath, DALE_F32, -1, &sh, img) == DALE_ERR_ARG, "write ndim -1");
    CHECK(dale_npy_write(wpath, (dale_dtype)42, 1, &sh, img) == DALE_ERR_ARG, "write bad dtype");
    CHECK(dale_npy_parse(NULL, 4, "x", &a) == DALE_ERR_ARG, "parse NULL buffer");
    char nodir[300];
    tpath(nodir, sizeof nodir, "no/such/dir.npy");
    CHECK(dale_npy_write(nodir, DALE_F32, 1, &sh, img) == DALE_ERR_IO && msg_has(nodir),
          "write into a missing directory: %s", dale_last_error());
}

static void test_bad_npz(void)
{
    long live0 = dalei_alloc_live();
    char path[256];
    dale_npz *z = NULL;
    dale_array a;

    /* Missing member: DALE_ERR_ARG naming the archive and the member. */
    CHECK_OK(dale_npz_open(REF "stored.npz", &z));
    CHECK(dale_npz_read(z, "nope", &a) == DALE_ERR_ARG, "missing member must be ARG");
    CHECK(msg_has(REF "stored.npz") && msg_has("nope.npy"), "msg: %s", dale_last_error());
    CHECK(a.data == NULL, "missing member left data");
    dale_npz_close(z);

    /* Not a zip (an NPY file), an empty file, a missing file, a cut zip. */
    CHECK(dale_npz_open(REF "f32_2x3.npy", &z) == DALE_ERR_FORMAT && z == NULL, "npy given to npz_open");
    CHECK(msg_has(REF "f32_2x3.npy"), "msg: %s", dale_last_error());
    tpath(path, sizeof path, "empty.npz");
    spit(path, "", 0);
    CHECK(dale_npz_open(path, &z) == DALE_ERR_FORMAT && msg_has(path), "empty npz: %s", dale_last_error());
    remove(path);
    tpath(path, sizeof path, "missing.npz");
    CHECK(dale_npz_open(path, &z) == DALE_ERR_IO && msg_has(path), "missing npz: %s", dale_last_error());

    size_t len;
    unsigned char *zipb = slurp(REF "deflated.npz", &len);
    CHECK(zipb != NULL, "cannot read deflated.npz");
    if (zipb) {
        tpath(path, sizeof path, "cut.npz");
        spit(path, zipb, len / 2);
        CHECK(dale_npz_open(path, &z) == DALE_ERR_FORMAT && msg_has(path), "cut npz: %s", dale_last_error());
        remove(path);

        /* Corrupt the compressed data of the first member (its local header
         * is 30 bytes + name + extra; byte 200 is well inside the deflate
         * stream of "big.npy"): reading it must fail cleanly, naming the
         * archive and member, as a FORMAT error (inflate or CRC failure). */
        unsigned char *c = malloc(len);
        memcpy(c, zipb, len);
        for (size_t i = 150; i < 260; i++) c[i] ^= 0x5a;
        tpath(path, sizeof path, "corrupt.npz");
        spit(path, c, len);
        free(c);
        if (dale_npz_open(path, &z) == DALE_OK) {
            dale_status st = dale_npz_read(z, "big", &a);
            CHECK(st == DALE_ERR_FORMAT, "corrupt member: status %d (%s)", (int)st, dale_last_error());
            CHECK(msg_has(path) && msg_has("big.npy"), "corrupt member msg: %s", dale_last_error());
            CHECK(a.data == NULL, "corrupt member left data");
            dale_npz_close(z);
        } else {
            CHECK(msg_has(path), "corrupt archive msg: %s", dale_last_error());
        }
        remove(path);
        free(zipb);
    }

    /* A member that is not a valid NPY image: error names archive:member. */
    tpath(path, sizeof path, "badmember.npz");
    dale_npz_writer *w;
    size_t sh = 4;
    float v[4] = {1, 2, 3, 4};
    CHECK_OK(dale_npz_writer_create(path, &w));
    CHECK_OK(dale_npz_add(w, "good", DALE_F32, 1, &sh, v));
    CHECK_OK(dale_npz_writer_commit(w));
    /* Flip the magic of the stored member in place ("\x93NUMPY" -> "\x93NUMPX"). */
    unsigned char *b = slurp(path, &len);
    if (b) {
        for (size_t i = 0; i + 6 <= len; i++)
            if (memcmp(b + i, "\x93NUMPY", 6) == 0) { b[i + 5] = 'X'; break; }
        spit(path, b, len);
        free(b);
    }
    if (dale_npz_open(path, &z) == DALE_OK) {
        dale_status st = dale_npz_read(z, "good", &a);
        /* A stored member's CRC no longer matches, but the magic check fires
         * first: either way the message names the member. */
        CHECK(st == DALE_ERR_FORMAT, "bad member: status %d (%s)", (int)st, dale_last_error());
        CHECK(msg_has(path) && msg_has("good.npy"), "bad member msg: %s", dale_last_error());
        dale_npz_close(z);
    } else {
        CHECK(0, "bad member: open failed: %s", dale_last_error());
    }
    remove(path);

    /* A flipped data byte in a stored member: the NPY image still parses,
     * so only the zip CRC can catch it. */
    CHECK_OK(dale_npz_writer_create(path, &w));
    CHECK_OK(dale_npz_add(w, "good", DALE_F32, 1, &sh, v));
    CHECK_OK(dale_npz_writer_commit(w));
    b = slurp(path, &len);
    if (b) {
        for (size_t i = 0; i + 64 + 16 <= len; i++)
            if (memcmp(b + i, "\x93NUMPY", 6) == 0) { b[i + 64] ^= 1; break; } /* data follows the 64-byte header */
        spit(path, b, len);
        free(b);
    }
    if (dale_npz_open(path, &z) == DALE_OK) {
        dale_status st = dale_npz_read(z, "good", &a);
        CHECK(st == DALE_ERR_FORMAT && msg_has(path) && msg_has("good.npy"), "CRC: status %d (%s)", (int)st,
              dale_last_error());
        CHECK(a.data == NULL, "CRC failure left data");
        dale_npz_close(z);
    } else {
        CHECK(0, "CRC: open failed: %s", dale_last_error());
    }
    remove(path);

    /* Writer argument and I/O errors. */
    CHECK(dale_npz_writer_create(NULL, &w) == DALE_ERR_ARG && w == NULL, "writer NULL path");
    tpath(path, sizeof path, "no/such/dir.npz");
    CHECK_OK(dale_npz_writer_create(path, &w));
    CHECK_OK(dale_npz_add(w, "a", DALE_F32, 1, &sh, v));
    CHECK(dale_npz_writer_commit(w) == DALE_ERR_IO && msg_has(path), "commit into missing dir: %s",
          dale_last_error());
    CHECK(dalei_alloc_live() == live0, "bad npz leaked %ld", dalei_alloc_live() - live0);
}

/* ---- 4. allocation-failure sweeps ------------------------------------------ */

/* Run op with the Nth allocation failing, N = 1, 2, ... until it succeeds;
 * every failure must be DALE_ERR_NOMEM and leave no live allocation. */
typedef dale_status (*sweep_op)(void);

static void sweep(const char *name, sweep_op op)
{
    long live0 = dalei_alloc_live();
    int clean = 1, done = 0;
    long n;
    for (n = 1; n < 1000 && !done; n++) {
        dalei_alloc_fail_at(n);
        dale_status st = op();
        dalei_alloc_fail_at(0);
        if (st == DALE_OK) done = 1;
        else if (st != DALE_ERR_NOMEM) {
            CHECK(0, "%s: fail_at(%ld) gave status %d: %s", name, n, (int)st, dale_last_error());
            clean = 0;
        }
        if (dalei_alloc_live() != live0) {
            CHECK(0, "%s: fail_at(%ld) leaked %ld", name, n, dalei_alloc_live() - live0);
            clean = 0;
            break;
        }
    }
    CHECK(done, "%s: never succeeded", name);
    CHECK(clean && n > 2, "%s: sweep (%ld steps) not clean", name, n - 1);
}

static dale_status op_npy_read(void)
{
    dale_array a;
    dale_status st = dale_npy_read(REF "v2_i32_3x2.npy", &a);
    dale_array_free(&a);
    return st;
}

static dale_status op_npz_read(void)
{
    dale_npz *z;
    dale_array a;
    dale_status st = dale_npz_open(REF "deflated.npz", &z);
    if (st) return st;
    const char *keys[] = {"big", "zeros", "u64"};
    for (int i = 0; i < 3 && !st; i++) {
        st = dale_npz_read(z, keys[i], &a);
        dale_array_free(&a);
    }
    dale_npz_close(z);
    return st;
}

static dale_status op_npy_write(void)
{
    char path[256];
    tpath(path, sizeof path, "sweep.npy");
    size_t sh[2] = {2, 2};
    double v[4] = {1, 2, 3, 4};
    return dale_npy_write(path, DALE_F64, 2, sh, v);
}

static dale_status op_npz_write(void)
{
    char path[256];
    tpath(path, sizeof path, "sweep.npz");
    size_t sh[2] = {2, 2};
    double v[4] = {1, 2, 3, 4};
    dale_npz_writer *w;
    dale_status st = dale_npz_writer_create(path, &w);
    if (st) return st;
    for (int i = 0; i < 10 && !st; i++) { /* > 8 members: exercises growth */
        char key[8];
        snprintf(key, sizeof key, "k%d", i);
        st = dale_npz_add(w, key, DALE_F64, 2, sh, v);
    }
    if (st) {
        dale_npz_writer_free(w);
        return st;
    }
    return dale_npz_writer_commit(w);
}

static void test_alloc_failures(void)
{
    sweep("npy read", op_npy_read);
    sweep("npz open+read", op_npz_read);
    sweep("npy write", op_npy_write);
    sweep("npz write", op_npz_write);
}

/* ---- driver --------------------------------------------------------------- */

/* Remove everything in tmpdir; report leftover temp files (".tmp.") which
 * would mean an atomic write forgot to clean up. */
static void cleanup_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    int stray = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (strstr(e->d_name, ".tmp.")) stray++;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        remove(p);
    }
    closedir(d);
    CHECK(stray == 0, "%d temporary files left behind in %s", stray, tmpdir);
    CHECK(rmdir(tmpdir) == 0, "cannot remove %s", tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dale_test_npy.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_dtypes();
    test_npy_roundtrip();
    test_npz_roundtrip();
    test_reference_files();
    test_bad_npy();
    test_bad_npz();
    test_alloc_failures();
    cleanup_tmpdir();
    return check_done("test_npy");
}
