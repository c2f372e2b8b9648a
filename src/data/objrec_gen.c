/* objrec_gen.c — render the object-recognition data set (see dale/objrec.h).
 *
 * Sources are decoded once: objects to premultiplied float planes
 * (grey * alpha, alpha), cropped to their alpha bounding box; backgrounds to
 * uint8 grey, pre-scaled so the shorter side is at most BG_SIDE (a 1000
 * backgrounds cache is then at most ~0.5 GB, typically a few MB).  Images
 * are rendered one at a time on a float canvas (canvas x canvas), so
 * memory does not grow with the split sizes beyond the uint8 outputs.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include "dale/data.h"
#include "dale/idx.h"
#include "dale/image.h"
#include "dale/objrec.h"
#include "dale/rng.h"
#include "dale/fileio.h"
#include "internal.h"

#define BG_SIDE 512        /* backgrounds are pre-scaled to this shorter side (if larger) */
#define MAX_FILES 200000   /* files listed below one folder */
#define MAX_DEPTH 16       /* folder depth searched */
#define PI 3.14159265358979323846

static const char *const split_names[3] = {"train", "val", "test"};

void dale_objrec_defaults(dale_objrec_options *o)
{
    memset(o, 0, sizeof *o);
    o->categories = 8;
    o->per_category = 8;
    o->n_train = 512;
    o->n_val = 64;
    o->n_test = 64;
    o->rotate = 1;
    o->max_angle = 30;
    o->scale_min = 0.4;
    o->scale_max = 0.8;
    o->shift = 1;
    o->variation = "high";
    o->canvas = 256;
    o->factor = 3;
    o->contact_sheet = 1;
}

dale_status dale_objrec_variation(dale_objrec_options *o, const char *level)
{
    static const struct {
        const char *name;
        double angle, smin, smax, shift;
    } lv[] = {{"low", 0, 0.6, 0.6, 0}, {"medium", 15, 0.5, 0.7, 0.5}, {"high", 30, 0.4, 0.8, 1}};
    for (size_t i = 0; level && i < sizeof lv / sizeof lv[0]; i++)
        if (!strcmp(level, lv[i].name)) {
            o->rotate = lv[i].angle > 0;
            o->max_angle = lv[i].angle;
            o->scale_min = lv[i].smin;
            o->scale_max = lv[i].smax;
            o->shift = lv[i].shift;
            o->variation = lv[i].name;
            return DALE_OK;
        }
    return DALE_FAIL(DALE_ERR_ARG, "objrec: unknown variation '%s' (expected low, medium or high)",
                     level ? level : "(null)");
}

/* ------------------------------------------------------------ file lists */

static int has_ext(const char *name, const char *const *exts)
{
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (; *exts; exts++) {
        const char *e = *exts;
        size_t i = 0;
        for (; dot[1 + i] && e[i]; i++)
            if ((dot[1 + i] | 0x20) != e[i]) break;
        if (!dot[1 + i] && !e[i]) return 1;
    }
    return 0;
}

/* Append root/rel/... files with one of exts (recursively; hidden entries
 * skipped) to out as paths relative to root. */
static dale_status walk(const char *root, const char *rel, int depth, const char *const *exts, dalei_strlist *out)
{
    char path[4096];
    dalei_sfmt(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) return DALE_FAIL(DALE_ERR_IO, "%s: cannot read folder: %s", path, strerror(errno));
    dale_status st = DALE_OK;
    struct dirent *de;
    while (!st && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char sub[4096], full[4096];
        dalei_sfmt(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        dalei_sfmt(full, sizeof full, "%s/%s", root, sub);
        struct stat sb;
        if (stat(full, &sb) != 0) continue; /* a dangling link */
        if (S_ISDIR(sb.st_mode)) {
            if (depth < MAX_DEPTH) st = walk(root, sub, depth + 1, exts, out);
        } else if (S_ISREG(sb.st_mode) && has_ext(de->d_name, exts)) {
            if (out->n >= MAX_FILES)
                st = DALE_FAIL(DALE_ERR_ARG, "%s: more than %d image files", root, MAX_FILES);
            else
                st = dalei_strlist_add(out, sub);
        }
    }
    closedir(d);
    return st;
}

/* ------------------------------------------------------------ sources */

typedef struct object {
    size_t w, h;
    float *px;      /* (h, w, 2): grey * alpha (grey in 0..255), alpha in 0..1 */
    char *path;     /* as written to the manifest */
    size_t label;
} object;

typedef struct background {
    size_t w, h;
    uint8_t *px;    /* (h, w) grey */
    char *path;
} background;

/* Decode an object cut-out.  Returns DALE_OK with *ok = 1 when usable;
 * *ok = 0 with a reason in why for a corrupt file or one without alpha;
 * an error only for out-of-memory. */
static dale_status load_object(const char *full, object *ob, int *ok, int *no_alpha, char *why, size_t cap)
{
    dale_image im;
    *ok = 0;
    *no_alpha = 0;
    dale_status st = dale_image_load(full, 4, &im);
    if (st == DALE_ERR_NOMEM) return st;
    if (st) {
        dalei_sfmt(why, cap, "%s", dale_last_error());
        return DALE_OK;
    }
    size_t W = im.w, H = im.h, x0 = W, y0 = H, x1 = 0, y1 = 0, clear = 0, solid = 0;
    if (im.file_channels != 2 && im.file_channels != 4) {
        dalei_sfmt(why, cap, "%s: no alpha channel (an object must be a cut-out with alpha)", full);
        *no_alpha = 1;
        dale_image_free(&im);
        return DALE_OK;
    }
    for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++) {
            uint8_t a = im.data[(y * W + x) * 4 + 3];
            if (a >= 128) solid++;
            else clear++;
            if (a) {
                x0 = x < x0 ? x : x0;
                y0 = y < y0 ? y : y0;
                x1 = x > x1 ? x : x1;
                y1 = y > y1 ? y : y1;
            }
        }
    if (solid * 100 < W * H || clear * 100 < W * H) {
        dalei_sfmt(why, cap, "%s: not a cut-out (%zu%% of the pixels are opaque; need 1-99%%)", full,
             solid * 100 / (W * H));
        *no_alpha = 1;
        dale_image_free(&im);
        return DALE_OK;
    }
    ob->w = x1 - x0 + 1;
    ob->h = y1 - y0 + 1;
    if (!(ob->px = dalei_alloc(ob->w * ob->h, 2 * sizeof(float)))) {
        dale_image_free(&im);
        return DALE_ERR_NOMEM;
    }
    for (size_t y = 0; y < ob->h; y++)
        for (size_t x = 0; x < ob->w; x++) {
            const uint8_t *p = im.data + ((y + y0) * W + x + x0) * 4;
            float g = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2], a = p[3] / 255.0f;
            ob->px[(y * ob->w + x) * 2] = g * a;
            ob->px[(y * ob->w + x) * 2 + 1] = a;
        }
    dale_image_free(&im);
    *ok = 1;
    return DALE_OK;
}

/* Decode a background to grey, pre-scaled to a shorter side of BG_SIDE at
 * most.  *ok = 0 (reason in why) for a file that does not decode or is
 * smaller than 32 pixels. */
static dale_status load_background(const char *full, background *bg, int *ok, char *why, size_t cap)
{
    dale_image im;
    *ok = 0;
    float *a = NULL, *b = NULL;
    dale_status st = dale_image_load(full, 1, &im);
    if (st == DALE_ERR_NOMEM) return st;
    if (st) {
        dalei_sfmt(why, cap, "%s", dale_last_error());
        return DALE_OK;
    }
    size_t W = im.w, H = im.h, m = W < H ? W : H;
    if (m < 32) {
        dalei_sfmt(why, cap, "%s: %zux%zu is too small for a background (need 32 pixels a side)", full, W, H);
        dale_image_free(&im);
        return DALE_OK;
    }
    size_t w2 = W, h2 = H;
    if (m > BG_SIDE) {
        w2 = (size_t)((double)W * BG_SIDE / (double)m + 0.5);
        h2 = (size_t)((double)H * BG_SIDE / (double)m + 0.5);
        if (w2 < BG_SIDE) w2 = BG_SIDE;
        if (h2 < BG_SIDE) h2 = BG_SIDE;
    }
    if (!(bg->px = dalei_alloc(w2 * h2, 1))) { st = DALE_ERR_NOMEM; goto cleanup; }
    if (w2 == W && h2 == H) {
        memcpy(bg->px, im.data, W * H);
    } else {
        if (!(a = dalei_alloc(W * H, sizeof(float))) || !(b = dalei_alloc(w2 * h2, sizeof(float)))) {
            st = DALE_ERR_NOMEM;
            goto cleanup;
        }
        for (size_t i = 0; i < W * H; i++) a[i] = im.data[i];
        if ((st = dale_image_resize(a, W, H, b, w2, h2, 1, 0))) goto cleanup;
        for (size_t i = 0; i < w2 * h2; i++) {
            float v = roundf(b[i]);
            bg->px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    bg->w = w2;
    bg->h = h2;
    *ok = 1;
cleanup:
    if (st) {
        dalei_free(bg->px);
        bg->px = NULL;
    }
    dalei_free(a);
    dalei_free(b);
    dale_image_free(&im);
    return st;
}

/* ------------------------------------------------------------ rendering */

typedef struct pose {
    size_t split, object, background;
    size_t crop_x, crop_y, crop_size;
    double scale, x, y, angle;
} pose;

typedef struct scratch {
    float *crop, *canvas, *obj, *small;
    size_t crop_cap, obj_cap;
} scratch;

static dale_status grow(float **p, size_t *cap, size_t n)
{
    if (n <= *cap) return DALE_OK;
    dalei_free(*p);
    if (!(*p = dalei_alloc(n, sizeof(float)))) {
        *cap = 0;
        return DALE_ERR_NOMEM;
    }
    *cap = n;
    return DALE_OK;
}

/* Bilinear sample of the premultiplied (h, w, 2) plane at (u, v) in pixel
 * units (pixel centres at +0.5); outside the plane counts as transparent. */
static void sample2(const float *px, size_t w, size_t h, double u, double v, float out[2])
{
    double fx = u - 0.5, fy = v - 0.5;
    double x0 = floor(fx), y0 = floor(fy);
    double tx = fx - x0, ty = fy - y0;
    out[0] = out[1] = 0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            double xx = x0 + dx, yy = y0 + dy;
            if (xx < 0 || yy < 0 || xx >= (double)w || yy >= (double)h) continue;
            double wgt = (dx ? tx : 1 - tx) * (dy ? ty : 1 - ty);
            const float *p = px + ((size_t)yy * w + (size_t)xx) * 2;
            out[0] += (float)(wgt * (double)p[0]);
            out[1] += (float)(wgt * (double)p[1]);
        }
}

/* Draw the pose of image k (its random choices) and render it into img
 * (side x side uint8). */
static dale_status render(const dale_objrec_options *o, const object *objs, const background *bgs, size_t nbg,
                          const dale_rng *base, size_t k, pose *p, scratch *s, uint8_t *img)
{
    dale_rng r;
    dale_rng_fork(base, (uint64_t)k, &r);
    size_t S = o->canvas, side = S / o->factor;
    const object *ob = &objs[p->object];
    /* 1. background crop -> S x S */
    p->background = (size_t)dale_rng_below(&r, nbg);
    const background *bg = &bgs[p->background];
    size_t m = bg->w < bg->h ? bg->w : bg->h;
    size_t c = (size_t)(dale_rng_uniform(&r, 0.5, 1.0) * (double)m);
    if (c < 1) c = 1;
    p->crop_size = c;
    p->crop_x = (size_t)dale_rng_below(&r, bg->w - c + 1);
    p->crop_y = (size_t)dale_rng_below(&r, bg->h - c + 1);
    dale_status st;
    if ((st = grow(&s->crop, &s->crop_cap, c * c))) return st;
    for (size_t y = 0; y < c; y++)
        for (size_t x = 0; x < c; x++) s->crop[y * c + x] = bg->px[(p->crop_y + y) * bg->w + p->crop_x + x];
    if ((st = dale_image_resize(s->crop, c, c, s->canvas, S, S, 1, 0))) return st;
    /* 2. object: scale, rotate, place */
    p->scale = dale_rng_uniform(&r, o->scale_min, o->scale_max);
    p->angle = o->rotate ? dale_rng_uniform(&r, -o->max_angle, o->max_angle) : 0.0;
    double L = p->scale * (double)S, big = (double)(ob->w > ob->h ? ob->w : ob->h);
    size_t w2 = (size_t)fmax(1.0, round((double)ob->w * L / big)), h2 = (size_t)fmax(1.0, round((double)ob->h * L / big));
    if ((st = grow(&s->obj, &s->obj_cap, w2 * h2 * 2))) return st;
    if ((st = dale_image_resize(ob->px, ob->w, ob->h, s->obj, w2, h2, 2, 1))) return st;
    double th = p->angle * PI / 180.0, cs = cos(th), sn = sin(th);
    double ex = (fabs(cs) * (double)w2 + fabs(sn) * (double)h2) / 2, ey = (fabs(sn) * (double)w2 + fabs(cs) * (double)h2) / 2;
    double half = (double)S / 2;
    double fx = o->shift * (half - ex), fy = o->shift * (half - ey);
    p->x = ex < half ? dale_rng_uniform(&r, half - fx, half + fx) : half;
    p->y = ey < half ? dale_rng_uniform(&r, half - fy, half + fy) : half;
    /* canvas pixel (px, py): object coordinates by the inverse rotation
     *   u = cos(th) dx + sin(th) dy + w2/2,  v = -sin(th) dx + cos(th) dy + h2/2
     * with (dx, dy) = pixel centre - (x, y); out = bg (1 - a) + g a. */
    long ya = (long)floor(p->y - ey) - 1, yb = (long)ceil(p->y + ey) + 1;
    long xa = (long)floor(p->x - ex) - 1, xb = (long)ceil(p->x + ex) + 1;
    for (long py = ya < 0 ? 0 : ya; py < yb && py < (long)S; py++)
        for (long px = xa < 0 ? 0 : xa; px < xb && px < (long)S; px++) {
            double dx = (double)px + 0.5 - p->x, dy = (double)py + 0.5 - p->y;
            float ga[2];
            sample2(s->obj, w2, h2, cs * dx + sn * dy + (double)w2 / 2, -sn * dx + cs * dy + (double)h2 / 2, ga);
            if (ga[1] <= 0) continue;
            float *q = &s->canvas[(size_t)py * S + (size_t)px];
            *q = *q * (1 - ga[1]) + ga[0];
        }
    /* 3. bicubic downsampling by `factor` */
    if ((st = dale_image_resize(s->canvas, S, S, s->small, side, side, 1, 0))) return st;
    for (size_t i = 0; i < side * side; i++) {
        float v = roundf(s->small[i]);
        img[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    return DALE_OK;
}

/* ------------------------------------------------------------ outputs */

typedef struct textbuf {
    char *p;
    size_t n, cap;
    int failed;
} textbuf;

static void tb_add(textbuf *b, const char *fmt, ...) DALEI_PRINTF(2, 3);
static void tb_add(textbuf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (n < 0) { b->failed = 1; return; }
        if (b->p && b->n + (size_t)n < b->cap) {
            b->n += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap <= b->n + (size_t)n) cap *= 2;
        char *q = dalei_realloc(b->p, cap, 1);
        if (!q) { b->failed = 1; return; }
        b->p = q;
        b->cap = cap;
    }
}

/* A CSV field in double quotes, inner quotes doubled. */
static void tb_csv(textbuf *b, const char *s)
{
    tb_add(b, "\"");
    for (; *s; s++) tb_add(b, *s == '"' ? "\"\"" : "%c", *s);
    tb_add(b, "\"");
}


/* The contact sheet: one row per category (its name, then up to 8 of its
 * training images at twice their size), grey on white. */
static dale_status write_sheet(const char *path, const uint8_t *img, const uint8_t *lab, size_t n, size_t side,
                               char *const *names, size_t C)
{
    const size_t cols = 8, z = 2, pad = 6, left = 150, cell = side * z + pad;
    size_t W = left + cols * cell + pad, H = C * cell + pad;
    uint8_t *sh = dalei_alloc(W * H, 1);
    if (!sh) return DALE_ERR_NOMEM;
    memset(sh, 255, W * H);
    for (size_t c = 0; c < C; c++) {
        size_t y0 = pad + c * cell, done = 0;
        dale_image_draw_text(sh, W, H, (int)pad, (int)(y0 + side * z / 2 - 6), names[c], 2, 0);
        for (size_t i = 0; i < n && done < cols; i++) {
            if (lab[i] != c) continue;
            size_t x0 = left + done * cell;
            for (size_t y = 0; y < side * z; y++)
                for (size_t x = 0; x < side * z; x++)
                    sh[(y0 + y) * W + x0 + x] = img[i * side * side + (y / z) * side + x / z];
            done++;
        }
    }
    dale_status st = dale_image_write(path, W, H, 1, sh);
    dalei_free(sh);
    return st;
}

static dale_status write_sums(const char *dir, const char *const *files, size_t n)
{
    textbuf b = {0};
    dale_status st = DALE_OK;
    for (size_t i = 0; i < n && !st; i++) {
        char path[4200], hex[65];
        size_t bytes;
        dalei_sfmt(path, sizeof path, "%s/%s", dir, files[i]);
        if (!(st = dale_file_sha256(path, hex, &bytes))) tb_add(&b, "%s  %s\n", hex, files[i]);
    }
    if (!st && b.failed) st = DALE_ERR_NOMEM;
    if (!st) {
        char path[4200];
        dalei_sfmt(path, sizeof path, "%s/SHA256SUMS", dir);
        st = dalei_write_file_atomic(path, b.p, b.n);
    }
    dalei_free(b.p);
    return st;
}

/* ------------------------------------------------------------ the build */

static void logf_(FILE *log, const char *fmt, ...) DALEI_PRINTF(2, 3);
static void logf_(FILE *log, const char *fmt, ...)
{
    if (!log) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log, fmt, ap);
    va_end(ap);
}

static dale_status check_options(const dale_objrec_options *o)
{
    if (!o->out_dir) return DALE_FAIL(DALE_ERR_ARG, "objrec: no output folder");
    if (!o->objects_dir && !o->n_object_files)
        return DALE_FAIL(DALE_ERR_ARG, "objrec: no objects (neither a folder nor a list)");
    if (!o->objects_dir && (!o->object_files || !o->object_categories))
        return DALE_FAIL(DALE_ERR_ARG, "objrec: object list without files or categories");
    if (!o->backgrounds_dir && (!o->n_background_files || !o->background_files))
        return DALE_FAIL(DALE_ERR_ARG, "objrec: no backgrounds (neither a folder nor a list)");
    if (o->categories < 2 || o->categories > 255)
        return DALE_FAIL(DALE_ERR_ARG, "objrec: --categories must be 2..255 (got %zu)", o->categories);
    if (o->per_category < 1 || o->per_category > 10000)
        return DALE_FAIL(DALE_ERR_ARG, "objrec: --per-category must be 1..10000 (got %zu)", o->per_category);
    if (o->n_train < 1 || o->n_val > 10000000 || o->n_test > 10000000 || o->n_train > 10000000)
        return DALE_FAIL(DALE_ERR_ARG, "objrec: --train must be >= 1 and every split <= 10^7 (got %zu/%zu/%zu)",
                         o->n_train, o->n_val, o->n_test);
    if (!(o->scale_min > 0 && o->scale_min <= o->scale_max && o->scale_max <= 1))
        return DALE_FAIL(DALE_ERR_ARG, "objrec: scale range must satisfy 0 < min <= max <= 1 (got %g, %g)",
                         o->scale_min, o->scale_max);
    if (!(o->shift >= 0 && o->shift <= 1))
        return DALE_FAIL(DALE_ERR_ARG, "objrec: shift must be in [0, 1] (got %g)", o->shift);
    if (!(o->max_angle >= 0 && o->max_angle <= 180))
        return DALE_FAIL(DALE_ERR_ARG, "objrec: max angle must be in [0, 180] degrees (got %g)", o->max_angle);
    if (o->factor < 1 || o->canvas > 4096 || o->canvas / o->factor < 8)
        return DALE_FAIL(DALE_ERR_ARG, "objrec: canvas %zu / factor %zu must leave >= 8 pixels (canvas <= 4096)",
                         o->canvas, o->factor);
    return DALE_OK;
}

dale_status dale_objrec_make(const dale_objrec_options *o, dale_objrec_report *rep)
{
    static const char *const obj_ext[] = {"png", NULL};
    static const char *const bg_ext[] = {"jpg", "jpeg", "png", NULL};
    dale_objrec_report r;
    memset(&r, 0, sizeof r);
    if (rep) memset(rep, 0, sizeof *rep);
    if (!o) return DALE_FAIL(DALE_ERR_ARG, "dale_objrec_make: options are NULL");
    dale_status st = check_options(o);
    if (st) return st;
    FILE *log = o->log;
    dalei_strlist cats = {0}, files = {0}, bgfiles = {0}, names = {0};
    object *objs = NULL;
    background *bgs = NULL;
    size_t nobj = 0, nbg = 0, C = o->categories, P = o->per_category, K = C * P;
    size_t N = o->n_train + o->n_val + o->n_test, S = o->canvas, side = S / o->factor;
    pose *poses = NULL;
    uint8_t *imgs = NULL, *labs = NULL;
    size_t *order = NULL;
    scratch sc = {0};
    char why[1400], full[4200];
    cJSON *js = NULL;
    char *jtext = NULL;
    textbuf csv = {0}, ctxt = {0};

    if (!(objs = dalei_calloc(K, sizeof *objs))) { st = DALE_ERR_NOMEM; goto cleanup; }
    /* ---- objects: categories in order, the first P usable of each */
    if (o->objects_dir) {
        DIR *d = opendir(o->objects_dir);
        if (!d) { st = DALE_FAIL(DALE_ERR_IO, "%s: cannot read the objects folder: %s", o->objects_dir, strerror(errno)); goto cleanup; }
        struct dirent *de;
        while (!st && (de = readdir(d))) {
            struct stat sb;
            if (de->d_name[0] == '.') continue;
            dalei_sfmt(full, sizeof full, "%s/%s", o->objects_dir, de->d_name);
            if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) st = dalei_strlist_add(&cats, de->d_name);
        }
        closedir(d);
        if (st) goto cleanup;
        dalei_strlist_sort(&cats);
    } else {
        for (size_t i = 0; i < o->n_object_files && !st; i++) {
            size_t j = 0;
            while (j < cats.n && strcmp(cats.s[j], o->object_categories[i])) j++;
            if (j == cats.n) st = dalei_strlist_add(&cats, o->object_categories[i]);
        }
        if (st) goto cleanup;
    }
    char shortage[1024] = "";
    for (size_t ci = 0; ci < cats.n && names.n < C; ci++) {
        dalei_strlist_free(&files);
        if (o->objects_dir) {
            if ((st = walk(o->objects_dir, cats.s[ci], 1, obj_ext, &files))) goto cleanup;
            dalei_strlist_sort(&files);
        } else {
            for (size_t i = 0; i < o->n_object_files && !st; i++)
                if (!strcmp(o->object_categories[i], cats.s[ci])) st = dalei_strlist_add(&files, o->object_files[i]);
            if (st) goto cleanup;
        }
        size_t got = 0, first = nobj;
        for (size_t i = 0; i < files.n && got < P; i++) {
            int ok, noalpha;
            if (o->objects_dir) dalei_sfmt(full, sizeof full, "%s/%s", o->objects_dir, files.s[i]);
            else dalei_sfmt(full, sizeof full, "%s", files.s[i]);
            if ((st = load_object(full, &objs[nobj], &ok, &noalpha, why, sizeof why))) goto cleanup;
            if (!ok) {
                if (noalpha) r.objects_no_alpha++;
                else r.objects_corrupt++;
                logf_(log, "objrec: skipped object %s\n", why);
                continue;
            }
            if (!(objs[nobj].path = dalei_strdup(files.s[i]))) { st = DALE_ERR_NOMEM; goto cleanup; }
            objs[nobj].label = names.n;
            nobj++;
            got++;
        }
        if (got < P) {
            /* too few: drop this category's objects and try the next one */
            for (size_t i = first; i < nobj; i++) {
                dalei_free(objs[i].px);
                dalei_free(objs[i].path);
                memset(&objs[i], 0, sizeof objs[i]);
            }
            nobj = first;
            r.categories_skipped++;
            size_t l = strlen(shortage);
            dalei_sfmt(shortage + l, sizeof shortage - l, "%s%s has %zu", l ? ", " : "", cats.s[ci], got);
            logf_(log, "objrec: category %s has %zu usable objects (need %zu); not used\n", cats.s[ci], got, P);
            continue;
        }
        if ((st = dalei_strlist_add(&names, cats.s[ci]))) goto cleanup;
    }
    if (names.n < C) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "objrec: %zu categories with at least %zu usable objects are needed, found %zu%s%s%s",
                       C, P, names.n, shortage[0] ? " (" : "", shortage, shortage[0] ? ")" : "");
        goto cleanup;
    }
    r.objects_used = nobj;
    /* ---- backgrounds */
    if (o->backgrounds_dir) {
        if ((st = walk(o->backgrounds_dir, "", 0, bg_ext, &bgfiles))) goto cleanup;
        dalei_strlist_sort(&bgfiles);
    } else {
        for (size_t i = 0; i < o->n_background_files && !st; i++) st = dalei_strlist_add(&bgfiles, o->background_files[i]);
        if (st) goto cleanup;
    }
    size_t bgcap = bgfiles.n < DALE_OBJREC_MAX_BACKGROUNDS ? bgfiles.n : DALE_OBJREC_MAX_BACKGROUNDS;
    if (!(bgs = dalei_calloc(bgcap ? bgcap : 1, sizeof *bgs))) { st = DALE_ERR_NOMEM; goto cleanup; }
    for (size_t i = 0; i < bgfiles.n && nbg < bgcap; i++) {
        int ok;
        if (o->backgrounds_dir) dalei_sfmt(full, sizeof full, "%s/%s", o->backgrounds_dir, bgfiles.s[i]);
        else dalei_sfmt(full, sizeof full, "%s", bgfiles.s[i]);
        if ((st = load_background(full, &bgs[nbg], &ok, why, sizeof why))) goto cleanup;
        if (!ok) {
            r.backgrounds_corrupt++;
            logf_(log, "objrec: skipped background %s\n", why);
            continue;
        }
        if (!(bgs[nbg].path = dalei_strdup(bgfiles.s[i]))) { st = DALE_ERR_NOMEM; goto cleanup; }
        nbg++;
    }
    r.backgrounds_used = nbg;
    if (!nbg) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "objrec: no usable background among %zu image files in %s", bgfiles.n,
                       o->backgrounds_dir ? o->backgrounds_dir : "the list");
        goto cleanup;
    }
    logf_(log, "objrec: %zu categories x %zu objects, %zu backgrounds; skipped %zu corrupt and %zu alpha-less objects, %zu corrupt backgrounds\n",
          C, P, nbg, r.objects_corrupt, r.objects_no_alpha, r.backgrounds_corrupt);
    /* ---- assignment: category-interleaved objects, shuffled within splits */
    dale_rng base, shuf;
    dale_rng_seed(&base, o->seed);
    dale_rng_fork(&base, 0xC0FFEEull, &shuf);
    size_t nmax = o->n_train > o->n_val ? o->n_train : o->n_val;
    nmax = nmax > o->n_test ? nmax : o->n_test;
    if (!(poses = dalei_calloc(N, sizeof *poses)) || !(imgs = dalei_alloc(N, side * side)) ||
        !(labs = dalei_alloc(N, 1)) || !(order = dalei_alloc(nmax, sizeof *order)) ||
        !(sc.canvas = dalei_alloc(S * S, sizeof(float))) || !(sc.small = dalei_alloc(side * side, sizeof(float)))) {
        st = DALE_ERR_NOMEM;
        goto cleanup;
    }
    size_t cnt[3] = {o->n_train, o->n_val, o->n_test}, at = 0;
    for (size_t sp = 0; sp < 3; sp++) {
        for (size_t i = 0; i < cnt[sp]; i++) order[i] = i;
        dale_rng_shuffle(&shuf, order, cnt[sp]);
        for (size_t i = 0; i < cnt[sp]; i++) {
            size_t kk = order[i] % K; /* object kk: category kk % C, its (kk / C)-th object */
            poses[at + i].split = sp;
            poses[at + i].object = (kk % C) * P + kk / C;
        }
        at += cnt[sp];
    }
    /* ---- render */
    for (size_t k = 0; k < N; k++) {
        if ((st = render(o, objs, bgs, nbg, &base, k, &poses[k], &sc, imgs + k * side * side))) goto cleanup;
        labs[k] = (uint8_t)objs[poses[k].object].label;
        if (log && (k + 1) % 128 == 0) logf_(log, "objrec: rendered %zu/%zu\n", k + 1, N);
    }
    /* ---- write */
    if ((st = dale_mkdirs(o->out_dir))) goto cleanup;
    at = 0;
    for (size_t sp = 0; sp < 3; sp++) {
        char path[4200];
        size_t dim[3] = {cnt[sp], side, side};
        if (cnt[sp] == 0) continue;
        dalei_sfmt(path, sizeof path, "%s/%s-images-idx3-ubyte", o->out_dir, split_names[sp]);
        if ((st = dale_idx_write(path, 0, 3, dim, imgs + at * side * side))) goto cleanup;
        dalei_sfmt(path, sizeof path, "%s/%s-labels-idx1-ubyte", o->out_dir, split_names[sp]);
        if ((st = dale_idx_write(path, 0, 1, dim, labs + at))) goto cleanup;
        at += cnt[sp];
    }
    tb_add(&csv, "index,split,label,category,object,background,crop_x,crop_y,crop_size,scale,x,y,angle\n");
    for (size_t k = 0, within = 0; k < N; k++) {
        const pose *p = &poses[k];
        within = k && poses[k - 1].split != p->split ? 0 : within;
        tb_add(&csv, "%zu,%s,%u,", within++, split_names[p->split], (unsigned)labs[k]);
        tb_csv(&csv, names.s[labs[k]]);
        tb_add(&csv, ",");
        tb_csv(&csv, objs[p->object].path);
        tb_add(&csv, ",");
        tb_csv(&csv, bgs[p->background].path);
        tb_add(&csv, ",%zu,%zu,%zu,%.4f,%.2f,%.2f,%.2f\n", p->crop_x, p->crop_y, p->crop_size, p->scale, p->x, p->y,
               p->angle);
    }
    for (size_t c = 0; c < C; c++) tb_add(&ctxt, "%s\n", names.s[c]);
    if (csv.failed || ctxt.failed) { st = DALE_ERR_NOMEM; goto cleanup; }
    dalei_sfmt(full, sizeof full, "%s/manifest.csv", o->out_dir);
    if ((st = dalei_write_file_atomic(full, csv.p, csv.n))) goto cleanup;
    dalei_sfmt(full, sizeof full, "%s/categories.txt", o->out_dir);
    if ((st = dalei_write_file_atomic(full, ctxt.p, ctxt.n))) goto cleanup;
    if (o->contact_sheet && o->n_train) {
        dalei_sfmt(full, sizeof full, "%s/contact-sheet.png", o->out_dir);
        if ((st = write_sheet(full, imgs, labs, o->n_train, side, names.s, C))) goto cleanup;
    }
    /* objrec.json: how the set was made */
    if (!(js = cJSON_CreateObject())) { st = DALE_ERR_NOMEM; goto cleanup; }
    cJSON_AddStringToObject(js, "format", "dale-objrec");
    cJSON_AddNumberToObject(js, "version", 1);
    cJSON_AddStringToObject(js, "source", o->source ? o->source : "folders");
    cJSON_AddNumberToObject(js, "seed", (double)o->seed);
    cJSON_AddNumberToObject(js, "side", (double)side);
    cJSON_AddNumberToObject(js, "canvas", (double)S);
    cJSON_AddNumberToObject(js, "factor", (double)o->factor);
    cJSON_AddNumberToObject(js, "train", (double)o->n_train);
    cJSON_AddNumberToObject(js, "val", (double)o->n_val);
    cJSON_AddNumberToObject(js, "test", (double)o->n_test);
    cJSON_AddBoolToObject(js, "rotate", o->rotate);
    cJSON_AddNumberToObject(js, "max_angle", o->max_angle);
    cJSON_AddNumberToObject(js, "scale_min", o->scale_min);
    cJSON_AddNumberToObject(js, "scale_max", o->scale_max);
    cJSON_AddNumberToObject(js, "shift", o->shift);
    cJSON_AddStringToObject(js, "variation", o->variation ? o->variation : "custom");
    cJSON_AddNumberToObject(js, "per_category", (double)P);
    cJSON *jc = cJSON_AddArrayToObject(js, "categories"), *jo = cJSON_AddArrayToObject(js, "objects"),
          *jb = cJSON_AddArrayToObject(js, "backgrounds");
    if (!jc || !jo || !jb) { st = DALE_ERR_NOMEM; goto cleanup; }
    for (size_t c = 0; c < C; c++) cJSON_AddItemToArray(jc, cJSON_CreateString(names.s[c]));
    for (size_t i = 0; i < nobj; i++) cJSON_AddItemToArray(jo, cJSON_CreateString(objs[i].path));
    for (size_t i = 0; i < nbg; i++) cJSON_AddItemToArray(jb, cJSON_CreateString(bgs[i].path));
    cJSON_AddNumberToObject(js, "skipped_corrupt_objects", (double)r.objects_corrupt);
    cJSON_AddNumberToObject(js, "skipped_objects_without_alpha", (double)r.objects_no_alpha);
    cJSON_AddNumberToObject(js, "skipped_corrupt_backgrounds", (double)r.backgrounds_corrupt);
    cJSON_AddNumberToObject(js, "skipped_categories", (double)r.categories_skipped);
    if (!(jtext = cJSON_Print(js))) { st = DALE_ERR_NOMEM; goto cleanup; }
    dalei_sfmt(full, sizeof full, "%s/objrec.json", o->out_dir);
    if ((st = dalei_write_file_atomic(full, jtext, strlen(jtext)))) goto cleanup;
    {
        const char *list[10];
        size_t nl = 0;
        for (size_t sp = 0; sp < 3; sp++) {
            static const char *const im[3] = {"train-images-idx3-ubyte", "val-images-idx3-ubyte", "test-images-idx3-ubyte"};
            static const char *const lb[3] = {"train-labels-idx1-ubyte", "val-labels-idx1-ubyte", "test-labels-idx1-ubyte"};
            if (!cnt[sp]) continue;
            list[nl++] = im[sp];
            list[nl++] = lb[sp];
        }
        list[nl++] = "categories.txt";
        list[nl++] = "manifest.csv";
        list[nl++] = "objrec.json";
        if (o->contact_sheet && o->n_train) list[nl++] = "contact-sheet.png";
        if ((st = write_sums(o->out_dir, list, nl))) goto cleanup;
    }
    r.side = side;
    logf_(log, "objrec: wrote %zu/%zu/%zu images of %zux%zu to %s\n", o->n_train, o->n_val, o->n_test, side, side,
          o->out_dir);
cleanup:
    if (rep) *rep = r;
    for (size_t i = 0; objs && i < K; i++) {
        dalei_free(objs[i].px);
        dalei_free(objs[i].path);
    }
    for (size_t i = 0; bgs && i < nbg; i++) {
        dalei_free(bgs[i].px);
        dalei_free(bgs[i].path);
    }
    dalei_free(objs);
    dalei_free(bgs);
    dalei_strlist_free(&cats);
    dalei_strlist_free(&files);
    dalei_strlist_free(&bgfiles);
    dalei_strlist_free(&names);
    dalei_free(poses);
    dalei_free(imgs);
    dalei_free(labs);
    dalei_free(order);
    dalei_free(sc.crop);
    dalei_free(sc.canvas);
    dalei_free(sc.obj);
    dalei_free(sc.small);
    dalei_free(csv.p);
    dalei_free(ctxt.p);
    cJSON_free(jtext);
    cJSON_Delete(js);
    return st;
}

dale_status dale_objrec_verify(const char *dir, FILE *log)
{
    char path[4200], line[4600];
    dalei_sfmt(path, sizeof path, "%s/objrec.json", dir);
    struct stat sb;
    if (stat(path, &sb) != 0) return DALE_FAIL(DALE_ERR_IO, "%s: missing (not an objrec data set)", path);
    dalei_sfmt(path, sizeof path, "%s/SHA256SUMS", dir);
    FILE *f = fopen(path, "r");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: missing (the build did not finish)", path);
    dale_status first = DALE_OK;
    char msg[1024] = "";
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char hex[65], name[4096], got[65], fp[8400];
        size_t bytes;
        if (sscanf(line, "%64s %4095s", hex, name) != 2) continue;
        n++;
        dalei_sfmt(fp, sizeof fp, "%s/%s", dir, name);
        dale_status st = dale_file_sha256(fp, got, &bytes);
        if (!st && strcmp(got, hex)) st = DALE_FAIL(DALE_ERR_FORMAT, "%s: checksum mismatch (SHA-256 %s, want %s)", fp, got, hex);
        if (log) fprintf(log, "  %-28s %s\n", name, st ? dale_last_error() : "ok");
        if (st && !first) {
            first = st;
            dalei_sfmt(msg, sizeof msg, "%s", dale_last_error());
        }
    }
    fclose(f);
    if (!n) return DALE_FAIL(DALE_ERR_FORMAT, "%s: lists no files", path);
    if (first) dalei_set_error(first, __FILE__, __LINE__, "%s", msg);
    return first;
}
