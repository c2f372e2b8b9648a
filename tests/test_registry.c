/* test_registry.c — the model and cell-dynamics registries.
 *
 * Every registered model is found by its name and its aliases and its table
 * has every required hook; an unknown name fails with a message listing the
 * known ones; the default update policies equal the per-model values the
 * trainer always used; the update reads parameter flags, not model types:
 * the ColEI inhibitory-column scaling matches the earlier name-based rule
 * bit for bit, and the same flag on an RNN parameter scales it the same
 * way.  Also the E/I units and init radius every model reports. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/model.h"
#include "dale/rng.h"
#include "dale/train.h"
#include "internal.h"
#include "model/model_internal.h"

static void test_lookup(void)
{
    CHECK(dale_model_count() == DALE_MODEL_COUNT, "count %zu, enum says %d", dale_model_count(), DALE_MODEL_COUNT);
    CHECK(dale_model_at(dale_model_count()) == NULL, "dale_model_at past the end is not NULL");
    static const char *const canonical[] = {"rnn", "colei", "dann"};
    for (size_t i = 0; i < dale_model_count(); i++) {
        const dale_model_info *m = dale_model_at(i);
        CHECK(m != NULL, "model %zu missing", i);
        if (!m) continue;
        CHECK((size_t)m->type == i, "model %zu has type %d", i, (int)m->type);
        CHECK(dale_model_of(m->type) == m, "dale_model_of(%d) is not model %zu", (int)m->type, i);
        CHECK(!strcmp(dale_model_name(m->type), m->name), "name of %zu", i);
        if (i < 3) CHECK(!strcmp(m->name, canonical[i]), "model %zu is '%s', expected '%s'", i, m->name, canonical[i]);
        CHECK(dale_model_find(m->name) == m, "'%s' not found by its name", m->name);
        dale_model_type t = DALE_MODEL_COUNT;
        CHECK_OK(dale_model_parse(m->name, &t));
        CHECK(t == m->type, "parse('%s') -> %d", m->name, (int)t);
        CHECK(m->aliases != NULL, "%s: aliases must be a NULL-terminated array", m->name);
        for (size_t a = 0; m->aliases && m->aliases[a]; a++) {
            CHECK(dale_model_find(m->aliases[a]) == m, "alias '%s' does not find %s", m->aliases[a], m->name);
            t = DALE_MODEL_COUNT;
            CHECK_OK(dale_model_parse(m->aliases[a], &t));
            CHECK(t == m->type, "parse('%s') -> %d", m->aliases[a], (int)t);
        }
        CHECK(m->summary && m->summary[0], "%s: no summary", m->name);
        /* no name or alias is claimed twice */
        for (size_t j = 0; j < i; j++) {
            const dale_model_info *o = dale_model_at(j);
            CHECK(strcmp(o->name, m->name), "name '%s' registered twice", m->name);
            for (size_t a = 0; m->aliases && m->aliases[a]; a++)
                CHECK(dale_model_find(m->aliases[a]) != o, "alias '%s' shadowed by %s", m->aliases[a], o->name);
        }
    }
    /* the aliases users have in old configs */
    CHECK(dale_model_find("song") == dale_model_of(DALE_MODEL_COLEI), "song is not colei");
    CHECK(dale_model_find("danns") == dale_model_of(DALE_MODEL_DANN), "danns is not dann");
    CHECK(!strcmp(dale_model_name((dale_model_type)99), "?"), "name of an unknown type");
    CHECK(dale_model_of((dale_model_type)99) == NULL, "info of an unknown type");

    /* unknown names: NULL / DALE_ERR_ARG and a message naming every model */
    CHECK(dale_model_find("lstm") == NULL, "lstm found");
    const char *msg = dale_last_error();
    CHECK(strstr(msg, "unknown model 'lstm'") != NULL, "message '%s'", msg);
    for (size_t i = 0; i < dale_model_count(); i++)
        CHECK(strstr(msg, dale_model_at(i)->name) != NULL, "message '%s' does not list %s", msg,
              dale_model_at(i)->name);
    dale_model_type t = DALE_MODEL_DANN;
    CHECK(dale_model_parse("RNN", &t) == DALE_ERR_ARG, "names are case-sensitive");
    CHECK(t == DALE_MODEL_DANN, "a failed parse wrote its output");
    CHECK(strstr(dale_last_error(), "unknown model 'RNN' (expected rnn, colei or dann)") != NULL,
          "parse message changed: '%s'", dale_last_error());
    CHECK(dale_model_find(NULL) == NULL, "NULL name found");
    CHECK(dale_model_find("") == NULL, "empty name found");
}

static void test_ops_complete(void)
{
    for (size_t i = 0; i < dale_model_count(); i++) {
        const dalei_model_ops *o = dalei_model_ops_of((dale_model_type)i);
        CHECK(o != NULL && &o->info == dale_model_at(i), "ops %zu", i);
        if (!o) continue;
        CHECK(o->describe && o->init_cell && o->init_dense && o->init_radius,
              "%s: a required hook is NULL", o->info.name);
    }
    CHECK(dalei_model_ops_of(DALE_MODEL_COUNT) == NULL, "ops past the end");
    CHECK(dale_dynamics_count() == DALE_DYN_COUNT, "dynamics count");
    for (size_t i = 0; i < dale_dynamics_count(); i++) {
        const dalei_dynamics_ops *d = dalei_dynamics_ops_of((dale_dynamics_type)i);
        CHECK(d && d->name && d->step && d->back && d->summary, "dynamics %zu incomplete", i);
        if (!d) continue;
        dale_dynamics_type t = DALE_DYN_COUNT;
        CHECK_OK(dale_dynamics_parse(d->name, &t));
        CHECK((size_t)t == i, "parse('%s') -> %d", d->name, (int)t);
        CHECK(!strcmp(dale_dynamics_name(t), d->name), "dynamics name %zu", i);
        CHECK(!d->fused_relu || !d->keeps_preact, "%s: a fused ReLU step keeps no z", d->name);
    }
    dale_dynamics_type t = DALE_DYN_COUNT;
    CHECK_OK(dale_dynamics_parse("discrete-relu", &t));
    CHECK(t == DALE_DYN_RELU, "discrete-relu -> %d", (int)t);
    CHECK(dale_dynamics_parse("gru", &t) == DALE_ERR_ARG, "gru parsed");
    CHECK(strstr(dale_last_error(), "relu") && strstr(dale_last_error(), "leaky"),
          "dynamics message does not list the known ones: '%s'", dale_last_error());
    /* only the discrete ReLU cell may take the fused kernel path */
    CHECK(dalei_dyn_relu.fused_relu && !dalei_dyn_leaky.fused_relu, "fused flags");
    dale_net_config c;
    dale_net_config_defaults(&c);
    CHECK(c.dynamics == DALE_DYN_RELU && c.alpha == 1.0, "defaults: dynamics %d alpha %g", (int)c.dynamics,
          c.alpha);
}

/* The per-model defaults the trainer has always used. */
static void test_policy_defaults(void)
{
    static const dale_update_policy want[DALE_MODEL_COUNT] = {
        [DALE_MODEL_RNN] = {0.5, DALE_CLIP_LAYER, 0, 0, 0},
        [DALE_MODEL_COLEI] = {0.5, DALE_CLIP_TENSOR, 0, 1, 0},
        [DALE_MODEL_DANN] = {0.5, DALE_CLIP_LAYER, 1, 1, 0},
    };
    for (int t = 0; t < DALE_MODEL_COUNT; t++) {
        dale_update_policy p;
        memset(&p, 0x5a, sizeof p);
        dale_update_policy_default((dale_model_type)t, 0.5, &p);
        const dale_update_policy *w = &want[t];
        CHECK(p.clip == w->clip && p.scope == w->scope && p.inhib_scale == w->inhib_scale &&
                  p.project == w->project && p.sign_freeze == w->sign_freeze,
              "%s: policy {%g, %s, %d, %d, %d}, expected {%g, %s, %d, %d, %d}", dale_model_name((dale_model_type)t),
              p.clip, dale_clip_scope_name(p.scope), p.inhib_scale, p.project, p.sign_freeze, w->clip,
              dale_clip_scope_name(w->scope), w->inhib_scale, w->project, w->sign_freeze);
    }
    dale_update_policy p;
    dale_update_policy_for(DALE_MODEL_CLIP_TENSOR | DALE_MODEL_INHIB_SCALE, 2.0, &p);
    CHECK(p.clip == 2.0 && p.scope == DALE_CLIP_TENSOR && p.inhib_scale == 1 && p.project == 0,
          "policy from traits");
}

static dale_net *make_net(dale_model_type type, size_t layers, size_t ndense)
{
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = type;
    c.input = 5;
    c.hidden = 12;
    c.output = 3;
    c.layers = layers;
    c.ndense = ndense;
    c.dense[0] = 7;
    c.ei_ratio = 3.0;
    dale_net *net = NULL;
    CHECK_OK(dale_net_create(&c, &net));
    dale_rng r;
    dale_rng_seed(&r, 11);
    if (net) CHECK_OK(dale_net_init(net, &r));
    return net;
}

/* Random gradient (no training needed: the update only reads grad). */
static void fill_grad(dale_net *net, uint64_t seed)
{
    dale_rng r;
    dale_rng_seed(&r, seed);
    float *g = dale_net_grad(net);
    for (size_t k = 0; k < dale_net_size(net); k++) g[k] = (float)dale_rng_normal(&r, 0.0, 1.0);
}

/* The ColEI inhibitory-column rule as it was written before the flag: every
 * non-negative parameter except the first cell's U, the last nI columns of
 * the E/I split of its width, times 1/cols. */
static void old_colei_scaling(dale_net *net, float *g)
{
    const dale_net_config *c = dale_net_config_of(net);
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        if (!(q->flags & DALE_P_NONNEG) || !strcmp(q->name, "cell0.U_pos")) continue;
        size_t ne, ni;
        dale_ei_split(q->cols, c->ei_ratio, &ne, &ni);
        for (size_t r = 0; r < q->rows; r++)
            for (size_t k = 0; k < ni; k++) {
                float *v = g + q->offset + r * q->cols + ne + k;
                *v = (float)((double)*v * (1.0 / (double)q->cols));
            }
    }
}

static void test_flags_drive_update(void)
{
    /* ColEI with inhibitory scaling on: the flag reproduces the name rule. */
    dale_net *net = make_net(DALE_MODEL_COLEI, 2, 1);
    if (!net) return;
    size_t n = dale_net_size(net);
    float *want = malloc(n * sizeof(float)), *th0 = malloc(n * sizeof(float));
    memcpy(th0, dale_net_theta(net), n * sizeof(float));
    fill_grad(net, 5);
    memcpy(want, dale_net_grad(net), n * sizeof(float));
    old_colei_scaling(net, want);
    size_t flagged = 0;
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        int expect = (q->flags & DALE_P_NONNEG) && strcmp(q->name, "cell0.U_pos") != 0;
        CHECK(!!(q->flags & DALE_P_INHIB_COLS) == expect, "%s: flag %d", q->name, !!(q->flags & DALE_P_INHIB_COLS));
        if (q->flags & DALE_P_INHIB_COLS) flagged++;
    }
    CHECK(flagged == 5, "ColEI 2 cells + dense: %zu flagged tensors, expected 5", flagged);
    dale_update_policy p = {.clip = 0, .scope = DALE_CLIP_LAYER, .inhib_scale = 1};
    CHECK_OK(dale_update_apply(net, &p, 0.0, NULL, NULL));
    CHECK(memcmp(dale_net_grad(net), want, n * sizeof(float)) == 0, "ColEI scaled gradient differs from the name rule");
    CHECK(memcmp(dale_net_theta(net), th0, n * sizeof(float)) == 0, "lr 0 changed theta");
    /* Scaling off: gradient untouched. */
    fill_grad(net, 5);
    memcpy(want, dale_net_grad(net), n * sizeof(float));
    p.inhib_scale = 0;
    CHECK_OK(dale_update_apply(net, &p, 0.0, NULL, NULL));
    CHECK(memcmp(dale_net_grad(net), want, n * sizeof(float)) == 0, "scaling off changed the gradient");
    dale_net_free(net);
    free(want);
    free(th0);

    /* The flag, not the model: on an RNN's readout it scales the same way. */
    net = make_net(DALE_MODEL_RNN, 1, 0);
    if (!net) return;
    n = dale_net_size(net);
    want = malloc(n * sizeof(float));
    int iw = dale_net_find(net, "out.W");
    CHECK(iw >= 0, "no out.W");
    if (iw >= 0) {
        dale_param *q = &net->params[iw];
        q->flags |= DALE_P_INHIB_COLS;
        q->inhib_cols = 4;
        fill_grad(net, 9);
        memcpy(want, dale_net_grad(net), n * sizeof(float));
        for (size_t r = 0; r < q->rows; r++)
            for (size_t k = q->cols - 4; k < q->cols; k++) {
                float *v = want + q->offset + r * q->cols + k;
                *v = (float)((double)*v * (1.0 / (double)q->cols));
            }
        p = (dale_update_policy){.clip = 0, .scope = DALE_CLIP_LAYER, .inhib_scale = 1};
        CHECK_OK(dale_update_apply(net, &p, 0.0, NULL, NULL));
        CHECK(memcmp(dale_net_grad(net), want, n * sizeof(float)) == 0, "flagged RNN readout not scaled as ColEI's");
        /* projection follows DALE_P_NONNEG on any model */
        q->flags |= DALE_P_NONNEG;
        float *w = dale_net_theta(net) + q->offset;
        w[0] = -1.0f;
        memset(dale_net_grad(net), 0, n * sizeof(float));
        p = (dale_update_policy){.clip = 0, .scope = DALE_CLIP_LAYER, .project = 1};
        dale_update_stats st;
        CHECK_OK(dale_update_apply(net, &p, 0.1, NULL, &st));
        CHECK(w[0] == 0.0f && st.projected >= 1, "flagged RNN weight not projected (%g)", (double)w[0]);
    }
    dale_net_free(net);
    free(want);

    /* DANN: the grad_scale of DALE_P_INHIB factors, nothing else. */
    net = make_net(DALE_MODEL_DANN, 1, 0);
    if (!net) return;
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        CHECK(!(q->flags & DALE_P_INHIB_COLS), "DANN %s has the ColEI column flag", q->name);
        CHECK((q->grad_scale != 1.0f) == !!(q->flags & DALE_P_INHIB), "DANN %s: grad_scale %g", q->name,
              (double)q->grad_scale);
    }
    dale_net_free(net);
}

static void test_units_and_radius(void)
{
    for (int t = 0; t < DALE_MODEL_COUNT; t++) {
        dale_net *net = make_net((dale_model_type)t, 2, 1);
        if (!net) continue;
        const dale_net_config *c = dale_net_config_of(net);
        size_t ne, ni, we, wi;
        dale_net_ei_units(net, 0, &ne, &ni);
        if (t == DALE_MODEL_RNN) { we = c->hidden; wi = 0; }
        else if (t == DALE_MODEL_COLEI) dale_ei_split(c->hidden, c->ei_ratio, &we, &wi);
        else {
            we = c->hidden;
            int ie = dale_net_find(net, "cell0.W_IE");
            wi = ie >= 0 ? dale_net_param(net, (size_t)ie)->rows : 999;
        }
        CHECK(ne == we && ni == wi, "%s: cell 0 units %zu E / %zu I, expected %zu / %zu", dale_model_name(c->type),
              ne, ni, we, wi);
        /* the readout reads the dense layer's 7 units (DANN: 7 E columns, its
         * own inhibitory units beside them) */
        dale_net_ei_units(net, 3, &ne, &ni);
        CHECK(t == DALE_MODEL_DANN ? ne == 7 && ni >= 1 : ne + ni == 7, "%s: readout reads %zu + %zu units",
              dale_model_name(c->type), ne, ni);
        dale_net_ei_units(net, 4, &ne, &ni);
        CHECK(ne == 0 && ni == 0, "out-of-range layer gives units");
        double want = t == DALE_MODEL_COLEI ? c->rho : sqrt(c->numerator);
        CHECK(dale_model_init_radius(c) == want, "%s: radius %g, expected %g", dale_model_name(c->type),
              dale_model_init_radius(c), want);
        const dale_model_info *m = dale_model_of(c->type);
        double re[12], im[12];
        int have = dale_net_init_eigvals(net, 0, re, im) == DALE_OK;
        CHECK(have == !!(m->traits & DALE_MODEL_INIT_EIGS), "%s: init eigenvalues %d vs trait",
              dale_model_name(c->type), have);
        CHECK(!!(m->traits & DALE_MODEL_SIGNED_UNITS) == (t != DALE_MODEL_RNN), "%s: signed-units trait",
              dale_model_name(c->type));
        dale_net_free(net);
    }
    dale_net_config c;
    dale_net_config_defaults(&c);
    c.type = (dale_model_type)77;
    CHECK(isnan(dale_model_init_radius(&c)), "radius of an unknown type");
    c.input = c.hidden = c.output = 4;
    dale_net *net = NULL;
    CHECK(dale_net_create(&c, &net) == DALE_ERR_ARG && !net, "unknown type accepted");
    CHECK(strstr(dale_last_error(), "rnn, colei or dann") != NULL, "message '%s'", dale_last_error());
    c.type = DALE_MODEL_RNN;
    c.dynamics = (dale_dynamics_type)9;
    CHECK(dale_net_create(&c, &net) == DALE_ERR_ARG && !net, "unknown dynamics accepted");
    c.dynamics = DALE_DYN_LEAKY;
    c.alpha = 0.0;
    CHECK(dale_net_create(&c, &net) == DALE_ERR_ARG && !net, "leaky alpha 0 accepted");
    CHECK(strstr(dale_last_error(), "alpha") != NULL, "message '%s'", dale_last_error());
    c.alpha = 1.5;
    CHECK(dale_net_create(&c, &net) == DALE_ERR_ARG && !net, "leaky alpha 1.5 accepted");
}

/* Every allocation of a leaky network (its pre-activation cache included)
 * can fail: a clean DALE_ERR_NOMEM and no leak at each point. */
static void test_leaky_alloc_failures(void)
{
    long base = dalei_alloc_live(), n;
    size_t bad = 0;
    dale_status st = DALE_ERR_NOMEM;
    float x[4 * 2 * 3], dout[2 * 2];
    for (size_t k = 0; k < sizeof x / sizeof x[0]; k++) x[k] = 0.1f * (float)(k % 7);
    for (size_t k = 0; k < 4; k++) dout[k] = 0.5f;
    for (n = 1; n <= 200 && st; n++) {
        dale_net_config c;
        dale_net_config_defaults(&c);
        c.type = DALE_MODEL_COLEI;
        c.dynamics = DALE_DYN_LEAKY;
        c.alpha = 0.5;
        c.input = 3;
        c.hidden = 8;
        c.output = 2;
        c.layers = 2;
        c.ei_ratio = 3.0;
        dale_net *net = NULL;
        dale_rng r;
        dale_rng_seed(&r, 3);
        dalei_alloc_fail_at(n);
        st = dale_net_create(&c, &net);
        if (!st) st = dale_net_plan(net, 4, 2);
        if (!st) st = dale_net_init(net, &r);
        if (!st) st = dale_net_forward(net, x, 4, 2, 0, NULL);
        if (!st) st = dale_net_backward(net, dout);
        dalei_alloc_fail_at(0);
        dale_net_free(net);
        if ((st && st != DALE_ERR_NOMEM) || dalei_alloc_live() != base) bad++;
    }
    CHECK(st == DALE_OK, "leaky net still failing after %ld failure points", n - 1);
    CHECK(bad == 0, "leaky net: %zu failure points with a wrong status or a leak", bad);
}

int main(void)
{
    test_lookup();
    test_ops_complete();
    test_policy_defaults();
    test_flags_drive_update();
    test_units_and_radius();
    test_leaky_alloc_failures();
    return check_done("test_registry");
}
