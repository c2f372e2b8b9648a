/* fileio.c — crash-safe small-file writes (config.json, result.json, CSVs),
 * the one whole-file reader, and directory creation. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "dale/fileio.h"
#include "internal.h"

/* The whole of the open file f into a new NUL-terminated buffer; no error
 * message (the callers word their own).  Returns 0, or why not. */
enum { SLURP_OK, SLURP_NOMEM, SLURP_TOO_BIG, SLURP_READ };
static int slurp(FILE *f, size_t max, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    size_t cap = 1 << 14, n = 0;
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= 0) {
        if ((uintmax_t)sb.st_size > max) return SLURP_TOO_BIG;
        if ((uintmax_t)sb.st_size < SIZE_MAX - 2) cap = (size_t)sb.st_size + 2; /* one read, then EOF */
    }
    char *b = dalei_alloc(cap, 1);
    if (!b) return SLURP_NOMEM;
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = cap <= SIZE_MAX / 2 ? dalei_realloc(b, cap * 2, 1) : NULL;
            if (!nb) { dalei_free(b); return SLURP_NOMEM; }
            b = nb;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - 1 - n, f);
        n += got;
        if (n > max) { dalei_free(b); return SLURP_TOO_BIG; }
        if (got == 0) break;
    }
    if (ferror(f)) { dalei_free(b); return SLURP_READ; }
    b[n] = '\0';
    *out = b;
    *outlen = n;
    return SLURP_OK;
}

/* Opening a FIFO blocks until a writer comes, and a device such as
 * /dev/zero never ends: only regular files are read (stat before open). */
static int special_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode);
}

dale_status dalei_read_file(const char *path, size_t max, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    if (special_file(path))
        return DALE_FAIL(DALE_ERR_IO, "%s: not a regular file (a FIFO, device or socket); give a file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int why = slurp(f, max, buf, len);
    fclose(f);
    switch (why) {
    case SLURP_OK: return DALE_OK;
    case SLURP_NOMEM: return DALE_ERR_NOMEM;
    case SLURP_TOO_BIG: return DALE_FAIL(DALE_ERR_FORMAT, "%s: larger than %zu bytes", path, max);
    default: return DALE_FAIL(DALE_ERR_IO, "%s: read error (a directory?)", path);
    }
}

char *dalei_read_text(const char *path, size_t max)
{
    if (special_file(path)) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf;
    size_t len;
    slurp(f, max, &buf, &len);
    fclose(f);
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

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

int dale_data_locate(const char *dir, const char *name, char *path, size_t cap)
{
    dalei_sfmt(path, cap, "%s/%s.gz", dir, name);
    if (!exists(path)) {
        dalei_sfmt(path, cap, "%s/%s", dir, name);
        return exists(path);
    }
    char plain[4200];
    dalei_sfmt(plain, sizeof plain, "%s/%s", dir, name);
    if (exists(plain)) dalei_sfmt(path, cap, "%s", plain);
    return 1;
}

int dalei_lock_file(const char *path, long *holder)
{
    if (holder) *holder = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) == 0) return fd;
    if (holder) {
        struct flock who = fl;
        if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK) *holder = (long)who.l_pid;
    }
    close(fd);
    errno = EAGAIN;
    return -1;
}

long dalei_lock_holder(const char *path)
{
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    long pid = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid != getpid() ? (long)fl.l_pid : 0;
    close(fd);
    return pid;
}
