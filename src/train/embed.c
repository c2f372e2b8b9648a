/* embed.c — heap run configs, and networks and trainers built from a
 * config, for callers that cannot lay out dale's structs (dale/embed.h). */
#include <string.h>
#include "dale/embed.h"
#include "dale/rng.h"
#include "internal.h"

dale_status dale_config_create(dale_run_config **out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_config_create: out is NULL");
    *out = dalei_alloc(1, sizeof **out);
    if (!*out) return DALE_ERR_NOMEM;
    dale_config_defaults(*out);
    return DALE_OK;
}

void dale_config_free(dale_run_config *c) { dalei_free(c); }

dale_status dale_net_create_widths(const dale_run_config *c, size_t input, size_t output, double input_mean,
                                   dale_net **out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_net_create_widths: out is NULL");
    *out = NULL;
    if (!c) return DALE_FAIL(DALE_ERR_ARG, "dale_net_create_widths: the config is NULL");
    if (input == 0 || output == 0)
        return DALE_FAIL(DALE_ERR_ARG, "dale_net_create_widths: inputs and outputs must be >= 1 (got %zu and %zu)",
                         input, output);
    dale_net_config nc;
    dale_status st = dale_config_net(c, input, output, input_mean, &nc);
    return st ? st : dale_net_create(&nc, out);
}

dale_status dale_net_init_seed(dale_net *net, uint64_t seed)
{
    if (!net) return DALE_FAIL(DALE_ERR_ARG, "dale_net_init_seed: the network is NULL");
    dale_rng init;
    dale_rng_seed(&init, seed);
    return dale_net_init(net, &init);
}

dale_status dale_trainer_create_config(dale_net *net, dale_task *task, const dale_run_config *c,
                                       const dale_trainer_callbacks *cb, dale_trainer **out)
{
    if (out) *out = NULL;
    if (!c) return DALE_FAIL(DALE_ERR_ARG, "dale_trainer_create_config: the config is NULL");
    dale_update_policy pol;
    dale_schedule sch;
    dale_status st = dale_config_policy(c, &pol);
    if (st) return st;
    dale_config_schedule(c, &sch);
    return dale_trainer_create(net, task, &pol, &sch, c->seed, cb, out);
}

dale_status dale_net_hidden(const dale_net *net, size_t cell, const float **h, size_t *T, size_t *B)
{
    if (!net || !h || !T || !B) return DALE_FAIL(DALE_ERR_ARG, "dale_net_hidden: a NULL argument");
    if (cell >= dale_net_ncells(net))
        return DALE_FAIL(DALE_ERR_ARG, "dale_net_hidden: cell %zu does not exist (the network has %zu)", cell,
                         dale_net_ncells(net));
    /* the states of the last forward, unless a backward or a new plan (which
     * reallocates them) came after it */
    *h = dale_net_states(net, cell, T, B);
    if (!*h) return DALE_FAIL(DALE_ERR_STATE, "dale_net_hidden: no forward pass since the last backward or plan");
    return DALE_OK;
}
