/* dale/sweep.h — experiment sweeps: spec expansion, run ids, cost
 * estimates, and the SQLite results store.
 *
 * A sweep spec is a JSON object (docs/experiments.md):
 *   {"name": "...", "description": "...",
 *    "base": {run options, the keys of config.json},
 *    "runs": [{"label": "ColEI", options...}, ...],     per-run overrides (default [{}])
 *    "zip":  [{"lr": [..], "clip": [..]}, ...],          each group's lists advance together
 *    "axes": {"lr": [..] | {"geomspace": [a, b, k]} | {"linspace": [a, b, k]}, "seed": [..]},
 *    "scales": {"quick": {"base": {..}, "axes": {..}, "runs": [..], "zip": [..]}, ...},
 *    "analysis": {"select": "val_err", "group": "label", "hp": "lr,clip", "at": "last",
 *                 "test": "welch,mannwhitney", "vs": "label=ColEI", "corr": "nse0"}}
 * Runs are the product runs × zip groups × axes (the last axis varies
 * fastest); each run's config is defaults ← base ← run ← zip ← axes, then
 * dale_config_resolve.  A range axis gives k values from a to b (geometric
 * or linear), rounded to 6 decimals like the reference's η grid (paper Fig. 9:
 * geomspace(5e-2, 5e-4, 7) = 0.05, 0.023208, ..., 0.0005); "decimals": D or
 * "digits": S (significant) inside the range object change the rounding.
 *
 * Run id: 16 hex digits of FNV-1a 64 over "key=value;" for task, model and
 * every option of the resolved config whose JSON value differs from the
 * defaults resolved for the same task and model, keys sorted, excluding
 * out, data and max_memory_gb (where files live is not what a run is).
 * Options added to dale later, left at their defaults (or at an "auto"
 * that resolves as before), therefore do not change the ids of old
 * sweeps.  A run's directory is SWEEP_DIR/runs/<id>.
 */
#ifndef DALE_SWEEP_H
#define DALE_SWEEP_H

#include <stddef.h>
#include "dale/config.h"
#include "dale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most runs a spec may expand to (runs x zip groups x axes, counted
 * before duplicate ids merge): a run takes ~4 KB while it is planned, so
 * this bounds a dry run to about 400 MB. */
#define DALE_SWEEP_MAX_RUNS 100000

typedef struct dale_sweep_run {
    char id[17];
    char label[64];
    dale_run_config cfg;   /* resolved; cfg.out = <dir>/runs/<id> */
    int invalid;           /* the options did not resolve: reason says why */
    char reason[256];
    char *given;           /* the options the spec set for this run (base, run, zip and axes
                              merged, "label" left out) as one line of JSON, before
                              resolution: "inhib": 0.2 stays 0.2 although config.json
                              folds it into ei_ratio.  Owned by the sweep; NULL when out
                              of memory */
} dale_sweep_run;

typedef struct dale_sweep {
    char name[64];
    char description[256];
    char *analysis;        /* the "analysis" object as JSON text, or NULL */
    size_t n;              /* runs (duplicate ids are merged) */
    dale_sweep_run *runs;
} dale_sweep;

/* Expand the spec at `path` for sweep directory `dir` with scale overlay
 * `scale` (NULL or "paper": the spec as written; another name must be a
 * key of "scales").  Runs whose options fail to set or resolve are kept
 * with invalid = 1 and the message in reason (a sweep records them and goes
 * on).  Errors: DALE_ERR_IO, DALE_ERR_FORMAT (bad JSON, unknown top-level
 * key, bad axis: the message names the file and the key; a grid of more
 * than DALE_SWEEP_MAX_RUNS runs, refused before it is expanded, the
 * message naming each factor and its size), DALE_ERR_ARG
 * (unknown scale), DALE_ERR_NOMEM.  *out is owned by the caller
 * (dale_sweep_free). */
DALE_API dale_status dale_sweep_load(const char *path, const char *dir, const char *scale,
                                     dale_sweep **out);
/* The same from JSON text; `origin` names it in messages. */
DALE_API dale_status dale_sweep_parse(const char *text, const char *origin, const char *dir,
                                      const char *scale, dale_sweep **out);
DALE_API void dale_sweep_free(dale_sweep *s); /* NULL-safe */

/* The id of a resolved config (see the file comment) into id[17]. */
DALE_API dale_status dale_run_id(const dale_run_config *c, char id[17]);

/* Updates a resolved config will run: min(max_updates, epochs · batches per
 * epoch), and a wall-time estimate in seconds on one core of this class of
 * machine: updates · (6 · T · B · Σ_layers (n² + n·d_in) flop / R) plus
 * evaluations (every eval_every updates, 2·T·N_eval·Σ(...) flop / R) plus
 * 0.15 ms per update of fixed cost, with R = 6e10 flop/s: measured once on
 * an idle core of this project's machine (1 × 100 seqMNIST: 0.9 ms per
 * update; 1 × 10 adding: 0.16 ms; docs/experiments.md).  Rough (within ~2x
 * on an idle core; a shared, oversubscribed machine is slower). */
DALE_API double dale_run_updates(const dale_run_config *c);
DALE_API double dale_run_seconds(const dale_run_config *c);

/* Finished = <run>/result.json says ok or diverged.  Reads the file; any
 * problem reading it counts as not finished.  status (may be NULL) gets the
 * recorded status ("" when there is no result). */
DALE_API int dale_run_finished(const char *run_dir, char *status, size_t cap);

/* 1 when <run>/config.json exists, parses, and differs from c in an option
 * other than out, data and max_memory_gb: a directory left by another dale
 * version or spec under the same id (ids are relative to the task defaults,
 * so a changed default can make an old run's id equal a new run's).  An
 * option missing from the file (added to dale later) counts as the same
 * when c has it at its default.  why
 * (may be NULL) gets the first differing option, "lr is 0.01 there, 0.1
 * here".  0 when the file is absent, unreadable or the same. */
DALE_API int dale_run_config_differs(const dale_run_config *c, const char *run_dir, char *why, size_t cap);

/* ---------------------------------------------------------- results store
 *
 * <dir>/results.sqlite, WAL mode with a 60 s busy timeout, so workers and
 * array tasks finishing at once can all write.  Tables:
 *   runs(id PRIMARY KEY, label, status, reason, updates, wall_s,
 *        train_loss, train_err, val_loss, val_err, test_loss, test_err   final,
 *        best_val_err, best_val_loss, best_test_err, best_test_loss,
 *        nse0, smax0, rho0   (cell 0 at init: metrics.csv row 0),
 *        config (JSON text), given (JSON text of the options the sweep spec
 *        set: <run>/sweep.json "given"; NULL without), then one column per
 *        config key: INTEGER for options that take integers, REAL for other
 *        numbers, TEXT)
 *   curves(id, "update", then one column per metrics.csv column)
 * The store is derived data: every row can be rebuilt from the run
 * directories (dale_store_put_run on each), so nothing is lost when a
 * process dies between a run's end and its insert.  A store made before
 * the "given" column opens as it is and gets the column on the next put. */
typedef struct dale_store dale_store;

DALE_API dale_status dale_store_open(const char *sweep_dir, dale_store **out);
DALE_API void dale_store_close(dale_store *s); /* NULL-safe */
/* Key/value facts about the sweep (table meta): "scale", "scale_kind"
 * ("smoke", "reduced", "paper", "control"), "scale_note".  get returns buf,
 * or NULL when the key is not set. */
DALE_API dale_status dale_store_set_meta(dale_store *s, const char *key, const char *value);
DALE_API const char *dale_store_get_meta(dale_store *s, const char *key, char *buf, size_t cap);
/* (Re)insert the run in run_dir (config.json, result.json, metrics.csv,
 * sweep.json's "given"; a missing metrics.csv gives no curves) under `id`
 * with `label`; status and
 * reason override result.json's when non-NULL (a crash the run could not
 * record).  One transaction. */
DALE_API dale_status dale_store_put_run(dale_store *s, const char *run_dir, const char *id,
                                        const char *label, const char *status, const char *reason);
/* Drop and recreate both tables (so columns take this version's types),
 * then insert every run directory: <sweep_dir>/runs/<16 hex> with a
 * result.json or a sweep.json (a sweep's runs; no result.json: pending),
 * and any other directory under <sweep_dir>/runs or directly in
 * <sweep_dir> that holds config.json and result.json (`dale train --out`
 * runs: id = the run id of its config, or a hash of its name when that
 * cannot be read or is taken; label = sweep.json's, else the directory
 * name).  Directories moved aside (NAME.stale-K) are left out.  *count gets
 * how many.  Errors: DALE_ERR_IO (sweep_dir cannot be read, SQLite),
 * DALE_ERR_NOMEM. */
DALE_API dale_status dale_store_rebuild(dale_store *s, const char *sweep_dir, size_t *count);
/* 1 if the store has a row for id with status ok or diverged. */
DALE_API int dale_store_has_finished(dale_store *s, const char *id);

/* One run as read back for analysis. */
typedef struct dale_store_row {
    char id[17];
    char label[64];
    char status[16];
    char *config;          /* JSON text (owned) */
    double m[6];           /* train_loss, train_err, val_loss, val_err, test_loss, test_err
                              at the requested update (NaN where absent) */
    long update;           /* the update those metrics come from (-1: none) */
    double nse0, smax0, rho0, wall_s;
    char *given;           /* the options the sweep spec set, JSON text (owned), or NULL */
} dale_store_row;

/* Every run, with metrics from the curves row at the largest update <= at
 * (at < 0: the last row).  *rows is owned by the caller:
 * dale_store_rows_free(rows, n). */
DALE_API dale_status dale_store_load(dale_store *s, long at, dale_store_row **rows, size_t *n);
DALE_API void dale_store_rows_free(dale_store_row *rows, size_t n);

#ifdef __cplusplus
}
#endif
#endif
