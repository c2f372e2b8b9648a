/* task.c — the generic task handle. */
#include "dale/task.h"

void dale_task_free(dale_task *t)
{
    if (t && t->destroy) t->destroy(t);
}
