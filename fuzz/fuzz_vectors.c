/* fuzz_vectors.c — the GloVe-text word-vector reader (dale_vectors_load)
 * against a fixed three-word corpus; the first input byte picks zero or
 * seeded random rows for words without a vector, the rest is the file. */
#include <math.h>
#include <sys/stat.h>
#include "dale/lm.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dale_corpus *corpus;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (!corpus) {
        char dir[512], path[600];
        snprintf(dir, sizeof dir, "%s", fuzz_temp_path(".vcorpus"));
        mkdir(dir, 0755);
        const char *names[3] = {"ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"};
        const char *text[3] = {"the cat sat\non the mat\n", "the cat\n", "sat on\n"};
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[k]);
            fuzz_write(path, (const uint8_t *)text[k], strlen(text[k]));
        }
        if (dale_corpus_load(dir, 0, &corpus)) abort();
    }
    static char path[600];
    if (!path[0]) snprintf(path, sizeof path, "%s.vec.txt", fuzz_temp_path(""));
    fuzz_write(path, data + 1, size - 1);
    long live = dalei_alloc_live();
    float *table = NULL;
    size_t D = 0, covered = 0;
    if (dale_vectors_load(path, corpus, data[0] & 1, 7, &table, &D, &covered) == DALE_OK) {
        if (covered > dale_corpus_vocab(corpus)) abort();
        dale_vectors_free(table);
    }
    fuzz_check_leaks(live, "fuzz_vectors");
    return 0;
}
