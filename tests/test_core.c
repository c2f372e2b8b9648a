/* test_core.c — the small shared helpers of src/core: the whole-file reader,
 * bounded formatting and JSON string escaping.
 *
 * 1. dalei_read_file: contents and length (an empty file, a file with a NUL
 *    byte, 3 MiB, a /proc file whose size is not known up front), the size
 *    limit (exactly max passes, max + 1 fails with DALE_ERR_FORMAT), a
 *    missing file and a directory (DALE_ERR_IO); dalei_read_text agrees.
 * 2. dalei_json_escape: quotes and backslashes escaped, newline and tab as
 *    spaces, truncation never splits an escape, cap 0 and 1.
 * 3. dalei_sfmt: formats and truncates with a NUL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "check.h"

static char tmpdir[64];

static void write_bytes(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "create %s", path);
    if (!f) return;
    CHECK(fwrite(data, 1, n, f) == n, "write %s", path);
    fclose(f);
}

static void test_read_file(void)
{
    char path[128];
    char *buf = NULL;
    size_t len = 99;
    snprintf(path, sizeof path, "%s/a.txt", tmpdir);
    write_bytes(path, "hello\nworld", 11);
    CHECK_OK(dalei_read_file(path, SIZE_MAX, &buf, &len));
    CHECK(buf && len == 11 && !strcmp(buf, "hello\nworld"), "read back: len %zu", len);
    dalei_free(buf);

    /* exactly max bytes passes, one more fails */
    CHECK_OK(dalei_read_file(path, 11, &buf, &len));
    dalei_free(buf);
    dale_status st = dalei_read_file(path, 10, &buf, &len);
    CHECK(st == DALE_ERR_FORMAT && buf == NULL, "11 bytes over a max of 10: status %d", (int)st);
    CHECK(strstr(dale_last_error(), "larger than 10 bytes") != NULL, "message: %s", dale_last_error());
    CHECK(dalei_read_text(path, 10) == NULL, "read_text over max -> NULL");
    char *t = dalei_read_text(path, 11);
    CHECK(t && !strcmp(t, "hello\nworld"), "read_text within max");
    dalei_free(t);

    /* an embedded NUL: the length says where the data ends */
    write_bytes(path, "a\0b", 3);
    CHECK_OK(dalei_read_file(path, SIZE_MAX, &buf, &len));
    CHECK(buf && len == 3 && buf[0] == 'a' && buf[1] == '\0' && buf[2] == 'b' && buf[3] == '\0', "NUL kept, len %zu", len);
    dalei_free(buf);

    /* empty file */
    write_bytes(path, "", 0);
    CHECK_OK(dalei_read_file(path, SIZE_MAX, &buf, &len));
    CHECK(buf && len == 0 && buf[0] == '\0', "empty file");
    dalei_free(buf);

    /* a large file (many times the first buffer of an unsized read) */
    size_t big = (size_t)3 << 20;
    char *data = malloc(big);
    CHECK(data != NULL, "malloc");
    if (data) {
        for (size_t i = 0; i < big; i++) data[i] = (char)('a' + i % 26);
        write_bytes(path, data, big);
        CHECK_OK(dalei_read_file(path, SIZE_MAX, &buf, &len));
        CHECK(buf && len == big && !memcmp(buf, data, big) && buf[big] == '\0', "3 MiB read back, len %zu", len);
        dalei_free(buf);
        free(data);
    }

    /* /proc files say size 0: the growing loop, and the limit inside it */
    CHECK_OK(dalei_read_file("/proc/self/status", SIZE_MAX, &buf, &len));
    CHECK(buf && len > 100 && strlen(buf) == len && strstr(buf, "Name:"), "unsized file: len %zu", len);
    dalei_free(buf);
    st = dalei_read_file("/proc/self/status", 50, &buf, &len);
    CHECK(st == DALE_ERR_FORMAT && buf == NULL, "unsized file over max: status %d", (int)st);

    snprintf(path, sizeof path, "%s/missing", tmpdir);
    buf = (char *)1;
    st = dalei_read_file(path, SIZE_MAX, &buf, &len);
    CHECK(st == DALE_ERR_IO && buf == NULL, "missing file: status %d", (int)st);
    CHECK(strstr(dale_last_error(), "cannot open") != NULL, "message: %s", dale_last_error());
    CHECK(dalei_read_text(path, 100) == NULL, "read_text of a missing file -> NULL");

    st = dalei_read_file(tmpdir, SIZE_MAX, &buf, &len);
    CHECK(st == DALE_ERR_IO && buf == NULL, "a directory: status %d", (int)st);
}

static void test_json_escape(void)
{
    char out[64];
    size_t n = dalei_json_escape("a\"b\\c\nd\te", out, sizeof out);
    CHECK(!strcmp(out, "a\\\"b\\\\c d e") && n == strlen(out), "escaped: [%s] %zu", out, n);
    /* cap 5: at most 4 bytes, so the escaped quote (2 bytes) fits after
     * "ab"; with cap 4 it does not, and is left out whole */
    n = dalei_json_escape("ab\"cd", out, 5);
    CHECK(!strcmp(out, "ab\\\"") && n == 4, "escape fits: [%s]", out);
    n = dalei_json_escape("ab\"cd", out, 4);
    CHECK(!strcmp(out, "ab") && n == 2, "no half escape: [%s]", out);
    n = dalei_json_escape("abcdef", out, 5);
    CHECK(!strcmp(out, "abc") && n == 3, "truncated: [%s]", out);
    n = dalei_json_escape("abc", out, 1);
    CHECK(out[0] == '\0' && n == 0, "cap 1: empty");
    out[0] = 'z';
    n = dalei_json_escape("abc", out, 0);
    CHECK(out[0] == 'z' && n == 0, "cap 0: nothing written");
    n = dalei_json_escape("", out, sizeof out);
    CHECK(out[0] == '\0' && n == 0, "empty string");
}

static void test_sfmt(void)
{
    char b[8];
    dalei_sfmt(b, sizeof b, "%s/%d", "ab", 42);
    CHECK(!strcmp(b, "ab/42"), "sfmt: %s", b);
    dalei_sfmt(b, sizeof b, "%s", "0123456789");
    CHECK(!strcmp(b, "0123456"), "sfmt truncates with a NUL: %s", b);
}

static void test_nearest(void)
{
    static const char *const w[] = {"hidden", "hidden_x", "layers", NULL, "lr"};
    const char *r = dalei_nearest("hiden", w, 5);
    CHECK(r && !strcmp(r, "hidden"), "hiden -> hidden, got %s", r ? r : "NULL");
    r = dalei_nearest("hdiden", w, 5);
    CHECK(r && !strcmp(r, "hidden"), "a swap of neighbours counts 1: got %s", r ? r : "NULL");
    CHECK(dalei_nearest("zzzzzz", w, 5) == NULL, "nothing within the limit: NULL");
    CHECK(dalei_nearest("", w, 5) == NULL, "empty word: NULL");
    CHECK(dalei_nearest("x", w, 5) == NULL, "never a whole-word replacement");
    char big[100];
    memset(big, 'a', sizeof big - 1);
    big[99] = '\0';
    CHECK(dalei_nearest(big, w, 5) == NULL, "a word over 63 bytes matches nothing");
    char buf[64];
    r = dalei_nearest_choice("of", "on|off", buf, sizeof buf);
    CHECK(r && !strcmp(r, "off"), "tie: the completion wins (of -> off), got %s", r ? r : "NULL");
    r = dalei_nearest_choice("pixl", "row|pixel|permuted", buf, sizeof buf);
    CHECK(r && !strcmp(r, "pixel"), "pixl -> pixel, got %s", r ? r : "NULL");
    CHECK(dalei_nearest_choice("qqqq", "row|pixel", buf, sizeof buf) == NULL, "no near choice: NULL");
}

static void test_text_where(void)
{
    const char *t = "{\n  \"a\": 1\n  \"b\": 2\n}";
    size_t line, col, len = strlen(t);
    char near[32];
    dalei_text_where(t, len, strchr(t, 'b') - 1, &line, &col, near, sizeof near);
    CHECK(line == 3 && col == 3, "line 3 col 3, got %zu:%zu", line, col);
    CHECK(!strcmp(near, "  \"b\": 2"), "near is the text around it on its line: '%s'", near);
    dalei_text_where(t, len, NULL, &line, &col, near, sizeof near);
    CHECK(line == 4 && col == 2 && !strcmp(near, "}"), "NULL: the end (4:2 '}'), got %zu:%zu '%s'", line, col, near);
    dalei_text_where(t, len, t, &line, &col, near, 4);
    CHECK(line == 1 && col == 1 && !strcmp(near, "{"), "start: 1:1 '{', got %zu:%zu '%s'", line, col, near);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dale_test_core.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_read_file();
    test_json_escape();
    test_sfmt();
    test_nearest();
    test_text_where();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done("test_core");
}
