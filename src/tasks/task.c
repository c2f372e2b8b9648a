/* task.c — the generic task handle, the task registry and option reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dale/taskdesc.h"
#include "internal.h"

/* The registry: one line per task, in the order --help lists them. */
extern const dale_task_desc dalei_task_adding, dalei_task_seqmnist, dalei_task_lm, dalei_task_objrec, dalei_task_pdm,
    dalei_task_cdm, dalei_task_dms;
static const dale_task_desc *const registry[] = {
    &dalei_task_adding,
    &dalei_task_seqmnist,
    &dalei_task_lm,
    &dalei_task_objrec,
    &dalei_task_pdm,
    &dalei_task_cdm,
    &dalei_task_dms,
};
#define NTASKS (sizeof registry / sizeof registry[0])

void dale_task_free(dale_task *t)
{
    if (t && t->destroy) t->destroy(t);
}

size_t dale_task_count(void) { return NTASKS; }

const dale_task_desc *dale_task_at(size_t i) { return i < NTASKS ? registry[i] : NULL; }

const dale_task_desc *dale_task_find(const char *name)
{
    for (size_t i = 0; i < NTASKS; i++)
        if (!strcmp(registry[i]->name, name)) return registry[i];
    return NULL;
}

const char *dale_task_names(void)
{
    static char names[256];
    if (!names[0]) {
        size_t k = 0;
        for (size_t i = 0; i < NTASKS && k < sizeof names; i++)
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i == 0 ? "" : i + 1 == NTASKS ? " or " : ", ",
                                  registry[i]->name);
    }
    return names;
}

const char *dale_task_default_of(const dale_task_desc *d, const char *model, const char *key)
{
    const char *any = NULL;
    for (size_t i = 0; i < d->ndefaults; i++) {
        const dale_task_default *e = &d->defaults[i];
        if (strcmp(e->key, key)) continue;
        if (e->model && model && !strcmp(e->model, model)) return e->value;
        if (!e->model && !any) any = e->value;
    }
    return any;
}

/* ---------------------------------------------------------- loss kinds */

const char *dale_loss_name(dale_loss_kind k)
{
    static const char *const names[DALE_LOSS_COUNT] = {"mse_last", "ce_last", "ce_every", "mse_weighted",
                                                       "ce_weighted"};
    return (unsigned)k < DALE_LOSS_COUNT ? names[k] : "?";
}

int dale_loss_is_classification(dale_loss_kind k)
{
    return k == DALE_LOSS_CE_LAST || k == DALE_LOSS_CE_EVERY || k == DALE_LOSS_CE_WEIGHTED;
}

int dale_loss_all_steps(dale_loss_kind k)
{
    return k == DALE_LOSS_CE_EVERY || k == DALE_LOSS_MSE_WEIGHTED || k == DALE_LOSS_CE_WEIGHTED;
}

int dale_loss_is_weighted(dale_loss_kind k)
{
    return k == DALE_LOSS_MSE_WEIGHTED || k == DALE_LOSS_CE_WEIGHTED;
}

/* ------------------------------------------------------------ options */

const char *dale_opt_str(const dale_options *o, const char *key, char *buf, size_t cap)
{
    if (cap) buf[0] = '\0';
    const char *v = o->get(o->ctx, key, buf, cap);
    return v ? v : buf;
}

long dale_opt_long(const dale_options *o, const char *key)
{
    char buf[64], *end;
    const char *v = o->get(o->ctx, key, buf, sizeof buf);
    if (!v) return 0;
    errno = 0;
    long x = strtol(v, &end, 10);
    return errno || end == v ? 0 : x;
}

double dale_opt_double(const dale_options *o, const char *key)
{
    char buf[64], *end;
    const char *v = o->get(o->ctx, key, buf, sizeof buf);
    if (!v) return 0;
    double x = strtod(v, &end);
    return end == v ? 0 : x;
}

uint64_t dale_opt_u64(const dale_options *o, const char *key)
{
    char buf[64], *end;
    const char *v = o->get(o->ctx, key, buf, sizeof buf);
    if (!v || v[0] == '-') return 0;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    return errno || end == v ? 0 : (uint64_t)x;
}

int dale_opt_is(const dale_options *o, const char *key, const char *value)
{
    char buf[512];
    const char *v = o->get(o->ctx, key, buf, sizeof buf);
    return v && !strcmp(v, value);
}
