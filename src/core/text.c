/* text.c — small string helpers shared by the library: bounded formatting
 * and JSON string escaping. */
#include <stdarg.h>
#include <stdio.h>
#include "internal.h"

void dalei_sfmt(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
}

size_t dalei_json_escape(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    if (cap == 0) return 0;
    for (; *s && k + 2 < cap; s++) {
        if (*s == '"' || *s == '\\') out[k++] = '\\';
        out[k++] = (*s == '\n' || *s == '\t') ? ' ' : *s;
    }
    out[k] = '\0';
    return k;
}
