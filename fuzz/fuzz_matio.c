/* fuzz_matio.c — the matrix reader of `dale diagnose` / `dale transplant`
 * (cli/matio.c, compiled into this harness).  The first input byte picks
 * the file name's extension (.csv, .npy, .npz, none: sniffed from the
 * magic); the rest is the file.  Loaded matrices must be finite and of the
 * announced size. */
#include <math.h>
#include "fuzz_util.h"
#include "matio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *ext[4] = {".csv", ".npy", ".npz", ".mat"};
    static char paths[4][512];
    if (size < 1) return 0;
    int k = data[0] & 3;
    if (!paths[k][0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(paths[k], sizeof paths[k], "%s/dale-fuzz-%ld%s", dir && dir[0] ? dir : "/tmp",
                 (long)getpid(), ext[k]);
    }
    fuzz_write(paths[k], data + 1, size - 1);
    long live = dalei_alloc_live();
    cli_matrix *m = NULL;
    size_t n = 0;
    if (cli_load_matrices(paths[k], data[0] & 4 ? 1 : 0, &m, &n) == DALE_OK) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < m[i].rows * m[i].cols; j++)
                if (!isfinite(m[i].data[j])) abort();
        cli_matrices_free(m, n);
    } else if (m || n) {
        abort(); /* the error path must hand back nothing */
    }
    fuzz_check_leaks(live, "fuzz_matio");
    return 0;
}
