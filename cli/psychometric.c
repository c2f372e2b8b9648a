/* psychometric.c — `dale psychometric RUN_DIR`: the fraction of trials in
 * which a trained network chooses option 2, against the signed coherence,
 * with a fitted logistic (docs/neuro.md, Psychometric curves).
 *
 * pdm: one curve.  cdm: four, one per context and modality: the cued
 * modality's curve should be steep, the uncued one flat.  Trials with
 * fixation broken have no choice and are left out of the fractions (their
 * count is reported).  Writes DIR/psychometric.csv (the points),
 * DIR/psychometric_fit.csv (one row per curve) and the figure
 * DIR/psychometric.{gp,png,svg}. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "dale/config.h"
#include "dale/eval.h"
#include "dale/fileio.h"
#include "dale/linalg.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/report.h"
#include "dale/stats.h"
#include "dale/task.h"
#include "dale/trainer.h"

#define MAXLEV 64

static void psy_usage(FILE *f)
{
    fputs("usage: dale psychometric RUN_DIR [options]\n\n"
          "Runs the trials of a pdm or cdm run through its trained network and writes the\n"
          "fraction choosing option 2 against the signed coherence (> 0: evidence for option 2),\n"
          "with a logistic p(x) = 1/(1 + exp(-(a + k x))) fitted by maximum likelihood;\n"
          "cdm: one curve per context and modality.  Trials with fixation broken are left out.\n\n"
          "options:\n"
          "  --checkpoint final|checkpoint   which file (default: final)\n"
          "  --split test|val                which split (default: test)\n"
          "  --trials N                      the split's first N trials (default: all of them)\n"
          "  --seed S                        with --trials: the first N trials of the training pool\n"
          "                                  generated from data seed S instead of the split\n"
          "  --out DIR                       where to write (default: RUN_DIR/psychometric)\n"
          "  --data DIR                      data directory (default: the one in config.json)\n",
          f);
}

typedef struct curve {
    int context, modality, cued;
    char label[64];
    size_t nlev;
    double x[MAXLEV], n[MAXLEV], k[MAXLEV];
    dale_logistic fit;
} curve;

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Add one trial's choice at level x to curve c. */
static int curve_add(curve *c, double x, int chose2)
{
    size_t i = 0;
    while (i < c->nlev && c->x[i] != x) i++;
    if (i == c->nlev) {
        if (c->nlev == MAXLEV) return 1;
        c->x[i] = x;
        c->n[i] = c->k[i] = 0;
        c->nlev++;
    }
    c->n[i] += 1;
    c->k[i] += chose2;
    return 0;
}

static void curve_sort(curve *c)
{
    double tmp[MAXLEV][3];
    for (size_t i = 0; i < c->nlev; i++) {
        tmp[i][0] = c->x[i];
        tmp[i][1] = c->n[i];
        tmp[i][2] = c->k[i];
    }
    qsort(tmp, c->nlev, sizeof tmp[0], dcmp);
    for (size_t i = 0; i < c->nlev; i++) {
        c->x[i] = tmp[i][0];
        c->n[i] = tmp[i][1];
        c->k[i] = tmp[i][2];
    }
}

static int write_outputs(const char *dir, curve *cv, size_t nc)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/psychometric.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "dale psychometric: cannot write %s\n", path);
        return 1;
    }
    fprintf(f, "curve,context,modality,cued,coherence,trials,chose2,p_chose2\n");
    for (size_t c = 0; c < nc; c++)
        for (size_t i = 0; i < cv[c].nlev; i++)
            fprintf(f, "%zu,%d,%d,%d,%.9g,%.0f,%.0f,%.9g\n", c, cv[c].context, cv[c].modality, cv[c].cued, cv[c].x[i],
                    cv[c].n[i], cv[c].k[i], cv[c].n[i] > 0 ? cv[c].k[i] / cv[c].n[i] : (double)NAN);
    int bad = fclose(f) != 0;
    snprintf(path, sizeof path, "%s/psychometric_fit.csv", dir);
    f = bad ? NULL : fopen(path, "w");
    if (!f) {
        fprintf(stderr, "dale psychometric: cannot write %s\n", path);
        return 1;
    }
    fprintf(f, "curve,label,context,modality,cued,trials,slope,intercept,bias,se_slope,se_intercept,converged\n");
    for (size_t c = 0; c < nc; c++) {
        double n = 0;
        for (size_t i = 0; i < cv[c].nlev; i++) n += cv[c].n[i];
        const dale_logistic *g = &cv[c].fit;
        fprintf(f, "%zu,%s,%d,%d,%d,%.0f,%.9g,%.9g,%.9g,%.9g,%.9g,%d\n", c, cv[c].label, cv[c].context,
                cv[c].modality, cv[c].cued, n, g->slope, g->intercept, g->bias, g->se_slope, g->se_intercept,
                g->converged);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "dale psychometric: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

int cmd_psychometric(int argc, char **argv)
{
    cli_run_flags fl;
    int prc = cli_run_flags_parse(argc, argv, "psychometric", psy_usage, NULL, &fl);
    if (prc >= 0) return prc;
    int rc = dalecli_psychometric(&fl, 0, 1);
    return rc == 3 ? 1 : rc;
}

int dalecli_psychometric(const cli_run_flags *fl_, int quiet, int render)
{
    const cli_run_flags fl = *fl_;
    const char *run = fl.run, *which = fl.which ? fl.which : "final", *split_name = fl.split ? fl.split : "test",
               *data = fl.data, *trials_s = fl.trials, *seed_s = fl.seed, *out = fl.out;
    if (strcmp(split_name, "test") && strcmp(split_name, "val")) {
        fprintf(stderr, "dale psychometric: --split: expected test or val (got '%s')\n", split_name);
        return 2;
    }
    dale_split split = !strcmp(split_name, "test") ? DALE_SPLIT_TEST : DALE_SPLIT_VAL;
    size_t N = 0;
    unsigned long long seed = 0;
    if (trials_s && (cli_parse_count(trials_s, &N) || N == 0)) {
        fprintf(stderr, "dale psychometric: --trials: expected a number of trials >= 1 (got '%s')\n", trials_s);
        return 2;
    }
    if (seed_s && (cli_parse_u64(seed_s, &seed) || !trials_s)) {
        fprintf(stderr, "dale psychometric: --seed: expected a non-negative integer, with --trials N (got '%s')\n",
                seed_s);
        return 2;
    }
    dale_run_config c;
    char path[4200], dir[4200];
    dale_config_defaults(&c);
    snprintf(path, sizeof path, "%s/config.json", run);
    if (dale_config_load_json(&c, path) || dale_config_resolve(&c)) {
        fprintf(stderr, "dale psychometric: %s\nhint: is %s a run directory written by dale train?\n",
                dale_last_error(), run);
        return 1;
    }
    if (data) snprintf(c.data, sizeof c.data, "%s", data);
    if (seed_s) {
        c.data_seed = (uint64_t)seed;
        split = DALE_SPLIT_TRAIN;
        split_name = "train";
    }
    snprintf(dir, sizeof dir, "%s", out ? out : "");
    if (!out) snprintf(dir, sizeof dir, "%s/psychometric", run);
    dale_set_blas_threads(1);
    int rc = 1;
    dale_task *task = NULL;
    dale_net *net = NULL;
    dale_npz *z = NULL;
    dale_trials tr;
    memset(&tr, 0, sizeof tr);
    curve cv[4];
    size_t nc = 0, broken = 0, used = 0;
    snprintf(path, sizeof path, "%s/%s.npz", run, which);
    if (dale_task_from_config(&c, &task)) goto fail;
    if (!task->trial) {
        fprintf(stderr, "dale psychometric: task %s has no trials with a coherence (psychometric curves are for "
                        "pdm and cdm)\n",
                task->name);
        goto cleanup;
    }
    if (!N) N = task->count[split];
    if (N > task->count[split]) {
        fprintf(stderr, "dale psychometric: --trials %zu: the %s split of task %s has %zu trials\n", N, split_name,
                task->name, task->count[split]);
        goto cleanup;
    }
    if (dale_net_from_config(&c, task, &net) || dale_npz_open(path, &z) || dale_params_load(net, z, path) ||
        dale_trials_run(net, task, split, 0, N, c.eval_batch > 0 ? (size_t)c.eval_batch : 256, 0, &tr))
        goto fail;
    /* The curves: pdm one (its only modality), cdm one per context and modality. */
    int multi = tr.trial[0].context >= 0;
    if (tr.trial[0].dir[0] < 0) {
        fprintf(stderr, "dale psychometric: task %s has no coherence (psychometric curves are for pdm and cdm)\n",
                task->name);
        goto cleanup;
    }
    memset(cv, 0, sizeof cv);
    for (int ctx = 0; ctx < (multi ? 2 : 1); ctx++)
        for (int mod = 0; mod < (multi ? 2 : 1); mod++) {
            curve *q = &cv[nc++];
            q->context = multi ? ctx : -1;
            q->modality = mod;
            q->cued = !multi || ctx == mod;
            if (multi)
                snprintf(q->label, sizeof q->label, "context %d: modality %d (%s)", ctx + 1, mod + 1,
                         q->cued ? "cued" : "uncued");
            else snprintf(q->label, sizeof q->label, "%s", task->name);
        }
    for (size_t i = 0; i < tr.N; i++) {
        if (tr.outcome[i] == -1) {
            broken++;
            continue;
        }
        used++;
        const dale_trial *t = &tr.trial[i];
        for (size_t q = 0; q < nc; q++) {
            if (multi && cv[q].context != t->context) continue;
            if (curve_add(&cv[q], t->coh[cv[q].modality], tr.choice[i] == 1)) {
                fprintf(stderr, "dale psychometric: more than %d coherence levels\n", MAXLEV);
                goto cleanup;
            }
        }
    }
    if (used == 0) {
        if (!quiet)
            fprintf(stderr, "dale psychometric: fixation broke in every one of the %zu trials: no choices to plot\n",
                    tr.N);
        rc = 3;
        goto cleanup;
    }
    for (size_t q = 0; q < nc; q++) {
        curve_sort(&cv[q]);
        if (dale_logistic_fit(cv[q].x, cv[q].n, cv[q].k, cv[q].nlev, &cv[q].fit))
            if (!quiet) fprintf(stderr, "dale psychometric: %s: %s\n", cv[q].label, dale_last_error());
    }
    if (dale_mkdirs(dir)) goto fail;
    if (write_outputs(dir, cv, nc)) goto cleanup;
    const char *labels[4];
    double a[4], k[4];
    for (size_t q = 0; q < nc; q++) {
        labels[q] = cv[q].label;
        a[q] = cv[q].fit.intercept;
        k[q] = cv[q].fit.slope;
    }
    char title[256];
    snprintf(title, sizeof title, "%s: %s (%s split, %zu trials)", task->name, c.model, split_name, used);
    int plotted = 0;
    if (dale_plot_psychometric(dir, "psychometric", "psychometric.csv", nc, labels, a, k, title,
                               "signed coherence (%)", render, &plotted))
        goto fail;
    rc = 0;
    if (quiet) goto cleanup;
    printf("%s (%s.npz): %s split, %zu trials of %s, %zu with fixation broken (left out)\n", run, which,
           split_name, tr.N, task->name, broken);
    printf("  p(choose 2) = 1/(1 + exp(-(a + k x))), x = signed coherence in %%; bias = -a/k\n");
    printf("  %-34s %10s %10s %10s  %s\n", "curve", "slope k", "bias %", "trials", "p(choose 2) by coherence");
    for (size_t q = 0; q < nc; q++) {
        double n = 0;
        for (size_t i = 0; i < cv[q].nlev; i++) n += cv[q].n[i];
        if (cv[q].fit.converged)
            printf("  %-34s %10.4g %10.4g %10.0f ", cv[q].label, cv[q].fit.slope, cv[q].fit.bias, n);
        else printf("  %-34s %10s %10s %10.0f (separable: no finite fit) ", cv[q].label, "-", "-", n);
        for (size_t i = 0; i < cv[q].nlev; i++)
            printf(" %g:%.2f", cv[q].x[i], cv[q].n[i] > 0 ? cv[q].k[i] / cv[q].n[i] : (double)NAN);
        printf("\n");
    }
    printf("  wrote %s/psychometric.csv, psychometric_fit.csv%s\n", dir,
           plotted ? ", psychometric.png, psychometric.svg" : " (gnuplot not found: no images)");
    rc = 0;
    goto cleanup;
fail:
    fprintf(stderr, "dale psychometric: %s\n", dale_last_error());
cleanup:
    dale_trials_free(&tr);
    dale_npz_close(z);
    dale_net_free(net);
    dale_task_free(task);
    return rc;
}
