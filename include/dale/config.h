/* dale/config.h — the run configuration: one struct, one option table.
 *
 * Every option is a CLI flag (--clip-scope) and a JSON key of config.json
 * (clip_scope); the table below drives parsing, --help (with defaults),
 * JSON reading and writing, so they cannot drift apart.  "auto" values (or
 * -1 for numbers) are filled by dale_config_resolve() from the task and the
 * model (docs/reference-behaviour.md, Defaults per task), and config.json always holds resolved values.
 */
#ifndef DALE_CONFIG_H
#define DALE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "dale/status.h"
#include "dale/model.h"
#include "dale/taskdesc.h"
#include "dale/train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DALE_STR 64
#define DALE_PATH 512
#define DALE_TASK_OPTS_MAX 64

typedef struct dale_run_config {
    /* what */
    char task[DALE_STR];
    char model[DALE_STR];
    long layers, hidden;
    char dense[DALE_STR];        /* comma-separated widths of ReLU dense layers, "" none */
    double inhib;                /* fraction of inhibitory units; sets ei_ratio = 1/p - 1 */
    double ei_ratio;             /* nE:nI */
    long dann_ni_in, dann_ni_rec, dann_ni_out; /* 0: max(width/(ratio+1), 1) */
    /* init */
    double rho;
    char zero_diag[DALE_STR];    /* on | off */
    char colei_dist[DALE_STR];   /* exponential | gamma | uniform */
    double gamma_shape;
    double numerator;
    char dann_wie[DALE_STR];     /* mean | random */
    char rnn_input_init[DALE_STR]; /* uniform | he */
    char bias_centering[DALE_STR]; /* on | off */
    /* update */
    double lr;
    double clip;                 /* 0: none */
    char clip_scope[DALE_STR];   /* auto | tensor | layer | global */
    char inhib_grad_scale[DALE_STR]; /* auto | on | off */
    char project[DALE_STR];      /* auto | on | off */
    char sign_freeze[DALE_STR];  /* on | off */
    char transplant[DALE_STR];   /* off | rnn-vectors+colei-values | colei-vectors+rnn-values */
    double lr_decay;             /* -1 auto; multiply lr by this ... */
    long lr_decay_every;         /* ... after within-epoch batches i with i % k == 0; 0 none */
    /* budget and bookkeeping */
    long batch, epochs, max_updates; /* max_updates -1: none; 0: write the init and stop */
    long eval_every, eval_batch, checkpoint_every;
    char spectra[DALE_STR];      /* on | off: NSE, σmax, ρ of each W at every evaluation */
    uint64_t seed;
    /* data shared by the tasks */
    char data[512];              /* data directory ("" : $DALE_DATA or ./data)     */
    uint64_t data_seed;          /* seed of generated data and of held-out splits  */
    char split[DALE_STR];        /* reference | paper                              */
    /* the options every registered task declares (dale/taskdesc.h), as text,
     * in registry order; read them with dale_config_get or a dale_options */
    char task_opts[DALE_TASK_OPTS_MAX][DALE_PATH];
    char out[512];
    double max_memory_gb;        /* refuse runs estimated above this (0: the machine's RAM) */
    long threads;                /* BLAS threads of the run (default 1; docs/performance.md) */
    char numerics[DALE_STR];     /* blas | dale: the arithmetic (docs/performance.md, Two arithmetics) */
    /* cell dynamics, noise, initial state and rate penalty (docs/neuro.md) */
    double dt;                   /* time step in ms: alpha = dt/tau; cognitive tasks' periods */
    char dynamics[DALE_STR];     /* relu | leaky | leaky-state */
    double tau;                  /* time constant in ms of every unit */
    char tau_e[DALE_STR];        /* ms, or "tau" (= tau; "auto" is read so): ColEI's E units, DANN's hidden units */
    char tau_i[DALE_STR];        /* ms, or "tau" (= tau; "auto" is read so): ColEI's I units */
    double noise_rec, noise_in;  /* sigma_rec, sigma_in >= 0 */
    char eval_noise[DALE_STR];   /* on | off: noise in evaluations too */
    char h0[DALE_STR];           /* zero | learn */
    double rate_l2;              /* lambda >= 0 of the firing-rate penalty */
    /* connectivity masks (docs/neuro.md, Connectivity masks) */
    char mask_in[DALE_PATH];     /* NPY file: cell 0's input map U (hidden x input), "" none   */
    char mask_rec[DALE_PATH];    /* NPY file: every cell's recurrent W (hidden x hidden)       */
    char mask_out[DALE_PATH];    /* NPY file: the readout (output x its input width)           */
    double sparsity;             /* fraction of recurrent connections removed, [0, 1)         */
    char autapses[DALE_STR];     /* on | off: off removes W's diagonal                         */
    /* optimiser and regulariser (docs/neuro.md, Optimisers and regularisers) */
    char optimizer[DALE_STR];    /* sgd | adam                                                  */
    double beta1, beta2, adam_eps;
    double weight_l2;            /* λ of λ Σ w² over the weight matrices (not biases)          */
    /* ColEI recurrent init beyond the paper (docs/beyond.md) */
    char colei_init[DALE_STR];   /* standard | balanced | spectral                              */
    long colei_init_iters;       /* spectral: projection rounds, >= 1                           */
    double colei_init_floor;     /* spectral: floor delta in [0, 1) of |w| / mean|w|            */
} dale_run_config;

DALE_API void dale_config_defaults(dale_run_config *c);
/* Set option `key` (JSON spelling or CLI spelling without "--") from text.
 * DALE_ERR_ARG names the key and what was expected. */
DALE_API dale_status dale_config_set(dale_run_config *c, const char *key, const char *value);
/* 1 if key names an option. */
DALE_API int dale_config_has(const char *key);
/* The option nearest to an unknown key (JSON spelling, into buf), or NULL
 * when none is close; for "did you mean" messages. */
DALE_API const char *dale_config_nearest(const char *key, char *buf, size_t cap);
/* The value of option `key` as text (numbers as config.json writes them)
 * into buf; returns buf, or NULL when there is no such option. */
DALE_API const char *dale_config_get(const dale_run_config *c, const char *key, char *buf, size_t cap);
/* A dale_options handle over c (for task descriptors): reads through
 * dale_config_get, writes through dale_config_set.  c must outlive it. */
DALE_API void dale_config_options(dale_run_config *c, dale_options *o);
/* The registered task a config names (NULL: unknown). */
DALE_API const dale_task_desc *dale_config_task(const dale_run_config *c);
/* The shape of the run a resolved config describes (its task's shape). */
DALE_API dale_status dale_config_task_shape(const dale_run_config *c, dale_task_shape *s);
/* The network a resolved config describes for a task of the given input
 * and output widths (input_mean: the task's, for ColEI bias centring).
 * Every text value is checked: DALE_ERR_ARG names an option whose value is
 * not one dale knows (a config that dale_config_resolve accepted passes). */
DALE_API dale_status dale_config_net(const dale_run_config *c, size_t input, size_t output, double input_mean,
                                     dale_net_config *nc);
/* The update policy of a resolved config; DALE_ERR_ARG for an unknown clip
 * scope or an on/off switch that is neither. */
DALE_API dale_status dale_config_policy(const dale_run_config *c, dale_update_policy *p);
struct dale_schedule;
/* The training schedule (lr and its decay, batch, budget, cadence). */
DALE_API void dale_config_schedule(const dale_run_config *c, struct dale_schedule *s);
/* Build the task a resolved config names (loads or generates its data). */
DALE_API dale_status dale_task_from_config(const dale_run_config *c, dale_task **out);
/* Read a JSON object of options (unknown keys are errors, naming the file). */
DALE_API dale_status dale_config_load_json(dale_run_config *c, const char *path);
/* Fill every auto value and check consistency (sizes > 0, ratio > 0, ...). */
DALE_API dale_status dale_config_resolve(dale_run_config *c);
/* Rough peak memory in bytes of the training run a resolved config
 * describes, in three parts: parameters (with gradients and effective
 * matrices), activations for BPTT at max(batch, evaluation chunk), task
 * data.  Computed in double from the config alone (no allocation), so it
 * can be checked before anything is built. */
DALE_API dale_status dale_config_memory_estimate(const dale_run_config *c, double *params, double *acts,
                                                 double *data);
/* Refuse (DALE_ERR_ARG, saying how many GB the run needs and where they
 * go) a resolved config whose estimate exceeds max_memory_gb (0: this
 * machine's physical RAM).  dale_train_run calls it before building
 * anything; `dale train` calls it after resolving (a usage error). */
DALE_API dale_status dale_config_check_memory(const dale_run_config *c);
/* Write all options as a JSON object (atomically). */
DALE_API dale_status dale_config_write_json(const dale_run_config *c, const char *path);
/* All options as one line of JSON (the keys and values of config.json, in
 * table order) into *text, allocated with the library's allocator: free it
 * with dale_config_free_text.  Errors: DALE_ERR_NOMEM. */
DALE_API dale_status dale_config_to_json(const dale_run_config *c, char **text);
DALE_API void dale_config_free_text(char *text); /* NULL-safe */
/* 1 for the options that say where a run lives, not what it is (out,
 * data, max_memory_gb): outside run ids and config comparisons. */
DALE_API int dale_config_key_is_place(const char *key);
/* How the config.json at `path` relates to c, option by option (place
 * options skipped; an option missing there but at its default here counts
 * as equal, so options added to dale later do not make old runs other
 * runs): -1 unreadable, 0 the same run, 1 the same but for the budget
 * (epochs, max_updates; only with budget_apart), 2 another run.  why gets
 * the most telling difference ("lr is 0.1 there, 0.05 here"). */
DALE_API int dale_config_compare_file(const dale_run_config *c, const char *path, int budget_apart, char *why,
                                      size_t cap);
/* Print "  --key VALUE   help (default: ...)" for every option. */
DALE_API void dale_config_print_help(FILE *f);

#ifdef __cplusplus
}
#endif
#endif
