/* claim.c — claim files (dale/claim.h): <run>/claim names the sweep
 * process that runs a run, so processes sharing a sweep directory take
 * runs on demand. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include "dale/claim.h"
#include "internal.h"

static void this_host(char *buf, size_t cap)
{
    if (gethostname(buf, cap - 1) != 0) snprintf(buf, cap, "unknown");
    buf[cap - 1] = '\0';
    /* the claim line is space-separated: a host name never holds a space,
     * but keep the line parseable whatever gethostname said */
    for (char *p = buf; *p; p++)
        if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '=') *p = '_';
}

dale_status dale_claim_read(const char *run_dir, dale_claim *c)
{
    char path[4300], line[512];
    memset(c, 0, sizeof *c);
    if ((size_t)snprintf(path, sizeof path, "%s/claim", run_dir) >= sizeof path)
        return DALE_FAIL(DALE_ERR_ARG, "run directory path too long: %s", run_dir);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        dale_status st = DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", path, strerror(e));
        errno = e;
        return st;
    }
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n <= 0) return DALE_FAIL(DALE_ERR_FORMAT, "%s: empty (expected host=H pid=P time=T)", path);
    line[n] = '\0';
    char fmt[64];
    snprintf(fmt, sizeof fmt, "host=%%%zus pid=%%ld time=%%lld", sizeof c->host - 1);
    if (sscanf(line, fmt, c->host, &c->pid, &c->time) != 3 || c->pid <= 0)
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: expected one line 'host=H pid=P time=T'", path);
    return DALE_OK;
}

int dale_claim_is_stale(const dale_claim *c, double stale_seconds, long long now)
{
    char host[256];
    this_host(host, sizeof host);
    if (!strcmp(host, c->host) && kill((pid_t)c->pid, 0) != 0 && errno == ESRCH) return 1;
    return (double)(now - c->time) > stale_seconds;
}

/* Write this process's claim line to path, a new file (O_EXCL). */
static int write_new(const char *path, const char *host)
{
    char line[512];
    int len = snprintf(line, sizeof line, "host=%s pid=%ld time=%lld\n", host, (long)getpid(), (long long)time(NULL));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    int bad = write(fd, line, (size_t)len) != (ssize_t)len;
    if (fsync(fd) != 0) bad = 1;
    if (close(fd) != 0) bad = 1;
    if (bad) {
        unlink(path);
        errno = EIO;
        return -1;
    }
    return 0;
}

static int is_mine(const dale_claim *c, const char *host)
{
    return c->pid == (long)getpid() && !strcmp(c->host, host);
}

int dale_claim_take(const char *run_dir, double stale_seconds, dale_claim *holder, int *took_over)
{
    char path[4300], tmp[4600], host[256];
    dale_claim seen;
    if (took_over) *took_over = 0;
    this_host(host, sizeof host);
    if ((size_t)snprintf(path, sizeof path, "%s/claim", run_dir) >= sizeof path) {
        DALE_FAIL(DALE_ERR_ARG, "run directory path too long: %s", run_dir);
        return -1;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        if (write_new(path, host) == 0) return 1;
        if (errno != EEXIST) {
            DALE_FAIL(DALE_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
            return -1;
        }
        dale_status st = dale_claim_read(run_dir, &seen);
        if (st == DALE_ERR_IO && errno == ENOENT) continue; /* released meanwhile: try again */
        if (st == DALE_ERR_FORMAT) {
            /* half-written by a process that died between create and write,
             * or garbage: stale once the file is older than the limit */
            struct stat sb;
            if (stat(path, &sb) != 0) continue;
            memset(&seen, 0, sizeof seen);
            snprintf(seen.host, sizeof seen.host, "?");
            seen.pid = 0;
            seen.time = (long long)sb.st_mtime;
            if ((double)((long long)time(NULL) - seen.time) <= (stale_seconds < 60 ? stale_seconds : 60)) {
                if (holder) *holder = seen;
                return 0;
            }
        } else if (st) return -1;
        else if (is_mine(&seen, host)) return 1;
        else if (!dale_claim_is_stale(&seen, stale_seconds, (long long)time(NULL))) {
            if (holder) *holder = seen;
            return 0;
        }
        /* stale: a new claim beside it, renamed over it, read back */
        snprintf(tmp, sizeof tmp, "%s.new.%s.%ld", path, host, (long)getpid());
        unlink(tmp);
        if (write_new(tmp, host) != 0) {
            DALE_FAIL(DALE_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
            return -1;
        }
        if (rename(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            DALE_FAIL(DALE_ERR_IO, "%s: cannot rename over %s: %s", tmp, path, strerror(e));
            return -1;
        }
        dale_claim now;
        if (dale_claim_read(run_dir, &now) == DALE_OK && is_mine(&now, host)) {
            if (holder) *holder = seen;
            if (took_over) *took_over = 1;
            return 1;
        }
        if (dale_claim_read(run_dir, &now) == DALE_OK) { /* another taker won */
            if (holder) *holder = now;
            return 0;
        }
    }
    if (holder) *holder = seen;
    return 0;
}

void dale_claim_release(const char *run_dir)
{
    if (!run_dir) return;
    char host[256], path[4300];
    dale_claim c;
    this_host(host, sizeof host);
    if (dale_claim_read(run_dir, &c) != DALE_OK || !is_mine(&c, host)) return;
    if ((size_t)snprintf(path, sizeof path, "%s/claim", run_dir) >= sizeof path) return;
    unlink(path);
}
