/* dale/select.h — hyper-parameter selection over the runs of a sweep (what
 * `dale results` tabulates).
 *
 * Cells are the distinct values of the group keys (config keys or
 * "label").  Inside a cell, runs with equal hp values (e.g. lr, clip) form
 * one configuration; the configuration with the lowest mean select metric
 * over its runs (seeds) wins (a run without a finite value counts as +inf,
 * so diverged settings lose; equal mean errors are broken by the mean loss
 * of the same split).  A cell with one configuration selects nothing
 * (nconf 1).  When no run of the cell has the validation metric (no
 * validation split: seqMNIST's reference split) the test metric is used for
 * selection and the cell says so (used_test); a task without an error
 * metric (adding) falls back to the loss; sel_metric is what was used.
 * Keys (group, hp, where) read a run's config.json value; where config.json
 * holds the option unset (-1 or "auto": inhib, which resolution folds into
 * ei_ratio), the value the sweep spec gave (store "given"), and for inhib
 * without either, 1/(1 + ei_ratio).  The reported metric is
 * the test counterpart of select (val_err -> test_err) unless named, for
 * the selected configuration's runs: its mean and sd (ddof 1) over the
 * finite values.  Cells are sorted by their group values (numerically
 * where both are numbers).
 */
#ifndef DALE_SELECT_H
#define DALE_SELECT_H

#include <stddef.h>
#include "dale/status.h"
#include "dale/sweep.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DALE_SELECT_MAXK 8 /* group and hp keys at the most */

/* The six metrics of a store row, in dale_store_row.m order. */
DALE_API const char *dale_metric_name(int i); /* NULL outside 0..5 */
/* Index of a metric name in dale_store_row.m, or -1. */
DALE_API int dale_metric_index(const char *name);

typedef struct dale_select_options {
    const char *select; /* selection metric (one of the six; NULL: val_err) */
    const char *report; /* reported metric: one of the six, nse0, smax0, rho0, wall_s or a
                           numeric config key (NULL: the test counterpart of select) */
    const char *group;  /* cell keys, comma-separated (NULL: label) */
    const char *hp;     /* hyper-parameter keys, comma-separated (NULL: lr,clip) */
    const char *where;  /* K=V,K=V: keep only runs with these values (NULL: all) */
} dale_select_options;

/* A run taken into the selection. */
typedef struct dale_select_row {
    dale_store_row *r;                   /* borrowed from the rows given */
    void *config;                        /* the parsed config (internal) */
    char g[DALE_SELECT_MAXK][64];        /* its group values */
    char h[DALE_SELECT_MAXK][64];        /* its hp values */
    void *given;                         /* the parsed options the sweep spec set (internal) */
} dale_select_row;

typedef struct dale_select_cell {
    size_t *idx, n;   /* rows of the cell (indices into dale_selection.rows) */
    size_t *sel, ns;  /* rows of the selected configuration */
    double sel_mean;  /* its mean selection metric */
    size_t nconf;     /* configurations in the cell (distinct hp values); 1: nothing was selected */
    int sel_metric;   /* the metric selection used (index into dale_store_row.m): select, or its
                         fallback (test without validation values, loss without an error) */
    int used_test;    /* selection (nconf > 1) fell back to the test metric */
    int report;       /* index of the reported metric, -1: the named report metric */
    double mean, sd;  /* of the reported metric over the selected runs */
    double nse;       /* mean nse0 of the selected runs */
    size_t ndiv;      /* selected runs that diverged */
} dale_select_cell;

typedef struct dale_selection {
    dale_select_row *rows;
    size_t nrows;
    size_t nbad;      /* runs not finished, failed or filtered out */
    dale_select_cell *cells;
    size_t ncells;
    int ngroup, nhp;
    char gk[DALE_SELECT_MAXK][64], hk[DALE_SELECT_MAXK][64]; /* the group and hp keys */
    int any_test;     /* some cell was selected on the test metric */
    size_t nselected; /* cells with more than one configuration (where selection chose) */
    int gconst[DALE_SELECT_MAXK]; /* per group key: 0 it varies; 1 one value in every run
                                     (rows[0].g[k]); 2 unset in every run ("-") */
    const char *report; /* the named report metric (o->report), or NULL */
} dale_selection;

/* Select over rows[0..n) (from dale_store_load): runs with status ok or
 * diverged (a diverged run's six metrics are set to NaN in rows: its last
 * logged row predates the divergence) that pass o->where.  rows must
 * outlive the selection.  Errors: DALE_ERR_ARG (unknown select metric),
 * DALE_ERR_NOMEM.  *out: dale_selection_free. */
DALE_API dale_status dale_select(dale_store_row *rows, size_t n, const dale_select_options *o,
                                 dale_selection **out);
DALE_API void dale_selection_free(dale_selection *s); /* NULL-safe */

/* The value of key (a config key or "label") of a selected row as text
 * (read as the file comment says): a string as is, a number as %.6g, "-"
 * when absent. */
DALE_API void dale_select_key_value(const dale_select_row *w, const char *key, char *out, size_t cap);
/* A metric of a selected row: m[mi] when mi >= 0, else by name (nse0,
 * smax0, rho0, wall_s, or a numeric config key read like a group key; NaN
 * when absent). */
DALE_API double dale_select_row_metric(const dale_select_row *w, const char *name, int mi);

#ifdef __cplusplus
}
#endif
#endif
