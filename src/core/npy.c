/* npy.c — NumPy .npy arrays and .npz archives.
 *
 * An NPY image is: the magic "\x93NUMPY", a major and minor version byte, the
 * header length (2 bytes little-endian for version 1.0, 4 bytes for 2.0 and
 * 3.0), an ASCII/UTF-8 Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and a final '\n', then the raw elements in C order.
 *
 * One reader serves files, memory buffers and zip members: it pulls bytes
 * through a small `source` (a read callback plus the total size, known up
 * front in all three cases), validates the prefix and the header, checks that
 * the remaining byte count equals what the shape needs, and only then
 * allocates the data.  So a corrupt or hostile size can never trigger a huge
 * allocation, and every error message names the file (or "archive:member")
 * and the problem.
 *
 * Writers are atomic: the bytes go to "<path>.tmp.<pid>", which is flushed,
 * fsync'ed and renamed over the target; on any failure the temp file is
 * removed.  Element bytes are copied verbatim, so the host must be
 * little-endian (checked at compile time where the compiler tells us).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include <zip.h>
#include "dale/npy.h"
#include "internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c copies element bytes verbatim and assumes a little-endian host"
#endif

/* Largest header we accept.  NumPy's own reader refuses headers over 10000
 * bytes by default; ours never exceed a few hundred. */
#define NPY_MAX_HEADER (64u * 1024u)
#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

/* ---- dtypes --------------------------------------------------------------- */

static const struct {
    const char *descr; /* what we write */
    const char *alt;   /* another spelling we accept on read, or NULL */
    size_t size;
} dtype_info[] = {
    [DALE_F32] = {"<f4", NULL, 4},  [DALE_F64] = {"<f8", NULL, 8},
    [DALE_I32] = {"<i4", NULL, 4},  [DALE_I64] = {"<i8", NULL, 8},
    [DALE_U8] = {"|u1", "<u1", 1},  [DALE_U64] = {"<u8", NULL, 8},
    [DALE_I8] = {"|i1", "<i1", 1},
};
#define NDTYPES (sizeof dtype_info / sizeof dtype_info[0])

static int dtype_valid(dale_dtype t) { return (unsigned)t < NDTYPES; }

size_t dale_dtype_size(dale_dtype t) { return dtype_valid(t) ? dtype_info[t].size : 0; }

const char *dale_dtype_descr(dale_dtype t) { return dtype_valid(t) ? dtype_info[t].descr : "?"; }

void dale_array_free(dale_array *a)
{
    if (!a) return;
    dalei_free(a->data);
    a->data = NULL;
    a->count = 0;
}

/* Elements in `shape`, and their byte count for element size `esize`;
 * 0 when either product overflows size_t. */
static int shape_bytes(int ndim, const size_t *shape, size_t esize, size_t *count, size_t *bytes)
{
    size_t c = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] && c > SIZE_MAX / shape[i]) return 0;
        c *= shape[i];
    }
    if (c > SIZE_MAX / esize) return 0;
    *count = c;
    *bytes = c * esize;
    return 1;
}

/* "(2, 3)" / "(5,)" / "()" into buf, Python tuple syntax (also the header's). */
static void format_shape(char *buf, size_t cap, int ndim, const size_t *shape)
{
    size_t n = (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, i ? ", %zu" : "%zu", shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, ndim == 1 ? ",)" : ")");
}

/* ---- header dict parser -------------------------------------------------- */

/* The header is parsed as a tiny subset of Python literal syntax: a dict
 * with exactly the keys 'descr' (a string), 'fortran_order' (True/False) and
 * 'shape' (a tuple of non-negative integers), in any order, either quote
 * style, optional trailing commas, and only whitespace after the '}'.
 * The parser walks [p, end) and never relies on NUL termination. */
typedef struct hdr_parser {
    const char *p, *end;
    const char *what; /* file/member name for messages */
} hdr_parser;

typedef struct npy_header {
    dale_dtype dtype;
    int ndim;
    size_t shape[DALE_NPY_MAXDIM];
} npy_header;

static void skip_ws(hdr_parser *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int accept_char(hdr_parser *h, char c)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes; on success (*s, *n) is its text inside the header. */
static dale_status parse_string(hdr_parser *h, const char **s, size_t *n, const char *ctx)
{
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: expected a quoted string for %s", h->what, ctx);
    char q = *h->p++;
    const char *start = h->p;
    while (h->p < h->end && *h->p != q && *h->p != '\\') h->p++;
    if (h->p >= h->end || *h->p != q)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: unterminated or escaped string for %s",
                         h->what, ctx);
    *s = start;
    *n = (size_t)(h->p - start);
    h->p++;
    return DALE_OK;
}

static int token_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static dale_status parse_descr(hdr_parser *h, npy_header *out)
{
    skip_ws(h);
    if (h->p < h->end && *h->p == '[')
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: structured dtypes are not supported", h->what);
    const char *s;
    size_t n;
    dale_status st = parse_string(h, &s, &n, "'descr'");
    if (st) return st;
    for (size_t t = 0; t < NDTYPES; t++) {
        if (token_is(s, n, dtype_info[t].descr) ||
            (dtype_info[t].alt && token_is(s, n, dtype_info[t].alt))) {
            out->dtype = (dale_dtype)t;
            return DALE_OK;
        }
    }
    /* NumPy's bool is one byte 0 or 1: read as uint8 (connectivity masks). */
    if (token_is(s, n, "|b1")) {
        out->dtype = DALE_U8;
        return DALE_OK;
    }
    /* Name the common refusal reasons precisely. */
    if (n > 0 && s[0] == '>')
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: big-endian dtype '%.*s' is not supported (save as '<')",
                         h->what, (int)(n > 32 ? 32 : n), s);
    return DALE_FAIL(DALE_ERR_FORMAT,
                     "%s: unsupported dtype '%.*s' (want <f4 <f8 <i4 <i8 <u8 |u1 |i1 |b1)", h->what,
                     (int)(n > 32 ? 32 : n), s);
}

static dale_status parse_bool(hdr_parser *h, int *out)
{
    skip_ws(h);
    size_t left = (size_t)(h->end - h->p);
    if (left >= 4 && memcmp(h->p, "True", 4) == 0) {
        h->p += 4;
        *out = 1;
    } else if (left >= 5 && memcmp(h->p, "False", 5) == 0) {
        h->p += 5;
        *out = 0;
    } else {
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: 'fortran_order' must be True or False",
                         h->what);
    }
    return DALE_OK;
}

/* '(' [int (',' int)* [',']] ')'.  Integers are decimal, checked against
 * SIZE_MAX; a Python-2 style 'L' suffix is tolerated. */
static dale_status parse_shape(hdr_parser *h, npy_header *out)
{
    if (!accept_char(h, '('))
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: 'shape' must be a tuple", h->what);
    out->ndim = 0;
    for (;;) {
        if (accept_char(h, ')')) return DALE_OK;
        skip_ws(h);
        if (h->p >= h->end || *h->p < '0' || *h->p > '9')
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: bad 'shape' entry", h->what);
        size_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            size_t digit = (size_t)(*h->p - '0');
            if (v > (SIZE_MAX - digit) / 10)
                return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: shape entry overflows", h->what);
            v = v * 10 + digit;
            h->p++;
        }
        if (h->p < h->end && *h->p == 'L') h->p++;
        if (out->ndim == DALE_NPY_MAXDIM)
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: more than %d dimensions", h->what, DALE_NPY_MAXDIM);
        out->shape[out->ndim++] = v;
        if (accept_char(h, ',')) continue;
        if (accept_char(h, ')')) return DALE_OK;
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: expected ',' or ')' in 'shape'", h->what);
    }
}

static dale_status parse_header_dict(const char *text, size_t len, const char *what, npy_header *out)
{
    hdr_parser h = {text, text + len, what};
    enum { SEEN_DESCR = 1, SEEN_ORDER = 2, SEEN_SHAPE = 4 };
    int seen = 0, fortran = 0;
    dale_status st;

    if (!accept_char(&h, '{'))
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header is not a dict", what);
    for (;;) {
        if (accept_char(&h, '}')) break;
        const char *key;
        size_t klen;
        if ((st = parse_string(&h, &key, &klen, "a key"))) return st;
        if (!accept_char(&h, ':'))
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: expected ':' after a key", what);
        int bit;
        if (token_is(key, klen, "descr")) {
            bit = SEEN_DESCR;
            st = parse_descr(&h, out);
        } else if (token_is(key, klen, "fortran_order")) {
            bit = SEEN_ORDER;
            st = parse_bool(&h, &fortran);
        } else if (token_is(key, klen, "shape")) {
            bit = SEEN_SHAPE;
            st = parse_shape(&h, out);
        } else {
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: unexpected key '%.*s'", what,
                             (int)(klen > 32 ? 32 : klen), key);
        }
        if (st) return st;
        if (seen & bit)
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: duplicate key '%.*s'", what,
                             (int)klen, key);
        seen |= bit;
        if (accept_char(&h, ',')) continue;
        if (accept_char(&h, '}')) break;
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: expected ',' or '}'", what);
    }
    skip_ws(&h);
    if (h.p != h.end)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: unexpected text after the dict", what);
    if (seen != (SEEN_DESCR | SEEN_ORDER | SEEN_SHAPE))
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header: missing key '%s'", what,
                         !(seen & SEEN_DESCR) ? "descr" : !(seen & SEEN_ORDER) ? "fortran_order" : "shape");
    if (fortran)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: Fortran-order arrays are not supported (save C order)", what);
    return DALE_OK;
}

/* ---- the shared reader ----------------------------------------------------- */

/* A byte source of known total size.  read() returns the number of bytes
 * delivered (short only at end of data) or -1 on an I/O error, with a
 * message of its own in *err. */
typedef struct source {
    long long (*read)(struct source *s, void *buf, size_t n);
    uint64_t total;    /* bytes the source holds */
    const char *what;  /* name for messages */
    const char *err;   /* error text set by read() on -1 */
    int corrupt;       /* read() failed because the data is corrupt, not I/O */
    void *ctx;         /* FILE *, zip_file_t *, or memory cursor */
    size_t mem_pos;    /* memory sources only */
} source;

/* Read exactly n bytes or fail: a short read means the source ends early
 * (DALE_ERR_FORMAT, "truncated"), -1 is an I/O error (DALE_ERR_IO). */
static dale_status read_exact(source *s, void *buf, size_t n, const char *part)
{
    long long got = s->read(s, buf, n);
    if (got < 0)
        return DALE_FAIL(s->corrupt ? DALE_ERR_FORMAT : DALE_ERR_IO, "%s: %s in %s: %s", s->what,
                         s->corrupt ? "corrupt data" : "read error", part, s->err ? s->err : "?");
    if ((size_t)got != n)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: truncated %s (wanted %zu bytes, got %lld)", s->what,
                         part, n, got);
    return DALE_OK;
}

static dale_status read_npy(source *s, dale_array *out)
{
    unsigned char pre[12];
    char *text = NULL;
    void *data = NULL;
    npy_header hd;
    dale_status st;

    memset(out, 0, sizeof *out);
    memset(&hd, 0, sizeof hd);
    /* Prefix: magic (6), version (2), header length (2 or 4). */
    if (s->total < 10)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: too short for an NPY file (%" PRIu64 " bytes)", s->what,
                         s->total);
    if ((st = read_exact(s, pre, 8, "NPY prefix"))) return st;
    if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: bad magic (not an NPY file)", s->what);
    int major = pre[6], minor = pre[7];
    size_t lenbytes = major == 1 ? 2 : (major == 2 || major == 3) ? 4 : 0;
    if (!lenbytes || minor != 0)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: unsupported NPY version %d.%d", s->what, major, minor);
    if ((st = read_exact(s, pre + 8, lenbytes, "NPY prefix"))) return st;
    uint32_t hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    if (lenbytes == 4) hlen |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    uint64_t prefix = 8 + lenbytes;
    if (hlen > NPY_MAX_HEADER)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: NPY header length %" PRIu32 " exceeds the %u-byte limit",
                         s->what, hlen, NPY_MAX_HEADER);
    if (prefix + hlen > s->total)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: truncated NPY header (%" PRIu32 " bytes declared, %" PRIu64
                         " present)", s->what, hlen, s->total - prefix);

    /* Header text. */
    text = dalei_alloc(hlen ? hlen : 1, 1);
    if (!text) {
        st = DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory for the NPY header", s->what);
        goto fail;
    }
    if ((st = read_exact(s, text, hlen, "NPY header"))) goto fail;
    if ((st = parse_header_dict(text, hlen, s->what, &hd))) goto fail;

    /* The data must be exactly what the shape needs; compare before
     * allocating so a lying header cannot cause a huge allocation. */
    size_t esize = dtype_info[hd.dtype].size, count, bytes;
    char shp[256];
    format_shape(shp, sizeof shp, hd.ndim, hd.shape);
    if (!shape_bytes(hd.ndim, hd.shape, esize, &count, &bytes)) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: shape %s of %s overflows the address space", s->what, shp,
                       dtype_info[hd.dtype].descr);
        goto fail;
    }
    uint64_t have = s->total - prefix - hlen;
    if (have != (uint64_t)bytes) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: %s: data holds %" PRIu64 " bytes but shape %s of %s needs %zu",
                       s->what, have < bytes ? "truncated" : "wrong size", have, shp,
                       dtype_info[hd.dtype].descr, bytes);
        goto fail;
    }
    data = dalei_alloc(bytes ? bytes : 1, 1);
    if (!data) {
        st = DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory for %zu data bytes", s->what, bytes);
        goto fail;
    }
    if ((st = read_exact(s, data, bytes, "data"))) goto fail;

    dalei_free(text);
    out->dtype = hd.dtype;
    out->ndim = hd.ndim;
    memcpy(out->shape, hd.shape, sizeof hd.shape);
    out->count = count;
    out->data = data;
    return DALE_OK;
fail:
    dalei_free(data);
    dalei_free(text);
    return st;
}

/* -- memory source -- */
static long long mem_read(source *s, void *buf, size_t n)
{
    size_t left = (size_t)s->total - s->mem_pos;
    if (n > left) n = left;
    memcpy(buf, (const char *)s->ctx + s->mem_pos, n);
    s->mem_pos += n;
    return (long long)n;
}

dale_status dale_npy_parse(const void *buf, size_t len, const char *what, dale_array *out)
{
    if (!what) what = "<memory>";
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_npy_parse: out must not be NULL");
    if (!buf && len) return DALE_FAIL(DALE_ERR_ARG, "dale_npy_parse: buf is NULL but len is %zu", len);
    source s = {mem_read, len, what, NULL, 0, (void *)(uintptr_t)buf, 0};
    return read_npy(&s, out);
}

/* -- file source -- */
static long long file_read(source *s, void *buf, size_t n)
{
    FILE *f = s->ctx;
    size_t got = fread(buf, 1, n, f);
    if (got < n && ferror(f)) {
        s->err = strerror(errno);
        return -1;
    }
    return (long long)got;
}

dale_status dale_npy_read(const char *path, dale_array *out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_npy_read: out must not be NULL");
    memset(out, 0, sizeof *out);
    if (!path) return DALE_FAIL(DALE_ERR_ARG, "dale_npy_read: path must not be NULL");
    FILE *f = fopen(path, "rb");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    dale_status st;
    if (fstat(fileno(f), &sb) != 0) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: not a regular file", path);
    } else {
        source s = {file_read, (uint64_t)sb.st_size, path, NULL, 0, f, 0};
        st = read_npy(&s, out);
    }
    fclose(f);
    return st;
}

/* ---- writing ---------------------------------------------------------------- */

/* Build the NPY prefix + header for (t, ndim, shape) into buf (cap >= 512)
 * and return its length.  Version 1.0; the dict is padded with spaces so
 * that the data starts at a multiple of 64 bytes, as NumPy does.  With at
 * most DALE_NPY_MAXDIM 20-digit dimensions the header stays far below both
 * the buffer and the 65535-byte limit of version 1.0. */
static size_t build_header(char *buf, size_t cap, dale_dtype t, int ndim, const size_t *shape)
{
    char shp[256];
    format_shape(shp, sizeof shp, ndim, shape);
    char dict[400];
    int dn = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      dtype_info[t].descr, shp);
    DALE_ASSERT(dn > 0 && (size_t)dn < sizeof dict);
    size_t total = 10 + (size_t)dn + 1; /* + '\n' */
    total = (total + 63) / 64 * 64;
    DALE_ASSERT(total <= cap);
    size_t hlen = total - 10;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)dn);
    memset(buf + 10 + dn, ' ', total - 10 - (size_t)dn - 1);
    buf[total - 1] = '\n';
    return total;
}

/* Shared argument checks of dale_npy_write and dale_npz_add; on success
 * sets *bytes to the data size. */
static dale_status check_array_args(const char *fn, dale_dtype t, int ndim, const size_t *shape,
                                    const void *data, size_t *bytes)
{
    size_t count;
    if (!dtype_valid(t)) return DALE_FAIL(DALE_ERR_ARG, "%s: unknown dtype %d", fn, (int)t);
    if (ndim < 0 || ndim > DALE_NPY_MAXDIM)
        return DALE_FAIL(DALE_ERR_ARG, "%s: ndim must be in [0, %d] (got %d)", fn, DALE_NPY_MAXDIM, ndim);
    if (ndim > 0 && !shape) return DALE_FAIL(DALE_ERR_ARG, "%s: shape must not be NULL", fn);
    if (!shape_bytes(ndim, shape, dtype_info[t].size, &count, bytes))
        return DALE_FAIL(DALE_ERR_ARG, "%s: shape overflows size_t", fn);
    if (*bytes && !data) return DALE_FAIL(DALE_ERR_ARG, "%s: data must not be NULL", fn);
    return DALE_OK;
}

/* "<path>.tmp.<pid>" in a dalei_alloc'd string, or NULL (NOMEM recorded). */
static char *temp_name(const char *path)
{
    size_t n = strlen(path) + 32;
    char *tmp = dalei_alloc(n, 1);
    if (tmp) snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    return tmp;
}

/* Flush f to disk and close it; returns 0 or an errno value.  f is closed
 * in every case. */
static int flush_sync_close(FILE *f)
{
    int err = 0;
    if (fflush(f) != 0) err = errno;
    if (!err && fsync(fileno(f)) != 0) err = errno;
    if (fclose(f) != 0 && !err) err = errno;
    return err;
}

dale_status dale_npy_write(const char *path, dale_dtype t, int ndim, const size_t *shape,
                           const void *data)
{
    size_t bytes;
    dale_status st;
    if (!path) return DALE_FAIL(DALE_ERR_ARG, "dale_npy_write: path must not be NULL");
    if ((st = check_array_args("dale_npy_write", t, ndim, shape, data, &bytes))) return st;
    char hdr[512];
    size_t hn = build_header(hdr, sizeof hdr, t, ndim, shape);

    char *tmp = temp_name(path);
    if (!tmp) return DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory for the temp file name", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        dalei_free(tmp);
        return st;
    }
    int err = 0;
    if (fwrite(hdr, 1, hn, f) != hn || (bytes && fwrite(data, 1, bytes, f) != bytes)) err = errno ? errno : EIO;
    int cerr = flush_sync_close(f);
    if (!err) err = cerr;
    if (err) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: write failed: %s", path, strerror(err));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
        goto fail;
    }
    dalei_free(tmp);
    return DALE_OK;
fail:
    remove(tmp);
    dalei_free(tmp);
    return st;
}

/* ---- NPZ writer ------------------------------------------------------------- */

/* Members are kept as complete NPY images until commit, so libzip can
 * stream them from memory (zip_source_buffer does not copy). */
typedef struct npz_member {
    char *name;  /* "<key>.npy" */
    char *image; /* header + data */
    size_t len;
} npz_member;

struct dale_npz_writer {
    char *path;
    npz_member *m;
    size_t n, cap;
};

dale_status dale_npz_writer_create(const char *path, dale_npz_writer **out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_writer_create: out must not be NULL");
    *out = NULL;
    if (!path || !*path) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_writer_create: path must not be empty");
    dale_npz_writer *w = dalei_calloc(1, sizeof *w);
    if (!w) return DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory for the NPZ writer", path);
    w->path = dalei_strdup(path);
    if (!w->path) {
        dalei_free(w);
        return DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory for the NPZ writer", path);
    }
    *out = w;
    return DALE_OK;
}

void dale_npz_writer_free(dale_npz_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) {
        dalei_free(w->m[i].name);
        dalei_free(w->m[i].image);
    }
    dalei_free(w->m);
    dalei_free(w->path);
    dalei_free(w);
}

dale_status dale_npz_add(dale_npz_writer *w, const char *key, dale_dtype t, int ndim,
                         const size_t *shape, const void *data)
{
    size_t bytes;
    dale_status st;
    char *name = NULL, *image = NULL;
    if (!w) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_add: writer must not be NULL");
    if (!key || !*key) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_add: %s: key must not be empty", w->path);
    if ((st = check_array_args("dale_npz_add", t, ndim, shape, data, &bytes))) return st;
    size_t klen = strlen(key);
    for (size_t i = 0; i < w->n; i++)
        if (strncmp(w->m[i].name, key, klen) == 0 && strcmp(w->m[i].name + klen, ".npy") == 0)
            return DALE_FAIL(DALE_ERR_ARG, "dale_npz_add: %s: duplicate key '%s'", w->path, key);

    if (w->n == w->cap) {
        size_t ncap = w->cap ? 2 * w->cap : 8;
        npz_member *nm = dalei_realloc(w->m, ncap, sizeof *nm);
        if (!nm) return DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory adding '%s'", w->path, key);
        w->m = nm;
        w->cap = ncap;
    }
    char hdr[512];
    size_t hn = build_header(hdr, sizeof hdr, t, ndim, shape);
    if (bytes > SIZE_MAX - hn) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_add: '%s' is too large", key);
    name = dalei_alloc(klen + 5, 1);
    image = dalei_alloc(hn + bytes, 1);
    if (!name || !image) {
        st = DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory adding '%s'", w->path, key);
        goto fail;
    }
    memcpy(name, key, klen);
    memcpy(name + klen, ".npy", 5);
    memcpy(image, hdr, hn);
    if (bytes) memcpy(image + hn, data, bytes);
    w->m[w->n++] = (npz_member){name, image, hn + bytes};
    return DALE_OK;
fail:
    dalei_free(image);
    dalei_free(name);
    return st;
}

/* An empty zip archive is just the 22-byte end-of-central-directory record
 * (this is what np.savez writes for no arrays).  libzip refuses to create
 * an archive without entries, so we write it ourselves. */
static int write_empty_zip(const char *tmp)
{
    static const unsigned char eocd[22] = {'P', 'K', 5, 6};
    FILE *f = fopen(tmp, "wb");
    if (!f) return errno;
    int err = fwrite(eocd, 1, sizeof eocd, f) == sizeof eocd ? 0 : (errno ? errno : EIO);
    int cerr = flush_sync_close(f);
    return err ? err : cerr;
}

/* Commit: libzip writes the archive to tmp (itself via its own temp file and
 * rename), we fsync tmp and rename it over the target.  The target is
 * therefore either the old file or the complete new archive. */
dale_status dale_npz_writer_commit(dale_npz_writer *w)
{
    if (!w) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_writer_commit: writer must not be NULL");
    dale_status st = DALE_OK;
    zip_t *za = NULL;
    char *tmp = temp_name(w->path);
    if (!tmp) {
        st = DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory for the temp file name", w->path);
        goto done;
    }
    remove(tmp); /* a stale temp from a crashed run with our pid */

    if (w->n == 0) {
        int err = write_empty_zip(tmp);
        if (err) {
            st = DALE_FAIL(DALE_ERR_IO, "%s: cannot write %s: %s", w->path, tmp, strerror(err));
            goto fail;
        }
    } else {
        int zerr = 0;
        za = zip_open(tmp, ZIP_CREATE | ZIP_EXCL, &zerr);
        if (!za) {
            zip_error_t ze;
            zip_error_init_with_code(&ze, zerr);
            st = DALE_FAIL(DALE_ERR_IO, "%s: cannot create %s: %s", w->path, tmp, zip_error_strerror(&ze));
            zip_error_fini(&ze);
            goto fail;
        }
        for (size_t i = 0; i < w->n; i++) {
            zip_source_t *src = zip_source_buffer(za, w->m[i].image, w->m[i].len, 0);
            zip_int64_t idx = src ? zip_file_add(za, w->m[i].name, src, ZIP_FL_ENC_UTF_8) : -1;
            if (idx < 0) {
                zip_source_free(src); /* NULL-safe; on success the archive owns src */
                st = DALE_FAIL(DALE_ERR_IO, "%s: cannot add %s: %s", w->path, w->m[i].name, zip_strerror(za));
                goto fail;
            }
            /* Stored, like np.savez: members can be read without inflating. */
            if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0) {
                st = DALE_FAIL(DALE_ERR_IO, "%s: cannot set compression of %s: %s", w->path,
                               w->m[i].name, zip_strerror(za));
                goto fail;
            }
            /* A fixed timestamp (1980-01-01, the zip epoch): the same
             * content always gives the same bytes, so runs can be compared
             * with cmp. */
            if (zip_file_set_mtime(za, (zip_uint64_t)idx, (time_t)315532800, 0) != 0) {
                st = DALE_FAIL(DALE_ERR_IO, "%s: cannot set the time of %s: %s", w->path,
                               w->m[i].name, zip_strerror(za));
                goto fail;
            }
        }
        if (zip_close(za) != 0) {
            st = DALE_FAIL(DALE_ERR_IO, "%s: writing %s failed: %s", w->path, tmp, zip_strerror(za));
            goto fail; /* za still open: discarded below */
        }
        za = NULL;
        /* libzip does not fsync; do it before the rename makes tmp visible. */
        int fd = open(tmp, O_RDONLY);
        if (fd < 0 || fsync(fd) != 0) {
            st = DALE_FAIL(DALE_ERR_IO, "%s: cannot sync %s: %s", w->path, tmp, strerror(errno));
            if (fd >= 0) close(fd);
            goto fail;
        }
        close(fd);
    }
    if (rename(tmp, w->path) != 0) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: cannot rename %s into place: %s", w->path, tmp, strerror(errno));
        goto fail;
    }
    goto done;
fail:
    if (za) zip_discard(za);
    if (tmp) remove(tmp);
done:
    dalei_free(tmp);
    dale_npz_writer_free(w);
    return st;
}

/* ---- NPZ reader ------------------------------------------------------------- */

struct dale_npz {
    char *path;
    zip_t *za;
    size_t n;
    char **keys;          /* member names without ".npy" */
    zip_uint64_t *index;  /* libzip entry index of each key */
};

void dale_npz_close(dale_npz *z)
{
    if (!z) return;
    if (z->za) zip_discard(z->za); /* read-only: nothing to write back */
    for (size_t i = 0; i < z->n; i++) dalei_free(z->keys[i]);
    dalei_free(z->keys);
    dalei_free(z->index);
    dalei_free(z->path);
    dalei_free(z);
}

dale_status dale_npz_open(const char *path, dale_npz **out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_open: out must not be NULL");
    *out = NULL;
    if (!path) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_open: path must not be NULL");
    dale_status st;
    struct stat sb;
    if (stat(path, &sb) != 0) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return DALE_FAIL(DALE_ERR_IO, "%s: not a regular file", path);
    /* libzip treats a zero-length file as a new empty archive; it is not an
     * NPZ file. */
    if (sb.st_size == 0) return DALE_FAIL(DALE_ERR_FORMAT, "%s: empty file, not a zip archive", path);

    dale_npz *z = dalei_calloc(1, sizeof *z);
    if (!z) return DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory opening the archive", path);
    z->path = dalei_strdup(path);
    if (!z->path) goto nomem;

    int zerr = 0;
    z->za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    if (!z->za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int io = zerr == ZIP_ER_NOENT || zerr == ZIP_ER_OPEN || zerr == ZIP_ER_READ || zerr == ZIP_ER_SEEK ||
                 zerr == ZIP_ER_MEMORY;
        st = DALE_FAIL(io ? DALE_ERR_IO : DALE_ERR_FORMAT, "%s: %s: %s", path,
                       io ? "cannot read archive" : "not a valid zip archive", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        goto fail;
    }
    zip_int64_t ne = zip_get_num_entries(z->za, 0);
    if (ne < 0) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: cannot list archive members", path);
        goto fail;
    }
    size_t ne_sz = (size_t)ne;
    z->keys = dalei_calloc(ne_sz, sizeof *z->keys);
    z->index = dalei_alloc(ne_sz, sizeof *z->index);
    if (!z->keys || !z->index) goto nomem;
    /* Keep the "<key>.npy" members; others (directories, extra files) are
     * ignored, as np.load only exposes .npy members by key. */
    for (zip_uint64_t i = 0; i < (zip_uint64_t)ne; i++) {
        const char *name = zip_get_name(z->za, i, ZIP_FL_ENC_GUESS);
        if (!name) continue;
        size_t len = strlen(name);
        if (len <= 4 || strcmp(name + len - 4, ".npy") != 0) continue;
        char *key = dalei_alloc(len - 3, 1);
        if (!key) goto nomem;
        memcpy(key, name, len - 4);
        key[len - 4] = '\0';
        z->keys[z->n] = key;
        z->index[z->n] = i;
        z->n++;
    }
    *out = z;
    return DALE_OK;
nomem:
    st = DALE_FAIL(DALE_ERR_NOMEM, "%s: out of memory opening the archive", path);
fail:
    dale_npz_close(z);
    return st;
}

size_t dale_npz_count(const dale_npz *z) { return z ? z->n : 0; }

const char *dale_npz_key(const dale_npz *z, size_t i) { return z && i < z->n ? z->keys[i] : NULL; }

static long find_key(const dale_npz *z, const char *key)
{
    for (size_t i = 0; i < z->n; i++)
        if (strcmp(z->keys[i], key) == 0) return (long)i;
    return -1;
}

int dale_npz_has(const dale_npz *z, const char *key) { return z && key && find_key(z, key) >= 0; }

/* -- zip member source -- */
static long long zip_read_src(source *s, void *buf, size_t n)
{
    zip_file_t *zf = s->ctx;
    size_t done = 0;
    /* zip_fread may return less than asked before the end; loop. */
    while (done < n) {
        zip_int64_t got = zip_fread(zf, (char *)buf + done, n - done);
        if (got < 0) {
            /* Inflate and CRC failures mean a damaged archive (FORMAT);
             * anything else is an I/O problem. */
            int ze = zip_error_code_zip(zip_file_get_error(zf));
            s->corrupt = ze == ZIP_ER_ZLIB || ze == ZIP_ER_CRC || ze == ZIP_ER_INCONS ||
                         ze == ZIP_ER_COMPRESSED_DATA || ze == ZIP_ER_EOF;
            s->err = zip_file_strerror(zf);
            return -1;
        }
        if (got == 0) break;
        done += (size_t)got;
    }
    return (long long)done;
}

dale_status dale_npz_read(dale_npz *z, const char *key, dale_array *out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_read: out must not be NULL");
    memset(out, 0, sizeof *out);
    if (!z || !key) return DALE_FAIL(DALE_ERR_ARG, "dale_npz_read: archive and key must not be NULL");
    long k = find_key(z, key);
    if (k < 0) return DALE_FAIL(DALE_ERR_ARG, "%s: no member '%s.npy' in the archive", z->path, key);

    char what[600];
    snprintf(what, sizeof what, "%.400s:%.190s.npy", z->path, key);
    zip_stat_t zs;
    zip_stat_init(&zs);
    if (zip_stat_index(z->za, z->index[k], 0, &zs) != 0 || !(zs.valid & ZIP_STAT_SIZE))
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: cannot stat member: %s", what, zip_strerror(z->za));
    /* The uncompressed size from the directory is the source's total; the
     * reader checks it against the header's shape before allocating, so a
     * forged size can only cause a FORMAT error. */
    if (zs.size > SIZE_MAX)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: member size %" PRIu64 " exceeds the address space", what,
                         (uint64_t)zs.size);
    zip_file_t *zf = zip_fopen_index(z->za, z->index[k], 0);
    if (!zf)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: cannot open member: %s", what, zip_strerror(z->za));
    source s = {zip_read_src, (uint64_t)zs.size, what, NULL, 0, zf, 0};
    dale_status st = read_npy(&s, out);
    if (st == DALE_OK) {
        /* libzip verifies the CRC only when a read reaches the end of the
         * member; ask for one more byte, which must report end of data. */
        char extra;
        long long got = zip_read_src(&s, &extra, 1);
        if (got != 0) {
            st = DALE_FAIL(got < 0 && !s.corrupt ? DALE_ERR_IO : DALE_ERR_FORMAT, "%s: %s", what,
                           got < 0 ? s.err : "member is longer than its recorded size");
            dale_array_free(out);
        }
    }
    zip_fclose(zf);
    return st;
}
