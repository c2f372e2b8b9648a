/* states.c — read access to the hidden states of the last forward pass
 * (dale eval --trials writes them for analysis). */
#include "internal.h"
#include "model_internal.h"

const float *dale_net_states(const dale_net *net, size_t cell, size_t *T, size_t *B)
{
    if (T) *T = 0;
    if (B) *B = 0;
    if (!net || cell >= net->ncells || !net->have_forward) return NULL;
    const dale_layer *L = &net->layers[cell];
    if (!L->H) return NULL;
    if (T) *T = net->fwd_T;
    if (B) *B = net->fwd_B;
    return L->H + net->fwd_B * L->out; /* H[0] is the zero initial state */
}
