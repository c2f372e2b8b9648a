/* fuzz_config.c — the input as a JSON run config: dale_config_load_json,
 * then dale_config_resolve on what it accepted (as `dale train --config`
 * does).  (Writing it back is left out: the atomic writer fsyncs, which
 * would slow the fuzzer down a hundredfold.) */
#include "dale/config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_path(".json");
    fuzz_write(path, data, size);
    long live = dalei_alloc_live();
    dale_run_config c;
    dale_config_defaults(&c);
    if (dale_config_load_json(&c, path) == DALE_OK && dale_config_resolve(&c) == DALE_OK) {
        /* every string field stays NUL-terminated inside its buffer */
        if (!memchr(c.task, 0, sizeof c.task) || !memchr(c.out, 0, sizeof c.out) ||
            !memchr(c.data, 0, sizeof c.data))
            abort();
    }
    fuzz_check_leaks(live, "fuzz_config");
    return 0;
}
