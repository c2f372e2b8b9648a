/* config.c — the option table behind --help, CLI flags and config.json.
 *
 * Defaults are stored as text in the table and applied through the same
 * setter as user input, so the printed default is exactly what is used.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dale/config.h"
#include "internal.h"

typedef enum opt_type { OPT_STR, OPT_LONG, OPT_DOUBLE, OPT_U64 } opt_type;

typedef struct opt {
    const char *key;
    opt_type type;
    size_t offset;
    const char *def;
    const char *help;
} opt;

#define O(k, t, d, h) {#k, t, offsetof(dale_run_config, k), d, h}
static const opt opts[] = {
    O(task, OPT_STR, "adding", "task: adding | seqmnist | lm | objrec"),
    O(model, OPT_STR, "rnn", "model: rnn | colei | dann"),
    O(layers, OPT_LONG, "-1", "number of recurrent layers (-1: task default: lm 3, others 1)"),
    O(hidden, OPT_LONG, "-1", "units per recurrent layer (-1: task default: adding 10, seqmnist 100, lm 500, objrec 1000)"),
    O(dense, OPT_STR, "auto", "ReLU dense layers before the readout, e.g. 500,500; \"\" none (auto: lm 500,500, others none)"),
    O(inhib, OPT_DOUBLE, "-1", "fraction p of inhibitory units; sets ei_ratio = 1/p - 1 (-1: unset)"),
    O(ei_ratio, OPT_DOUBLE, "9", "E:I ratio r; nI = ceil(N/(r+1)) per ColEI population"),
    O(dann_ni_in, OPT_LONG, "0", "DANN inhibitory units, input side (0: max(n/(r+1),1))"),
    O(dann_ni_rec, OPT_LONG, "0", "DANN inhibitory units, recurrent side (0: max(n/(r+1),1))"),
    O(dann_ni_out, OPT_LONG, "0", "DANN inhibitory units of readout/dense (0: max(m/(r+1),1))"),
    O(rho, OPT_DOUBLE, "1.5", "ColEI spectral radius of W at init"),
    O(zero_diag, OPT_STR, "on", "ColEI: zero W's diagonal before rescaling (reference: on)"),
    O(colei_dist, OPT_STR, "exponential", "ColEI weight family: exponential | gamma | uniform"),
    O(gamma_shape, OPT_DOUBLE, "2", "shape k of the ColEI gamma family"),
    O(numerator, OPT_DOUBLE, "0.33333333333333331", "RNN/DANN variance numerator nu (Var W = nu/n)"),
    O(dann_wie, OPT_STR, "auto", "DANN recurrent W_IE init: mean (row = column mean of W_EE) | random (auto: lm random, others mean)"),
    O(rnn_input_init, OPT_STR, "uniform", "RNN first-layer U: uniform U[-1/sqrt(n),1/sqrt(n)] | he N(0,2/d)"),
    O(bias_centering, OPT_STR, "off", "ColEI first-layer bias -sqrt(d)*mean(x) (reference: off)"),
    O(lr, OPT_DOUBLE, "-1", "learning rate (-1: task default: adding 0.1, seqmnist 0.01, lm 0.805 (colei 1.554), objrec 0.1 (colei 0.01))"),
    O(clip, OPT_DOUBLE, "-1", "max gradient norm, 0 none (-1: reference: adding colei 7 dann 3; seqmnist colei 10; lm 1; objrec 1 (colei 10); else none)"),
    O(clip_scope, OPT_STR, "auto", "clipping scope: auto (colei tensor, others layer) | tensor | layer | global"),
    O(inhib_grad_scale, OPT_STR, "auto", "DANN inhibitory gradient scaling: auto (on for dann) | on | off"),
    O(project, OPT_STR, "auto", "clamp sign-constrained weights at 0: auto (on for colei/dann) | on | off"),
    O(sign_freeze, OPT_STR, "auto", "freeze signs of recurrent and dense W (reference SGD_Clip; auto: on for lm rnn)"),
    O(transplant, OPT_STR, "off", "spectrum transplant at init (rnn, 1 layer): off | rnn-vectors+colei-values | colei-vectors+rnn-values"),
    O(lr_decay, OPT_DOUBLE, "-1", "lr factor per decay (-1: task default: adding, lm 0.99, others 1)"),
    O(lr_decay_every, OPT_LONG, "-1", "decay after within-epoch batch i with i%k==0; 0 none (-1: adding 20, lm 50, others 0)"),
    O(batch, OPT_LONG, "-1", "minibatch size; lm: parallel streams (-1: task default: adding 64, seqmnist 32, lm 64, objrec 16)"),
    O(epochs, OPT_LONG, "-1", "training epochs (-1: task default: adding 100, seqmnist 30, lm 3, objrec 50)"),
    O(max_updates, OPT_LONG, "-1", "stop after this many updates (-1: none; 0: write the init and stop)"),
    O(eval_every, OPT_LONG, "-1", "evaluate every k updates (-1: task default: adding 20, seqmnist 100, lm 50, objrec 32)"),
    O(eval_batch, OPT_LONG, "-1", "evaluation chunk size (-1: task default: lm 64 rows, others 1000)"),
    O(checkpoint_every, OPT_LONG, "-1", "checkpoint every k updates (-1: at every evaluation)"),
    O(spectra, OPT_STR, "on", "NSE, sigma_max and rho of each recurrent W at every evaluation"),
    O(seed, OPT_U64, "0", "run seed (initialisation and batch order)"),
    O(data, OPT_STR, "", "data directory (default: $DALE_DATA, else ./data)"),
    O(dataset, OPT_STR, "mnist", "seqmnist images: mnist | fashion-mnist"),
    O(variant, OPT_STR, "row", "seqmnist sequence: row (28 steps x 28) | pixel (784 x 1) | permuted"),
    O(perm_seed, OPT_U64, "0", "seqmnist: seed of the fixed pixel permutation (permuted variant)"),
    O(adding_n, OPT_LONG, "10000", "adding: number of sequences"),
    O(adding_len, OPT_LONG, "20", "adding: sequence length T"),
    O(adding_test, OPT_LONG, "1000", "adding: test (and paper-split validation) size"),
    O(data_seed, OPT_U64, "0", "seed of generated data (adding) and of the paper split's validation hold-out"),
    O(split, OPT_STR, "reference", "splits: reference (code) | paper (with validation)"),
    O(objrec_steps, OPT_LONG, "5", "objrec: time steps (the image at step 1, zero input after, loss at the last)"),
    O(objrec_center, OPT_STR, "off", "objrec: subtract the mean training pixel from the image (zero-mean input)"),
    O(corpus, OPT_STR, "", "lm: PTB-format directory (ptb.{train,valid,test}.txt) (default: DATA/kjv)"),
    O(vectors, OPT_STR, "", "lm: frozen word vectors, GloVe text format (default: DATA/glove100/vectors.txt)"),
    O(window, OPT_LONG, "-1", "lm: BPTT window; evaluation rows are window+1 tokens (-1: 50)"),
    O(oov, OPT_STR, "zero", "lm: words without a vector get zero (reference) | random (N(0, rms^2), seed data_seed)"),
    O(vocab_limit, OPT_LONG, "10000", "lm: refuse a corpus with more word types (0: no limit)"),
    O(out, OPT_STR, "", "run directory (default runs/<task>-<model>-seed<seed>)"),
    O(max_memory_gb, OPT_DOUBLE, "0", "refuse a run whose estimated memory exceeds this many GB (0: the machine's RAM)"),
    O(threads, OPT_LONG, "1", "BLAS threads of the run, 1..64 (dale's own kernels are single-threaded: helps only larger products, e.g. an lm softmax)"),
};
#undef O
#define NOPTS (sizeof opts / sizeof opts[0])

static const opt *find_opt(const char *key)
{
    char k[64];
    size_t n = strlen(key);
    if (n >= sizeof k) return NULL;
    for (size_t i = 0; i <= n; i++) k[i] = key[i] == '-' ? '_' : key[i];
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].key, k) == 0) return &opts[i];
    return NULL;
}

int dale_config_has(const char *key) { return find_opt(key) != NULL; }

static void cli_name(const char *key, char *buf, size_t n)
{
    size_t i = 0;
    for (; key[i] && i + 1 < n; i++) buf[i] = key[i] == '_' ? '-' : key[i];
    buf[i] = '\0';
}

dale_status dale_config_set(dale_run_config *c, const char *key, const char *value)
{
    const opt *o = find_opt(key);
    if (!o) return DALE_FAIL(DALE_ERR_ARG, "unknown option '%s'", key);
    char *dst = (char *)c + o->offset, *end = NULL;
    char nm[64];
    cli_name(o->key, nm, sizeof nm);
    errno = 0;
    switch (o->type) {
    case OPT_STR: {
        size_t cap = o->offset == offsetof(dale_run_config, out)       ? sizeof c->out
                     : o->offset == offsetof(dale_run_config, data)    ? sizeof c->data
                     : o->offset == offsetof(dale_run_config, corpus)  ? sizeof c->corpus
                     : o->offset == offsetof(dale_run_config, vectors) ? sizeof c->vectors
                                                                       : DALE_STR;
        if (strlen(value) >= cap)
            return DALE_FAIL(DALE_ERR_ARG, "--%s: value too long (max %zu characters)", nm, cap - 1);
        memcpy(dst, value, strlen(value) + 1);
        return DALE_OK;
    }
    case OPT_LONG: {
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end)
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected an integer, got '%s'", nm, value);
        memcpy(dst, &v, sizeof v);
        return DALE_OK;
    }
    case OPT_DOUBLE: {
        double v = strtod(value, &end);
        if (errno || end == value || *end || !isfinite(v))
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected a finite number, got '%s'", nm, value);
        memcpy(dst, &v, sizeof v);
        return DALE_OK;
    }
    case OPT_U64: {
        if (value[0] == '-')
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected a non-negative integer, got '%s'", nm, value);
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end)
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected a non-negative integer, got '%s'", nm, value);
        uint64_t u = (uint64_t)v;
        memcpy(dst, &u, sizeof u);
        return DALE_OK;
    }
    }
    return DALE_OK;
}

void dale_config_defaults(dale_run_config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NOPTS; i++) {
        dale_status st = dale_config_set(c, opts[i].key, opts[i].def);
        DALE_ASSERT(st == DALE_OK);
    }
}

void dale_config_print_help(FILE *f)
{
    for (size_t i = 0; i < NOPTS; i++) {
        char nm[64];
        cli_name(opts[i].key, nm, sizeof nm);
        fprintf(f, "  --%-18s %s (default: %s)\n", nm, opts[i].help,
                opts[i].def[0] ? opts[i].def : "\"\"");
    }
}

dale_status dale_config_load_json(dale_run_config *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: cannot open config: %s", path, strerror(errno));
    char *buf = NULL;
    dale_status st = DALE_OK;
    cJSON *root = NULL;
    if (fseek(f, 0, SEEK_END) != 0) { st = DALE_FAIL(DALE_ERR_IO, "%s: cannot seek", path); goto done; }
    long len = ftell(f);
    if (len < 0 || len > (1L << 24)) {
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s: config must be a JSON file under 16 MiB", path);
        goto done;
    }
    rewind(f);
    buf = dalei_alloc((size_t)len + 1, 1);
    if (!buf) { st = DALE_ERR_NOMEM; goto done; }
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        st = DALE_FAIL(DALE_ERR_IO, "%s: read failed", path);
        goto done;
    }
    buf[len] = '\0';
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
    if (!root || !cJSON_IsObject(root)) {
        /* Report the line of the parse error. */
        const char *at = cJSON_GetErrorPtr();
        size_t line = 1;
        if (at && at >= buf && at <= buf + len)
            for (const char *p = buf; p < at; p++) line += *p == '\n';
        st = DALE_FAIL(DALE_ERR_FORMAT, "%s:%zu: not a valid JSON object", path, root ? (size_t)1 : line);
        goto done;
    }
    for (cJSON *it = root->child; it; it = it->next) {
        char val[600];
        if (!find_opt(it->string)) {
            st = DALE_FAIL(DALE_ERR_ARG, "%s: unknown option \"%s\"", path, it->string);
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
        if (cJSON_IsNumber(it) && (o->type == OPT_LONG || o->type == OPT_U64)) {
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
    fclose(f);
    return st;
}

/* Reference protocol per task (spec §6.1, §6.2): what "auto" resolves to. */
typedef struct task_defaults {
    const char *task;
    long hidden, batch, epochs, eval_every, lr_decay_every;
    double lr, lr_decay, clip_rnn, clip_colei, clip_dann;
    /* optional (0 / NULL: layers 1, no dense, eval chunk 1000, colei lr = lr,
     * rnn sign freezing off, DANN W_IE mean row) */
    long layers;
    const char *dense;
    long eval_batch;
    double lr_colei;
    int freeze_rnn, dann_wie_random;
} task_defaults;

static const task_defaults task_table[] = {
    /* adding: batch 64, 100 epochs, lr 0.1 x 0.99 every 20 batches; clips 7 / 3 / none */
    {"adding", 10, 64, 100, 20, 20, 0.1, 0.99, 0.0, 7.0, 3.0, 1, NULL, 1000, 0, 0, 0},
    /* seqMNIST (Fig. 2B script): batch 32, 30 epochs, lr 0.01 constant; ColEI clip 10 */
    {"seqmnist", 100, 32, 30, 100, 0, 0.01, 1.0, 0.0, 10.0, 0.0, 1, NULL, 1000, 0, 0, 0},
    /* objrec (paper 6.2.4; no released script): batch 16, 1 x 1000, constant lr and
     * clip as selected on validation from the paper's grid (lr 1e-1..1e-3 x clip
     * {1, 5, 10, none}, seeds 0-1; experiments/fig2d.json, docs/reproduction.md):
     * RNN and DANN lr 0.1 clip 1, ColEI lr 0.01 clip 10 per tensor (at chance in
     * every cell; the tie broken by validation loss); 50 epochs of 32 updates,
     * evaluated once per epoch */
    {.task = "objrec", .hidden = 1000, .batch = 16, .epochs = 50, .eval_every = 32, .lr_decay_every = 0,
     .lr = 0.1, .lr_decay = 1.0, .clip_rnn = 1.0, .clip_colei = 10.0, .clip_dann = 1.0, .lr_colei = 0.01},
    /* PTB (spec §4.3, §6.8): 64 streams, 3 epochs, lr 0.805 (colei 1.554) x 0.99 every 50
     * windows, clip 1 everywhere, 3 x 500 + dense 500,500, rnn W signs frozen,
     * DANN random W_IE; evaluation in chunks of 64 rows of 51 tokens */
    {"lm", 500, 64, 3, 50, 50, 0.805, 0.99, 1.0, 1.0, 1.0, 3, "500,500", 64, 1.554, 1, 1},
};

static int is_onoff(const char *s) { return !strcmp(s, "on") || !strcmp(s, "off"); }
static int is_auto_onoff(const char *s) { return is_onoff(s) || !strcmp(s, "auto"); }

dale_status dale_config_resolve(dale_run_config *c)
{
    const task_defaults *td = NULL;
    for (size_t i = 0; i < sizeof task_table / sizeof task_table[0]; i++)
        if (!strcmp(c->task, task_table[i].task)) td = &task_table[i];
    if (!td) return DALE_FAIL(DALE_ERR_ARG, "--task: unknown task '%s' (expected adding, seqmnist, lm or objrec)", c->task);
    if (strcmp(c->model, "rnn") && strcmp(c->model, "colei") && strcmp(c->model, "dann"))
        return DALE_FAIL(DALE_ERR_ARG, "--model: unknown model '%s' (expected rnn, colei or dann)", c->model);
    int colei = !strcmp(c->model, "colei"), dann = !strcmp(c->model, "dann");
    if (c->hidden == -1) c->hidden = td->hidden;
    if (c->layers == -1) c->layers = td->layers ? td->layers : 1;
    if (!strcmp(c->dense, "auto")) snprintf(c->dense, sizeof c->dense, "%s", td->dense ? td->dense : "");
    if (!strcmp(c->dann_wie, "auto")) strcpy(c->dann_wie, td->dann_wie_random ? "random" : "mean");
    if (!strcmp(c->sign_freeze, "auto")) strcpy(c->sign_freeze, td->freeze_rnn && !colei && !dann ? "on" : "off");
    if (c->eval_batch == -1) c->eval_batch = td->eval_batch ? td->eval_batch : 1000;
    if (c->window == -1) c->window = 50;
    if (c->window < 1) return DALE_FAIL(DALE_ERR_ARG, "--window must be >= 1 (got %ld)", c->window);
    if (c->vocab_limit < 0) return DALE_FAIL(DALE_ERR_ARG, "--vocab-limit must be >= 0 (got %ld)", c->vocab_limit);
    if (c->threads < 1 || c->threads > 64)
        return DALE_FAIL(DALE_ERR_ARG, "--threads must be in 1..64 (got %ld)", c->threads);
    if (strcmp(c->oov, "zero") && strcmp(c->oov, "random"))
        return DALE_FAIL(DALE_ERR_ARG, "--oov: expected zero or random (got '%s')", c->oov);
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
        return DALE_FAIL(DALE_ERR_ARG, "--colei-dist: expected exponential, gamma or uniform (got '%s')", c->colei_dist);
    if (strcmp(c->dann_wie, "mean") && strcmp(c->dann_wie, "random"))
        return DALE_FAIL(DALE_ERR_ARG, "--dann-wie: expected mean or random (got '%s')", c->dann_wie);
    if (strcmp(c->rnn_input_init, "uniform") && strcmp(c->rnn_input_init, "he"))
        return DALE_FAIL(DALE_ERR_ARG, "--rnn-input-init: expected uniform or he (got '%s')", c->rnn_input_init);
    const struct { const char *name, *val; int allow_auto; } sw[] = {
        {"zero-diag", c->zero_diag, 0},       {"bias-centering", c->bias_centering, 0},
        {"sign-freeze", c->sign_freeze, 0},   {"spectra", c->spectra, 0},
        {"project", c->project, 1},           {"inhib-grad-scale", c->inhib_grad_scale, 1},
        {"objrec-center", c->objrec_center, 0},
    };
    for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++)
        if (!(sw[i].allow_auto ? is_auto_onoff(sw[i].val) : is_onoff(sw[i].val)))
            return DALE_FAIL(DALE_ERR_ARG, "--%s: expected on%s or off (got '%s')", sw[i].name,
                             sw[i].allow_auto ? ", auto" : "", sw[i].val);
    if (strcmp(c->transplant, "off") && strcmp(c->transplant, "rnn-vectors+colei-values") &&
        strcmp(c->transplant, "colei-vectors+rnn-values"))
        return DALE_FAIL(DALE_ERR_ARG, "--transplant: expected off, rnn-vectors+colei-values or "
                         "colei-vectors+rnn-values (got '%s')", c->transplant);
    if (strcmp(c->transplant, "off") && (strcmp(c->model, "rnn") || c->layers != 1 || c->dense[0]))
        return DALE_FAIL(DALE_ERR_ARG, "--transplant needs --model rnn, --layers 1 and no --dense "
                         "(spec 5.4: a 1-layer standard RNN)");
    if (!strcmp(c->project, "auto")) strcpy(c->project, colei || dann ? "on" : "off");
    if (!strcmp(c->inhib_grad_scale, "auto")) strcpy(c->inhib_grad_scale, dann ? "on" : "off");
    if (!strcmp(c->clip_scope, "auto")) strcpy(c->clip_scope, colei ? "tensor" : "layer");
    if (strcmp(c->clip_scope, "tensor") && strcmp(c->clip_scope, "layer") && strcmp(c->clip_scope, "global"))
        return DALE_FAIL(DALE_ERR_ARG, "--clip-scope: expected auto, tensor, layer or global (got '%s')", c->clip_scope);
    if (c->lr == -1) c->lr = colei && td->lr_colei > 0 ? td->lr_colei : td->lr;
    if (c->clip == -1) c->clip = colei ? td->clip_colei : dann ? td->clip_dann : td->clip_rnn;
    if (c->lr_decay == -1) c->lr_decay = td->lr_decay;
    if (c->lr_decay_every == -1) c->lr_decay_every = td->lr_decay_every;
    if (c->batch == -1) c->batch = td->batch;
    if (c->epochs == -1) c->epochs = td->epochs;
    if (c->eval_every == -1) c->eval_every = td->eval_every;
    if (c->checkpoint_every == -1) c->checkpoint_every = c->eval_every;
    if (!(c->lr > 0)) return DALE_FAIL(DALE_ERR_ARG, "--lr must be > 0 (got %g)", c->lr);
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
    if (c->adding_n < 2 || c->adding_len < 2 || c->adding_test < 1)
        return DALE_FAIL(DALE_ERR_ARG, "--adding-n, --adding-len must be >= 2 and --adding-test >= 1");
    if (strcmp(c->dataset, "mnist") && strcmp(c->dataset, "fashion-mnist"))
        return DALE_FAIL(DALE_ERR_ARG, "--dataset: expected mnist or fashion-mnist (got '%s')", c->dataset);
    if (strcmp(c->variant, "row") && strcmp(c->variant, "pixel") && strcmp(c->variant, "permuted"))
        return DALE_FAIL(DALE_ERR_ARG, "--variant: expected row, pixel or permuted (got '%s')", c->variant);
    if (c->objrec_steps < 1) return DALE_FAIL(DALE_ERR_ARG, "--objrec-steps must be >= 1 (got %ld)", c->objrec_steps);
    if (!c->data[0]) {
        const char *env = getenv("DALE_DATA");
        snprintf(c->data, sizeof c->data, "%s", env && env[0] ? env : "data");
    }
    if (!strcmp(c->task, "lm") && !c->corpus[0]) snprintf(c->corpus, sizeof c->corpus, "%.500s/kjv", c->data);
    if (!strcmp(c->task, "lm") && !c->vectors[0])
        snprintf(c->vectors, sizeof c->vectors, "%.480s/glove100/vectors.txt", c->data);
    if (strcmp(c->split, "reference") && strcmp(c->split, "paper"))
        return DALE_FAIL(DALE_ERR_ARG, "--split: expected reference or paper (got '%s')", c->split);
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
 *     gradient: 4 floats per weight (DANN factors add at most one more);
 *   activations: per layer the planned H (T+1, B, w), dH, A and dA (T, B, w):
 *     about 4 (T+1) B w floats, with B = max(batch, evaluation chunk);
 *   batch buffers x (T, B, d) and the outputs; the spectra of each
 *     recurrent W (an SVD and an eigen-solve in double: ~10 n^2);
 *   task data: adding N T floats + marks, seqMNIST 70000 images of 784
 *     bytes, plus the batch order (2 words per training sample).
 * It is meant to be within a factor of ~2 of the peak, which is enough to
 * refuse a typo (--hidden 100000) before any large allocation. */
dale_status dale_config_memory_estimate(const dale_run_config *c, double *params, double *acts, double *data)
{
    int seq = !strcmp(c->task, "seqmnist"), lm = !strcmp(c->task, "lm");
    int pixel = seq && strcmp(c->variant, "row") != 0;
    double T = seq ? (pixel ? 784 : 28) : (double)c->adding_len;
    double in = seq ? (pixel ? 1 : 28) : 2, out = seq ? 10 : 1;
    double N = seq ? 70000 : (double)c->adding_n, ntest = seq ? 10000 : (double)c->adding_test;
    if (!strcmp(c->task, "objrec")) { /* the default build: 85 x 85 images, 8 classes, 640 images */
        T = (double)c->objrec_steps;
        in = 85.0 * 85.0;
        out = 8;
        N = 640;
        ntest = 64;
    }
    if (lm) {
        /* lm before reading the corpus: 300-d vectors, a vocabulary at the
         * limit (10000 if none), a PTB-sized corpus (1.1M tokens, 1616 test
         * rows); the batch is `batch` streams, the evaluation chunk rows. */
        T = (double)c->window;
        in = 300;
        out = c->vocab_limit > 0 ? (double)c->vocab_limit : 10000;
        N = (double)c->batch;
        ntest = 1616;
    }
    /* a batch larger than the data set is refused by the trainer with its own message */
    double bt = (double)c->batch < N ? (double)c->batch : N;
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
    double eb = (double)c->eval_batch < ntest ? (double)c->eval_batch : ntest;
    double B = bt > eb ? bt : eb;
    *params = 4.0 * (4 + dann) * w + 80.0 * H * H;
    *acts = 4.0 * (4 * (T + 1) * B * widths + T * B * (in + out) + 2 * B * out);
    *data = lm ? 4.0 * 1.1e6 + 4.0 * in * out + 16.0 * 1.1e6 / (double)c->batch
           : seq ? N * 785 + 16 * N : 4.0 * N * (T + 2) + 16 * N;
    if (!strcmp(c->task, "objrec")) *data = N * (85.0 * 85.0 + 1) + 16 * N;
    return DALE_OK;
}

dale_status dale_config_check_memory(const dale_run_config *c)
{
    double p, a, d;
    if (!(c->max_memory_gb >= 0))
        return DALE_FAIL(DALE_ERR_ARG, "--max-memory-gb must be >= 0 (0: the machine's RAM; got %g)",
                         c->max_memory_gb);
    dale_config_memory_estimate(c, &p, &a, &d);
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

static cJSON *config_cjson(const dale_run_config *c)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    for (size_t i = 0; i < NOPTS; i++) {
        const char *src = (const char *)c + opts[i].offset;
        cJSON *v = NULL;
        switch (opts[i].type) {
        case OPT_STR: v = cJSON_CreateString(src); break;
        case OPT_LONG: { long x; memcpy(&x, src, sizeof x); v = cJSON_CreateNumber((double)x); break; }
        case OPT_DOUBLE: { double x; memcpy(&x, src, sizeof x); v = cJSON_CreateNumber(x); break; }
        case OPT_U64: { uint64_t x; memcpy(&x, src, sizeof x); v = cJSON_CreateNumber((double)x); break; }
        }
        if (!v) { cJSON_Delete(root); return NULL; }
        cJSON_AddItemToObject(root, opts[i].key, v);
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
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return DALE_FAIL(DALE_ERR_NOMEM, "cannot print config JSON");
    dale_status st = dalei_write_file_atomic(path, text, strlen(text));
    cJSON_free(text);
    return st;
}

void dale_config_free_text(char *text) { dalei_free(text); }
