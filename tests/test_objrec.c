/* test_objrec.c — the object-recognition generator and task on a tiny
 * synthetic object set written here: three categories of small RGBA PNG
 * cut-outs (an ellipse whose grey level tells the category), background
 * JPEGs and PNGs, plus a corrupt PNG, an alpha-less PNG and a truncated
 * JPEG that must be reported and skipped.
 *
 * `test_objrec --fixtures DIR` only writes the fixture folders (DIR/objects,
 * DIR/backgrounds) for tests/test_objrec_cli.sh and exits. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "dale/idx.h"
#include "dale/image.h"
#include "dale/objrec.h"
#include "internal.h"

static void mkdir_p(const char *p) { (void)mkdir(p, 0755); }

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n) { printf("cannot write %s\n", path); exit(1); }
    fclose(f);
}

/* An RGBA cut-out: an opaque ellipse of grey g (with a darker stripe so it
 * has texture) on a transparent field. */
static int write_object(const char *path, int w, int h, uint8_t g)
{
    uint8_t *px = calloc((size_t)(w * h * 4), 1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u = (x + 0.5 - w / 2.0) / (w / 2.0), v = (y + 0.5 - h / 2.0) / (h / 2.0);
            uint8_t *p = px + (y * w + x) * 4;
            int in = u * u + v * v < 0.8;
            uint8_t c = (uint8_t)(y == h / 2 ? g / 2 : g);
            p[0] = p[1] = p[2] = c;
            p[3] = in ? 255 : 0;
        }
    int st = dale_image_write(path, (size_t)w, (size_t)h, 4, px);
    free(px);
    return st;
}

static int write_background(const char *path, int w, int h, int phase)
{
    uint8_t *px = malloc((size_t)(w * h * 3));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = (uint8_t)((x * 3 + y * 2 + phase * 40 + c * 10) % 256);
    int st = dale_image_write(path, (size_t)w, (size_t)h, 3, px);
    free(px);
    return st;
}

/* DIR/objects/{apple,bird,car}/..., DIR/backgrounds/... */
static void make_fixtures(const char *dir)
{
    char p[1024];
    static const char *const cats[3] = {"bird", "car", "apple"};
    snprintf(p, sizeof p, "%s/objects", dir);
    mkdir_p(p);
    for (int c = 0; c < 3; c++) {
        snprintf(p, sizeof p, "%s/objects/%s", dir, cats[c]);
        mkdir_p(p);
        snprintf(p, sizeof p, "%s/objects/%s/a_sub", dir, cats[c]);
        mkdir_p(p);
        for (int k = 0; k < 3; k++) {
            /* the second object lives one folder down: found recursively */
            snprintf(p, sizeof p, "%s/objects/%s/%sobj%d.png", dir, cats[c], k == 1 ? "a_sub/" : "", k);
            CHECK_OK(write_object(p, 20 + 4 * k, 16 + 2 * c, (uint8_t)(60 + 80 * c)));
        }
    }
    /* "apple/a_corrupt.png" sorts first in its category: reported, skipped */
    snprintf(p, sizeof p, "%s/objects/apple/a_corrupt.png", dir);
    write_bytes(p, "\x89PNG\r\n\x1a\nthis is not a png", 25);
    /* "bird/a_flat.png" has no alpha channel: skipped */
    uint8_t rgb[12 * 10 * 3];
    memset(rgb, 128, sizeof rgb);
    snprintf(p, sizeof p, "%s/objects/bird/a_flat.png", dir);
    CHECK_OK(dale_image_write(p, 12, 10, 3, rgb));
    snprintf(p, sizeof p, "%s/backgrounds", dir);
    mkdir_p(p);
    snprintf(p, sizeof p, "%s/backgrounds/more", dir);
    mkdir_p(p);
    snprintf(p, sizeof p, "%s/backgrounds/b0.jpg", dir);
    CHECK_OK(write_background(p, 80, 60, 0));
    snprintf(p, sizeof p, "%s/backgrounds/b1.JPEG", dir);
    CHECK_OK(write_background(p, 60, 90, 1));
    snprintf(p, sizeof p, "%s/backgrounds/more/b2.png", dir);
    CHECK_OK(write_background(p, 70, 70, 2));
    snprintf(p, sizeof p, "%s/backgrounds/broken.jpg", dir);
    write_bytes(p, "\xff\xd8\xff\xe0\x00\x10JFIF\x00", 11);
    snprintf(p, sizeof p, "%s/backgrounds/notes.txt", dir);
    write_bytes(p, "ignored", 7);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    b[*n] = '\0';
    fclose(f);
    return b;
}

static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

static const char *const outputs[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "val-images-idx3-ubyte",
                                      "val-labels-idx1-ubyte", "test-images-idx3-ubyte", "test-labels-idx1-ubyte",
                                      "manifest.csv", "categories.txt", "objrec.json", "contact-sheet.png",
                                      "SHA256SUMS"};

static void opts_for(dale_objrec_options *o, const char *dir, const char *out, uint64_t seed)
{
    static char objs[1024], bgs[1024];
    snprintf(objs, sizeof objs, "%s/objects", dir);
    snprintf(bgs, sizeof bgs, "%s/backgrounds", dir);
    dale_objrec_defaults(o);
    o->objects_dir = objs;
    o->backgrounds_dir = bgs;
    o->out_dir = out;
    o->seed = seed;
    o->categories = 3;
    o->per_category = 2;
    o->n_train = 12;
    o->n_val = 6;
    o->n_test = 6;
    o->canvas = 48;
    o->factor = 3;
}

static void test_image_roundtrip(const char *dir)
{
    char p[1024];
    uint8_t px[5 * 3 * 4];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 17);
    snprintf(p, sizeof p, "%s/rt.png", dir);
    CHECK_OK(dale_image_write(p, 5, 3, 4, px));
    dale_image im;
    CHECK_OK(dale_image_load(p, 4, &im));
    CHECK(im.w == 5 && im.h == 3 && im.file_channels == 4 && im.data && !memcmp(im.data, px, sizeof px),
          "PNG round trip: %zux%zu, %d channels", im.w, im.h, im.file_channels);
    dale_image_free(&im);
    snprintf(p, sizeof p, "%s/rt.gif.txt", dir);
    CHECK(dale_image_write(p, 5, 3, 4, px) == DALE_ERR_ARG, "unknown extension refused");
    write_bytes(p, "GIF89a", 6);
    CHECK(dale_image_load(p, 1, &im) == DALE_ERR_FORMAT && im.data == NULL, "truncated image: DALE_ERR_FORMAT");
    CHECK(strstr(dale_last_error(), "rt.gif.txt") != NULL, "error names the file: %s", dale_last_error());
    snprintf(p, sizeof p, "%s/none.png", dir);
    CHECK(dale_image_load(p, 1, &im) == DALE_ERR_IO, "missing file: DALE_ERR_IO");
    /* resize: a constant plane stays constant under Catmull-Rom (weights sum to 1) */
    float a[16 * 16], b[5 * 5];
    for (int i = 0; i < 256; i++) a[i] = 100.0f;
    CHECK_OK(dale_image_resize(a, 16, 16, b, 5, 5, 1, 0));
    int flat = 1;
    for (int i = 0; i < 25; i++) flat &= b[i] > 99.99f && b[i] < 100.01f;
    CHECK(flat, "resize keeps a constant plane");
}

static void test_generator(const char *dir)
{
    char out[1024], out2[1024], out3[1024], p[1200], q[1200];
    snprintf(out, sizeof out, "%s/data/objrec", dir);
    snprintf(out2, sizeof out2, "%s/again", dir);
    snprintf(out3, sizeof out3, "%s/seed1", dir);
    dale_objrec_options o;
    dale_objrec_report r;
    opts_for(&o, dir, out, 0);
    long live = dalei_alloc_live();
    CHECK_OK(dale_objrec_make(&o, &r));
    CHECK(dalei_alloc_live() == live, "no leaks (%ld live, was %ld)", dalei_alloc_live(), live);
    CHECK(r.side == 16, "side %zu", r.side);
    CHECK(r.objects_used == 6 && r.objects_corrupt == 1 && r.objects_no_alpha == 1,
          "objects used %zu, corrupt %zu, no alpha %zu", r.objects_used, r.objects_corrupt, r.objects_no_alpha);
    CHECK(r.backgrounds_used == 3 && r.backgrounds_corrupt == 1, "backgrounds used %zu, corrupt %zu",
          r.backgrounds_used, r.backgrounds_corrupt);
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++) {
        snprintf(p, sizeof p, "%s/%s", out, outputs[i]);
        CHECK(access(p, F_OK) == 0, "%s written", outputs[i]);
    }
    /* shapes, split sizes, balance */
    static const char *const sp[3] = {"train", "val", "test"};
    size_t want[3] = {12, 6, 6};
    for (int s = 0; s < 3; s++) {
        dale_idx im, lb;
        snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte", out, sp[s]);
        snprintf(q, sizeof q, "%s/%s-labels-idx1-ubyte", out, sp[s]);
        CHECK_OK(dale_idx_read(p, 0, &im));
        CHECK_OK(dale_idx_read(q, 0, &lb));
        CHECK(im.ndim == 3 && im.dim[0] == want[s] && im.dim[1] == 16 && im.dim[2] == 16,
              "%s images (%zu, %zu, %zu)", sp[s], im.dim[0], im.dim[1], im.dim[2]);
        CHECK(lb.ndim == 1 && lb.dim[0] == want[s], "%s labels %zu", sp[s], lb.dim[0]);
        size_t per[3] = {0, 0, 0};
        for (size_t k = 0; k < lb.count; k++) per[lb.data[k] < 3 ? lb.data[k] : 0]++;
        CHECK(per[0] == want[s] / 3 && per[1] == want[s] / 3 && per[2] == want[s] / 3,
              "%s balanced: %zu %zu %zu", sp[s], per[0], per[1], per[2]);
        /* images are not blank: some spread of grey levels */
        size_t lo = 255, hi = 0;
        for (size_t k = 0; k < im.count; k++) {
            lo = im.data[k] < lo ? im.data[k] : lo;
            hi = im.data[k] > hi ? im.data[k] : hi;
        }
        CHECK(hi - lo > 50, "%s images have contrast (%zu..%zu)", sp[s], lo, hi);
        dale_idx_free(&im);
        dale_idx_free(&lb);
    }
    /* categories in sorted order; the manifest */
    size_t n;
    snprintf(p, sizeof p, "%s/categories.txt", out);
    char *cat = slurp(p, &n);
    CHECK(cat && !strcmp(cat, "apple\nbird\ncar\n"), "categories.txt: %s", cat ? cat : "(none)");
    free(cat);
    snprintf(p, sizeof p, "%s/manifest.csv", out);
    char *man = slurp(p, &n);
    static const char header[] = "index,split,label,category,object,background,crop_x,crop_y,crop_size,scale,x,y,angle\n";
    CHECK(man && !strncmp(man, header, strlen(header)), "manifest header");
    size_t rows = 0, per_split[3] = {0, 0, 0}, bad = 0, objs_seen = 0;
    char seen[8][64];
    for (char *line = man ? strchr(man, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        unsigned idx, label;
        char split[8], category[32], object[64], bg[64];
        double cx, cy, cs, scale, x, y, angle;
        rows++;
        if (sscanf(line + 1, "%u,%7[a-z],%u,\"%31[^\"]\",\"%63[^\"]\",\"%63[^\"]\",%lf,%lf,%lf,%lf,%lf,%lf,%lf", &idx,
                   split, &label, category, object, bg, &cx, &cy, &cs, &scale, &x, &y, &angle) != 13) {
            bad++;
            continue;
        }
        int s = !strcmp(split, "train") ? 0 : !strcmp(split, "val") ? 1 : 2;
        per_split[s]++;
        static const char *const names[3] = {"apple", "bird", "car"};
        if (label > 2 || strcmp(category, names[label]) || strncmp(object, category, strlen(category))) bad++;
        if (strstr(object, "a_corrupt") || strstr(object, "a_flat") || strstr(bg, "broken")) bad++;
        if (scale < 0.4 || scale > 0.8 || angle < -30 || angle > 30 || x < 0 || x > 48 || y < 0 || y > 48) bad++;
        int known = 0;
        for (size_t k = 0; k < objs_seen; k++) known |= !strcmp(seen[k], object);
        if (!known && objs_seen < 8) snprintf(seen[objs_seen++], sizeof seen[0], "%s", object);
    }
    CHECK(rows == 24 && bad == 0, "manifest: %zu rows, %zu bad", rows, bad);
    CHECK(per_split[0] == 12 && per_split[1] == 6 && per_split[2] == 6, "manifest splits %zu/%zu/%zu", per_split[0],
          per_split[1], per_split[2]);
    CHECK(objs_seen == 6, "six distinct objects (2 per category), saw %zu", objs_seen);
    CHECK(man && strstr(man, "\"bird/a_sub/obj1.png\""), "an object found one folder down is used");
    free(man);
    CHECK_OK(dale_objrec_verify(out, NULL));
    /* determinism: the same seed gives the same bytes; another seed differs */
    opts_for(&o, dir, out2, 0);
    CHECK_OK(dale_objrec_make(&o, NULL));
    for (size_t i = 0; i < sizeof outputs / sizeof *outputs; i++) {
        snprintf(p, sizeof p, "%s/%s", out, outputs[i]);
        snprintf(q, sizeof q, "%s/%s", out2, outputs[i]);
        CHECK(same_file(p, q), "%s byte-identical for the same seed", outputs[i]);
    }
    opts_for(&o, dir, out3, 1);
    CHECK_OK(dale_objrec_make(&o, NULL));
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte", out);
    snprintf(q, sizeof q, "%s/train-images-idx3-ubyte", out3);
    CHECK(!same_file(p, q), "another seed gives other images");
    /* rotation off: every angle is 0 */
    opts_for(&o, dir, out3, 1);
    o.rotate = 0;
    CHECK_OK(dale_objrec_make(&o, NULL));
    snprintf(p, sizeof p, "%s/manifest.csv", out3);
    man = slurp(p, &n);
    size_t nonzero = 0;
    for (char *line = strchr(man, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char *last = line + 1;
        while (strchr(last, ',') && strchr(last, ',') < strchr(line + 1, '\n')) last = strchr(last, ',') + 1;
        nonzero += strtod(last, NULL) != 0;
    }
    CHECK(nonzero == 0, "--rotate off: %zu non-zero angles", nonzero);
    free(man);
    /* the low preset: no rotation, one size, every object centred on the canvas */
    opts_for(&o, dir, out3, 1);
    CHECK_OK(dale_objrec_variation(&o, "low"));
    CHECK(!o.rotate && o.scale_min == 0.6 && o.scale_max == 0.6 && o.shift == 0, "low preset fields");
    CHECK_OK(dale_objrec_make(&o, NULL));
    snprintf(p, sizeof p, "%s/manifest.csv", out3);
    man = slurp(p, &n);
    size_t nrows = 0, off = 0;
    for (char *line = strchr(man, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        /* index,split,label,category,object,background,crop_x,crop_y,crop_size,scale,x,y,angle */
        char *fld = line + 1;
        for (int k = 0; k < 9; k++) fld = strchr(fld, ',') + 1;
        double sc = strtod(fld, &fld), x = strtod(fld + 1, &fld), y = strtod(fld + 1, &fld), an = strtod(fld + 1, NULL);
        nrows++;
        off += fabs(sc - 0.6) > 1e-9 || fabs(x - 24) > 1e-3 || fabs(y - 24) > 1e-3 || an != 0;
    }
    CHECK(nrows == 24 && off == 0, "low: %zu of %zu images not centred / sized 0.6 / upright", off, nrows);
    free(man);
    snprintf(p, sizeof p, "%s/objrec.json", out3);
    man = slurp(p, &n);
    CHECK(strstr(man, "\"variation\":\t\"low\"") && strstr(man, "\"shift\":\t0"), "objrec.json records the preset");
    free(man);
    /* medium: centres within half the free range */
    opts_for(&o, dir, out3, 1);
    CHECK_OK(dale_objrec_variation(&o, "medium"));
    CHECK(o.rotate && o.max_angle == 15 && o.shift == 0.5, "medium preset fields");
    CHECK_OK(dale_objrec_variation(&o, "high"));
    CHECK(o.max_angle == 30 && o.scale_min == 0.4 && o.scale_max == 0.8 && o.shift == 1, "high = the defaults");
    CHECK(dale_objrec_variation(&o, "extreme") == DALE_ERR_ARG && strstr(dale_last_error(), "low, medium or high"),
          "unknown preset refused: %s", dale_last_error());
    opts_for(&o, dir, out3, 0);
    o.shift = 1.5;
    CHECK(dale_objrec_make(&o, NULL) == DALE_ERR_ARG && strstr(dale_last_error(), "shift"), "shift above 1 refused");
    /* verify notices a changed byte */
    snprintf(p, sizeof p, "%s/val-images-idx3-ubyte", out2);
    FILE *f = fopen(p, "r+b");
    fseek(f, 100, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 100, SEEK_SET);
    fputc(ch ^ 1, f);
    fclose(f);
    CHECK(dale_objrec_verify(out2, NULL) == DALE_ERR_FORMAT, "verify: a changed byte is a mismatch");
    CHECK(strstr(dale_last_error(), "val-images") != NULL, "names the file: %s", dale_last_error());
    /* too few categories or objects: an error naming the shortage */
    opts_for(&o, dir, out3, 0);
    o.categories = 4;
    CHECK(dale_objrec_make(&o, NULL) == DALE_ERR_FORMAT, "4 categories from 3: DALE_ERR_FORMAT");
    opts_for(&o, dir, out3, 0);
    o.per_category = 4;
    CHECK(dale_objrec_make(&o, NULL) == DALE_ERR_FORMAT && strstr(dale_last_error(), "apple has 3"),
          "4 objects per category from 3: %s", dale_last_error());
    opts_for(&o, dir, out3, 0);
    o.scale_max = 1.5;
    CHECK(dale_objrec_make(&o, NULL) == DALE_ERR_ARG, "scale above 1 refused");
    opts_for(&o, dir, out3, 0);
    snprintf(p, sizeof p, "%s/nowhere", dir);
    o.backgrounds_dir = p;
    CHECK(dale_objrec_make(&o, NULL) == DALE_ERR_IO, "missing backgrounds folder: DALE_ERR_IO");
    /* allocation failures: clean errors, no leaks */
    int clean = 1;
    for (long k = 1; k < 400; k += 7) {
        opts_for(&o, dir, out3, 0);
        long before = dalei_alloc_live();
        dalei_alloc_fail_at(k);
        dale_status st = dale_objrec_make(&o, NULL);
        dalei_alloc_fail_at(0);
        if ((st != DALE_OK && st != DALE_ERR_NOMEM) || dalei_alloc_live() != before) clean = 0;
    }
    CHECK(clean, "allocation failures give DALE_ERR_NOMEM and leak nothing");
}

static void test_task(const char *dir)
{
    char data[1024], p[1200];
    snprintf(data, sizeof data, "%s/data", dir);
    dale_task *t = NULL;
    dale_objrec_task_config cfg = {data, 4, 0}; /* a data directory holding objrec/ */
    CHECK_OK(dale_task_objrec_create(&cfg, &t));
    if (!t) return;
    CHECK(t->T == 4 && t->input == 256 && t->output == 3 && t->loss == DALE_LOSS_CE_LAST, "T %zu d %zu m %zu",
          t->T, t->input, t->output);
    CHECK(t->count[0] == 12 && t->count[1] == 6 && t->count[2] == 6, "splits %zu/%zu/%zu", t->count[0], t->count[1],
          t->count[2]);
    dale_idx im, lb;
    snprintf(p, sizeof p, "%s/objrec/val-images-idx3-ubyte", data);
    CHECK_OK(dale_idx_read(p, 0, &im));
    snprintf(p, sizeof p, "%s/objrec/val-labels-idx1-ubyte", data);
    CHECK_OK(dale_idx_read(p, 0, &lb));
    size_t idx[2] = {5, 2}, B = 2;
    float x[4 * 2 * 256];
    int32_t yi[2] = {-1, -1};
    for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = 7.0f;
    CHECK_OK(t->batch(t, DALE_SPLIT_VAL, idx, B, x, NULL, yi));
    int first = 1, rest = 1;
    for (size_t b = 0; b < B; b++)
        for (size_t i = 0; i < 256; i++) first &= x[b * 256 + i] == (float)im.data[idx[b] * 256 + i] / 255.0f;
    for (size_t i = B * 256; i < 4 * B * 256; i++) rest &= x[i] == 0.0f;
    CHECK(first, "step 1 holds the images / 255");
    CHECK(rest, "steps 2..T are zero");
    CHECK(yi[0] == lb.data[5] && yi[1] == lb.data[2], "labels %d %d", yi[0], yi[1]);
    idx[0] = 6;
    CHECK(t->batch(t, DALE_SPLIT_VAL, idx, 1, x, NULL, yi) == DALE_ERR_ARG, "index out of range refused");
    CHECK(t->input_mean > 0 && t->input_mean < 1, "input mean %g", t->input_mean);
    double mean = t->input_mean;
    dale_task_free(t);
    /* centred: step 1 = image / 255 - the mean training pixel, zero mean over
     * the training set; later steps still 0; input_mean 0 */
    cfg.center = 1;
    t = NULL;
    CHECK_OK(dale_task_objrec_create(&cfg, &t));
    if (t) {
        CHECK(t->input_mean == 0, "centred: input_mean %g", t->input_mean);
        idx[0] = 5;
        for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = 7.0f;
        CHECK_OK(t->batch(t, DALE_SPLIT_VAL, idx, B, x, NULL, yi));
        first = rest = 1;
        for (size_t b = 0; b < B; b++)
            for (size_t i = 0; i < 256; i++)
                first &= x[b * 256 + i] == (float)im.data[idx[b] * 256 + i] / 255.0f - (float)mean;
        for (size_t i = B * 256; i < 4 * B * 256; i++) rest &= x[i] == 0.0f;
        CHECK(first && rest, "centred: step 1 is image / 255 - mean, steps 2..T zero");
        double sum = 0;
        for (size_t k = 0; k < t->count[0]; k++) {
            size_t one = k;
            CHECK_OK(t->batch(t, DALE_SPLIT_TRAIN, &one, 1, x, NULL, yi));
            for (size_t i = 0; i < 256; i++) sum += (double)x[i];
        }
        CHECK(fabs(sum / (double)(t->count[0] * 256)) < 1e-6, "centred training inputs have mean %g",
              sum / (double)(t->count[0] * 256));
        dale_task_free(t);
    }
    cfg.center = 0;
    dale_idx_free(&im);
    dale_idx_free(&lb);
    /* the data set folder itself works too */
    snprintf(p, sizeof p, "%s/objrec", data);
    t = NULL;
    cfg.dir = p;
    cfg.steps = 1;
    t = NULL;
    CHECK_OK(dale_task_objrec_create(&cfg, &t));
    CHECK(t && t->T == 1, "steps 1");
    dale_task_free(t);
    cfg.steps = 0;
    CHECK(dale_task_objrec_create(&cfg, &t) == DALE_ERR_ARG, "steps 0 refused");
    cfg.dir = dir;
    cfg.steps = 5;
    CHECK(dale_task_objrec_create(&cfg, &t) == DALE_ERR_IO && strstr(dale_last_error(), "dale data get objrec"),
          "no data set: DALE_ERR_IO with a hint: %s", dale_last_error());
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--fixtures")) {
        mkdir_p(argv[2]);
        make_fixtures(argv[2]);
        return check_fail_count ? 1 : 0;
    }
    char dir[] = "/tmp/dale-objrec.XXXXXX";
    if (!mkdtemp(dir)) {
        printf("mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    make_fixtures(dir);
    test_image_roundtrip(dir);
    test_generator(dir);
    test_task(dir);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("could not remove %s\n", dir);
    return check_done("test_objrec");
}
