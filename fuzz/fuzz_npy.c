/* fuzz_npy.c — dale_npy_parse on the raw input (the NPY header parser and
 * the size checks shared by files, buffers and NPZ members).  A parsed
 * array must hold exactly count elements of its dtype. */
#include "dale/npy.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    long live = dalei_alloc_live();
    dale_array a;
    if (dale_npy_parse(data, size, "fuzz.npy", &a) == DALE_OK) {
        size_t n = 1;
        for (int i = 0; i < a.ndim; i++) n *= a.shape[i];
        if (n != a.count || (a.count && !a.data)) abort();
        /* touch every byte so ASan sees a short buffer */
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < a.count * dale_dtype_size(a.dtype); i++) sum ^= ((uint8_t *)a.data)[i];
        (void)sum;
    }
    dale_array_free(&a);
    fuzz_check_leaks(live, "fuzz_npy");
    return 0;
}
