/* alloc.c — the one place libdale allocates heap memory.
 *
 * Overflow of n*size is refused.  A thread-local countdown lets tests make the
 * Nth allocation fail, and a live counter lets them check for leaks. */
#include <stdint.h>
#include <string.h>
#include "internal.h"

static _Thread_local long fail_countdown; /* 0: off; k: the kth call fails */
static _Thread_local int failing;         /* once triggered, keep failing  */
static _Thread_local long live;

void dalei_alloc_fail_at(long n)
{
    fail_countdown = n;
    failing = 0;
}

long dalei_alloc_live(void) { return live; }

static int injected_failure(void)
{
    if (failing) return 1;
    if (fail_countdown > 0 && --fail_countdown == 0) {
        failing = 1;
        return 1;
    }
    return 0;
}

void *dalei_alloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        DALE_FAIL(DALE_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    size_t bytes = n * size; if (bytes == 0) bytes = 1;
    void *p = injected_failure() ? NULL : malloc(bytes);
    if (!p) {
        DALE_FAIL(DALE_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
        return NULL;
    }
    live++;
    return p;
}

void *dalei_calloc(size_t n, size_t size)
{
    void *p = dalei_alloc(n, size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *dalei_realloc(void *old, size_t n, size_t size)
{
    if (!old) return dalei_alloc(n, size);
    if (size && n > SIZE_MAX / size) {
        DALE_FAIL(DALE_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    size_t bytes = n * size; if (bytes == 0) bytes = 1;
    void *p = injected_failure() ? NULL : realloc(old, bytes);
    if (!p) DALE_FAIL(DALE_ERR_NOMEM, "out of memory allocating %zu bytes", bytes);
    return p;
}

char *dalei_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = dalei_alloc(n, 1);
    if (p) memcpy(p, s, n);
    return p;
}

void dalei_free(void *p)
{
    if (!p) return;
    live--;
    free(p);
}
