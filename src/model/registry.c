/* registry.c — the model and cell-dynamics registries and their lookups.
 *
 * Adding a model: write src/model/<name>.c with its dalei_model_ops table,
 * declare the table in model_internal.h, add a line to `models` below and a
 * value to dale_model_type (the enum is the index into `models`).  Adding a
 * cell dynamics is the same with `dynamics`, src/model/dynamics.c and
 * dale_dynamics_type.
 */
#include <math.h>
#include <string.h>
#include "internal.h"
#include "model_internal.h"

static const dalei_model_ops *const models[DALE_MODEL_COUNT] = {
    [DALE_MODEL_RNN] = &dalei_model_rnn,
    [DALE_MODEL_COLEI] = &dalei_model_colei,
    [DALE_MODEL_DANN] = &dalei_model_dann,
};

static const dalei_dynamics_ops *const dynamics[DALE_DYN_COUNT] = {
    [DALE_DYN_RELU] = &dalei_dyn_relu,
    [DALE_DYN_LEAKY] = &dalei_dyn_leaky,
    [DALE_DYN_LEAKY_STATE] = &dalei_dyn_leaky_state,
};

/* "a, b or c" from the first `count` names of get(i) into buf. */
static const char *join_names(char *buf, size_t cap, size_t count, const char *(*get)(size_t))
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < count && len < cap; i++) {
        const char *sep = i == 0 ? "" : i + 1 == count ? " or " : ", ";
        int w = snprintf(buf + len, cap - len, "%s%s", sep, get(i));
        if (w < 0) break;
        len += (size_t)w;
    }
    return buf;
}

static int name_matches(const char *s, const char *name, const char *const *aliases)
{
    if (strcmp(s, name) == 0) return 1;
    for (size_t a = 0; aliases && aliases[a]; a++)
        if (strcmp(s, aliases[a]) == 0) return 1;
    return 0;
}

/* ---------------------------------------------------------------- models */

const dalei_model_ops *dalei_model_ops_of(dale_model_type t)
{
    return (unsigned)t < DALE_MODEL_COUNT ? models[t] : NULL;
}

size_t dale_model_count(void) { return DALE_MODEL_COUNT; }

const dale_model_info *dale_model_at(size_t i)
{
    return i < DALE_MODEL_COUNT ? &models[i]->info : NULL;
}

const dale_model_info *dale_model_of(dale_model_type t)
{
    const dalei_model_ops *o = dalei_model_ops_of(t);
    return o ? &o->info : NULL;
}

const char *dale_model_name(dale_model_type t)
{
    const dalei_model_ops *o = dalei_model_ops_of(t);
    return o ? o->info.name : "?";
}

static const char *model_name_at(size_t i) { return models[i]->info.name; }

const char *dalei_model_names(char *buf, size_t cap)
{
    return join_names(buf, cap, DALE_MODEL_COUNT, model_name_at);
}

const dale_model_info *dale_model_find(const char *name)
{
    if (!name) {
        DALE_FAIL(DALE_ERR_ARG, "model name is NULL");
        return NULL;
    }
    for (size_t i = 0; i < DALE_MODEL_COUNT; i++)
        if (name_matches(name, models[i]->info.name, models[i]->info.aliases)) return &models[i]->info;
    char known[256];
    DALE_FAIL(DALE_ERR_ARG, "unknown model '%s' (expected %s)", name, dalei_model_names(known, sizeof known));
    return NULL;
}

dale_status dale_model_parse(const char *s, dale_model_type *out)
{
    const dale_model_info *m = dale_model_find(s);
    if (!m) return DALE_ERR_ARG; /* message set by dale_model_find */
    *out = m->type;
    return DALE_OK;
}

double dale_model_init_radius(const dale_net_config *cfg)
{
    const dalei_model_ops *o = cfg ? dalei_model_ops_of(cfg->type) : NULL;
    return o ? o->init_radius(cfg) : (double)NAN;
}

/* -------------------------------------------------------------- dynamics */

const dalei_dynamics_ops *dalei_dynamics_ops_of(dale_dynamics_type t)
{
    return (unsigned)t < DALE_DYN_COUNT ? dynamics[t] : NULL;
}

size_t dale_dynamics_count(void) { return DALE_DYN_COUNT; }

const char *dale_dynamics_name(dale_dynamics_type t)
{
    const dalei_dynamics_ops *o = dalei_dynamics_ops_of(t);
    return o ? o->name : "?";
}

static const char *dyn_name_at(size_t i) { return dynamics[i]->name; }

dale_status dale_dynamics_parse(const char *s, dale_dynamics_type *out)
{
    for (size_t i = 0; s && i < DALE_DYN_COUNT; i++)
        if (name_matches(s, dynamics[i]->name, dynamics[i]->aliases)) {
            *out = (dale_dynamics_type)i;
            return DALE_OK;
        }
    char known[256];
    return DALE_FAIL(DALE_ERR_ARG, "unknown cell dynamics '%s' (expected %s)", s ? s : "(null)",
                     join_names(known, sizeof known, DALE_DYN_COUNT, dyn_name_at));
}
