/* fuzz_corpus.c — the PTB-format corpus reader (dale_corpus_load).  The
 * input is split at the first two "\n===\n" into ptb.train.txt,
 * ptb.valid.txt and ptb.test.txt of a temp directory (missing parts: "a\n").
 * A loaded corpus's token ids must lie inside its vocabulary. */
#include <sys/stat.h>
#include "dale/lm.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *find_sep(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++)
        if (!memcmp(p + i, "\n===\n", 5)) return p + i;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[512];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s", fuzz_temp_path(".corpus"));
        mkdir(dir, 0755);
    }
    static const char *names[3] = {"ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"};
    const uint8_t *p = data, *end = data + size;
    for (int k = 0; k < 3; k++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        if (!p) {
            fuzz_write(path, (const uint8_t *)"a\n", 2);
            continue;
        }
        const uint8_t *sep = k < 2 ? find_sep(p, (size_t)(end - p)) : NULL;
        size_t len = sep ? (size_t)(sep - p) + 1 : (size_t)(end - p);
        fuzz_write(path, p, len);
        p = sep ? sep + 5 : NULL;
    }
    long live = dalei_alloc_live();
    dale_corpus *c = NULL;
    if (dale_corpus_load(dir, 1000, &c) == DALE_OK) {
        size_t V = dale_corpus_vocab(c);
        for (int s = 0; s < 3; s++) {
            size_t n;
            const int32_t *t = dale_corpus_tokens(c, (dale_split)s, &n);
            for (size_t i = 0; i < n; i++)
                if (t[i] < 0 || (size_t)t[i] >= V) abort();
        }
        dale_corpus_free(c);
    }
    fuzz_check_leaks(live, "fuzz_corpus");
    return 0;
}
