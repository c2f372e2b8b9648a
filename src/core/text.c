/* text.c — small string helpers shared by the library: bounded formatting,
 * JSON string escaping and the nearest word (did-you-mean suggestions). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

/* Edit distance with adjacent transpositions (optimal string alignment),
 * or more than 64 when either word is longer than 63 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63) return 65;
    size_t d[64][64];
    for (size_t i = 0; i <= n; i++) d[i][0] = i;
    for (size_t j = 0; j <= m; j++) d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *dalei_nearest(const char *word, const char *const *cand, size_t n)
{
    size_t len = strlen(word), limit = len / 3 > 1 ? len / 3 : 1, best = limit + 1;
    const char *pick = NULL;
    if (len == 0) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!cand[i] || !cand[i][0]) continue;
        size_t d = edit_distance(word, cand[i]);
        /* on a tie, a candidate that starts with word wins ("of": off, not on) */
        int better = d < best || (d == best && pick && strncmp(cand[i], word, len) == 0 &&
                                  strncmp(pick, word, len) != 0);
        if (better && d < len) {
            best = d;
            pick = cand[i];
        }
    }
    return pick;
}

const char *dalei_nearest_choice(const char *word, const char *choices, char *buf, size_t cap)
{
    const char *best = NULL;
    char items[32][64];
    const char *ptr[32];
    size_t n = 0;
    for (const char *p = choices; *p && n < 32;) {
        const char *bar = strchr(p, '|');
        size_t k = bar ? (size_t)(bar - p) : strlen(p);
        if (k < sizeof items[0]) {
            memcpy(items[n], p, k);
            items[n][k] = '\0';
            ptr[n] = items[n];
            n++;
        }
        p += k + (bar ? 1 : 0);
    }
    best = dalei_nearest(word, ptr, n);
    if (!best || cap == 0) return NULL;
    snprintf(buf, cap, "%s", best);
    return buf;
}

size_t dalei_escape_ctl(const char *s, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    if (cap == 0) return 0;
    for (size_t i = 0; i < n && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            if (k + 4 >= cap) break;
            out[k++] = '\\';
            out[k++] = 'x';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 15];
        } else {
            if (k + 1 >= cap) break;
            out[k++] = (char)c;
        }
    }
    out[k] = '\0';
    return k;
}

void dalei_text_where(const char *buf, size_t len, const char *at, size_t *line, size_t *col, char *near,
                      size_t cap)
{
    size_t off = at && at >= buf && at <= buf + len ? (size_t)(at - buf) : len;
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
    if (cap == 0) return;
    /* up to 12 bytes before the spot and 12 from it, within its line */
    size_t from = off - (*col - 1), k = 0;
    if (off - from > 12) from = off - 12;
    /* tabs and CRs as spaces, other control bytes as \xNN (a hostile file
     * must not drive the terminal through an error message) */
    for (size_t i = from; i < len && i < off + 12 && buf[i] != '\n'; i++) {
        char c = buf[i] == '\t' || buf[i] == '\r' ? ' ' : buf[i];
        size_t w = c ? dalei_escape_ctl(&c, 1, near + k, cap - k)
                     : dalei_escape_ctl("\\x00", 4, near + k, cap - k) == 4 ? 4 : 0;
        if (w == 0) break;
        k += w;
    }
    near[k] = '\0';
}
