/* idx.c — reading and writing IDX files (plain or gzip) of unsigned bytes.
 *
 * Everything goes through zlib's gz* interface, which passes a plain file
 * through unchanged.  The header is read and checked first, the element
 * count bounded and only then the buffer allocated; after exactly that many
 * bytes the stream must end (gzread of one more byte gives 0 and no error),
 * which also makes zlib check the gzip trailer (CRC and length).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "dale/idx.h"
#include "internal.h"

void dale_idx_free(dale_idx *a)
{
    if (!a) return;
    dalei_free(a->data);
    memset(a, 0, sizeof *a);
}

/* Open path for reading through zlib with errors that name the file. */
static dale_status open_gz(const char *path, gzFile *out)
{
    struct stat sb;
    *out = NULL;
    if (stat(path, &sb) != 0)
        return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return DALE_FAIL(DALE_ERR_IO, "%s: is a directory, not a file", path);
    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
    gzbuffer(gz, 1u << 17);
    *out = gz;
    return DALE_OK;
}

/* Read up to n bytes; returns the count read (< n at end of stream) or -1
 * on a stream error.  gzread takes an unsigned count, so go in chunks. */
static long long read_gz(gzFile gz, void *dst, size_t n)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got > (1u << 30) ? (1u << 30) : n - got;
        int r = gzread(gz, (char *)dst + got, (unsigned)want);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long long)got;
}

/* zlib's message for the last error, or "" when there is none. */
static const char *gz_problem(gzFile gz)
{
    int err = Z_OK;
    const char *msg = gzerror(gz, &err);
    if (err == Z_OK || !msg) return "";
    if (err == Z_ERRNO) return strerror(errno);
    return msg;
}

dale_status dale_idx_read(const char *path, size_t max_bytes, dale_idx *out)
{
    dale_status st = DALE_OK;
    gzFile gz = NULL;
    uint8_t hdr[4 + 4 * DALE_IDX_MAXDIM];
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_idx_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return DALE_FAIL(DALE_ERR_ARG, "dale_idx_read: path is NULL");
    if (max_bytes == 0) max_bytes = (size_t)1 << 30;
    if ((st = open_gz(path, &gz))) return st;
    long long r = read_gz(gz, hdr, 4);
    if (r < 0) { st = DALE_FAIL(DALE_ERR_FORMAT, "%s: read error: %s", path, gz_problem(gz)); goto cleanup; }
    if (r < 4) { st = DALE_FAIL(DALE_ERR_FORMAT, "%s: too short for an IDX header (%lld bytes)", path, r); goto cleanup; }
    if (hdr[0] != 0 || hdr[1] != 0) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: not an IDX file (magic %02x %02x %02x %02x, want 00 00 08 NDIM)",
                       path, hdr[0], hdr[1], hdr[2], hdr[3]);
        goto cleanup;
    }
    if (hdr[2] != 0x08) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: IDX element type 0x%02x is not supported (only unsigned bytes, 0x08)",
                       path, hdr[2]);
        goto cleanup;
    }
    int ndim = hdr[3];
    if (ndim < 1 || ndim > DALE_IDX_MAXDIM) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: IDX file with %d dimensions (want 1 to %d)", path, ndim, DALE_IDX_MAXDIM);
        goto cleanup;
    }
    r = read_gz(gz, hdr + 4, 4 * (size_t)ndim);
    if (r != 4 * ndim) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: truncated IDX header (%d dimensions announced)", path, ndim);
        goto cleanup;
    }
    size_t count = 1;
    for (int k = 0; k < ndim; k++) {
        const uint8_t *p = hdr + 4 + 4 * k;
        size_t d = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
        if (d == 0 || d > max_bytes || count > max_bytes / d) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: IDX dimension %d is %zu: %s", path, k, d,
                           d == 0 ? "empty" : "the file would exceed the size limit");
            goto cleanup;
        }
        out->dim[k] = d;
        count *= d;
    }
    out->ndim = ndim;
    out->count = count;
    if (!(out->data = dalei_alloc(count, 1))) { st = DALE_ERR_NOMEM; goto cleanup; }
    r = read_gz(gz, out->data, count);
    if (r < 0 || (size_t)r != count) {
        const char *why = gz_problem(gz);
        char note[160] = "";
        if (why[0]) snprintf(note, sizeof note, " (zlib: %s)", why);
        char held[32] = "fewer";
        if (r >= 0) snprintf(held, sizeof held, "%lld", r);
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: truncated: the header announces %zu data bytes, the file holds %s%s",
                       path, count, held, note);
        goto cleanup;
    }
    uint8_t extra;
    r = read_gz(gz, &extra, 1);
    if (r == 0 && gz_problem(gz)[0]) {
        /* zlib reports a stream cut inside its trailer only through gzerror. */
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: truncated gzip stream after the data (zlib: %s)", path, gz_problem(gz));
        goto cleanup;
    }
    if (r != 0) {
        if (r < 0) st = DALE_FAIL(DALE_ERR_FORMAT, "%s: corrupt after the data: %s", path, gz_problem(gz));
        else st = DALE_FAIL(DALE_ERR_FORMAT, "%s: trailing bytes after the %zu data bytes the header announces",
                            path, count);
        goto cleanup;
    }
cleanup:
    if (gz) gzclose(gz);
    if (st) dale_idx_free(out);
    return st;
}

dale_status dale_idx_write(const char *path, int gzip, int ndim, const size_t *dim, const uint8_t *data)
{
    if (!path || !dim || !data || ndim < 1 || ndim > DALE_IDX_MAXDIM)
        return DALE_FAIL(DALE_ERR_ARG, "dale_idx_write: bad arguments (ndim %d)", ndim);
    uint8_t hdr[4 + 4 * DALE_IDX_MAXDIM] = {0, 0, 0x08, (uint8_t)ndim};
    size_t count = 1;
    for (int k = 0; k < ndim; k++) {
        if (dim[k] == 0 || dim[k] > 0xffffffffu)
            return DALE_FAIL(DALE_ERR_ARG, "dale_idx_write: dimension %d is %zu", k, dim[k]);
        for (int j = 0; j < 4; j++) hdr[4 + 4 * k + j] = (uint8_t)(dim[k] >> (24 - 8 * j));
        count *= dim[k];
    }
    gzFile gz = gzopen(path, gzip ? "wb6" : "wbT");
    if (!gz) return DALE_FAIL(DALE_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    int ok = gzwrite(gz, hdr, (unsigned)(4 + 4 * ndim)) == 4 + 4 * ndim;
    for (size_t s = 0; ok && s < count; s += 1u << 20) {
        unsigned n = (unsigned)(count - s < (1u << 20) ? count - s : (1u << 20));
        ok = gzwrite(gz, data + s, n) == (int)n;
    }
    if (gzclose(gz) != Z_OK || !ok) return DALE_FAIL(DALE_ERR_IO, "%s: write failed", path);
    return DALE_OK;
}

int dale_idx_peek(const char *path, size_t dim[DALE_IDX_MAXDIM])
{
    gzFile gz = NULL;
    uint8_t hdr[4 + 4 * DALE_IDX_MAXDIM];
    struct stat sb;
    if (!path || stat(path, &sb) != 0 || S_ISDIR(sb.st_mode) || !(gz = gzopen(path, "rb"))) return 0;
    int ndim = 0;
    if (read_gz(gz, hdr, 4) == 4 && hdr[0] == 0 && hdr[1] == 0 && hdr[2] == 0x08 && hdr[3] >= 1 &&
        hdr[3] <= DALE_IDX_MAXDIM && read_gz(gz, hdr + 4, 4 * (size_t)hdr[3]) == 4 * (long long)hdr[3]) {
        ndim = hdr[3];
        for (int k = 0; k < ndim; k++) {
            const uint8_t *p = hdr + 4 + 4 * k;
            dim[k] = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | (size_t)p[3];
        }
    }
    gzclose(gz);
    return ndim;
}
