/* image.c — image decoding, encoding and resampling through the stb headers.
 *
 * The implementations of stb_image, stb_image_write and stb_image_resize
 * (Debian libstb-dev, public domain / MIT) are compiled here, as static
 * functions, with their allocations routed to dalei_alloc/dalei_free so
 * that failure injection and leak counts cover them.  This is the only file
 * that includes them.  Their code does not build cleanly under our warning
 * set (-Wconversion, -Wshadow, -Wdouble-promotion, unused static functions,
 * ...), so the warnings are switched off around the #includes with
 * `#pragma GCC diagnostic` and stay on for everything else in the file.
 *
 * Decoding reads the whole file into memory first (bounded by
 * DALE_IMAGE_MAX_FILE) and decodes from memory; stb_image refuses sides
 * above DALE_IMAGE_MAX_SIDE before allocating pixels.  A corrupt file gives
 * DALE_ERR_FORMAT with stb's reason, never a crash.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include "dale/image.h"
#include "internal.h"

#define STBI_MALLOC(sz) dalei_alloc((sz), 1)
#define STBI_REALLOC(p, sz) dalei_realloc((p), (sz), 1)
#define STBI_FREE(p) dalei_free(p)
#define STBI_MAX_DIMENSIONS DALE_IMAGE_MAX_SIDE
#define STBI_NO_STDIO
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_NO_SIMD /* the same pixels on every machine */
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION

/* PNG's deflate step goes through zlib (linked anyway): stb's own
 * compressor asserts on a failed allocation instead of returning NULL. */
static unsigned char *zlib_compress(unsigned char *data, int len, int *out_len, int quality);
#define STBIW_ZLIB_COMPRESS zlib_compress
#define STBIW_MALLOC(sz) dalei_alloc((sz), 1)
#define STBIW_REALLOC(p, sz) dalei_realloc((p), (sz), 1)
#define STBIW_FREE(p) dalei_free(p)
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION

#define STBIR_MALLOC(size, c) ((void)(c), dalei_alloc((size), 1))
#define STBIR_FREE(p, c) ((void)(c), dalei_free(p))
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wmissing-declarations"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop
/* GCC reports static functions declared but never defined or used (stb's
 * HDR and thread-local entry points we compile out) at the end of the file,
 * after the pop above, so this one stays off for the whole file. */
#pragma GCC diagnostic ignored "-Wunused-function"

/* zlib-format compression of data into a dalei_alloc'd buffer (NULL on
 * failure), the contract stb_image_write expects of STBIW_ZLIB_COMPRESS. */
static unsigned char *zlib_compress(unsigned char *data, int len, int *out_len, int quality)
{
    uLongf cap = compressBound((uLong)len);
    unsigned char *out = dalei_alloc(cap, 1);
    if (!out) return NULL;
    int level = quality < 1 ? 1 : quality > 9 ? 9 : quality;
    if (compress2(out, &cap, data, (uLong)len, level) != Z_OK || cap > 0x7fffffff) {
        dalei_free(out);
        return NULL;
    }
    *out_len = (int)cap;
    return out;
}

void dale_image_free(dale_image *im)
{
    if (!im) return;
    dalei_free(im->data);
    memset(im, 0, sizeof *im);
}

/* Huffman tables of a JPEG, checked before stb sees them.  The stb_image of
 * Debian 12 builds its lookup arrays (257 entries) from the 16 code-length
 * counts of each DHT segment without checking that they sum to at most 256,
 * so a hostile file writes past them (found by fuzz/fuzz_image.c).  A valid
 * table holds at most 256 symbols; anything else is refused here.  Only the
 * marker structure is walked (SOI, length-prefixed segments, and past each
 * SOS the entropy-coded bytes up to the next marker, since progressive files
 * define tables between scans); decoding stays with stb.  Returns 0 when the
 * tables are sane or the data is not a JPEG. */
static int jpeg_tables_bad(const uint8_t *b, size_t n)
{
    if (n < 4 || b[0] != 0xFF || b[1] != 0xD8) return 0;
    size_t i = 2;
    while (i + 4 <= n) {
        if (b[i] != 0xFF) return 0; /* not a marker: leave the verdict to stb */
        uint8_t m = b[i + 1];
        if (m == 0xFF) { i++; continue; } /* fill byte */
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { i += 2; continue; }
        if (m == 0xD9) return 0; /* end of image */
        size_t seg = ((size_t)b[i + 2] << 8) | b[i + 3];
        if (seg < 2 || i + 2 + seg > n) return 0;
        if (m == 0xDA) { /* SOS: skip its header, then the coded data */
            i += 2 + seg;
            while (i + 1 < n && !(b[i] == 0xFF && b[i + 1] != 0x00 && !(b[i + 1] >= 0xD0 && b[i + 1] <= 0xD7))) i++;
            continue;
        }
        if (m == 0xC4) { /* DHT: one or more tables of 1 + 16 + sum(counts) bytes */
            size_t p = i + 4, end = i + 2 + seg;
            while (p < end) {
                if (p + 17 > end) return 1;
                size_t total = 0;
                for (int k = 0; k < 16; k++) total += b[p + 1 + k];
                if (total > 256 || p + 17 + total > end) return 1;
                p += 17 + total;
            }
        }
        i += 2 + seg;
    }
    return 0;
}

dale_status dale_image_load(const char *path, int channels, dale_image *out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_image_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return DALE_FAIL(DALE_ERR_ARG, "dale_image_load: path is NULL");
    if (channels < 1 || channels > 4)
        return DALE_FAIL(DALE_ERR_ARG, "dale_image_load: channels must be 1..4 (got %d)", channels);
    char *text;
    size_t len;
    dale_status st = dalei_read_file(path, DALE_IMAGE_MAX_FILE, &text, &len);
    if (st == DALE_ERR_FORMAT)
        return DALE_FAIL(DALE_ERR_IO, "%s: larger than the %zu MiB an image may have", path,
                         (size_t)DALE_IMAGE_MAX_FILE >> 20);
    if (st) return st;
    uint8_t *buf = (uint8_t *)text;
    if (len == 0 || len > (size_t)0x7fffffff) {
        dalei_free(buf);
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: not an image (%zu bytes)", path, len);
    }
    if (jpeg_tables_bad(buf, len)) {
        dalei_free(buf);
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: corrupt JPEG (a Huffman table holds more than 256 codes)", path);
    }
    int w = 0, h = 0, comp = 0;
    uint8_t *px = stbi_load_from_memory(buf, (int)len, &w, &h, &comp, channels);
    dalei_free(buf);
    if (!px) {
        const char *why = stbi_failure_reason();
        if (why && !strcmp(why, "outofmem")) return DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory decoding", path);
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: cannot decode image: %s", path, why ? why : "unknown reason");
    }
    out->w = (size_t)w;
    out->h = (size_t)h;
    out->channels = channels;
    out->file_channels = comp;
    out->data = px;
    return DALE_OK;
}

/* A growing memory buffer for stbi_write_jpg_to_func. */
typedef struct membuf {
    uint8_t *p;
    size_t n, cap;
    int failed;
} membuf;

static void membuf_put(void *ctx, void *data, int size)
{
    membuf *m = ctx;
    if (m->failed || size <= 0) return;
    size_t need = m->n + (size_t)size;
    if (need > m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 16;
        while (cap < need) cap *= 2;
        uint8_t *q = dalei_realloc(m->p, cap, 1);
        if (!q) {
            m->failed = 1;
            return;
        }
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->n, data, (size_t)size);
    m->n = need;
}

/* Case-insensitive "does name end in ext". */
static int ends_with(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    if (n < e) return 0;
    for (size_t i = 0; i < e; i++)
        if (tolower((unsigned char)name[n - e + i]) != ext[i]) return 0;
    return 1;
}

dale_status dale_image_write(const char *path, size_t w, size_t h, int channels, const uint8_t *data)
{
    if (!path || !data) return DALE_FAIL(DALE_ERR_ARG, "dale_image_write: path or data is NULL");
    if (w < 1 || h < 1 || w > DALE_IMAGE_MAX_SIDE || h > DALE_IMAGE_MAX_SIDE || channels < 1 || channels > 4)
        return DALE_FAIL(DALE_ERR_ARG, "%s: cannot write a %zux%zu image with %d channels", path, w, h, channels);
    int png = ends_with(path, ".png"), jpg = ends_with(path, ".jpg") || ends_with(path, ".jpeg");
    if (!png && !jpg) return DALE_FAIL(DALE_ERR_ARG, "%s: unknown image type (expected .png, .jpg or .jpeg)", path);
    dale_status st;
    if (png) {
        int len = 0;
        uint8_t *enc = stbi_write_png_to_mem(data, (int)(w * (size_t)channels), (int)w, (int)h, channels, &len);
        if (!enc) return DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory encoding PNG", path);
        st = dalei_write_file_atomic(path, enc, (size_t)len);
        dalei_free(enc);
        return st;
    }
    membuf m = {NULL, 0, 0, 0};
    int ok = stbi_write_jpg_to_func(membuf_put, &m, (int)w, (int)h, channels, data, 95);
    if (!ok || m.failed) {
        dalei_free(m.p);
        return DALE_FAIL(m.failed ? DALE_ERR_NOMEM : DALE_ERR_IO, "%s: cannot encode JPEG", path);
    }
    st = dalei_write_file_atomic(path, m.p, m.n);
    dalei_free(m.p);
    return st;
}

dale_status dale_image_resize(const float *in, size_t iw, size_t ih, float *out, size_t ow, size_t oh, int channels,
                              int edge_zero)
{
    if (!in || !out) return DALE_FAIL(DALE_ERR_ARG, "dale_image_resize: NULL plane");
    if (!iw || !ih || !ow || !oh || iw > DALE_IMAGE_MAX_SIDE || ih > DALE_IMAGE_MAX_SIDE ||
        ow > DALE_IMAGE_MAX_SIDE || oh > DALE_IMAGE_MAX_SIDE || channels < 1 || channels > 4)
        return DALE_FAIL(DALE_ERR_ARG, "dale_image_resize: bad sizes %zux%zu -> %zux%zu x %d channels", iw, ih, ow,
                         oh, channels);
    stbir_edge edge = edge_zero ? STBIR_EDGE_ZERO : STBIR_EDGE_CLAMP;
    int ok = stbir_resize_float_generic(in, (int)iw, (int)ih, 0, out, (int)ow, (int)oh, 0, channels,
                                        STBIR_ALPHA_CHANNEL_NONE, 0, edge, STBIR_FILTER_CATMULLROM,
                                        STBIR_COLORSPACE_LINEAR, NULL);
    if (!ok) return DALE_FAIL(DALE_ERR_NOMEM, "dale_image_resize: out of memory");
    return DALE_OK;
}

void dale_image_draw_text(uint8_t *grey, size_t w, size_t h, int x, int y, const char *text, int scale,
                          uint8_t value)
{
    /* stb_easy_font emits axis-aligned quads: 4 vertices of 16 bytes each
     * (x, y, z as floats, then 4 colour bytes), about 270 bytes per
     * character; 200 characters fit in the buffer below. */
    static const size_t max_chars = 200;
    char buf[201];
    size_t n = 0;
    for (const char *p = text; p && *p && n < max_chars; p++)
        if ((unsigned char)*p >= 32 && (unsigned char)*p < 127) buf[n++] = *p;
    buf[n] = '\0';
    float vb[200 * 70 * 4];
    unsigned char col[4] = {255, 255, 255, 255};
    int quads = stb_easy_font_print(0, 0, buf, col, vb, (int)sizeof vb);
    if (scale < 1) scale = 1;
    for (int q = 0; q < quads; q++) {
        const float *v = vb + (size_t)q * 16; /* 4 vertices x 4 words */
        float x0 = v[0], y0 = v[1], x1 = v[0], y1 = v[1];
        for (int k = 1; k < 4; k++) {
            float vx = v[4 * k], vy = v[4 * k + 1];
            x0 = vx < x0 ? vx : x0;
            x1 = vx > x1 ? vx : x1;
            y0 = vy < y0 ? vy : y0;
            y1 = vy > y1 ? vy : y1;
        }
        for (int py = (int)y0 * scale; py < (int)y1 * scale; py++)
            for (int px = (int)x0 * scale; px < (int)x1 * scale; px++) {
                long gx = (long)x + px, gy = (long)y + py;
                if (gx >= 0 && gy >= 0 && (size_t)gx < w && (size_t)gy < h) grey[(size_t)gy * w + (size_t)gx] = value;
            }
    }
}
