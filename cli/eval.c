/* eval.c — `dale eval RUN_DIR`: loss and error of a saved network on a split.
 *
 * Rebuilds the task and the network from RUN_DIR/config.json exactly as the
 * trainer does (dale_task_from_config, dale_net_from_config), loads the
 * parameters of final.npz or checkpoint.npz and evaluates in chunks of the
 * run's eval_batch (chunking does not change the result). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
          "  --json                          print one JSON object instead of text\n",
          f);
}

int cmd_eval(int argc, char **argv)
{
    const char *run = NULL, *which = "final", *split_name = "test", *data = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            eval_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) { json = 1; continue; }
        const char **dst = !strcmp(a, "--checkpoint") ? &which
                           : !strcmp(a, "--split")    ? &split_name
                           : !strcmp(a, "--data")     ? &data
                                                      : NULL;
        if (dst) {
            if (i + 1 >= argc) {
                fprintf(stderr, "dale eval: %s needs a value\n", a);
                return 2;
            }
            *dst = argv[++i];
            continue;
        }
        if (!strncmp(a, "--", 2)) {
            fprintf(stderr, "dale eval: unknown option '%s' (see dale eval --help)\n", a);
            return 2;
        }
        if (run) {
            fprintf(stderr, "dale eval: one run directory only (got '%s' and '%s')\n", run, a);
            return 2;
        }
        run = a;
    }
    if (!run) {
        eval_usage(stderr);
        return 2;
    }
    if (strcmp(which, "final") && strcmp(which, "checkpoint")) {
        fprintf(stderr, "dale eval: --checkpoint: expected final or checkpoint (got '%s')\n", which);
        return 2;
    }
    dale_split split = !strcmp(split_name, "test") ? DALE_SPLIT_TEST
                       : !strcmp(split_name, "val") ? DALE_SPLIT_VAL
                                                    : DALE_SPLIT_TRAIN;
    if (strcmp(split_name, "test") && strcmp(split_name, "val") && strcmp(split_name, "train")) {
        fprintf(stderr, "dale eval: --split: expected test, val or train (got '%s')\n", split_name);
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
    dale_set_blas_threads(1);
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
    if (!strcmp(c.eval_noise, "on")) { /* the evaluation noise sample training used (dale_noise_stream) */
        dale_rng nr;
        dale_noise_stream(c.seed, 1, (uint64_t)split, &nr);
        dale_net_set_noise(net, &nr);
    }
    if (dale_batch_init(&b, net, task, chunk) || dale_evaluate(&b, split, chunk, &loss, &err)) goto fail;
    ppl = dale_lm_perplexity(loss);
    if (json) {
        char errs[32] = "null", ppls[48] = ""; /* error is undefined for MSE tasks */
        if (err == err) snprintf(errs, sizeof errs, "%.9g", err);
        if (lm && ppl == ppl) snprintf(ppls, sizeof ppls, ", \"perplexity\": %.9g", ppl);
        else if (lm) snprintf(ppls, sizeof ppls, ", \"perplexity\": null");
        printf("{\"run\": \"%s\", \"checkpoint\": \"%s\", \"split\": \"%s\", \"samples\": %zu, "
               "\"loss\": %.9g, \"error\": %s%s}\n",
               run, which, split_name, task->count[split], loss, errs, ppls);
    } else if (lm)
        printf("%s (%s.npz): %s split, %zu samples: loss %.6f, perplexity %.3f, error %.2f %%\n",
               run, which, split_name, task->count[split], loss, ppl, err);
    else if (err == err)
        printf("%s (%s.npz): %s split, %zu samples: loss %.6f, error %.2f %%\n", run, which, split_name,
               task->count[split], loss, err);
    else
        printf("%s (%s.npz): %s split, %zu samples: loss %.6g\n", run, which, split_name, task->count[split], loss);
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
