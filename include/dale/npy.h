/* dale/npy.h — NumPy .npy and .npz files.
 *
 * NPY: format versions 1.0 and 2.0/3.0 are read; 1.0 is written (a header
 * with at most DALE_NPY_MAXDIM dimensions always fits it), padded so the data
 * starts at a multiple of 64 bytes as NumPy does.  Element bytes are copied
 * verbatim: the host must be little-endian.  Supported dtypes: '<f4', '<f8', '<i4', '<i8', '<u1',
 * '<u8' (plus '|u1', '|i1'; NumPy's bool '|b1' reads as DALE_U8 0/1), C order only (fortran_order True is refused with
 * DALE_ERR_FORMAT).  Up to DALE_NPY_MAXDIM dimensions.  Readers check the
 * magic, the header dict, and that the file holds exactly the bytes the shape
 * needs; every failure names the file and the problem.
 *
 * NPZ: a zip archive of NPY members named "<key>.npy" (read through libzip,
 * stored or deflated members).  The writer builds the archive in a temporary
 * file next to the target and renames it into place, so a crash never leaves
 * a half-written archive under the final name.
 */
#ifndef DALE_NPY_H
#define DALE_NPY_H

#include <stddef.h>
#include <stdint.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DALE_NPY_MAXDIM 8

typedef enum dale_dtype {
    DALE_F32, DALE_F64, DALE_I32, DALE_I64, DALE_U8, DALE_U64, DALE_I8
} dale_dtype;

/* Size in bytes of one element; NumPy descr string ("<f4", ...). */
DALE_API size_t dale_dtype_size(dale_dtype t);
DALE_API const char *dale_dtype_descr(dale_dtype t);

/* An array read from a file.  `data` is owned by the array. */
typedef struct dale_array {
    dale_dtype dtype;
    int ndim;
    size_t shape[DALE_NPY_MAXDIM];
    size_t count; /* product of shape (1 for a 0-d array) */
    void *data;
} dale_array;

DALE_API void dale_array_free(dale_array *a); /* frees data, NULL-safe */

/* Read a whole .npy file into *out (out->data is allocated; free it with
 * dale_array_free).  The header is validated and the file size compared
 * with the shape before the data is allocated.  Errors: DALE_ERR_ARG (NULL
 * argument), DALE_ERR_IO (cannot open/read), DALE_ERR_FORMAT (bad magic,
 * version, header, dtype, order, size), DALE_ERR_NOMEM.  On failure *out is
 * zeroed (data NULL), so dale_array_free(out) is always safe. */
DALE_API dale_status dale_npy_read(const char *path, dale_array *out);
/* Parse an in-memory .npy image (used for NPZ members and fuzzing); `what`
 * names the source in messages. */
DALE_API dale_status dale_npy_parse(const void *buf, size_t len, const char *what,
                                    dale_array *out);
/* Write a .npy file atomically: the bytes go to "<path>.tmp.<pid>", which is
 * flushed, fsync'ed and renamed over path (removed on failure).  shape may be
 * NULL when ndim == 0; data may be NULL only for an empty array.  Errors:
 * DALE_ERR_ARG (dtype, ndim outside [0, DALE_NPY_MAXDIM], NULL shape/data,
 * byte count overflow), DALE_ERR_IO, DALE_ERR_NOMEM. */
DALE_API dale_status dale_npy_write(const char *path, dale_dtype t, int ndim,
                                    const size_t *shape, const void *data);

/* ---- NPZ writer: collect members, then commit. ---- */
typedef struct dale_npz_writer dale_npz_writer;
DALE_API dale_status dale_npz_writer_create(const char *path, dale_npz_writer **out);
/* Adds member "<key>.npy"; data is copied, so the caller may reuse it.
 * Errors: DALE_ERR_ARG (empty or duplicate key, and as dale_npy_write),
 * DALE_ERR_NOMEM; w is unchanged on failure. */
DALE_API dale_status dale_npz_add(dale_npz_writer *w, const char *key, dale_dtype t,
                                  int ndim, const size_t *shape, const void *data);
/* Write the archive (members stored, not compressed) to a temp file, fsync,
 * rename over `path`.  A writer with no members gives a valid empty archive.
 * Frees w in every case.  Errors: DALE_ERR_IO, DALE_ERR_NOMEM. */
DALE_API dale_status dale_npz_writer_commit(dale_npz_writer *w);
DALE_API void dale_npz_writer_free(dale_npz_writer *w); /* abandon, NULL-safe */

/* ---- NPZ reader ---- */
typedef struct dale_npz dale_npz;
/* Open an archive and list its "<key>.npy" members (other members are
 * ignored).  Errors: DALE_ERR_IO (missing/unreadable file), DALE_ERR_FORMAT
 * (empty file, not a zip, inconsistent archive), DALE_ERR_NOMEM. */
DALE_API dale_status dale_npz_open(const char *path, dale_npz **out);
DALE_API void dale_npz_close(dale_npz *z); /* NULL-safe */
DALE_API size_t dale_npz_count(const dale_npz *z);
/* Key of member i (archive order) without the ".npy" suffix; owned by z.
 * NULL when i >= dale_npz_count(z). */
DALE_API const char *dale_npz_key(const dale_npz *z, size_t i);
DALE_API int dale_npz_has(const dale_npz *z, const char *key);
/* Read member `key` (without ".npy") like dale_npy_read; messages name
 * "<path>:<key>.npy".  DALE_ERR_ARG if absent; DALE_ERR_FORMAT also for a
 * damaged member (inflate or CRC failure). */
DALE_API dale_status dale_npz_read(dale_npz *z, const char *key, dale_array *out);

#ifdef __cplusplus
}
#endif
#endif
