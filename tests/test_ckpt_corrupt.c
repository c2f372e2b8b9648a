/* test_ckpt_corrupt.c — rewriting one member of an NPZ, for the corrupt
 * checkpoint tests (tests/test_ckpt_corrupt.sh).
 *
 *   test_ckpt_corrupt set IN OUT MEMBER INDEX VALUE
 *       copies every member of IN to OUT with element INDEX of MEMBER (or
 *       every element: INDEX "all") set to VALUE (a number; "nan", "inf"
 *       for floats), keeping each member's dtype and shape.
 *   test_ckpt_corrupt
 *       checks that rewrite on an archive made here: the changed element
 *       reads back changed, everything else unchanged.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "dale/status.h"
#include "dale/npy.h"

static void set_elem(dale_array *a, size_t k, const char *v)
{
    void *d = a->data;
    switch (a->dtype) {
    case DALE_F32: ((float *)d)[k] = (float)strtod(v, NULL); break;
    case DALE_F64: ((double *)d)[k] = strtod(v, NULL); break;
    case DALE_I32: ((int32_t *)d)[k] = (int32_t)strtol(v, NULL, 10); break;
    case DALE_I64: ((int64_t *)d)[k] = (int64_t)strtoll(v, NULL, 10); break;
    case DALE_U64: ((uint64_t *)d)[k] = (uint64_t)strtoull(v, NULL, 10); break;
    case DALE_U8: ((uint8_t *)d)[k] = (uint8_t)strtoul(v, NULL, 10); break;
    case DALE_I8: ((int8_t *)d)[k] = (int8_t)strtol(v, NULL, 10); break;
    }
}

/* The rewrite: 0 on success, else a message on stderr and 1. */
static int rewrite(const char *in, const char *out, const char *member, const char *index, const char *value)
{
    dale_npz *z;
    dale_npz_writer *w;
    if (dale_npz_open(in, &z)) {
        fprintf(stderr, "%s\n", dale_last_error());
        return 1;
    }
    if (!dale_npz_has(z, member)) {
        fprintf(stderr, "%s has no member %s\n", in, member);
        dale_npz_close(z);
        return 1;
    }
    if (dale_npz_writer_create(out, &w)) {
        dale_npz_close(z);
        return 1;
    }
    dale_status st = DALE_OK;
    for (size_t i = 0; i < dale_npz_count(z) && !st; i++) {
        const char *key = dale_npz_key(z, i);
        dale_array a;
        if ((st = dale_npz_read(z, key, &a))) break;
        if (!strcmp(key, member)) {
            if (!strcmp(index, "all")) {
                for (size_t k = 0; k < a.count; k++) set_elem(&a, k, value);
            } else {
                size_t k = (size_t)strtoull(index, NULL, 10);
                if (k >= a.count) {
                    fprintf(stderr, "%s: index %zu beyond %zu elements\n", member, k, a.count);
                    st = DALE_ERR_ARG;
                } else {
                    set_elem(&a, k, value);
                }
            }
        }
        if (!st) st = dale_npz_add(w, key, a.dtype, a.ndim, a.shape, a.data);
        dale_array_free(&a);
    }
    dale_npz_close(z);
    if (st) {
        dale_npz_writer_free(w);
        fprintf(stderr, "%s\n", dale_last_error());
        return 1;
    }
    if (dale_npz_writer_commit(w)) {
        fprintf(stderr, "%s\n", dale_last_error());
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && !strcmp(argv[1], "set")) return rewrite(argv[2], argv[3], argv[4], argv[5], argv[6]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [set IN OUT MEMBER INDEX|all VALUE]\n", argv[0]);
        return 2;
    }
    char dir[] = "/tmp/dale-ckpt-XXXXXX", a[64], b[64];
    CHECK(mkdtemp(dir) != NULL, "rewrite");
    snprintf(a, sizeof a, "%s/a.npz", dir);
    snprintf(b, sizeof b, "%s/b.npz", dir);
    dale_npz_writer *w;
    uint64_t s[4] = {1, 2, 3, 4};
    double lr = 0.5;
    size_t four = 4, one = 1;
    CHECK(dale_npz_writer_create(a, &w) == DALE_OK, "rewrite");
    CHECK(dale_npz_add(w, "state.rng", DALE_U64, 1, &four, s) == DALE_OK, "rewrite");
    CHECK(dale_npz_add(w, "state.lr", DALE_F64, 1, &one, &lr) == DALE_OK, "rewrite");
    CHECK(dale_npz_writer_commit(w) == DALE_OK, "rewrite");
    CHECK(rewrite(a, b, "state.lr", "0", "nan") == 0, "rewrite");
    dale_npz *z;
    dale_array x;
    CHECK(dale_npz_open(b, &z) == DALE_OK, "rewrite");
    CHECK(dale_npz_count(z) == 2, "rewrite");
    CHECK(dale_npz_read(z, "state.lr", &x) == DALE_OK && x.dtype == DALE_F64 && x.count == 1 &&
          isnan(((double *)x.data)[0]), "rewrite");
    dale_array_free(&x);
    CHECK(dale_npz_read(z, "state.rng", &x) == DALE_OK && x.count == 4 && ((uint64_t *)x.data)[3] == 4, "rewrite");
    dale_array_free(&x);
    dale_npz_close(z);
    CHECK(rewrite(a, b, "state.rng", "all", "0") == 0, "rewrite");
    CHECK(dale_npz_open(b, &z) == DALE_OK, "rewrite");
    CHECK(dale_npz_read(z, "state.rng", &x) == DALE_OK && x.count == 4, "rewrite");
    for (int k = 0; k < 4; k++) CHECK(((uint64_t *)x.data)[k] == 0, "rewrite");
    dale_array_free(&x);
    dale_npz_close(z);
    CHECK(rewrite(a, b, "state.nothing", "0", "1") == 1, "rewrite");
    unlink(a);
    unlink(b);
    rmdir(dir);
    return check_done("test_ckpt_corrupt");
}
