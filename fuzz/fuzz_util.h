/* fuzz_util.h — shared helpers of the libFuzzer harnesses (fuzz/fuzz_*.c).
 *
 * Parsers that take a path (NPZ through libzip, IDX through zlib, JSON
 * configs, the CLI's matrix reader) get the fuzz input written to one temp
 * file per process, under $TMPDIR (else /tmp), rewritten on every run.  The
 * file keeps a suffix so extension-driven readers pick the format.  Every
 * harness also checks that the library's live-allocation count returns to
 * where it was: a leak on an error path aborts the run like a crash.
 */
#ifndef DALE_FUZZ_UTIL_H
#define DALE_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

/* Path of this process's temp file ending in `suffix` (created once). */
static inline const char *fuzz_temp_path(const char *suffix)
{
    static char path[512];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/dale-fuzz-%ld%s", dir && dir[0] ? dir : "/tmp", (long)getpid(),
                 suffix);
    }
    return path;
}

/* Write data[0..size) to path; aborts on failure (an environment problem,
 * not a finding). */
static inline void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Abort when an input leaked library allocations. */
static inline void fuzz_check_leaks(long before, const char *what)
{
    long now = dalei_alloc_live();
    if (now != before) {
        fprintf(stderr, "%s: %ld library allocations leaked\n", what, now - before);
        abort();
    }
}

#endif
