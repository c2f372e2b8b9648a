/* test_fuzz_regress.c — replay fuzz/regress/<target>/FILE through the parsers.
 *
 * fuzz/regress/ holds inputs that crashed a fuzz harness (make fuzz) once
 * the bug is fixed, plus hand-made hostile files of the same kinds: size
 * fields that overflow or lie, nine dimensions, a CRC mismatch, a stream
 * of garbage after a gzip magic, 5000-deep JSON nesting, huge numbers,
 * wrong JSON types.  Each is fed to the parser of its directory exactly as
 * the harness does (npy: dale_npy_parse on the bytes; npz: open + read
 * every member; idx: dale_idx_read; config: load + resolve; params: load
 * into a small DANN net; image: dale_image_load), and must be refused with an error message that
 * names the file, without leaking a library allocation.  A crash is a
 * failed test by itself.  Runs from the repository root (make test). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/config.h"
#include "dale/eval.h"
#include "dale/idx.h"
#include "dale/image.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "internal.h"

#define REGRESS "fuzz/regress"

static dale_status run_npy(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open", path);
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    dale_array a;
    dale_status st = dale_npy_parse(buf, n, path, &a);
    dale_array_free(&a);
    free(buf);
    return st;
}

static dale_status run_npz(const char *path)
{
    dale_npz *z = NULL;
    dale_status st = dale_npz_open(path, &z), first = DALE_OK;
    if (st) return st;
    for (size_t i = 0; i < dale_npz_count(z); i++) {
        dale_array a;
        st = dale_npz_read(z, dale_npz_key(z, i), &a);
        if (st && !first) first = st;
        dale_array_free(&a);
    }
    dale_npz_close(z);
    return first;
}

static dale_status run_idx(const char *path)
{
    dale_idx a;
    dale_status st = dale_idx_read(path, (size_t)1 << 20, &a);
    dale_idx_free(&a);
    return st;
}

static dale_status run_config(const char *path)
{
    dale_run_config c;
    dale_config_defaults(&c);
    dale_status st = dale_config_load_json(&c, path);
    if (!st && (st = dale_config_resolve(&c))) {
        /* resolve names the option, not the file: add it, as the CLI does */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", dale_last_error());
        st = DALE_FAIL(st, "%s: %s", path, msg);
    }
    return st;
}

static dale_status run_params(const char *path)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = DALE_MODEL_DANN;
    c.input = 2;
    c.layers = 2;
    c.hidden = 6;
    c.output = 1;
    c.ndense = 1;
    c.dense[0] = 4;
    dale_net *net = NULL;
    dale_npz *z = NULL;
    dale_status st = dale_net_create(&c, &net);
    if (!st) st = dale_npz_open(path, &z);
    if (!st) st = dale_params_load(net, z, path);
    dale_npz_close(z);
    dale_net_free(net);
    return st;
}

static dale_status run_image(const char *path)
{
    dale_image im;
    dale_status st = dale_image_load(path, 4, &im);
    dale_image_free(&im);
    return st;
}

static const struct {
    const char *dir;
    dale_status (*run)(const char *path);
} targets[] = {
    {"npy", run_npy}, {"npz", run_npz}, {"idx", run_idx}, {"config", run_config}, {"params", run_params},
    {"image", run_image},
};

int main(void)
{
    DIR *top = opendir(REGRESS);
    if (!top) {
        printf("skip: %s not found (run from the repository root)\n", REGRESS);
        CHECK(0, "no %s directory", REGRESS);
        return check_done("test_fuzz_regress");
    }
    closedir(top);
    size_t files = 0;
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        char dir[256];
        snprintf(dir, sizeof dir, "%s/%s", REGRESS, targets[t].dir);
        DIR *d = opendir(dir);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[600];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            long live = dalei_alloc_live();
            dale_clear_error();
            dale_status st = targets[t].run(path);
            files++;
            CHECK(st != DALE_OK, "%s: accepted, want a clean refusal", path);
            CHECK(st == DALE_OK || strstr(dale_last_error(), path), "%s: message does not name the file: %s", path,
                  dale_last_error());
            CHECK(dalei_alloc_live() == live, "%s: %ld allocations leaked", path, dalei_alloc_live() - live);
            printf("ok %s: %s\n", path, st ? dale_last_error() : "accepted");
        }
        closedir(d);
    }
    CHECK(files > 0, "no regression inputs under %s", REGRESS);
    return check_done("test_fuzz_regress");
}
