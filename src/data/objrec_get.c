/* objrec_get.c — `dale data get objrec`: the default object-recognition set
 * built from photos in Debian packages (GPL-licensed images: generated on
 * the user's machine, never shipped).
 *
 * Objects: tuxpaint-stamps-default's RGBA photo cut-outs, eight categories
 * (table below), every *.png below the category's folder except those under
 * a `cartoon` folder (drawings) and the `*_mirror.png` duplicates, sorted by
 * path; dale_objrec_make takes the first 8 usable ones of each.
 * Backgrounds: mate-backgrounds' nature photos (*.jpg) and, from each
 * plasma-workspace-wallpapers wallpaper that has JPEG images, one of them
 * (1920x1080.jpg when present, else the first in name order); the PNG-only
 * wallpapers are drawings and are not used.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dale/objrec.h"
#include "internal.h"

extern char **environ;

#define STAMPS "/usr/share/tuxpaint/stamps"
#define MATE "/usr/share/backgrounds/mate/nature"
#define PLASMA "/usr/share/wallpapers"

static const struct {
    const char *name, *sub;
} cats[8] = {{"birds", "animals/birds"},   {"mammals", "animals/mammals"}, {"fruit", "food/fruit"},
             {"vegetables", "food/vegetables"}, {"flowers", "plants/flowers"}, {"fish", "animals/fish"},
             {"tools", "household/tools"}, {"vehicles", "vehicles"}};

static const struct {
    const char *pkg, *probe;
} pkgs[3] = {{"tuxpaint-stamps-default", STAMPS "/animals/birds"},
             {"mate-backgrounds", MATE},
             {"plasma-workspace-wallpapers", PLASMA "/Autumn"}};


static int ends_with(const char *s, const char *e)
{
    size_t n = strlen(s), m = strlen(e);
    return n >= m && !strcmp(s + n - m, e);
}

/* Photo stamps below dir (recursive), skipping cartoon folders and mirrors. */
static dale_status stamps(const char *dir, int depth, dalei_strlist *out)
{
    DIR *d = opendir(dir);
    if (!d) return DALE_FAIL(DALE_ERR_IO, "%s: cannot read: %s", dir, strerror(errno));
    dale_status st = DALE_OK;
    struct dirent *de;
    while (!st && (de = readdir(d))) {
        char p[4096];
        struct stat sb;
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (stat(p, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            if (strcmp(de->d_name, "cartoon") && depth < 8) st = stamps(p, depth + 1, out);
        } else if (ends_with(de->d_name, ".png") && !ends_with(de->d_name, "_mirror.png")) {
            st = dalei_strlist_add(out, p);
        }
    }
    closedir(d);
    return st;
}

/* Files of dir whose names end in ext, sorted, appended to out (all, or
 * only the preferred one when `one`). */
static dale_status files_in(const char *dir, const char *ext, int one, dalei_strlist *out)
{
    dalei_strlist l = {0};
    DIR *d = opendir(dir);
    if (!d) return DALE_OK; /* a wallpaper without images */
    dale_status st = DALE_OK;
    struct dirent *de;
    while (!st && (de = readdir(d)))
        if (de->d_name[0] != '.' && ends_with(de->d_name, ext)) st = dalei_strlist_add(&l, de->d_name);
    closedir(d);
    if (!st && l.n) {
        dalei_strlist_sort(&l);
        size_t pick = 0;
        for (size_t i = 0; i < l.n; i++)
            if (!strcmp(l.s[i], "1920x1080.jpg")) pick = i;
        for (size_t i = 0; i < l.n && !st; i++) {
            if (one && i != pick) continue;
            char p[4200];
            snprintf(p, sizeof p, "%s/%s", dir, l.s[i]);
            st = dalei_strlist_add(out, p);
        }
    }
    dalei_strlist_free(&l);
    return st;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* apt-get install the missing packages (as root), output to the log file. */
static dale_status install(const char *const *missing, size_t n, FILE *log)
{
    char names[256] = "";
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", l ? " " : "", missing[i]);
    }
    if (geteuid() != 0)
        return DALE_FAIL(DALE_ERR_IO, "missing Debian packages: %s\nhint: as root, apt-get install %s (or run "
                                      "`dale data get objrec` as root)", names, names);
    if (log) fprintf(log, "objrec: installing %s with apt-get\n", names);
    char *argv[8] = {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", NULL, NULL};
    for (size_t i = 0; i < n; i++) {
        argv[6] = (char *)missing[i];
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), status = 0;
        posix_spawn_file_actions_destroy(&fa);
        if (rc == 0)
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return DALE_FAIL(DALE_ERR_IO, "apt-get install %s failed (exit %d)\nhint: check `apt-cache policy %s`",
                             missing[i], rc ? 127 : WIFEXITED(status) ? WEXITSTATUS(status) : 128, missing[i]);
    }
    return DALE_OK;
}

/* 1 when dir holds a verified set built from the Debian sources. */
static int in_place(const char *dir, const char *variation)
{
    char want[64];
    snprintf(want, sizeof want, "\"variation\":\t\"%s\"", variation);
    char p[4300], buf[4096];
    snprintf(p, sizeof p, "%s/objrec.json", dir);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "\"source\":\t\"debian\"") && strstr(buf, want) && dale_objrec_verify(dir, NULL) == DALE_OK;
}

dale_status dale_objrec_get(const char *data_dir, const dale_objrec_get_options *go)
{
    static const dale_objrec_get_options none = {1, 0, NULL, NULL};
    if (!go) go = &none;
    if (!data_dir) return DALE_FAIL(DALE_ERR_ARG, "dale_objrec_get: no data directory");
    dale_objrec_options o;
    dale_objrec_defaults(&o);
    const char *variation = go->variation ? go->variation : DALE_OBJREC_GET_VARIATION;
    dale_status st = dale_objrec_variation(&o, variation);
    if (st) return st;
    FILE *log = go->log;
    char out[4200];
    snprintf(out, sizeof out, "%s/objrec", data_dir);
    if (!go->force && in_place(out, o.variation)) {
        if (log) fprintf(log, "objrec: already in place and verified (%s, %s variation)\n", out, o.variation);
        return DALE_OK;
    }
    const char *missing[3];
    size_t nm = 0;
    for (int i = 0; i < 3; i++)
        if (!exists(pkgs[i].probe)) missing[nm++] = pkgs[i].pkg;
    if (nm) {
        if (!go->install) {
            char names[256] = "";
            for (size_t i = 0; i < nm; i++) {
                size_t l = strlen(names);
                snprintf(names + l, sizeof names - l, "%s%s", l ? " " : "", missing[i]);
            }
            return DALE_FAIL(DALE_ERR_IO, "missing Debian packages: %s\nhint: apt-get install %s", names, names);
        }
        if ((st = install(missing, nm, log))) return st;
    }
    dalei_strlist objs = {0}, ocat = {0}, bgs = {0}, walls = {0};
    const char **op = NULL, **cp = NULL;
    for (int c = 0; c < 8 && !st; c++) {
        char dir[512];
        dalei_strlist one = {0};
        snprintf(dir, sizeof dir, "%s/%s", STAMPS, cats[c].sub);
        st = stamps(dir, 0, &one);
        if (!st) dalei_strlist_sort(&one);
        for (size_t i = 0; i < one.n && !st; i++)
            if (!(st = dalei_strlist_add(&objs, one.s[i]))) st = dalei_strlist_add(&ocat, cats[c].name);
        dalei_strlist_free(&one);
    }
    if (!st) st = files_in(MATE, ".jpg", 0, &bgs);
    DIR *d = st ? NULL : opendir(PLASMA);
    if (d) {
        struct dirent *de;
        while (!st && (de = readdir(d)))
            if (de->d_name[0] != '.') st = dalei_strlist_add(&walls, de->d_name);
        closedir(d);
        if (!st) dalei_strlist_sort(&walls);
        for (size_t i = 0; i < walls.n && !st; i++) {
            char dir[4200];
            snprintf(dir, sizeof dir, "%s/%s/contents/images", PLASMA, walls.s[i]);
            st = files_in(dir, ".jpg", 1, &bgs);
        }
    }
    if (st) goto cleanup;
    if (!(op = dalei_alloc(objs.n + 1, sizeof *op)) || !(cp = dalei_alloc(objs.n + 1, sizeof *cp))) {
        st = DALE_ERR_NOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < objs.n; i++) {
        op[i] = objs.s[i];
        cp[i] = ocat.s[i];
    }
    if (log)
        fprintf(log, "objrec: %zu candidate photo stamps in 8 categories, %zu background photos, %s variation\n",
                objs.n, bgs.n, o.variation);
    o.n_object_files = objs.n;
    o.object_files = op;
    o.object_categories = cp;
    o.n_background_files = bgs.n;
    o.background_files = (const char *const *)bgs.s;
    o.out_dir = out;
    o.source = "debian";
    o.log = log;
    st = dale_objrec_make(&o, NULL);
cleanup:
    dalei_free(op);
    dalei_free(cp);
    dalei_strlist_free(&objs);
    dalei_strlist_free(&ocat);
    dalei_strlist_free(&bgs);
    dalei_strlist_free(&walls);
    return st;
}
