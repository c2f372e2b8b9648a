/* task.c — the generic task handle and the task a run config names. */
#include <stdio.h>
#include <string.h>
#include "dale/config.h"
#include "dale/objrec.h"
#include "dale/lm.h"
#include "dale/task.h"
#include "internal.h"

void dale_task_free(dale_task *t)
{
    if (t && t->destroy) t->destroy(t);
}

dale_status dale_task_from_config(const dale_run_config *c, dale_task **out)
{
    *out = NULL;
    int paper = strcmp(c->split, "paper") == 0;
    if (!strcmp(c->task, "adding")) {
        dale_adding_config ac = {(size_t)c->adding_n, (size_t)c->adding_len, (size_t)c->adding_test,
                                 c->data_seed, paper};
        return dale_task_adding_create(&ac, out);
    }
    if (!strcmp(c->task, "seqmnist")) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", c->data, c->dataset);
        dale_seqmnist_config mc = {dir,
                                   !strcmp(c->variant, "pixel")      ? 1
                                   : !strcmp(c->variant, "permuted") ? 2
                                                                     : 0,
                                   c->perm_seed, paper, c->data_seed};
        return dale_task_seqmnist_create(&mc, out);
    }
    if (!strcmp(c->task, "lm")) {
        dale_lm_config lc = {c->corpus, c->vectors, (size_t)c->vocab_limit, (size_t)c->batch,
                             (size_t)c->window, !strcmp(c->oov, "random"), c->data_seed};
        return dale_task_lm_create(&lc, out);
    }
    if (!strcmp(c->task, "objrec")) {
        dale_objrec_task_config oc = {c->data, (size_t)c->objrec_steps, !strcmp(c->objrec_center, "on")};
        return dale_task_objrec_create(&oc, out);
    }
    return DALE_FAIL(DALE_ERR_ARG, "unknown task '%s'", c->task);
}
