/* train.c — `dale train`: options -> resolved config -> dale_train_run. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "dale/config.h"
#include "dale/linalg.h"
#include "dale/npy.h"
#include "dale/sweep.h"
#include "dale/trainer.h"

static void train_usage(FILE *f)
{
    fputs("usage: dale train [--config FILE] [--resume | --force] [--quiet] [--OPTION VALUE ...]\n\n"
          "Trains one network and writes config.json, metrics.csv, checkpoint.npz,\n"
          "final.npz and result.json into --out.  Options (also keys of config.json):\n\n",
          f);
    dale_config_print_help(f);
    fputs("\n  --config FILE        read options from a JSON object first (flags override it)\n"
          "  --resume             continue the run in --out from its checkpoint.npz (the\n"
          "                       run's own config.json is used; only --epochs and\n"
          "                       --max-updates may be given, to change the budget)\n"
          "  --force              --out holds a run or other files: move it aside to\n"
          "                       OUT.old-N (the first free N) and train afresh; nothing\n"
          "                       is deleted.  Without --force or --resume such a\n"
          "                       directory is refused (exit 1) and left as it is\n"
          "  --quiet              no progress output\n"
          "  --dry-run            print the resolved config, the task's shape, the update\n"
          "                       count and the estimated CPU time and memory; train nothing\n\n"
          "SIGINT (Ctrl-C) or SIGTERM: the update in progress is finished, the checkpoint\n"
          "saved at it, and dale train exits 130 (143 for SIGTERM) with the command that\n"
          "continues the run; a second signal ends it at once (the last checkpoint stays).\n"
          "Exit status: 0 done (also when the run diverged; result.json says so), 1 error\n"
          "or a refused --out, 2 usage error, 130 / 143 interrupted.\n",
          f);
}

/* The path quoted for a POSIX shell: 'a b' -> 'a b', it's -> 'it'\''s'. */
static void shell_quote(const char *s, char *buf, size_t cap)
{
    size_t k = 0;
    if (cap < 3) { if (cap) buf[0] = '\0'; return; }
    buf[k++] = '\'';
    for (; *s && k + 6 < cap; s++) {
        if (*s == '\'') {
            memcpy(buf + k, "'\\''", 4);
            k += 4;
        } else buf[k++] = *s;
    }
    buf[k++] = '\'';
    buf[k] = '\0';
}

/* SIGINT / SIGTERM: the first asks the run to stop after its update (it
 * saves its checkpoint); a second ends the process at once. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    if (stop_signal) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_signal = sig;
    static const char msg[] = "\ndale train: stopping after this update (a second signal ends it at once)\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
}

/* Refuse an --out that holds a run or other files: say what is there and
 * the ways on. */
static void refuse_out(const dale_run_config *c, dale_train_dir kind, const char *what, const char *const budget_key[2],
                       const char *const budget_val[2])
{
    char q[8400];
    shell_quote(c->out, q, sizeof q);
    fprintf(stderr, "dale train: --out %s already holds %s.\nIt is not overwritten. Ways on:\n", c->out, what);
    if (kind == DALE_TRAIN_DIR_SAME) {
        fprintf(stderr, "  dale train --resume --out %s", q);
        for (int k = 0; k < 2; k++)
            if (budget_key[k]) fprintf(stderr, " --%s %s", k ? "max-updates" : "epochs", budget_val[k]);
        fprintf(stderr, "\n      continue that run (its own config.json; a finished one only with a larger\n"
                        "      --epochs or --max-updates)\n");
    }
    fprintf(stderr, "  --out ANOTHER_DIR\n      train into a new or empty directory\n"
                    "  --force\n      move %s aside to %s.old-N (the first free N; nothing is deleted) and\n"
                    "      train afresh in %s\n",
            c->out, c->out, c->out);
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
    int resume = 0, quiet = 0, dry = 0, force = 0;
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
        if (!strcmp(a, "--force")) { force = 1; continue; }
        if (!strcmp(a, "--quiet")) { quiet = 1; continue; }
        if (!strcmp(a, "--dry-run")) { dry = 1; continue; }
        if (!strcmp(a, "--no-autapses")) { /* the flag form of --autapses off */
            if (dale_config_set(&c, "autapses", "off")) return 2;
            flags++;
            continue;
        }
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
                char near[64], flag[64] = "";
                if (dale_config_nearest(name, near, sizeof near)) {
                    size_t k = 0;
                    for (; near[k] && k + 1 < sizeof flag; k++) flag[k] = near[k] == '_' ? '-' : near[k];
                    flag[k] = '\0';
                }
                fprintf(stderr, "dale train: unknown option '--%s'%s%s%s (see dale train --help)\n", name,
                        flag[0] ? "; did you mean --" : "", flag, flag[0] ? "?" : "");
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
    if (resume && force) {
        fprintf(stderr, "dale train: --resume continues the run in --out, --force moves it aside: give one\n");
        return 2;
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
    if (dale_config_resolve(&c) || dale_config_check_memory(&c) || dale_config_check_masks(&c)) {
        fprintf(stderr, "dale train: %s\n", dale_last_error());
        if (config_file) fprintf(stderr, "hint: the options came from %s and the command line\n", config_file);
        return 2;
    }
    if (dry) return dry_run(&c);
    dale_set_threads((int)c.threads); /* default 1 (docs/performance.md) */
    if (!resume) {
        /* A run (or anything else) in --out is never overwritten silently. */
        dale_train_dir kind;
        char what[1024];
        if (dale_train_dir_prepare(&c, force, &kind, what, sizeof what)) {
            fprintf(stderr, "dale train: %s\n", dale_last_error());
            return 1;
        }
        if (kind == DALE_TRAIN_DIR_MOVED) fprintf(stderr, "dale train: --force: %s held %s\n", c.out, what);
        else if (kind != DALE_TRAIN_DIR_FREE) {
            refuse_out(&c, kind, what, budget_key, budget_val);
            return 1;
        }
    }
    dale_train_options opt = {resume, quiet ? NULL : stderr, !quiet && isatty(2), 0, &stop_signal};
    char clip[160];
    if (c.clip > 0) snprintf(clip, sizeof clip, "clip %g (%s)", c.clip, c.clip_scope);
    else snprintf(clip, sizeof clip, "no clipping");
    if (!quiet)
        fprintf(stderr, "dale train: task %s, model %s, %ld x %ld hidden, lr %g, %s, seed %llu -> %s\n", c.task,
                c.model, c.layers, c.hidden, c.lr, clip, (unsigned long long)c.seed, c.out);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    dale_status st = dale_train_run(&c, &opt);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (st && stop_signal && st == DALE_ERR_STATE) {
        char q[8400];
        shell_quote(c.out, q, sizeof q);
        long m = dale_checkpoint_update(c.out);
        fprintf(stderr, "dale train: interrupted at update %ld; the checkpoint at update %ld is kept; "
                        "continue with: dale train --resume --out %s\n", m, m, q);
        return 128 + (int)stop_signal;
    }
    if (st) {
        fprintf(stderr, "dale train: %s\n", dale_last_error());
        if (resume) {
            /* Only a checkpoint that failed to load is worth giving up;
             * after any other error (disk full, permissions) it is intact,
             * and starting again would throw the run away. */
            const char *e = dale_last_error();
            int ckpt = strstr(e, "checkpoint.npz") != NULL &&
                       (st == DALE_ERR_FORMAT || strstr(e, "No such file") != NULL);
            char q[8400];
            shell_quote(c.out, q, sizeof q);
            if (ckpt)
                fprintf(stderr, "hint: the checkpoint may be damaged; start again without --resume\n");
            else if (st == DALE_ERR_IO)
                fprintf(stderr, "hint: the checkpoint is intact; free space or fix permissions, then resume again: "
                                "dale train --resume --out %s\n", q);
            else
                fprintf(stderr, "hint: the checkpoint is intact; fix the problem above, then resume again: "
                                "dale train --resume --out %s\n", q);
        }
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
