/* seqmnist.c — placeholder until the IDX reader lands (issue 4). */
#include "dale/task.h"
#include "internal.h"

dale_status dale_task_seqmnist_create(const dale_seqmnist_config *cfg, dale_task **out)
{
    (void)cfg;
    *out = NULL;
    return DALE_FAIL(DALE_ERR_ARG, "task seqmnist is not available yet");
}
