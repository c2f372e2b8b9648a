/* fuzz_idx_gz.c — the input gzip-compressed, then read by dale_idx_read:
 * the fuzzer mutates the IDX structure while the reader goes through
 * zlib's inflate path (fuzz_idx covers damaged gzip streams themselves). */
#include <zlib.h>
#include "dale/idx.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_path(".idx.gz");
    gzFile gz = gzopen(path, "wb1");
    if (!gz || (size && gzwrite(gz, data, (unsigned)size) != (int)size) || gzclose(gz) != Z_OK) abort();
    long live = dalei_alloc_live();
    dale_idx a;
    if (dale_idx_read(path, (size_t)1 << 20, &a) == DALE_OK) {
        size_t n = 1;
        for (int k = 0; k < a.ndim; k++) n *= a.dim[k];
        if (n != a.count || !a.data || n != size - 4 - 4 * (size_t)a.ndim) abort();
    }
    dale_idx_free(&a);
    fuzz_check_leaks(live, "fuzz_idx_gz");
    return 0;
}
