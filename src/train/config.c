/* config.c — the option table behind --help, CLI flags and config.json.
 *
 * Defaults are stored as text in the table and applied through the same
 * setter as user input, so the printed default is exactly what is used.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dale/config.h"
#include "dale/trainer.h"
#include "internal.h"

/* One option: where it lives in dale_run_config (offset, cap) and how it
 * reads.  Run options are the static table below; each registered task's
 * options follow, stored as text in task_opts (dale/taskdesc.h). */
/* 2^53 - 1: the largest integer a JSON number (a double) holds exactly. */
#define DALE_INT_EXACT 9007199254740991L

typedef struct opt {
    const char *key;
    dale_opt_type type;
    size_t offset, cap;       /* cap: bytes of a string value */
    const char *def;
    const char *help;
    const char *choices;      /* "a|b|c" or NULL */
    long min;                 /* LONG task options */
    const char *task_auto;    /* run options a task may set: the value when it sets none ("!": it must set one) */
    const dale_task_desc *task; /* the task that declares it (NULL: a run option) */
} opt;

#define O(k, t, d, h) {#k, t, offsetof(dale_run_config, k), sizeof(((dale_run_config *)0)->k), d, h, NULL, 0, NULL, NULL}
#define C(k, t, d, h, ch) {#k, t, offsetof(dale_run_config, k), sizeof(((dale_run_config *)0)->k), d, h, ch, 0, NULL, NULL}
#define A(k, t, d, h, fb) {#k, t, offsetof(dale_run_config, k), sizeof(((dale_run_config *)0)->k), d, h, NULL, 0, fb, NULL}
static const opt run_opts[] = {
    O(task, DALE_OPT_STR, "adding", "task"),
    O(model, DALE_OPT_STR, "rnn", "model"),
    A(layers, DALE_OPT_LONG, "-1", "number of recurrent layers", "1"),
    A(hidden, DALE_OPT_LONG, "-1", "units per recurrent layer", "!"),
    A(dense, DALE_OPT_STR, "auto", "ReLU dense layers before the readout, e.g. 500,500; \"\" none", ""),
    O(inhib, DALE_OPT_DOUBLE, "-1", "fraction p of inhibitory units; sets ei_ratio = 1/p - 1 (-1: unset)"),
    O(ei_ratio, DALE_OPT_DOUBLE, "9", "E:I ratio r; nI = ceil(N/(r+1)) per ColEI population"),
    O(dann_ni_in, DALE_OPT_LONG, "0", "DANN inhibitory units, input side (0: max(n/(r+1),1))"),
    O(dann_ni_rec, DALE_OPT_LONG, "0", "DANN inhibitory units, recurrent side (0: max(n/(r+1),1))"),
    O(dann_ni_out, DALE_OPT_LONG, "0", "DANN inhibitory units of readout/dense (0: max(m/(r+1),1))"),
    O(rho, DALE_OPT_DOUBLE, "1.5", "ColEI spectral radius of W at init"),
    O(zero_diag, DALE_OPT_STR, "on", "ColEI: zero W's diagonal before rescaling (reference: on)"),
    O(colei_dist, DALE_OPT_STR, "exponential", "ColEI weight family: exponential | gamma | uniform"),
    O(gamma_shape, DALE_OPT_DOUBLE, "2", "shape k of the ColEI gamma family"),
    O(numerator, DALE_OPT_DOUBLE, "0.33333333333333331", "RNN/DANN variance numerator nu (Var W = nu/n)"),
    A(dann_wie, DALE_OPT_STR, "auto", "DANN recurrent W_IE init: mean (row = column mean of W_EE) | random", "mean"),
    O(rnn_input_init, DALE_OPT_STR, "uniform", "RNN first-layer U: uniform U[-1/sqrt(n),1/sqrt(n)] | he N(0,2/d)"),
    O(bias_centering, DALE_OPT_STR, "off", "ColEI first-layer bias -sqrt(d)*mean(x) (reference: off)"),
    A(lr, DALE_OPT_DOUBLE, "-1", "learning rate", "!"),
    A(clip, DALE_OPT_DOUBLE, "-1", "max gradient norm, 0 none", "0"),
    O(clip_scope, DALE_OPT_STR, "auto", "clipping scope: auto (colei tensor, others layer) | tensor | layer | global"),
    O(inhib_grad_scale, DALE_OPT_STR, "auto", "DANN inhibitory gradient scaling: auto (on for dann) | on | off"),
    O(project, DALE_OPT_STR, "auto", "clamp sign-constrained weights at 0: auto (on for colei/dann) | on | off"),
    A(sign_freeze, DALE_OPT_STR, "auto", "freeze signs of recurrent and dense W (reference SGD_Clip)", "off"),
    O(transplant, DALE_OPT_STR, "off", "spectrum transplant at init (rnn, 1 layer): off | rnn-vectors+colei-values | colei-vectors+rnn-values"),
    A(lr_decay, DALE_OPT_DOUBLE, "-1", "lr factor per decay", "1"),
    A(lr_decay_every, DALE_OPT_LONG, "-1", "decay after within-epoch batch i with i%k==0; 0 none", "0"),
    A(batch, DALE_OPT_LONG, "-1", "minibatch size; lm: parallel streams", "!"),
    A(epochs, DALE_OPT_LONG, "-1", "training epochs", "!"),
    O(max_updates, DALE_OPT_LONG, "-1", "stop after this many updates (-1: none; 0: write the init and stop)"),
    A(eval_every, DALE_OPT_LONG, "-1", "evaluate every k updates", "!"),
    A(eval_batch, DALE_OPT_LONG, "-1", "evaluation chunk size (lm: rows)", "1000"),
    O(checkpoint_every, DALE_OPT_LONG, "-1", "checkpoint every k updates (-1: at every evaluation)"),
    O(spectra, DALE_OPT_STR, "on", "NSE, sigma_max and rho of each recurrent W at every evaluation"),
    O(seed, DALE_OPT_U64, "0", "run seed (initialisation, batch order and noise)"),
    O(data, DALE_OPT_STR, "", "data directory (default: $DALE_DATA, else ./data)"),
    O(data_seed, DALE_OPT_U64, "0", "seed of generated data (adding) and of the paper split's validation hold-out"),
    O(split, DALE_OPT_STR, "reference", "splits: reference (code) | paper (with validation)"),
};
/* after the task options */
static const opt tail_opts[] = {
    O(out, DALE_OPT_STR, "", "run directory (default runs/<task>-<model>-seed<seed>)"),
    O(max_memory_gb, DALE_OPT_DOUBLE, "0", "refuse a run whose estimated memory exceeds this many GB (0: the machine's RAM)"),
    O(threads, DALE_OPT_LONG, "1", "threads of the run, 1..64: OpenBLAS threads and the parts of each large product of dale's kernels (H >= ~300, lm, objrec); with numerics dale the results do not depend on it"),
    C(numerics, DALE_OPT_STR, "blas", "arithmetic: blas (default) = dale's kernels within their size limits, OpenBLAS for "
      "larger products and the dense/readout forward, libm exp: the results of earlier versions, which depend on the "
      "machine's OpenBLAS kernel and thread count | dale = every product in dale's kernels and dale's own exp: faster "
      "at large shapes (lm, objrec), the same bits on every machine and thread count", "blas|dale"),
    O(dt, DALE_OPT_DOUBLE, "20", "time step in ms: leaky units' alpha = dt/tau; cognitive tasks' periods in steps = ms/dt"),
    C(dynamics, DALE_OPT_STR, "relu", "cell dynamics: relu = the discrete recurrence h_t = relu(z_t) | leaky = rate "
      "form h_t = (1-a) h_{t-1} + a relu(z_t + noise) | leaky-state = state form s_t = (1-a) s_{t-1} + a z_t + "
      "noise, h_t = relu(s_t); a = dt/tau per unit (docs/neuro.md)", "relu|leaky|leaky-state"),
    O(tau, DALE_OPT_DOUBLE, "100", "time constant in ms of every unit (leaky dynamics; alpha = dt/tau must be in (0, 1])"),
    O(tau_e, DALE_OPT_STR, "tau", "time constant in ms of the excitatory units: ColEI's E units, DANN's hidden units "
      "(tau, also written auto: the value of --tau; not for rnn, which has one tau)"),
    O(tau_i, DALE_OPT_STR, "tau", "time constant in ms of ColEI's inhibitory units (tau, also written auto: the value "
      "of --tau; colei only: DANN's inhibition is instantaneous)"),
    O(noise_rec, DALE_OPT_DOUBLE, "0", "sigma of the recurrent noise: variance 2 sigma^2/a inside the relu (leaky; relu "
      "with a = 1), 2 a sigma^2 added to the state (leaky-state)"),
    O(noise_in, DALE_OPT_DOUBLE, "0", "sigma of the input noise: the first layer reads x_t + N(0, 2 sigma^2/a_E) on every "
      "input channel"),
    C(eval_noise, DALE_OPT_STR, "off", "noise in evaluations too: on (a fixed sample per split) | off", "on|off"),
    C(h0, DALE_OPT_STR, "zero", "initial state: zero | learn (parameter cellK.h0 of every recurrent layer, trained)",
      "zero|learn"),
    O(rate_l2, DALE_OPT_DOUBLE, "0", "firing-rate penalty lambda: lambda * mean of h_t^2 over rows, steps, units and "
      "recurrent layers, added to the training loss"),
    O(mask_in, DALE_OPT_STR, "",
      "connectivity mask of the first cell's input map U: NPY of shape (hidden, input), 0/1; \"\": none"),
    O(mask_rec, DALE_OPT_STR, "",
      "connectivity mask of every cell's recurrent W: NPY of shape (hidden, hidden), 0/1; dann: "
      "of the effective W_EE - W_EI W_IE; \"\": none"),
    O(mask_out, DALE_OPT_STR, "",
      "connectivity mask of the readout: NPY of shape (output, width read), 0/1; \"\": none"),
    O(sparsity, DALE_OPT_DOUBLE, "0", "fraction p in [0, 1) of recurrent connections removed, each with probability p, "
      "drawn from the seed (colei: rho is of the masked W)"),
    C(autapses, DALE_OPT_STR, "on", "self-connections (W's diagonal): on | off (--no-autapses)", "on|off"),
    C(optimizer, DALE_OPT_STR, "sgd", "optimiser: sgd | adam (torch.optim.Adam's bias-corrected step; same clipping, "
      "scaling and projection)", "sgd|adam"),
    O(beta1, DALE_OPT_DOUBLE, "0.9", "Adam's first-moment decay, in [0, 1)"),
    O(beta2, DALE_OPT_DOUBLE, "0.999", "Adam's second-moment decay, in [0, 1)"),
    O(adam_eps, DALE_OPT_DOUBLE, "1e-8", "Adam's epsilon, > 0"),
    O(weight_l2, DALE_OPT_DOUBLE, "0",
      "lambda >= 0 of the penalty lambda * sum w^2 over the weight matrices (not biases), added to the "
      "training loss; its gradient 2 lambda w joins before clipping"),
    C(colei_init, DALE_OPT_STR, "standard", "ColEI recurrent init (docs/beyond.md): standard = the paper's | balanced = "
      "each row's inhibitory weights rescaled so the row sums to 0 | spectral = alternating projections between the "
      "sign cone and an RNN init's singular values | spectral-balanced = spectral, then balanced; every column keeps "
      "its sign", "standard|balanced|spectral|spectral-balanced"),
    O(colei_init_iters, DALE_OPT_LONG, "20", "ColEI spectral init: rounds of (sign cone, RNN singular values), >= 1"),
    O(colei_init_floor, DALE_OPT_DOUBLE, "0.05", "ColEI spectral init: floor delta in [0, 1): every allowed entry keeps "
      "|w| >= delta * mean|w| (0: the plain projection, which zeroes most entries)"),
};
#undef O
#undef A
#undef C
#define NRUN (sizeof run_opts / sizeof run_opts[0])
#define NTAIL (sizeof tail_opts / sizeof tail_opts[0])
#define MAXOPTS (NRUN + DALE_TASK_OPTS_MAX + NTAIL)

/* The whole table, in config.json order: run options, every task's own
 * options (registry order), then the bookkeeping tail.  Built once. */
static opt table[MAXOPTS];
static size_t nopts;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void)
{
    size_t n = 0, slot = 0;
    for (size_t i = 0; i < NRUN; i++) table[n++] = run_opts[i];
    for (size_t k = 0; k < dale_task_count(); k++) {
        const dale_task_desc *d = dale_task_at(k);
        for (size_t i = 0; i < d->noptions; i++) {
            const dale_task_option *to = &d->options[i];
            DALE_ASSERT(slot < DALE_TASK_OPTS_MAX);
            opt o = {to->key, to->type, offsetof(dale_run_config, task_opts) + slot * DALE_PATH, DALE_PATH,
                     to->def, to->help, to->choices, to->min, NULL, d};
            table[n++] = o;
            slot++;
        }
    }
    for (size_t i = 0; i < NTAIL; i++) table[n++] = tail_opts[i];
    nopts = n;
}

static const opt *opts_table(size_t *n)
{
    pthread_once(&table_once, build_table);
    *n = nopts;
    return table;
}

static const opt *find_opt(const char *key)
{
    char k[64];
    size_t n = strlen(key), no;
    if (n >= sizeof k) return NULL;
    for (size_t i = 0; i <= n; i++) k[i] = key[i] == '-' ? '_' : key[i];
    const opt *t = opts_table(&no);
    for (size_t i = 0; i < no; i++)
        if (strcmp(t[i].key, k) == 0) return &t[i];
    return NULL;
}

int dale_config_has(const char *key) { return find_opt(key) != NULL; }

static void cli_name(const char *key, char *buf, size_t n)
{
    size_t i = 0;
    for (; key[i] && i + 1 < n; i++) buf[i] = key[i] == '_' ? '-' : key[i];
    buf[i] = '\0';
}

const char *dale_config_nearest(const char *key, char *buf, size_t cap)
{
    size_t n;
    const opt *t = opts_table(&n);
    const char *names[MAXOPTS];
    char k[64];
    size_t i = 0;
    for (; key[i] && i + 1 < sizeof k; i++) k[i] = key[i] == '-' ? '_' : key[i];
    k[i] = '\0';
    for (i = 0; i < n; i++) names[i] = t[i].key;
    const char *near = dalei_nearest(k, names, n);
    if (!near || !cap) return NULL;
    snprintf(buf, cap, "%s", near);
    return buf;
}

/* " (did you mean X?)" for an unknown option key, X written the way the
 * key was (hyphens on the command line, underscores in JSON); "" if no
 * option is near. */
static const char *option_hint(const char *key, char *buf, size_t cap)
{
    char near[64], nm[64];
    buf[0] = '\0';
    if (dale_config_nearest(key, near, sizeof near)) {
        if (strchr(key, '_')) snprintf(nm, sizeof nm, "%s", near);
        else cli_name(near, nm, sizeof nm);
        snprintf(buf, cap, " (did you mean %s%s?)", key[0] == '-' ? "--" : "", nm);
    }
    return buf;
}

/* "; did you mean X?" among "a|b|c", or "". */
static const char *choice_hint(const char *v, const char *choices, char *buf, size_t cap)
{
    char near[64];
    buf[0] = '\0';
    if (dalei_nearest_choice(v, choices, near, sizeof near)) snprintf(buf, cap, "; did you mean %s?", near);
    return buf;
}

/* "--task: unknown task 'x' (expected a, b or c; did you mean y?)" */
static dale_status unknown_task(const char *prefix, const char *name)
{
    const char *names[64];
    size_t n = dale_task_count() < 64 ? dale_task_count() : 64;
    for (size_t i = 0; i < n; i++) names[i] = dale_task_at(i)->name;
    const char *near = dalei_nearest(name, names, n);
    char hint[96] = "";
    if (near) snprintf(hint, sizeof hint, "; did you mean %s?", near);
    return DALE_FAIL(DALE_ERR_ARG, "%sunknown task '%s' (expected %s%s)", prefix, name, dale_task_names(), hint);
}

dale_status dale_config_set(dale_run_config *c, const char *key, const char *value)
{
    const opt *o = find_opt(key);
    if (!o) {
        char hint[96];
        return DALE_FAIL(DALE_ERR_ARG, "unknown option '%s'%s", key, option_hint(key, hint, sizeof hint));
    }
    char *dst = (char *)c + o->offset, *end = NULL;
    char nm[64];
    cli_name(o->key, nm, sizeof nm);
    errno = 0;
    switch (o->type) {
    case DALE_OPT_STR:
        if (strlen(value) >= o->cap)
            return DALE_FAIL(DALE_ERR_ARG, "--%s: value too long (max %zu characters)", nm, o->cap - 1);
        memcpy(dst, value, strlen(value) + 1);
        return DALE_OK;
    case DALE_OPT_LONG: {
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end)
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected an integer, got '%s'", nm, value);
        /* config.json keeps numbers as doubles: beyond 2^53 - 1 they would
         * not read back as what was set */
        if (v > DALE_INT_EXACT || v < -DALE_INT_EXACT)
            return DALE_FAIL(DALE_ERR_ARG, "--%s: %s is beyond %lld, the largest integer config.json stores exactly",
                             nm, value, (long long)DALE_INT_EXACT);
        if (o->task) snprintf(dst, o->cap, "%ld", v);
        else memcpy(dst, &v, sizeof v);
        return DALE_OK;
    }
    case DALE_OPT_DOUBLE: {
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v))
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected a finite number, got '%s'", nm, value);
        if (o->task) snprintf(dst, o->cap, "%.17g", v);
        else memcpy(dst, &v, sizeof v);
        return DALE_OK;
    }
    case DALE_OPT_U64: {
        if (value[0] == '-')
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected a non-negative integer, got '%s'", nm, value);
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end)
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected a non-negative integer, got '%s'", nm, value);
        if (v > (unsigned long long)DALE_INT_EXACT)
            return DALE_FAIL(DALE_ERR_ARG, "--%s: %s is beyond %lld, the largest integer config.json stores exactly",
                             nm, value, (long long)DALE_INT_EXACT);
        uint64_t u = (uint64_t)v;
        if (o->task) snprintf(dst, o->cap, "%llu", v);
        else memcpy(dst, &u, sizeof u);
        return DALE_OK;
    }
    }
    return DALE_OK;
}

/* The value of o in c as text. */
static const char *opt_text(const dale_run_config *c, const opt *o, char *buf, size_t cap)
{
    const char *src = (const char *)c + o->offset;
    if (o->type == DALE_OPT_STR || o->task) {
        snprintf(buf, cap, "%s", src);
        return buf;
    }
    switch (o->type) {
    case DALE_OPT_LONG: { long x; memcpy(&x, src, sizeof x); snprintf(buf, cap, "%ld", x); break; }
    case DALE_OPT_DOUBLE: { double x; memcpy(&x, src, sizeof x); snprintf(buf, cap, "%.17g", x); break; }
    case DALE_OPT_U64: { uint64_t x; memcpy(&x, src, sizeof x); snprintf(buf, cap, "%llu", (unsigned long long)x); break; }
    default: break;
    }
    return buf;
}

const char *dale_config_get(const dale_run_config *c, const char *key, char *buf, size_t cap)
{
    const opt *o = find_opt(key);
    return o && cap ? opt_text(c, o, buf, cap) : NULL;
}

static const char *options_get(void *ctx, const char *key, char *buf, size_t cap)
{
    return dale_config_get(ctx, key, buf, cap);
}

static dale_status options_set(void *ctx, const char *key, const char *value)
{
    return dale_config_set(ctx, key, value);
}

void dale_config_options(dale_run_config *c, dale_options *o)
{
    o->ctx = c;
    o->get = options_get;
    o->set = options_set;
}

static dale_status refuse_set(void *ctx, const char *key, const char *value)
{
    (void)ctx;
    (void)value;
    return DALE_FAIL(DALE_ERR_STATE, "option '%s' cannot be changed here", key);
}

/* A read-only handle over a const config (shape, create). */
static void const_options(const dale_run_config *c, dale_options *o)
{
    o->ctx = (void *)(uintptr_t)c;
    o->get = options_get;
    o->set = refuse_set;
}

const dale_task_desc *dale_config_task(const dale_run_config *c) { return dale_task_find(c->task); }

dale_status dale_config_task_shape(const dale_run_config *c, dale_task_shape *s)
{
    const dale_task_desc *d = dale_config_task(c);
    if (!d) return unknown_task("--task: ", c->task);
    dale_options o;
    const_options(c, &o);
    return d->shape(&o, s);
}

dale_status dale_task_from_config(const dale_run_config *c, dale_task **out)
{
    *out = NULL;
    const dale_task_desc *d = dale_config_task(c);
    if (!d) return unknown_task("", c->task);
    dale_options o;
    const_options(c, &o);
    return d->create(&o, out);
}

/* "on" -> 1, "off" -> 0, else an error naming the option. */
static dale_status on_off(const char *key, const char *v, int *out)
{
    if (!strcmp(v, "on")) *out = 1;
    else if (!strcmp(v, "off")) *out = 0;
    else return DALE_FAIL(DALE_ERR_ARG, "--%s: expected on or off (got '%s')", key, v);
    return DALE_OK;
}

/* --tau-e / --tau-i at "tau" (or its synonym "auto"): the value of --tau. */
static int tau_same(const char *v) { return !strcmp(v, "tau") || !strcmp(v, "auto"); }

/* --tau-e / --tau-i: "tau" / "auto" is tau, else a finite number > 0. */
static dale_status tau_value(const char *key, const char *v, double tau, double *out)
{
    if (tau_same(v)) {
        *out = tau;
        return DALE_OK;
    }
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || !(x > 0))
        return DALE_FAIL(DALE_ERR_ARG, "--%s: expected tau (or auto) or a time constant in ms > 0 (got '%s')", key, v);
    *out = x;
    return DALE_OK;
}

/* The dynamics options, checked (dale_config_resolve and dale_config_net
 * both call it): the choices, dt > 0, tau > 0, each alpha = dt/tau that the
 * model uses in (0, 1], tau_e / tau_i only where the model has such units,
 * noise levels and the penalty >= 0.  Fills nc when it is not NULL. */
static dale_status dynamics_net(const dale_run_config *c, dale_net_config *nc)
{
    dale_dynamics_type dyn;
    if (strcmp(c->dynamics, "relu") && strcmp(c->dynamics, "leaky") && strcmp(c->dynamics, "leaky-state"))
        return DALE_FAIL(DALE_ERR_ARG, "--dynamics: expected relu, leaky or leaky-state (got '%s')", c->dynamics);
    dale_status st = dale_dynamics_parse(c->dynamics, &dyn);
    if (st) return st;
    if (!(c->dt > 0)) return DALE_FAIL(DALE_ERR_ARG, "--dt must be a time step in ms > 0 (got %g)", c->dt);
    if (!(c->tau > 0)) return DALE_FAIL(DALE_ERR_ARG, "--tau must be a time constant in ms > 0 (got %g)", c->tau);
    double te, ti;
    if ((st = tau_value("tau-e", c->tau_e, c->tau, &te)) || (st = tau_value("tau-i", c->tau_i, c->tau, &ti))) return st;
    const int rnn = !strcmp(c->model, "rnn"), dann = !strcmp(c->model, "dann");
    if (rnn && !tau_same(c->tau_e))
        return DALE_FAIL(DALE_ERR_ARG, "--tau-e: model rnn has no E/I populations; give its one time constant with --tau");
    if (rnn && !tau_same(c->tau_i))
        return DALE_FAIL(DALE_ERR_ARG, "--tau-i: model rnn has no E/I populations; give its one time constant with --tau");
    if (dann && !tau_same(c->tau_i))
        return DALE_FAIL(DALE_ERR_ARG, "--tau-i: DANN's inhibition is instantaneous (its hidden units are excitatory: "
                         "use --tau-e or --tau)");
    if (dyn == DALE_DYN_RELU && (!tau_same(c->tau_e) || !tau_same(c->tau_i)))
        return DALE_FAIL(DALE_ERR_ARG, "--%s has no effect with --dynamics relu (it needs leaky or leaky-state)",
                         !tau_same(c->tau_e) ? "tau-e" : "tau-i");
    if (dyn != DALE_DYN_RELU) {
        const struct { const char *key; double tau; int used; } ts[] = {
            {!tau_same(c->tau_e) ? "tau-e" : "tau", te, 1},
            {!tau_same(c->tau_i) ? "tau-i" : "tau", ti, !rnn && !dann},
        };
        for (size_t k = 0; k < 2; k++) {
            double a = c->dt / ts[k].tau;
            if (ts[k].used && !(a > 0 && a <= 1))
                return DALE_FAIL(DALE_ERR_ARG, "--%s %g with --dt %g gives alpha = dt/tau = %g, outside (0, 1]: "
                                 "raise --%s or lower --dt", ts[k].key, ts[k].tau, c->dt, a, ts[k].key);
        }
    }
    if (!(c->noise_rec >= 0)) return DALE_FAIL(DALE_ERR_ARG, "--noise-rec must be >= 0 (got %g)", c->noise_rec);
    if (!(c->noise_in >= 0)) return DALE_FAIL(DALE_ERR_ARG, "--noise-in must be >= 0 (got %g)", c->noise_in);
    if (!(c->rate_l2 >= 0)) return DALE_FAIL(DALE_ERR_ARG, "--rate-l2 must be >= 0 (got %g)", c->rate_l2);
    int eval_noise, learn = !strcmp(c->h0, "learn");
    if ((st = on_off("eval-noise", c->eval_noise, &eval_noise))) return st;
    if (!learn && strcmp(c->h0, "zero"))
        return DALE_FAIL(DALE_ERR_ARG, "--h0: expected zero or learn (got '%s')", c->h0);
    if (!nc) return DALE_OK;
    nc->dynamics = dyn;
    if (dyn != DALE_DYN_RELU) {
        nc->alpha = c->dt / te;
        nc->alpha_i = !rnn && !dann ? c->dt / ti : 0.0;
    }
    nc->noise_rec = c->noise_rec;
    nc->noise_in = c->noise_in;
    nc->h0_learn = learn;
    nc->rate_l2 = c->rate_l2;
    return DALE_OK;
}

dale_status dale_config_net(const dale_run_config *c, size_t input, size_t output, double input_mean,
                            dale_net_config *nc)
{
    dale_net_config_defaults(nc);
    dale_status st = dale_model_parse(c->model, &nc->type);
    if (st) return st;
    nc->input = input;
    nc->output = output;
    nc->layers = (size_t)c->layers;
    nc->hidden = (size_t)c->hidden;
    for (const char *p = c->dense; *p;) {
        char *end;
        long w = strtol(p, &end, 10);
        if (end == p || w < 1 || (*end && *end != ','))
            return DALE_FAIL(DALE_ERR_ARG, "--dense: expected comma-separated positive widths (got '%s')", c->dense);
        if (nc->ndense == DALE_MAX_DENSE)
            return DALE_FAIL(DALE_ERR_ARG, "--dense: at most %d layers", DALE_MAX_DENSE);
        nc->dense[nc->ndense++] = (size_t)w;
        p = *end ? end + 1 : end;
    }
    nc->ei_ratio = c->ei_ratio;
    nc->dann_ni_in = (size_t)c->dann_ni_in;
    nc->dann_ni_rec = (size_t)c->dann_ni_rec;
    nc->dann_ni_out = (size_t)c->dann_ni_out;
    nc->rho = c->rho;
    if ((st = on_off("zero-diag", c->zero_diag, &nc->zero_diag))) return st;
    if (!strcmp(c->colei_dist, "exponential")) nc->colei_dist = DALE_DIST_EXPONENTIAL;
    else if (!strcmp(c->colei_dist, "gamma")) nc->colei_dist = DALE_DIST_GAMMA;
    else if (!strcmp(c->colei_dist, "uniform")) nc->colei_dist = DALE_DIST_UNIFORM;
    else return DALE_FAIL(DALE_ERR_ARG, "--colei-dist: expected exponential, gamma or uniform (got '%s')", c->colei_dist);
    nc->gamma_shape = c->gamma_shape;
    nc->numerator = c->numerator;
    if (!strcmp(c->dann_wie, "mean") || !strcmp(c->dann_wie, "random")) nc->dann_wie_random = !strcmp(c->dann_wie, "random");
    else return DALE_FAIL(DALE_ERR_ARG, "--dann-wie: expected mean or random (got '%s')", c->dann_wie);
    if (!strcmp(c->rnn_input_init, "uniform") || !strcmp(c->rnn_input_init, "he")) nc->rnn_input_he = !strcmp(c->rnn_input_init, "he");
    else return DALE_FAIL(DALE_ERR_ARG, "--rnn-input-init: expected uniform or he (got '%s')", c->rnn_input_init);
    if ((st = on_off("bias-centering", c->bias_centering, &nc->bias_centering))) return st;
    nc->input_mean = input_mean;
    nc->sparsity = c->sparsity;
    int autapses;
    if ((st = on_off("autapses", c->autapses, &autapses))) return st;
    nc->no_autapses = !autapses;
    if (!strcmp(c->numerics, "blas")) nc->numerics = DALE_NUMERICS_BLAS;
    else if (!strcmp(c->numerics, "dale")) nc->numerics = DALE_NUMERICS_DALE;
    else return DALE_FAIL(DALE_ERR_ARG, "--numerics: expected blas or dale (got '%s')", c->numerics);
    if ((st = dale_colei_init_parse(c->colei_init, &nc->colei_init))) return st;
    nc->colei_init_iters = c->colei_init_iters;
    nc->colei_init_floor = c->colei_init_floor;
    return dynamics_net(c, nc);
}

dale_status dale_config_policy(const dale_run_config *c, dale_update_policy *p)
{
    memset(p, 0, sizeof *p);
    p->clip = c->clip;
    if (!strcmp(c->clip_scope, "tensor")) p->scope = DALE_CLIP_TENSOR;
    else if (!strcmp(c->clip_scope, "layer")) p->scope = DALE_CLIP_LAYER;
    else if (!strcmp(c->clip_scope, "global")) p->scope = DALE_CLIP_GLOBAL;
    else return DALE_FAIL(DALE_ERR_ARG, "--clip-scope: expected tensor, layer or global (got '%s'; resolve the config first)", c->clip_scope);
    dale_status st;
    if ((st = on_off("inhib-grad-scale", c->inhib_grad_scale, &p->inhib_scale))) return st;
    if ((st = on_off("project", c->project, &p->project))) return st;
    if ((st = dale_optimizer_parse(c->optimizer, &p->optimizer))) return st;
    p->beta1 = c->beta1;
    p->beta2 = c->beta2;
    p->adam_eps = c->adam_eps;
    p->weight_l2 = c->weight_l2;
    return on_off("sign-freeze", c->sign_freeze, &p->sign_freeze);
}

void dale_config_schedule(const dale_run_config *c, dale_schedule *s)
{
    dale_schedule_defaults(s);
    s->lr = c->lr;
    s->lr_decay = c->lr_decay;
    s->lr_decay_every = c->lr_decay_every;
    s->batch = (size_t)c->batch;
    s->epochs = c->epochs;
    s->max_updates = c->max_updates;
    s->eval_every = c->eval_every;
    s->eval_batch = (size_t)c->eval_batch;
    s->checkpoint_every = c->checkpoint_every;
}

void dale_config_defaults(dale_run_config *c)
{
    size_t n;
    const opt *t = opts_table(&n);
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < n; i++) {
        dale_status st = dale_config_set(c, t[i].key, t[i].def);
        DALE_ASSERT(st == DALE_OK);
    }
}

/* "(-1: the task's: adding 10, seqmnist 100, lm 500, objrec 1000)" for a
 * run option that tasks set, from the descriptors. */
static void task_default_help(const opt *o, char *buf, size_t cap)
{
    size_t k = (size_t)snprintf(buf, cap, " (%s: the task's:", o->type == DALE_OPT_STR ? "auto" : "-1");
    for (size_t i = 0; i < dale_task_count() && k < cap; i++) {
        const dale_task_desc *d = dale_task_at(i);
        const char *all = dale_task_default_of(d, NULL, o->key);
        if (!all) all = o->task_auto;
        k += (size_t)snprintf(buf + k, cap - k, "%s %s %s", i ? ";" : "", d->name, all[0] ? all : "\"\"");
        for (size_t j = 0; j < d->ndefaults && k < cap; j++)
            if (d->defaults[j].model && !strcmp(d->defaults[j].key, o->key))
                k += (size_t)snprintf(buf + k, cap - k, ", %s %s", d->defaults[j].model, d->defaults[j].value);
    }
    if (k < cap) snprintf(buf + k, cap - k, ")");
}

static void print_opt(FILE *f, const opt *o)
{
    char nm[64], extra[512] = "";
    cli_name(o->key, nm, sizeof nm);
    if (o->task_auto) task_default_help(o, extra, sizeof extra);
    if (!strcmp(o->key, "model")) {
        size_t k = (size_t)snprintf(extra, sizeof extra, ":");
        for (size_t i = 0; i < dale_model_count() && k < sizeof extra; i++)
            k += (size_t)snprintf(extra + k, sizeof extra - k, "%s %s", i ? " |" : "", dale_model_at(i)->name);
    }
    if (!strcmp(o->key, "task")) {
        size_t k = (size_t)snprintf(extra, sizeof extra, ":");
        for (size_t i = 0; i < dale_task_count() && k < sizeof extra; i++)
            k += (size_t)snprintf(extra + k, sizeof extra - k, "%s %s", i ? " |" : "", dale_task_at(i)->name);
        if (k < sizeof extra) snprintf(extra + k, sizeof extra - k, " (each described below)");
    }
    /* the default as help texts print numbers (6 significant digits: nu
     * 0.333333 as in `dale spectrum --help`); the option keeps its exact
     * default; a help that states its default already gets no second one */
    char def[64];
    if (o->type == DALE_OPT_DOUBLE) snprintf(def, sizeof def, "%.6g", strtod(o->def, NULL));
    else snprintf(def, sizeof def, "%s", o->def[0] ? o->def : "\"\"");
    if (strstr(o->help, "(default:")) fprintf(f, "  --%-18s %s%s\n", nm, o->help, extra);
    else fprintf(f, "  --%-18s %s%s (default: %s)\n", nm, o->help, extra, def);
}

void dale_config_print_help(FILE *f)
{
    size_t n;
    const opt *t = opts_table(&n);
    for (size_t i = 0; i < n; i++)
        if (!t[i].task) print_opt(f, &t[i]);
    for (size_t k = 0; k < dale_task_count(); k++) {
        const dale_task_desc *d = dale_task_at(k);
        fprintf(f, "\n  task %s: %s\n", d->name, d->summary);
        for (size_t i = 0; i < n; i++)
            if (t[i].task == d) print_opt(f, &t[i]);
    }
}

/* Keys of config.json that record where a run came from, not how it is
 * configured: written by dale_config_write_json, accepted and ignored by the
 * loader, and never part of dale_config_to_json (so run ids and the
 * comparison with an existing run do not see them). */
static const char *const meta_keys[] = {"dale_version", "dale_commit"};

static int is_meta_key(const char *key)
{
    for (size_t i = 0; i < sizeof meta_keys / sizeof meta_keys[0]; i++)
        if (!strcmp(key, meta_keys[i])) return 1;
    return 0;
}

dale_status dale_config_load_json(dale_run_config *c, const char *path)
{
    char *buf = NULL;
    size_t ulen = 0;
    cJSON *root = NULL;
    dale_status st = dalei_read_file(path, (size_t)1 << 24, &buf, &ulen);
    if (st == DALE_ERR_FORMAT) return DALE_FAIL(st, "%s: config must be a JSON file under 16 MiB", path);
    if (st) return st;
    long len = (long)ulen;
    /* A NUL byte, raw or as the escape \u0000, would silently cut a value
     * short ("rnn\u0000colei" read as "rnn"): refuse it. */
    for (long i = 0; i < len; i++) {
        if (buf[i] == '\0' || (buf[i] == '\\' && len - i >= 6 && (buf[i + 1] == 'u' || buf[i + 1] == 'U') &&
                               !memcmp(buf + i + 2, "0000", 4))) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: a NUL character in the JSON text is not allowed", path);
            goto done;
        }
        if (buf[i] == '\\') i++; /* skip the escaped character ("\\u0000" is no NUL) */
    }
    root = cJSON_ParseWithLength(buf, (size_t)len);
    if (!root) {
        size_t line, col;
        char near[32];
        dalei_text_where(buf, ulen, cJSON_GetErrorPtr(), &line, &col, near, sizeof near);
        if (near[0]) st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu:%zu: not valid JSON (near '%s')", path, line, col, near);
        else st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu:%zu: not valid JSON (at an empty line)", path, line, col);
        goto done;
    }
    if (!cJSON_IsObject(root)) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: not a JSON object of options ({\"key\": value, ...})", path);
        goto done;
    }
    for (cJSON *it = root->child; it; it = it->next) {
        char val[600];
        if (is_meta_key(it->string)) continue;
        if (!find_opt(it->string)) {
            char hint[96];
            st = DALE_FAIL(DALE_ERR_ARG, "%s: unknown option \"%s\"%s", path, it->string,
                           option_hint(it->string, hint, sizeof hint));
            goto done;
        }
        if (cJSON_IsString(it)) snprintf(val, sizeof val, "%s", it->valuestring);
        else if (cJSON_IsNumber(it)) snprintf(val, sizeof val, "%.17g", it->valuedouble);
        else if (cJSON_IsBool(it)) snprintf(val, sizeof val, "%s", cJSON_IsTrue(it) ? "on" : "off");
        else {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: \"%s\" must be a string or a number", path, it->string);
            goto done;
        }
        /* Integers arrive as doubles: print them without a fraction. */
        const opt *o = find_opt(it->string);
        if (cJSON_IsNumber(it) && (o->type == DALE_OPT_LONG || o->type == DALE_OPT_U64)) {
            double v = it->valuedouble;
            if (v != floor(v) || fabs(v) > 9.007199254740992e15) {
                st = DALE_FAIL(DALE_ERR_ARG, "%s: \"%s\" must be an integer (got %g)", path, it->string, v);
                goto done;
            }
            snprintf(val, sizeof val, "%.0f", v);
        }
        if ((st = dale_config_set(c, it->string, val))) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", dale_last_error());
            st = DALE_FAIL(st, "%s: %s", path, msg);
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    dalei_free(buf);
    return st;
}

static int is_onoff(const char *s) { return !strcmp(s, "on") || !strcmp(s, "off"); }
static int is_auto_onoff(const char *s) { return is_onoff(s) || !strcmp(s, "auto"); }

/* Is text one of "a|b|c"? */
static int in_choices(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t k = bar ? (size_t)(bar - p) : strlen(p);
        if (k == n && !strncmp(p, v, n)) return 1;
        p += k + (bar ? 1 : 0);
    }
    return 0;
}

/* "--variant: expected row, pixel or permuted (got 'x')" */
static dale_status bad_choice(const opt *o, const char *v)
{
    char nm[64], list[256];
    size_t k = 0, nalt = 1;
    cli_name(o->key, nm, sizeof nm);
    for (const char *p = o->choices; *p; p++) nalt += *p == '|';
    size_t i = 0;
    for (const char *p = o->choices; *p && k + 8 < sizeof list; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        k += (size_t)snprintf(list + k, sizeof list - k, "%s%.*s", i == 0 ? "" : i + 1 == nalt ? " or " : ", ", (int)len, p);
        p += len + (bar ? 1 : 0);
    }
    char hint[96];
    return DALE_FAIL(DALE_ERR_ARG, "--%s: expected %s (got '%s'%s)", nm, list, v, choice_hint(v, o->choices, hint, sizeof hint));
}

/* Every task's own options: choices and minimum, whatever the task. */
static dale_status check_task_options(const dale_run_config *c)
{
    size_t n;
    const opt *t = opts_table(&n);
    for (size_t i = 0; i < n; i++) {
        const opt *o = &t[i];
        if (!o->task) continue;
        const char *v = (const char *)c + o->offset;
        if (o->type == DALE_OPT_STR && o->choices && !in_choices(o->choices, v)) return bad_choice(o, v);
        if (o->type == DALE_OPT_LONG && strtol(v, NULL, 10) < o->min) {
            char nm[64];
            cli_name(o->key, nm, sizeof nm);
            return DALE_FAIL(DALE_ERR_ARG, "--%s must be >= %ld (got %s)", nm, o->min, v);
        }
    }
    return DALE_OK;
}

/* Run options still at "auto" / -1 take the task's default for the model. */
static dale_status apply_task_defaults(dale_run_config *c, const dale_task_desc *td)
{
    size_t n;
    const opt *t = opts_table(&n);
    for (size_t i = 0; i < n; i++) {
        const opt *o = &t[i];
        if (!o->task_auto) continue;
        char cur[DALE_PATH];
        opt_text(c, o, cur, sizeof cur);
        if (strcmp(cur, o->type == DALE_OPT_STR ? "auto" : "-1")) continue;
        const char *v = dale_task_default_of(td, c->model, o->key);
        if (!v) v = o->task_auto;
        if (!strcmp(v, "!"))
            return DALE_FAIL(DALE_ERR_STATE, "task %s sets no default for --%s", td->name, o->key);
        dale_status st = dale_config_set(c, o->key, v);
        if (st) return st;
    }
    return DALE_OK;
}

dale_status dale_config_resolve(dale_run_config *c)
{
    char hint[96];
    const dale_task_desc *td = dale_config_task(c);
    if (!td) return unknown_task("--task: ", c->task);
    const dale_model_info *mi = dale_model_find(c->model);
    if (!mi) {
        char names[256];
        const char *cand[64];
        hint[0] = '\0';
        size_t k = 0, nm = dale_model_count() < 64 ? dale_model_count() : 64;
        for (size_t i = 0; i < nm && k < sizeof names; i++) {
            cand[i] = dale_model_at(i)->name;
            k += (size_t)snprintf(names + k, sizeof names - k, "%s%s", i == 0 ? "" : i + 1 == nm ? " or " : ", ",
                                  cand[i]);
        }
        const char *near = dalei_nearest(c->model, cand, nm);
        if (near) snprintf(hint, sizeof hint, "; did you mean %s?", near);
        return DALE_FAIL(DALE_ERR_ARG, "--model: unknown model '%s' (expected %s%s)", c->model, names, hint);
    }
    snprintf(c->model, sizeof c->model, "%s", mi->name); /* an alias becomes the model's name */
    /* the model's own update policy fills project / scaling / scope "auto" */
    dale_update_policy mp;
    dale_update_policy_for(mi->traits, 0, &mp);
    dale_status st = apply_task_defaults(c, td);
    if (st) return st;
    if ((st = check_task_options(c))) return st;
    if (c->threads < 1 || c->threads > 64)
        return DALE_FAIL(DALE_ERR_ARG, "--threads must be in 1..64 (got %ld)", c->threads);
    const opt *num = find_opt("numerics");
    if (!in_choices(num->choices, c->numerics)) return bad_choice(num, c->numerics);
    static const char *const choice_keys[] = {"dynamics", "eval_noise", "h0"};
    for (size_t k = 0; k < sizeof choice_keys / sizeof choice_keys[0]; k++) {
        const opt *o = find_opt(choice_keys[k]);
        const char *v = (const char *)c + o->offset;
        if (!in_choices(o->choices, v)) return bad_choice(o, v);
    }
    if ((st = dynamics_net(c, NULL))) return st;
    /* "auto" is read as "tau": config.json holds the one spelling, which is the default */
    if (!strcmp(c->tau_e, "auto")) strcpy(c->tau_e, "tau");
    if (!strcmp(c->tau_i, "auto")) strcpy(c->tau_i, "tau");
    if (c->layers < 1) return DALE_FAIL(DALE_ERR_ARG, "--layers must be >= 1 (got %ld)", c->layers);
    if (c->hidden < 1) return DALE_FAIL(DALE_ERR_ARG, "--hidden must be >= 1 (got %ld)", c->hidden);
    if (c->inhib != -1) {
        if (!(c->inhib > 0 && c->inhib < 1))
            return DALE_FAIL(DALE_ERR_ARG, "--inhib must be a fraction in (0, 1) (got %g)", c->inhib);
        c->ei_ratio = 1.0 / c->inhib - 1.0;
        c->inhib = -1; /* folded into ei_ratio, so config.json has one source of truth */
    }
    if (!(c->ei_ratio > 0)) return DALE_FAIL(DALE_ERR_ARG, "--ei-ratio must be > 0 (got %g)", c->ei_ratio);
    if (c->dann_ni_in < 0 || c->dann_ni_rec < 0 || c->dann_ni_out < 0)
        return DALE_FAIL(DALE_ERR_ARG, "--dann-ni-* must be >= 0");
    if (!(c->rho > 0)) return DALE_FAIL(DALE_ERR_ARG, "--rho must be > 0 (got %g)", c->rho);
    if (strcmp(c->colei_dist, "exponential") && strcmp(c->colei_dist, "gamma") && strcmp(c->colei_dist, "uniform"))
        return DALE_FAIL(DALE_ERR_ARG, "--colei-dist: expected exponential, gamma or uniform (got '%s'%s)", c->colei_dist,
                         choice_hint(c->colei_dist, "exponential|gamma|uniform", hint, sizeof hint));
    if (strcmp(c->dann_wie, "mean") && strcmp(c->dann_wie, "random"))
        return DALE_FAIL(DALE_ERR_ARG, "--dann-wie: expected mean or random (got '%s'%s)", c->dann_wie,
                         choice_hint(c->dann_wie, "mean|random", hint, sizeof hint));
    if (strcmp(c->rnn_input_init, "uniform") && strcmp(c->rnn_input_init, "he"))
        return DALE_FAIL(DALE_ERR_ARG, "--rnn-input-init: expected uniform or he (got '%s'%s)", c->rnn_input_init,
                         choice_hint(c->rnn_input_init, "uniform|he", hint, sizeof hint));
    const struct { const char *name, *val; int allow_auto; } sw[] = {
        {"zero-diag", c->zero_diag, 0},       {"bias-centering", c->bias_centering, 0},
        {"sign-freeze", c->sign_freeze, 0},   {"spectra", c->spectra, 0},
        {"project", c->project, 1},           {"inhib-grad-scale", c->inhib_grad_scale, 1},
    };
    for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++)
        if (!(sw[i].allow_auto ? is_auto_onoff(sw[i].val) : is_onoff(sw[i].val)))
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected on%s or off (got '%s'%s)", sw[i].name,
                             sw[i].allow_auto ? ", auto" : "", sw[i].val,
                             choice_hint(sw[i].val, sw[i].allow_auto ? "on|off|auto" : "on|off", hint, sizeof hint));
    if (strcmp(c->transplant, "off") && strcmp(c->transplant, "rnn-vectors+colei-values") &&
        strcmp(c->transplant, "colei-vectors+rnn-values"))
        return DALE_FAIL(DALE_ERR_ARG, "--transplant: expected off, rnn-vectors+colei-values or "
                         "colei-vectors+rnn-values (got '%s'%s)", c->transplant,
                         choice_hint(c->transplant, "off|rnn-vectors+colei-values|colei-vectors+rnn-values", hint,
                                     sizeof hint));
    if (strcmp(c->transplant, "off") && (strcmp(c->model, "rnn") || c->layers != 1 || c->dense[0]))
        return DALE_FAIL(DALE_ERR_ARG, "--transplant needs --model rnn, --layers 1 and no --dense "
                         "(Table 1: a 1-layer standard RNN)");
    if (!strcmp(c->project, "auto")) strcpy(c->project, mp.project ? "on" : "off");
    if (!strcmp(c->inhib_grad_scale, "auto")) strcpy(c->inhib_grad_scale, mp.inhib_scale ? "on" : "off");
    if (!strcmp(c->clip_scope, "auto")) strcpy(c->clip_scope, dale_clip_scope_name(mp.scope));
    if (strcmp(c->clip_scope, "tensor") && strcmp(c->clip_scope, "layer") && strcmp(c->clip_scope, "global"))
        return DALE_FAIL(DALE_ERR_ARG, "--clip-scope: expected auto, tensor, layer or global (got '%s'%s)", c->clip_scope,
                         choice_hint(c->clip_scope, "auto|tensor|layer|global", hint, sizeof hint));
    if (c->checkpoint_every == -1) c->checkpoint_every = c->eval_every;
    if (!(c->sparsity >= 0 && c->sparsity < 1))
        return DALE_FAIL(DALE_ERR_ARG, "--sparsity must lie in [0, 1) (got %g)", c->sparsity);
    if (!is_onoff(c->autapses))
        return DALE_FAIL(DALE_ERR_ARG, "--autapses: expected on or off (got '%s'%s)", c->autapses,
                         choice_hint(c->autapses, "on|off", hint, sizeof hint));
    if (strcmp(c->optimizer, "sgd") && strcmp(c->optimizer, "adam"))
        return DALE_FAIL(DALE_ERR_ARG, "--optimizer: expected sgd or adam (got '%s'%s)", c->optimizer,
                         choice_hint(c->optimizer, "sgd|adam", hint, sizeof hint));
    if (!(c->beta1 >= 0 && c->beta1 < 1))
        return DALE_FAIL(DALE_ERR_ARG, "--beta1 must lie in [0, 1) (got %g)", c->beta1);
    if (!(c->beta2 >= 0 && c->beta2 < 1))
        return DALE_FAIL(DALE_ERR_ARG, "--beta2 must lie in [0, 1) (got %g)", c->beta2);
    if (!(c->adam_eps > 0)) return DALE_FAIL(DALE_ERR_ARG, "--adam-eps must be > 0 (got %g)", c->adam_eps);
    if (!(c->weight_l2 >= 0)) return DALE_FAIL(DALE_ERR_ARG, "--weight-l2 must be >= 0 (got %g)", c->weight_l2);
    const opt *ci = find_opt("colei_init");
    if (!in_choices(ci->choices, c->colei_init)) return bad_choice(ci, c->colei_init);
    if (strcmp(c->colei_init, "standard") && strcmp(c->model, "colei"))
        return DALE_FAIL(DALE_ERR_ARG, "--colei-init %s needs --model colei (got --model %s; other models have no "
                         "ColEI init)", c->colei_init, c->model);
    if (c->colei_init_iters < 1)
        return DALE_FAIL(DALE_ERR_ARG, "--colei-init-iters must be >= 1 (got %ld)", c->colei_init_iters);
    if (!(c->colei_init_floor >= 0 && c->colei_init_floor < 1))
        return DALE_FAIL(DALE_ERR_ARG, "--colei-init-floor must lie in [0, 1) (got %g)", c->colei_init_floor);
    if (strcmp(c->transplant, "off") && (c->mask_in[0] || c->mask_rec[0] || c->mask_out[0] || c->sparsity > 0 ||
                                         !strcmp(c->autapses, "off")))
        return DALE_FAIL(DALE_ERR_ARG, "--transplant replaces W's spectrum at init and cannot keep a connectivity "
                         "mask: give --transplant off or no mask (--mask-*, --sparsity, --no-autapses)");
    if (!(c->lr > 0)) return DALE_FAIL(DALE_ERR_ARG, "--lr must be > 0 (got %g)", c->lr);
    /* training is float32: an lr outside float's normal range is 0 or
     * infinite there (1e-46 would "train" without changing a weight) */
    if (!(c->lr >= (double)FLT_MIN && c->lr <= (double)FLT_MAX))
        return DALE_FAIL(DALE_ERR_ARG, "--lr %g is outside float32's normal range [%.3g, %.3g] that training uses",
                         c->lr, (double)FLT_MIN, (double)FLT_MAX);
    if (c->clip < 0) return DALE_FAIL(DALE_ERR_ARG, "--clip must be >= 0 (0: none; got %g)", c->clip);
    if (!(c->lr_decay > 0 && c->lr_decay <= 1))
        return DALE_FAIL(DALE_ERR_ARG, "--lr-decay must be in (0, 1] (got %g)", c->lr_decay);
    if (c->lr_decay_every < 0) return DALE_FAIL(DALE_ERR_ARG, "--lr-decay-every must be >= 0");
    if (c->batch < 1) return DALE_FAIL(DALE_ERR_ARG, "--batch must be >= 1 (got %ld)", c->batch);
    if (c->epochs < 0) return DALE_FAIL(DALE_ERR_ARG, "--epochs must be >= 0 (got %ld)", c->epochs);
    if (c->max_updates < -1) return DALE_FAIL(DALE_ERR_ARG, "--max-updates must be >= 0 or -1 (got %ld)", c->max_updates);
    if (c->eval_every < 1) return DALE_FAIL(DALE_ERR_ARG, "--eval-every must be >= 1 (got %ld)", c->eval_every);
    if (c->eval_batch < 1) return DALE_FAIL(DALE_ERR_ARG, "--eval-batch must be >= 1 (got %ld)", c->eval_batch);
    if (c->checkpoint_every < 1) return DALE_FAIL(DALE_ERR_ARG, "--checkpoint-every must be >= 1");
    if (!c->data[0]) {
        const char *env = getenv("DALE_DATA");
        snprintf(c->data, sizeof c->data, "%s", env && env[0] ? env : "data");
    }
    if (strcmp(c->split, "reference") && strcmp(c->split, "paper"))
        return DALE_FAIL(DALE_ERR_ARG, "--split: expected reference or paper (got '%s'%s)", c->split,
                         choice_hint(c->split, "reference|paper", hint, sizeof hint));
    /* dense widths */
    const char *p = c->dense;
    while (*p) {
        char *end;
        errno = 0;
        long w = strtol(p, &end, 10);
        if (errno || end == p || w < 1 || (*end && *end != ',') || (*end == ',' && !end[1]))
            return DALE_FAIL(DALE_ERR_ARG, "--dense: expected comma-separated positive widths (got '%s')", c->dense);
        p = *end ? end + 1 : end;
    }
    if (td->resolve) {
        dale_options o;
        dale_config_options(c, &o);
        if ((st = td->resolve(&o))) return st;
    }
    if (!c->out[0])
        snprintf(c->out, sizeof c->out, "runs/%s-%s-seed%llu", c->task, c->model, (unsigned long long)c->seed);
    return DALE_OK;
}

/* Physical memory of this machine in bytes (0 if unknown). */
static double machine_ram(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (double)pages * (double)page : 0;
}

/* The estimate counts, in doubles so absurd sizes cannot overflow:
 *   parameters: theta and grad, plus each layer's effective matrix and its
 *     gradient: 4 floats per weight (DANN factors add at most one more;
 *     Adam's moments two more); each connectivity mask two floats per entry
 *     (the caller's and the one in force);
 *   activations: per layer the planned H (T+1, B, w), dH, A and dA (T, B, w):
 *     about 4 (T+1) B w floats, with B = max(batch rows, evaluation chunk);
 *   batch buffers x (T, B, d) and the outputs; the spectra of each
 *     recurrent W (an SVD and an eigen-solve in double: ~10 n^2);
 *   task data: what the task's shape says, plus the batch order (2 words
 *     per training sample).
 * It is meant to be within a factor of ~2 of the peak, which is enough to
 * refuse a typo (--hidden 100000) before any large allocation. */
dale_status dale_config_memory_estimate(const dale_run_config *c, double *params, double *acts, double *data)
{
    dale_task_shape s;
    dale_status st = dale_config_task_shape(c, &s);
    if (st) return st;
    double T = s.T, in = s.input, out = s.output;
    /* a batch larger than the data set is refused by the trainer with its own message */
    double bt = s.rows > 1 ? s.rows : (double)c->batch < s.ntrain ? (double)c->batch : s.ntrain;
    double H = (double)c->hidden, L = (double)c->layers, dann = !strcmp(c->model, "dann");
    double w = 0, widths = L * H, prev = H;
    w += H * in + H + (L - 1) * (H * H + H) + L * H * H; /* U, b, W of every cell */
    for (const char *p = c->dense; *p;) {
        char *end;
        double d = strtod(p, &end);
        if (end == p) break;
        w += d * prev + d;
        widths += d;
        prev = d;
        p = *end ? end + 1 : end;
    }
    w += out * prev + out;
    widths += out;
    double eb = (double)c->eval_batch < s.eval_max ? (double)c->eval_batch : s.eval_max;
    double B = bt > eb ? bt : eb;
    /* Adam keeps two more floats per weight (its moments); a mask one per entry of its map */
    double adam = !strcmp(c->optimizer, "adam") ? 2 : 0;
    double masks = (c->mask_rec[0] || c->sparsity > 0 || !strcmp(c->autapses, "off") ? 2 * L * H * H : 0) +
                   (c->mask_in[0] ? 2 * H * in : 0) + (c->mask_out[0] ? 2 * out * prev : 0);
    *params = 4.0 * (4 + dann + adam) * w + 80.0 * H * H + 4.0 * masks;
    *acts = 4.0 * (4 * (T + 1) * B * widths + T * B * (in + out) + 2 * B * out);
    /* leaky cells keep their pre-activations too: (T+1, B, n) per cell */
    if (strcmp(c->dynamics, "relu") || c->noise_rec > 0 || !strcmp(c->h0, "learn")) *acts += 4.0 * (T + 1) * B * L * H;
    if (c->noise_in > 0) *acts += 4.0 * T * B * in; /* the noisy input */
    *data = s.data_bytes + 16 * s.ntrain;
    return DALE_OK;
}

dale_status dale_config_check_memory(const dale_run_config *c)
{
    double p, a, d;
    if (!(c->max_memory_gb >= 0))
        return DALE_FAIL(DALE_ERR_ARG, "--max-memory-gb must be >= 0 (0: the machine's RAM; got %g)",
                         c->max_memory_gb);
    dale_status st = dale_config_memory_estimate(c, &p, &a, &d);
    if (st) return st;
    double limit = c->max_memory_gb > 0 ? c->max_memory_gb * 1e9 : machine_ram();
    if (limit > 0 && p + a + d > limit)
        return DALE_FAIL(DALE_ERR_ARG,
                         "this run needs about %.3g GB (parameters %.3g GB, activations %.3g GB, data %.3g GB), "
                         "more than %s %.3g GB; reduce --hidden, --layers, --batch or --eval-batch, or raise "
                         "--max-memory-gb",
                         (p + a + d) / 1e9, p / 1e9, a / 1e9, d / 1e9,
                         c->max_memory_gb > 0 ? "--max-memory-gb" : "this machine's RAM,", limit / 1e9);
    return DALE_OK;
}

/* A JSON number that reads back as exactly x: the shortest of 15, 16, 17
 * significant digits that does (cJSON's own printing accepts a value one
 * unit in the last place off). */
static cJSON *exact_number(double x)
{
    char t[64];
    if (!isfinite(x)) return cJSON_CreateNull();
    for (int p = 15; p <= 17; p++) {
        snprintf(t, sizeof t, "%.*g", p, x);
        if (strtod(t, NULL) == x) break;
    }
    return cJSON_CreateRaw(t);
}

static cJSON *config_cjson(const dale_run_config *c)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    size_t n;
    const opt *t = opts_table(&n);
    for (size_t i = 0; i < n; i++) {
        char text[DALE_PATH];
        opt_text(c, &t[i], text, sizeof text);
        cJSON *v = NULL;
        switch (t[i].type) {
        case DALE_OPT_STR: v = cJSON_CreateString(text); break;
        /* integers as their digits: cJSON would print 9007199254740991 as
         * 9.00719925474099e+15 (its round-trip check has a tolerance) */
        case DALE_OPT_LONG: case DALE_OPT_U64: v = cJSON_CreateRaw(text); break;
        case DALE_OPT_DOUBLE: v = exact_number(strtod(text, NULL)); break;
        }
        if (!v) { cJSON_Delete(root); return NULL; }
        cJSON_AddItemToObject(root, t[i].key, v);
    }
    return root;
}

dale_status dale_config_to_json(const dale_run_config *c, char **text)
{
    *text = NULL;
    cJSON *root = config_cjson(c);
    if (!root) return DALE_FAIL(DALE_ERR_NOMEM, "cannot build config JSON");
    char *t = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!t) return DALE_FAIL(DALE_ERR_NOMEM, "cannot print config JSON");
    *text = dalei_strdup(t);
    cJSON_free(t);
    return *text ? DALE_OK : DALE_ERR_NOMEM;
}

dale_status dale_config_write_json(const dale_run_config *c, const char *path)
{
    cJSON *root = config_cjson(c);
    if (!root) return DALE_FAIL(DALE_ERR_NOMEM, "cannot build config JSON");
    if (!cJSON_AddStringToObject(root, "dale_version", dale_version()) ||
        !cJSON_AddStringToObject(root, "dale_commit", dale_git_commit())) {
        cJSON_Delete(root);
        return DALE_FAIL(DALE_ERR_NOMEM, "cannot build config JSON");
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return DALE_FAIL(DALE_ERR_NOMEM, "cannot print config JSON");
    dale_status st = dalei_write_file_atomic(path, text, strlen(text));
    cJSON_free(text);
    return st;
}

void dale_config_free_text(char *text) { dalei_free(text); }

int dale_config_key_is_place(const char *key)
{
    return !strcmp(key, "out") || !strcmp(key, "data") || !strcmp(key, "max_memory_gb");
}

static int is_budget(const char *key) { return !strcmp(key, "epochs") || !strcmp(key, "max_updates"); }

int dale_config_compare_file(const dale_run_config *c, const char *path, int budget_apart, char *why, size_t cap)
{
    if (why && cap) why[0] = '\0';
    char *buf = dalei_read_text(path, 1 << 24);
    if (!buf) return -1;
    cJSON *have = cJSON_Parse(buf);
    dalei_free(buf);
    if (!cJSON_IsObject(have)) {
        cJSON_Delete(have);
        return -1;
    }
    char *wt = NULL, *dt = NULL;
    cJSON *want = NULL, *def = NULL;
    dale_run_config d;
    dale_config_defaults(&d);
    if (!dale_config_to_json(c, &wt)) want = cJSON_Parse(wt);
    if (want && !dale_config_to_json(&d, &dt)) def = cJSON_Parse(dt);
    int rel = want && def ? 0 : -1;
    for (cJSON *it = want && def ? want->child : NULL; it && rel < 2; it = it->next) {
        if (dale_config_key_is_place(it->string)) continue;
        cJSON *hv = cJSON_GetObjectItemCaseSensitive(have, it->string);
        if (hv && cJSON_Compare(it, hv, 1)) continue;
        /* an option added to dale after that run was made: fine at its default */
        cJSON *dv = cJSON_GetObjectItemCaseSensitive(def, it->string);
        if (!hv && dv && cJSON_Compare(it, dv, 1)) continue;
        int r = budget_apart && is_budget(it->string) ? 1 : 2;
        if (r <= rel) continue;
        rel = r;
        if (why && cap) {
            char *a = hv ? cJSON_PrintUnformatted(hv) : NULL, *b = cJSON_PrintUnformatted(it);
            snprintf(why, cap, "%s is %s there, %s here", it->string, a ? a : "missing", b ? b : "?");
            cJSON_free(a);
            cJSON_free(b);
        }
    }
    cJSON_Delete(have);
    cJSON_Delete(want);
    cJSON_Delete(def);
    dale_config_free_text(wt);
    dale_config_free_text(dt);
    return rel;
}
