/* internal.h — cross-file internals of libdale (never installed).
 *
 * Naming: dalei_* functions are shared between library files only.
 * Errors: DALE_FAIL(code, fmt, ...) records a message (with file:line when
 * DALE_DEBUG=1 is set) and evaluates to the code, so `return DALE_FAIL(DALE_ERR_ARG, "...")` works.
 * Allocation: every heap allocation goes through dalei_alloc/dalei_calloc/
 * dalei_free.  They check n*size for overflow and can be told to fail on the
 * Nth call (dalei_alloc_fail_at) so tests can walk every failure path.
 */
#ifndef DALE_INTERNAL_H
#define DALE_INTERNAL_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include "dale/status.h"
#include "dale/version.h"

#if defined(__GNUC__)
#define DALEI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DALEI_PRINTF(a, b)
#endif


dale_status dalei_set_error(dale_status code, const char *file, int line,
                            const char *fmt, ...) DALEI_PRINTF(4, 5);
#define DALE_FAIL(code, ...) dalei_set_error((code), __FILE__, __LINE__, __VA_ARGS__)

/* Always-on assertion for programmer errors inside kernels. */
#define DALE_ASSERT(cond)                                                        \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                      \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* Checked allocation.  Return NULL (and record DALE_ERR_NOMEM) on overflow,
 * on failure, or when failure injection says so.  dalei_free(NULL) is a no-op. */
void *dalei_alloc(size_t n, size_t size);
void *dalei_calloc(size_t n, size_t size);
void *dalei_realloc(void *p, size_t n, size_t size);
char *dalei_strdup(const char *s);
void dalei_free(void *p);

/* Failure injection (tests): the nth allocation from now (1-based) and every
 * later one fails; 0 turns injection off.  Thread-local. */
DALE_API void dalei_alloc_fail_at(long n);
/* Number of live allocations made through dalei_alloc (for leak checks). */
DALE_API long dalei_alloc_live(void);



/* Write `len` bytes to path atomically: "<path>.tmp.<pid>", fsync, rename.
 * A crash leaves either the old file or the new one, never a torn one. */
dale_status dalei_write_file_atomic(const char *path, const void *data, size_t len);
/* Read the whole file `path` into a new NUL-terminated buffer: *buf (the
 * caller frees it with dalei_free) and *len, its length without the NUL.
 * Errors, with *buf NULL: DALE_ERR_IO (cannot open it; a read error, e.g.
 * a directory), DALE_ERR_FORMAT (longer than max bytes; SIZE_MAX: no
 * limit), DALE_ERR_NOMEM. */
dale_status dalei_read_file(const char *path, size_t max, char **buf, size_t *len);
/* A run directory's lock: a write lock (fcntl) on `path`, created if
 * missing, never through a symbolic link.  Returns the descriptor that
 * holds it (close it to release; the process's death releases it too), or
 * -1 with errno EAGAIN and *holder the pid of the process that holds it
 * (0 if unknown), or another errno when the file cannot be opened.  POSIX
 * locks belong to the process, so a holder that execs keeps it and a
 * second lock by the same process succeeds. */
int dalei_lock_file(const char *path, long *holder);
/* The pid of another process holding a write lock on `path`, else 0 (also
 * when there is no such file; nothing is created). */
long dalei_lock_holder(const char *path);
/* The same without an error message: the text, or NULL when the file cannot
 * be opened or read, is longer than max bytes, or memory runs out. */
char *dalei_read_text(const char *path, size_t max);
/* Run argv[0] (PATH search, no shell) with stdin /dev/null, stdout to
 * out_path (truncated) or, when NULL, to the log, and stderr appended to
 * log_path.  Returns the exit status, 127 if it cannot start, 128+N when
 * killed by signal N. */
int dalei_run_program(char *const argv[], const char *out_path, const char *log_path);
/* The last non-empty line of a text file (for error messages), "" if none. */
void dalei_last_line(const char *path, char *out, size_t cap);

/* snprintf for messages and paths where truncation is acceptable (paths
 * are bounded well below the buffers); vsnprintf keeps -Wformat-truncation
 * quiet. */
void dalei_sfmt(char *buf, size_t cap, const char *fmt, ...) DALEI_PRINTF(3, 4);
/* s as the inside of a JSON string: '"' and '\\' get a backslash, newline
 * and tab become spaces (the other bytes are copied).  Writes at most cap - 1
 * bytes and the NUL, stopping before a character that does not fit whole
 * (never half an escape); returns the length written. */
size_t dalei_json_escape(const char *s, char *out, size_t cap);

/* The candidate nearest to word by edit distance (insertions, deletions,
 * substitutions and swaps of neighbours each count 1), for "did you mean"
 * suggestions: NULL when none is within max(1, strlen(word) / 3) edits
 * (or as far as word is long).  NULL candidates are skipped; ties go to
 * the first.  Words over 63 bytes match nothing. */
const char *dalei_nearest(const char *word, const char *const *cand, size_t n);
/* The same over "a|b|c" (at most 32 choices of under 64 bytes): the nearest
 * choice copied to buf, returned, or NULL. */
const char *dalei_nearest_choice(const char *word, const char *choices, char *buf, size_t cap);

/* Copy up to n bytes of s (stopping at a NUL) into out (cap bytes, always
 * NUL-terminated when cap > 0), control bytes (below 0x20, and 0x7f) written
 * as \xNN, so text quoted from a file into a message cannot drive the
 * terminal; stops before a byte or escape that would not fit.  Returns the
 * length written. */
size_t dalei_escape_ctl(const char *s, size_t n, char *out, size_t cap);

/* Where `at` lies in the text buf[0..len) (a parser's error position; NULL
 * or outside: the end): its 1-based line and column (in bytes), and in near
 * the text around it on that line (up to 12 bytes before and 12 from it;
 * tabs as spaces, other control bytes as \xNN; "" on an empty line), for "FILE:LINE:COL: not valid JSON
 * (near '...')". */
void dalei_text_where(const char *buf, size_t len, const char *at, size_t *line, size_t *col, char *near,
                      size_t cap);

/* A growable list of owned strings (file walkers). */
typedef struct dalei_strlist {
    char **s;
    size_t n, cap;
} dalei_strlist;
void dalei_strlist_free(dalei_strlist *l);            /* frees every string; zeroes l */
dale_status dalei_strlist_add(dalei_strlist *l, const char *s); /* copies s */
void dalei_strlist_sort(dalei_strlist *l);            /* strcmp order */

/* The effective maps of cell `cell` < ncells as the network holds them,
 * built from theta now: W (n, n) and U (n, in), row-major; the same floats
 * dale_net_effective copies out.  Valid until theta changes or the network
 * is freed (model/net.c; for writers that would otherwise copy them). */
struct dale_net;
void dalei_net_cell_maps(struct dale_net *net, size_t cell, const float **W, const float **U);
/* dale_net_zero_grad then dale_net_backward, with the same result, without
 * the zeroing pass where a contribution can write the gradient instead of
 * adding to it (net.c). */
dale_status dalei_net_backward_fresh(struct dale_net *net, const float *dout);

/* train/eval.c: the member of parameter q in an NPZ file, checked present,
 * float32 and of q's rows x cols values (DALE_ERR_FORMAT naming path and
 * member); on success *a is the caller's (dale_array_free).  Parameter
 * loading and the checkpoint check share it. */
struct dale_npz;
struct dale_param;
struct dale_array;
dale_status dalei_param_read(struct dale_npz *z, const struct dale_param *q, const char *path,
                             struct dale_array *a);

#endif
