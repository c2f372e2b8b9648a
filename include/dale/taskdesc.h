/* dale/taskdesc.h — the task registry: one descriptor per task.
 *
 * A task is registered by one descriptor (its name, its own options with
 * defaults and help, the per-model defaults it sets for the run options,
 * its shape computed from its options, and a constructor) and one line in
 * the registry (src/tasks/task.c).  Everything else is derived from the
 * descriptors: the option table of `dale train` and config.json, --help,
 * the "auto" values of a run, the memory estimate and the sweep cost
 * estimate.  No other file names a task.
 *
 * A task reads its options through a dale_options handle (key -> text, the
 * config.json spelling), so it knows nothing of the run configuration that
 * stores them: the train layer implements the handle over its config, a
 * program can implement it over anything.
 */
#ifndef DALE_TASKDESC_H
#define DALE_TASKDESC_H

#include <stddef.h>
#include <stdint.h>
#include "dale/status.h"
#include "dale/task.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------- options */

typedef enum dale_opt_type { DALE_OPT_STR, DALE_OPT_LONG, DALE_OPT_DOUBLE, DALE_OPT_U64 } dale_opt_type;

/* Values of options by key.  get copies the value of option `key` as text
 * into buf (cap bytes, NUL-terminated) and returns buf, or NULL when there
 * is no such option; set stores a value (DALE_ERR_ARG naming the option if
 * it is not valid).  ctx is the implementation's. */
typedef struct dale_options {
    void *ctx;
    const char *(*get)(void *ctx, const char *key, char *buf, size_t cap);
    dale_status (*set)(void *ctx, const char *key, const char *value);
} dale_options;

/* Typed reads.  A missing option or a value that does not parse reads as
 * "" / 0 (the train layer checks every value when it is set, so this only
 * happens with a hand-made handle). */
DALE_API const char *dale_opt_str(const dale_options *o, const char *key, char *buf, size_t cap);
DALE_API long dale_opt_long(const dale_options *o, const char *key);
DALE_API double dale_opt_double(const dale_options *o, const char *key);
DALE_API uint64_t dale_opt_u64(const dale_options *o, const char *key);
/* 1 when option `key` has the text `value`. */
DALE_API int dale_opt_is(const dale_options *o, const char *key, const char *value);

/* One option a task declares.  It becomes --key (with '-' for '_') and the
 * config.json key `key`; every task's options exist in every run config
 * (config.json lists them all), and each is checked against its type,
 * choices and minimum whatever the task. */
typedef struct dale_task_option {
    const char *key;
    dale_opt_type type;
    const char *def;     /* default, as text (applied through the same parser as user input) */
    const char *help;
    const char *choices; /* DALE_OPT_STR: allowed values "a|b|c" (NULL: any text) */
    long min;            /* DALE_OPT_LONG: the smallest allowed value */
} dale_task_option;

/* A default the task sets for a run option whose value is "auto" (or -1):
 * for one model (model = "colei") or for every model (model = NULL); a
 * model-specific entry wins.  value is text, parsed like user input. */
typedef struct dale_task_default {
    const char *model;
    const char *key;
    const char *value;
} dale_task_default;

/* -------------------------------------------------------------- shape */

/* What one run of the task costs, from its options alone (a task may look
 * at its files, e.g. a corpus, but must not fail when they are missing:
 * it then assumes the usual data set).  Sizes in samples and time steps. */
typedef struct dale_task_shape {
    double T;          /* time steps of a sample                               */
    double Tin;        /* leading steps that carry input (<= T; objrec: 1)     */
    double input;      /* input width                                          */
    double output;     /* output width                                         */
    double ntrain;     /* training samples (an epoch)                          */
    double neval;      /* samples of one evaluation (validation + test)        */
    double eval_max;   /* samples of the largest evaluation split              */
    double rows;       /* batch rows one training sample fills (lm: streams; else 1) */
    int every_step;    /* loss (and readout) at every step                     */
    double data_bytes; /* memory of the loaded data set                        */
} dale_task_shape;

/* -------------------------------------------------------- descriptor */

typedef struct dale_task_desc {
    const char *name;
    const char *summary;                /* one line for --help                  */
    const dale_task_option *options;    /* its own options                      */
    size_t noptions;
    const dale_task_default *defaults;  /* what "auto" run options resolve to   */
    size_t ndefaults;
    /* Optional: fill values of its own options that depend on others (lm:
     * the corpus path under --data) and check them together; called only
     * for runs of this task, after the run options are resolved. */
    dale_status (*resolve)(const dale_options *o);
    /* The shape of a run (see dale_task_shape). */
    dale_status (*shape)(const dale_options *o, dale_task_shape *s);
    /* Build the task (load or generate its data). */
    dale_status (*create)(const dale_options *o, dale_task **out);
} dale_task_desc;

/* The registry, in registration order. */
DALE_API size_t dale_task_count(void);
DALE_API const dale_task_desc *dale_task_at(size_t i);
/* The descriptor named `name`, or NULL. */
DALE_API const dale_task_desc *dale_task_find(const char *name);
/* "a, b, c or d": the registered names, for messages. */
DALE_API const char *dale_task_names(void);
/* The default a task sets for `key` under `model` (model-specific first,
 * then the all-models one), or NULL. */
DALE_API const char *dale_task_default_of(const dale_task_desc *d, const char *model, const char *key);

#ifdef __cplusplus
}
#endif
#endif
