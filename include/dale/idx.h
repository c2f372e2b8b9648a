/* dale/idx.h — IDX files (the MNIST format), plain or gzip-compressed.
 *
 * Layout of the uncompressed bytes: magic 0x00 0x00 TYPE NDIM, then NDIM
 * big-endian uint32 dimensions, then the elements in row-major order.  Only
 * TYPE 0x08 (unsigned byte) is read: MNIST, Fashion-MNIST and their kin.
 * The reader goes through zlib's gzopen/gzread, which reads a plain file
 * unchanged, so "x" and "x.gz" are handled alike.  It checks the magic, the
 * dimensions (each >= 1, at most DALE_IDX_MAXDIM of them) and that the file
 * holds exactly the bytes they call for: a short file or a truncated gzip
 * stream is an error, and so are trailing bytes.  Sizes are checked against
 * a caller-given ceiling before anything is allocated.
 */
#ifndef DALE_IDX_H
#define DALE_IDX_H

#include <stddef.h>
#include <stdint.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DALE_IDX_MAXDIM 4

typedef struct dale_idx {
    int ndim;
    size_t dim[DALE_IDX_MAXDIM]; /* dim[0] is the number of items */
    size_t count;                /* product of dim: bytes in data */
    uint8_t *data;               /* owned; free with dale_idx_free */
} dale_idx;

DALE_API void dale_idx_free(dale_idx *a); /* frees data, NULL-safe, idempotent */

/* Read the IDX file at path (plain or gzip) into *out (data allocated).
 * max_bytes bounds the element count (0: 1 GiB); a header that asks for
 * more is refused before allocating.  Errors, each naming the file:
 * DALE_ERR_IO (cannot open, a directory, read error), DALE_ERR_FORMAT
 * (bad magic, element type other than 0x08, ndim 0 or > DALE_IDX_MAXDIM, a
 * zero or oversized dimension, truncated file or gzip stream, trailing
 * bytes), DALE_ERR_NOMEM.  On failure *out is zeroed. */
DALE_API dale_status dale_idx_read(const char *path, size_t max_bytes, dale_idx *out);

/* The dimensions of the IDX file at path from its header alone (plain or
 * gzip; nothing else is read or checked): returns NDIM and fills dim, or 0
 * when the file is missing or has no valid header.  For cost estimates. */
DALE_API int dale_idx_peek(const char *path, size_t dim[DALE_IDX_MAXDIM]);

/* Write a plain (gzip = 0) or gzip-compressed (gzip = 1) IDX file of uint8
 * elements with dimensions dim[0..ndim).  For tests and for users who
 * convert their own data.  Errors: DALE_ERR_ARG, DALE_ERR_IO. */
DALE_API dale_status dale_idx_write(const char *path, int gzip, int ndim, const size_t *dim,
                                    const uint8_t *data);

#ifdef __cplusplus
}
#endif
#endif
