/* dale/status.h — result codes and the last-error message.
 *
 * Every fallible public function returns a dale_status.  DALE_OK is 0; all
 * other codes are failures.  dale_status_str() gives a fixed text for a code;
 * dale_last_error() gives the detailed message of the most recent failure in
 * the calling thread; with the environment variable DALE_DEBUG=1 it ends in
 * " (file.c:LINE)", the source location that raised it.  The message buffer
 * is thread-local and owned by the library.
 */
#ifndef DALE_STATUS_H
#define DALE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DALE_API __attribute__((visibility("default")))
#else
#define DALE_API
#endif

typedef enum dale_status {
    DALE_OK = 0,
    DALE_ERR_NOMEM,   /* allocation failed (or was refused by a size check)  */
    DALE_ERR_ARG,     /* bad argument: out of range, NULL, inconsistent      */
    DALE_ERR_SHAPE,   /* dimensions do not match                             */
    DALE_ERR_IO,      /* open/read/write/rename failed                       */
    DALE_ERR_FORMAT,  /* a file is corrupt, truncated or of the wrong kind   */
    DALE_ERR_LAPACK,  /* a LAPACK routine reported failure (info > 0)        */
    DALE_ERR_NUMERIC, /* non-finite loss or gradient                         */
    DALE_ERR_STATE,   /* call out of order (e.g. backward before forward)    */
    DALE_STATUS_COUNT
} dale_status;

/* Fixed text for a code ("out of memory", ...); never NULL. */
DALE_API const char *dale_status_str(dale_status code);

/* Detailed message of the last failure in this thread, or "" if none
 * (" (file.c:LINE)" appended only under DALE_DEBUG=1). */
DALE_API const char *dale_last_error(void);

/* Forget the last error (tests use it). */
DALE_API void dale_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
