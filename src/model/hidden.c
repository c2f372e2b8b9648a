/* hidden.c — read access to a cell's hidden states after a forward pass
 * (dale/embed.h), for callers that analyse the dynamics. */
#include "dale/embed.h"
#include "internal.h"
#include "model/model_internal.h"

dale_status dale_net_hidden(const dale_net *net, size_t cell, const float **h, size_t *T, size_t *B)
{
    if (!net || !h || !T || !B) return DALE_FAIL(DALE_ERR_ARG, "dale_net_hidden: a NULL argument");
    if (cell >= net->ncells)
        return DALE_FAIL(DALE_ERR_ARG, "dale_net_hidden: cell %zu does not exist (the network has %zu)", cell,
                         net->ncells);
    /* have_forward: a forward ran and neither a backward nor a new plan
     * (which reallocates H) came after it */
    if (!net->have_forward || !net->layers[cell].H)
        return DALE_FAIL(DALE_ERR_STATE, "dale_net_hidden: no forward pass since the last backward or plan");
    const dale_layer *L = &net->layers[cell];
    *h = L->H + net->fwd_B * L->out; /* H[0] is the zero initial state */
    *T = net->fwd_T;
    *B = net->fwd_B;
    return DALE_OK;
}
