/* fuzz_params.c — the checkpoint/parameter loader reachable through the
 * public API (what `dale eval` and a resume run first): the input as an
 * .npz, opened and loaded into a small DANN network (2 cells of 6 units,
 * one dense layer) with dale_params_load.  Members must be float32 with the
 * table's exact sizes; anything else must be refused cleanly. */
#include "dale/eval.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dale_net *net;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!net) {
        dale_net_config c;
        dale_net_config_defaults(&c);
        c.type = DALE_MODEL_DANN;
        c.input = 2;
        c.layers = 2;
        c.hidden = 6;
        c.output = 1;
        c.ndense = 1;
        c.dense[0] = 4;
        if (dale_net_create(&c, &net)) abort();
    }
    const char *path = fuzz_temp_path(".npz");
    fuzz_write(path, data, size);
    long live = dalei_alloc_live();
    dale_npz *z = NULL;
    if (dale_npz_open(path, &z) == DALE_OK) {
        dale_params_load(net, z, path);
        dale_npz_close(z);
    }
    fuzz_check_leaks(live, "fuzz_params");
    return 0;
}
