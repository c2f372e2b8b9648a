/* train.c — `dale train`: options -> resolved config -> dale_train_run. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "dale/config.h"
#include "dale/linalg.h"
#include "dale/sweep.h"
#include "dale/trainer.h"

static void train_usage(FILE *f)
{
    fputs("usage: dale train [--config FILE] [--resume] [--quiet] [--OPTION VALUE ...]\n\n"
          "Trains one network and writes config.json, metrics.csv, checkpoint.npz,\n"
          "final.npz and result.json into --out.  Options (also keys of config.json):\n\n",
          f);
    dale_config_print_help(f);
    fputs("\n  --config FILE        read options from a JSON object first (flags override it)\n"
          "  --resume             continue the run in --out from its checkpoint.npz (the\n"
          "                       run's own config.json is used; only --epochs and\n"
          "                       --max-updates may be given, to change the budget)\n"
          "  --quiet              no progress output\n"
          "  --dry-run            print the resolved config, the task's shape, the update\n"
          "                       count and the estimated CPU time and memory; train nothing\n",
          f);
}

/* --dry-run: what the run would be and cost, from the config alone. */
static int dry_run(const dale_run_config *c)
{
    dale_task_shape s;
    double p, a, d;
    char *json = NULL;
    if (dale_config_task_shape(c, &s) || dale_config_memory_estimate(c, &p, &a, &d) || dale_config_to_json(c, &json)) {
        fprintf(stderr, "dale train: %s\n", dale_last_error());
        return 1;
    }
    double secs = dale_run_seconds(c), upd = dale_run_updates(c);
    printf("task %s, model %s: %g steps (input on %g), input %g, output %g%s\n", c->task, c->model, s.T,
           s.Tin < s.T ? s.Tin : s.T, s.input, s.output, s.every_step ? ", loss at every step" : "");
    printf("samples: %g training%s, %g per evaluation\n", s.ntrain,
           s.rows > 1 ? " (each fills batch rows: one per update)" : "", s.neval);
    printf("updates: %.0f\n", upd);
    printf("estimated CPU seconds: %.3f (one core)\n", secs);
    printf("estimated memory GB: %.3f (parameters %.3f, activations %.3f, data %.3f)\n", (p + a + d) / 1e9, p / 1e9,
           a / 1e9, d / 1e9);
    printf("config: %s\n", json);
    dale_config_free_text(json);
    return 0;
}

int cmd_train(int argc, char **argv)
{
    dale_run_config c;
    dale_config_defaults(&c);
    int resume = 0, quiet = 0, dry = 0;
    const char *config_file = NULL;
    /* --config first, so that command-line flags override the file. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            train_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "dale train: --config needs a file\n");
                return 2;
            }
            config_file = argv[i + 1];
            if (dale_config_load_json(&c, argv[i + 1])) {
                fprintf(stderr, "dale train: %s\n", dale_last_error());
                return 2;
            }
        }
    }
    int flags = 0, have_config = 0;
    /* With --resume, only the budget may change: kept here, applied to the
     * run's own config.json below. */
    const char *budget_key[2] = {NULL, NULL}, *budget_val[2] = {NULL, NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) { i++; have_config = 1; continue; }
        if (!strcmp(a, "--resume")) { resume = 1; continue; }
        if (!strcmp(a, "--quiet")) { quiet = 1; continue; }
        if (!strcmp(a, "--dry-run")) { dry = 1; continue; }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "dale train: unexpected argument '%s' (options start with --)\n", a);
            return 2;
        }
        const char *key = a + 2, *eq = strchr(key, '=');
        char name[128];
        const char *val;
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - key), key);
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", key);
            if (!dale_config_has(name)) {
                fprintf(stderr, "dale train: unknown option '--%s' (see dale train --help)\n", name);
                return 2;
            }
            if (i + 1 >= argc) {
                fprintf(stderr, "dale train: option '--%s' needs a value\n", name);
                return 2;
            }
            val = argv[++i];
        }
        if (dale_config_set(&c, name, val)) {
            fprintf(stderr, "dale train: %s\n", dale_last_error());
            return 2;
        }
        if (!strcmp(name, "epochs") || !strcmp(name, "max_updates") || !strcmp(name, "max-updates")) {
            int k = !strcmp(name, "epochs") ? 0 : 1;
            budget_key[k] = k ? "max_updates" : "epochs";
            budget_val[k] = val;
        } else if (strcmp(name, "out")) {
            flags++;
        }
    }
    if (resume) {
        /* The run's own resolved config defines it; only --out may be given. */
        if (!c.out[0]) {
            fprintf(stderr, "dale train: --resume needs --out RUN_DIR\n");
            return 2;
        }
        if (flags || have_config) {
            fprintf(stderr, "dale train: --resume takes only --out and a new budget (--epochs, --max-updates): "
                            "the run's config.json defines the run\n");
            return 2;
        }
        char out[sizeof c.out], path[sizeof c.out + 16];
        snprintf(out, sizeof out, "%s", c.out);
        snprintf(path, sizeof path, "%s/config.json", out);
        dale_config_defaults(&c);
        if (dale_config_load_json(&c, path)) {
            fprintf(stderr, "dale train: %s\nhint: is %s a run directory written by dale train?\n",
                    dale_last_error(), out);
            return 1;
        }
        snprintf(c.out, sizeof c.out, "%s", out);
        /* A longer (or shorter) budget continues the same trajectory: the
         * checkpoint holds everything the loop carries. */
        for (int k = 0; k < 2; k++)
            if (budget_key[k] && dale_config_set(&c, budget_key[k], budget_val[k])) {
                fprintf(stderr, "dale train: %s\n", dale_last_error());
                return 2;
            }
    }
    if (dale_config_resolve(&c) || dale_config_check_memory(&c)) {
        fprintf(stderr, "dale train: %s\n", dale_last_error());
        if (config_file) fprintf(stderr, "hint: the options came from %s and the command line\n", config_file);
        return 2;
    }
    if (dry) return dry_run(&c);
    dale_set_blas_threads((int)c.threads); /* default 1 (docs/performance.md) */
    dale_train_options opt = {resume, quiet ? NULL : stderr, !quiet && isatty(2)};
    if (!quiet)
        fprintf(stderr, "dale train: task %s, model %s, %ld x %ld hidden, lr %g, clip %g (%s), seed %llu -> %s\n",
                c.task, c.model, c.layers, c.hidden, c.lr, c.clip, c.clip_scope,
                (unsigned long long)c.seed, c.out);
    if (dale_train_run(&c, &opt)) {
        fprintf(stderr, "dale train: %s\n", dale_last_error());
        if (resume)
            fprintf(stderr, "hint: the checkpoint may be damaged; start again without --resume\n");
        return 1;
    }
    FILE *f;
    char path[sizeof c.out + 16];
    snprintf(path, sizeof path, "%s/result.json", c.out);
    if (!quiet && (f = fopen(path, "r"))) {
        char line[256];
        while (fgets(line, sizeof line, f)) fputs(line, stderr);
        fclose(f);
    }
    return 0;
}
