/* fuzz_sweep.c — the input as a sweep spec: dale_sweep_parse (JSON, axes,
 * scales, per-run option resolution), then free.  (Added with the sweep
 * module; the spec text is parsed from memory, NUL-terminated here.) */
#include "dale/sweep.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = '\0';
    long live = dalei_alloc_live();
    dale_sweep *s = NULL;
    const char *dir = fuzz_temp_path(".sweep");
    if (dale_sweep_parse(text, "fuzz-sweep.json", dir, NULL, &s) == DALE_OK) {
        for (size_t i = 0; i < s->n; i++)
            if (!memchr(s->runs[i].cfg.out, 0, sizeof s->runs[i].cfg.out)) abort();
        dale_sweep_free(s);
    }
    free(text);
    fuzz_check_leaks(live, "fuzz_sweep");
    return 0;
}
