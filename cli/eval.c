/* eval.c — `dale eval RUN_DIR`: loss and error of a saved network on a split;
 * with --trials N, every step of N samples written as an NPZ for analysis.
 *
 * Rebuilds the task and the network from RUN_DIR/config.json exactly as the
 * trainer does (dale_task_from_config, dale_net_from_config), loads the
 * parameters of final.npz or checkpoint.npz and evaluates in chunks of the
 * run's eval_batch (chunking does not change the result).  Trial-based
 * tasks (pdm, cdm, dms) also get their performance per condition. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "dale/config.h"
#include "dale/eval.h"
#include "dale/linalg.h"
#include "dale/lm.h"
#include "dale/model.h"
#include "dale/npy.h"
#include "dale/task.h"
#include "dale/trainer.h"

static void eval_usage(FILE *f)
{
    fputs("usage: dale eval RUN_DIR [options]\n\n"
          "Evaluates the network saved in RUN_DIR (written by dale train) on a split\n"
          "of its task and prints the mean loss and the error.\n\n"
          "options:\n"
          "  --checkpoint final|checkpoint   which file: final.npz or checkpoint.npz (default: final)\n"
          "  --split test|val|train          which split (default: test; val needs --split paper runs)\n"
          "  --data DIR                      data directory (default: the one in config.json)\n"
          "  --json                          print one JSON object instead of text\n"
          "  --trials N                      write every step of the split's first N samples to an NPZ:\n"
          "                                  inputs, targets, weights, hidden0.., outputs and, for pdm,\n"
          "                                  cdm and dms, the condition labels (docs/neuro.md)\n"
          "  --out FILE                      the NPZ of --trials (default: RUN_DIR/trials.npz)\n"
          "  --seed S                        with --trials: the first N trials of the training pool\n"
          "                                  generated from data seed S instead of the split\n",
          f);
}

int cli_parse_u64(const char *v, unsigned long long *out)
{
    char *end;
    if (!v[0] || v[0] == '-' || v[0] == '+') return 1;
    errno = 0;
    *out = strtoull(v, &end, 10);
    return errno || *end ? 1 : 0;
}

int cli_parse_count(const char *v, size_t *out)
{
    unsigned long long x;
    if (cli_parse_u64(v, &x) || x > 100000000ULL) return 1;
    *out = (size_t)x;
    return 0;
}

int cli_run_flags_parse(int argc, char **argv, const char *cmd, void (*usage)(FILE *), int *json,
                        cli_run_flags *f)
{
    *f = (cli_run_flags){.which = "final", .split = "test"};
    if (json) *json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (json && !strcmp(a, "--json")) {
            *json = 1;
            continue;
        }
        const char **dst = !strcmp(a, "--checkpoint") ? &f->which
                           : !strcmp(a, "--split")    ? &f->split
                           : !strcmp(a, "--data")     ? &f->data
                           : !strcmp(a, "--trials")   ? &f->trials
                           : !strcmp(a, "--out")      ? &f->out
                           : !strcmp(a, "--seed")     ? &f->seed
                                                      : NULL;
        if (dst) {
            if (i + 1 >= argc) {
                fprintf(stderr, "dale %s: %s needs a value\n", cmd, a);
                return 2;
            }
            *dst = argv[++i];
            continue;
        }
        if (!strncmp(a, "--", 2)) {
            fprintf(stderr, "dale %s: unknown option '%s' (see dale %s --help)\n", cmd, a, cmd);
            return 2;
        }
        if (f->run) {
            fprintf(stderr, "dale %s: one run directory only (got '%s' and '%s')\n", cmd, f->run, a);
            return 2;
        }
        f->run = a;
    }
    if (!f->run) {
        usage(stderr);
        return 2;
    }
    if (strcmp(f->which, "final") && strcmp(f->which, "checkpoint")) {
        fprintf(stderr, "dale %s: --checkpoint: expected final or checkpoint (got '%s')\n", cmd, f->which);
        return 2;
    }
    return -1;
}

/* Performance per condition of trial-based tasks: grouped by context (cdm),
 * then by the absolute coherence of the modality that decides (pdm, cdm),
 * or by match / non-match (dms). */
static void print_conditions(const dale_trials *tr, int json)
{
    dale_cond_stats cs;
    if (dale_cond_stats_of(tr, &cs)) {
        fprintf(stderr, "dale eval: %s\n", dale_last_error());
        return;
    }
    if (json) printf(", \"correct\": %.9g, \"broken\": %.9g, \"conditions\": [", cs.all.correct, cs.all.broken);
    else
        printf("  performance %.2f %% correct, fixation broken in %.2f %% (%zu trials)\n"
               "  %-26s %8s %10s %10s\n",
               100 * cs.all.correct, 100 * cs.all.broken, cs.all.n, "condition", "trials", "correct %", "broken %");
    for (size_t i = 0; i < cs.n; i++) {
        const dale_cond_stat *g = &cs.g[i];
        if (json)
            printf("%s{\"condition\": \"%s\", \"trials\": %zu, \"correct\": %.9g, \"broken\": %.9g}", i ? ", " : "",
                   g->label, g->n, g->correct, g->broken);
        else printf("  %-26s %8zu %10.2f %10.2f\n", g->label, g->n, 100 * g->correct, 100 * g->broken);
    }
    if (json) printf("]");
}

/* --eval-noise on: the fixed evaluation noise sample of this split (the
 * one training's evaluations drew, dale_noise_stream), armed afresh so every
 * pass over the split sees the same sample. */
static void arm_eval_noise(dale_net *net, const dale_run_config *c, dale_split split)
{
    if (strcmp(c->eval_noise, "on")) return;
    dale_rng nr;
    dale_noise_stream(c->seed, 1, (uint64_t)split, &nr);
    dale_net_set_noise(net, &nr);
}

/* dale eval RUN --trials N: the NPZ of N samples. */
static int eval_trials(const char *run, const char *which, dale_run_config *c, dale_split split,
                       const char *split_name, size_t N, const char *out)
{
    char path[4200], outp[4200];
    int rc = 1;
    dale_task *task = NULL;
    dale_net *net = NULL;
    dale_npz *z = NULL;
    dale_trials tr;
    memset(&tr, 0, sizeof tr);
    snprintf(path, sizeof path, "%s/%s.npz", run, which);
    snprintf(outp, sizeof outp, "%s", out ? out : "");
    if (!out) snprintf(outp, sizeof outp, "%s/trials.npz", run);
    if (dale_task_from_config(c, &task) || dale_net_from_config(c, task, &net) || dale_npz_open(path, &z) ||
        dale_params_load(net, z, path))
        goto fail;
    if (N > task->count[split]) {
        fprintf(stderr, "dale eval: --trials %zu: the %s split of task %s has %zu samples%s\n", N, split_name,
                task->name, task->count[split],
                split == DALE_SPLIT_TRAIN ? "" : "; --seed S draws up to the training pool's size from data seed S");
        goto cleanup;
    }
    /* Everything is held in memory, then written: refuse what cannot fit. */
    double bytes = 4.0 * (double)N * (double)task->T *
                   (double)(task->input + 2 * task->output + 2 + dale_net_ncells(net) * c->hidden);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    double ram = pages > 0 && page > 0 ? (double)pages * (double)page : 0;
    if (ram > 0 && bytes > 0.5 * ram) {
        fprintf(stderr, "dale eval: --trials %zu needs about %.1f GB (half this machine's memory is %.1f GB); "
                        "ask for fewer trials\n", N, bytes / 1e9, 0.5 * ram / 1e9);
        goto cleanup;
    }
    size_t chunk = c->eval_batch > 0 ? (size_t)c->eval_batch : 256;
    arm_eval_noise(net, c, split);
    if (dale_trials_run(net, task, split, 0, N, chunk, 1, &tr) || dale_trials_save(&tr, outp)) goto fail;
    printf("%s: %zu %s samples of %s (%s.npz), %zu steps, %zu inputs, %zu outputs, %zu x %zu hidden\n", outp, N,
           split_name, task->name, which, tr.T, tr.input, tr.output, tr.ncells, tr.hidden);
    if (tr.trial) print_conditions(&tr, 0);
    rc = 0;
    goto cleanup;
fail:
    fprintf(stderr, "dale eval: %s\n", dale_last_error());
cleanup:
    dale_trials_free(&tr);
    dale_npz_close(z);
    dale_net_free(net);
    dale_task_free(task);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    cli_run_flags fl;
    int json;
    int prc = cli_run_flags_parse(argc, argv, "eval", eval_usage, &json, &fl);
    if (prc >= 0) return prc;
    const char *run = fl.run, *which = fl.which, *split_name = fl.split, *data = fl.data;
    const char *trials_s = fl.trials, *out_s = fl.out, *seed_s = fl.seed;
    dale_split split = !strcmp(split_name, "test") ? DALE_SPLIT_TEST
                       : !strcmp(split_name, "val") ? DALE_SPLIT_VAL
                                                    : DALE_SPLIT_TRAIN;
    if (strcmp(split_name, "test") && strcmp(split_name, "val") && strcmp(split_name, "train")) {
        fprintf(stderr, "dale eval: --split: expected test, val or train (got '%s')\n", split_name);
        return 2;
    }
    size_t ntrials = 0;
    unsigned long long seed = 0;
    if (trials_s && (cli_parse_count(trials_s, &ntrials) || ntrials == 0)) {
        fprintf(stderr, "dale eval: --trials: expected a number of trials >= 1 (got '%s')\n", trials_s);
        return 2;
    }
    if (seed_s && cli_parse_u64(seed_s, &seed)) {
        fprintf(stderr, "dale eval: --seed: expected a non-negative integer (got '%s')\n", seed_s);
        return 2;
    }
    if (!trials_s && (out_s || seed_s)) {
        fprintf(stderr, "dale eval: %s goes with --trials N\n", out_s ? "--out" : "--seed");
        return 2;
    }
    if (trials_s && json) {
        fprintf(stderr, "dale eval: --json does not go with --trials\n");
        return 2;
    }
    dale_run_config c;
    char path[4200];
    dale_config_defaults(&c);
    snprintf(path, sizeof path, "%s/config.json", run);
    if (dale_config_load_json(&c, path) || dale_config_resolve(&c)) {
        fprintf(stderr, "dale eval: %s\nhint: is %s a run directory written by dale train?\n", dale_last_error(), run);
        return 1;
    }
    if (data) snprintf(c.data, sizeof c.data, "%s", data);
    if (seed_s) {
        c.data_seed = (uint64_t)seed;
        split = DALE_SPLIT_TRAIN;
        split_name = "train";
    }
    dale_set_blas_threads(1);
    if (trials_s) return eval_trials(run, which, &c, split, split_name, ntrials, out_s);
    int rc = 1;
    dale_task *task = NULL;
    dale_net *net = NULL;
    dale_npz *z = NULL;
    dale_batch b;
    memset(&b, 0, sizeof b);
    double loss = 0, err = 0;
    snprintf(path, sizeof path, "%s/%s.npz", run, which);
    if (dale_task_from_config(&c, &task) || dale_net_from_config(&c, task, &net) || dale_npz_open(path, &z) ||
        dale_params_load(net, z, path))
        goto fail;
    if (task->count[split] == 0) {
        fprintf(stderr, "dale eval: task %s has no %s split in this run (split %s)%s\n", task->name, split_name,
                c.split, split == DALE_SPLIT_VAL ? "; validation exists with --split paper" : "");
        goto cleanup;
    }
    size_t chunk = (size_t)c.eval_batch;
    if (chunk > task->count[split]) chunk = task->count[split]; /* buffers no larger than the split */
    size_t sr = task->sample_rows[split] ? task->sample_rows[split] : 1;
    if (chunk < sr) chunk = sr; /* lm training windows fill `streams` rows each */
    /* Every-step cross-entropy (lm): also the perplexity exp(CE) (NaN above CE 20). */
    int lm = task->loss == DALE_LOSS_CE_EVERY;
    double ppl;
    arm_eval_noise(net, &c, split);
    if (dale_batch_init(&b, net, task, chunk) || dale_evaluate(&b, split, chunk, &loss, &err)) goto fail;
    ppl = dale_lm_perplexity(loss);
    dale_trials tr;
    memset(&tr, 0, sizeof tr);
    if (task->trial) arm_eval_noise(net, &c, split); /* the trials below see the evaluation's sample */
    if (task->trial && dale_trials_run(net, task, split, 0, task->count[split], chunk, 0, &tr)) goto fail;
    if (json) {
        char errs[32] = "null", ppls[48] = ""; /* error is undefined for MSE tasks */
        if (err == err) snprintf(errs, sizeof errs, "%.9g", err);
        if (lm && ppl == ppl) snprintf(ppls, sizeof ppls, ", \"perplexity\": %.9g", ppl);
        else if (lm) snprintf(ppls, sizeof ppls, ", \"perplexity\": null");
        printf("{\"run\": \"%s\", \"checkpoint\": \"%s\", \"split\": \"%s\", \"samples\": %zu, "
               "\"loss\": %.9g, \"error\": %s%s",
               run, which, split_name, task->count[split], loss, errs, ppls);
        if (tr.trial) print_conditions(&tr, 1);
        printf("}\n");
    } else if (lm)
        printf("%s (%s.npz): %s split, %zu samples: loss %.6f, perplexity %.3f, error %.2f %%\n",
               run, which, split_name, task->count[split], loss, ppl, err);
    else if (err == err)
        printf("%s (%s.npz): %s split, %zu samples: loss %.6f, error %.2f %%\n", run, which, split_name,
               task->count[split], loss, err);
    else
        printf("%s (%s.npz): %s split, %zu samples: loss %.6g\n", run, which, split_name, task->count[split], loss);
    if (tr.trial && !json) print_conditions(&tr, 0);
    dale_trials_free(&tr);
    rc = 0;
    goto cleanup;
fail:
    fprintf(stderr, "dale eval: %s\n", dale_last_error());
cleanup:
    dale_batch_free(&b);
    dale_npz_close(z);
    dale_net_free(net);
    dale_task_free(task);
    return rc;
}
