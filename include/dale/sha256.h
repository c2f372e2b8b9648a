/* dale/sha256.h — SHA-256 (FIPS 180-4), incremental, and the checksum of a
 * plain or gzipped file (data sets, generated data, results). */
#ifndef DALE_SHA256_H
#define DALE_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dale_sha256 {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed so far */
    uint8_t buf[64];
    size_t nbuf;
} dale_sha256;
DALE_API void dale_sha256_init(dale_sha256 *s);
DALE_API void dale_sha256_update(dale_sha256 *s, const void *data, size_t n);
/* Finish and write the 32-byte digest; s must be re-initialised to reuse. */
DALE_API void dale_sha256_final(dale_sha256 *s, uint8_t out[32]);
/* Digest as 64 lower-case hex characters plus NUL. */
DALE_API void dale_sha256_hex(const uint8_t d[32], char out[65]);

/* SHA-256 and length of the uncompressed content of a plain or gzip file
 * (the hash `sha256sum` gives for the plain file).  Errors: DALE_ERR_IO
 * (cannot open, a directory), DALE_ERR_FORMAT (corrupt or truncated gzip). */
DALE_API dale_status dale_file_sha256(const char *path, char hex[65], size_t *bytes);

#ifdef __cplusplus
}
#endif
#endif
