/* fuzz_npz.c — the input as an .npz file: dale_npz_open, then read every
 * member (libzip's directory, stored and deflated members, CRC checks, the
 * NPY reader on each member). */
#include "dale/npy.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_path(".npz");
    fuzz_write(path, data, size);
    long live = dalei_alloc_live();
    dale_npz *z = NULL;
    if (dale_npz_open(path, &z) == DALE_OK) {
        for (size_t i = 0; i < dale_npz_count(z); i++) {
            dale_array a;
            const char *key = dale_npz_key(z, i);
            if (!key || !dale_npz_has(z, key)) abort();
            dale_npz_read(z, key, &a);
            dale_array_free(&a);
        }
        dale_npz_close(z);
    }
    fuzz_check_leaks(live, "fuzz_npz");
    return 0;
}
