/* fuzz_idx.c — the input as an IDX file, read by dale_idx_read (plain, or
 * gzip when the input starts with the gzip magic).  A read that succeeds
 * must hold the product of its dimensions.  The 1 MiB ceiling keeps
 * allocations small; oversize headers must be refused, not allocated. */
#include "dale/idx.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_path(".idx");
    fuzz_write(path, data, size);
    long live = dalei_alloc_live();
    dale_idx a;
    if (dale_idx_read(path, (size_t)1 << 20, &a) == DALE_OK) {
        size_t n = 1;
        for (int k = 0; k < a.ndim; k++) n *= a.dim[k];
        if (n != a.count || !a.data) abort();
    }
    dale_idx_free(&a);
    fuzz_check_leaks(live, "fuzz_idx");
    return 0;
}
