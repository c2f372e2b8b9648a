/* status.c — result-code texts, the version strings and the thread-local
 * last-error message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dale/version.h"
#include "internal.h"

#define DALE_VERSION "0.15.0"
/* The Makefile passes the short commit of the checkout it builds. */
#ifndef DALE_GIT_COMMIT
#define DALE_GIT_COMMIT "unknown"
#endif

static const char *const status_text[DALE_STATUS_COUNT] = {
    [DALE_OK] = "ok",
    [DALE_ERR_NOMEM] = "out of memory",
    [DALE_ERR_ARG] = "invalid argument",
    [DALE_ERR_SHAPE] = "shape mismatch",
    [DALE_ERR_IO] = "input/output error",
    [DALE_ERR_FORMAT] = "bad file format",
    [DALE_ERR_LAPACK] = "LAPACK failure",
    [DALE_ERR_NUMERIC] = "non-finite value",
    [DALE_ERR_STATE] = "call out of order",
};

static _Thread_local char last_error[1024];

const char *dale_status_str(dale_status code)
{
    if ((int)code < 0 || code >= DALE_STATUS_COUNT) return "unknown status";
    return status_text[code];
}

const char *dale_version(void) { return DALE_VERSION; }

const char *dale_git_commit(void) { return DALE_GIT_COMMIT[0] ? DALE_GIT_COMMIT : "unknown"; }

const char *dale_last_error(void) { return last_error; }

void dale_clear_error(void) { last_error[0] = '\0'; }

/* DALE_DEBUG set to anything but "" or "0". */
static int debug_on(void)
{
    const char *d = getenv("DALE_DEBUG");
    return d && d[0] && strcmp(d, "0") != 0;
}

/* Record the message users see; with DALE_DEBUG=1 in the environment it
 * ends in " (file:line)", which tells developers which check fired. */
dale_status dalei_set_error(dale_status code, const char *file, int line,
                            const char *fmt, ...)
{
    char msg[896];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!debug_on()) {
        snprintf(last_error, sizeof last_error, "%s", msg);
        return code;
    }
    const char *base = strrchr(file, '/');
    snprintf(last_error, sizeof last_error, "%s (%s:%d)", msg, base ? base + 1 : file, line);
    return code;
}
