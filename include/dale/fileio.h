/* dale/fileio.h — small file-system helpers shared by the library and the CLI. */
#ifndef DALE_FILEIO_H
#define DALE_FILEIO_H

#include <stddef.h>
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mkdir -p: create `dir` and every missing parent (mode 0755), then check
 * that it is a writable directory.  DALE_ERR_IO names the component that
 * could not be created, or says why `dir` is unusable. */
DALE_API dale_status dale_mkdirs(const char *dir);

/* Path of a data file in dir that may be stored gzipped: "dir/NAME" if it
 * exists, else "dir/NAME.gz" if that exists; returns 1 when found, 0
 * otherwise (then path holds "dir/NAME"). */
DALE_API int dale_data_locate(const char *dir, const char *name, char *path, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
