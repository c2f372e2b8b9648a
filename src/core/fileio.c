/* fileio.c — crash-safe small-file writes (config.json, result.json, CSVs)
 * and whole-file reads of small text files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dale/fileio.h"
#include "internal.h"

char *dalei_read_text(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 14, len = 0;
    char *buf = dalei_alloc(cap, 1);
    while (buf) {
        if (len + 1 >= cap) {
            if (cap >= max) { dalei_free(buf); buf = NULL; break; }
            char *nb = dalei_realloc(buf, cap * 2, 1);
            if (!nb) { dalei_free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + len, 1, cap - 1 - len, f);
        len += k;
        if (k == 0) break;
    }
    fclose(f);
    if (buf) buf[len] = '\0';
    return buf;
}

dale_status dalei_write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return DALE_FAIL(DALE_ERR_ARG, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return DALE_FAIL(DALE_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return DALE_FAIL(DALE_ERR_IO, "%s: write failed: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return DALE_FAIL(DALE_ERR_IO, "%s: flush failed: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return DALE_FAIL(DALE_ERR_IO, "%s: rename failed: %s", path, strerror(e));
    }
    return DALE_OK;
}

dale_status dale_mkdirs(const char *dir)
{
    char tmp[4096];
    if (!dir[0]) return DALE_FAIL(DALE_ERR_ARG, "empty directory name");
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp)
        return DALE_FAIL(DALE_ERR_ARG, "directory name too long: %.64s...", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return DALE_FAIL(DALE_ERR_IO, "cannot create directory %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return DALE_FAIL(DALE_ERR_IO, "cannot create directory %s: %s", tmp, strerror(errno));
    struct stat sb;
    if (stat(tmp, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return DALE_FAIL(DALE_ERR_IO, "%s exists and is not a directory", tmp);
    if (access(tmp, W_OK) != 0)
        return DALE_FAIL(DALE_ERR_IO, "directory %s is not writable: %s", tmp, strerror(errno));
    return DALE_OK;
}
