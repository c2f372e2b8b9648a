/* bench_update.c — CPU and wall time of one training update and of one
 * evaluation, in process, for any run config (the large shapes of make
 * bench's lm, objrec and threads parts).
 *
 * Whole `dale train` processes differenced over two run lengths include
 * their evaluations, whose cost moves with the training state (libm's exp
 * slows down where logits underflow); timing dale_trainer_step itself does
 * not.  One warm-up update, then U timed updates; then, when E > 0, E
 * evaluations as a run makes them: the validation split (where the task
 * has one) and the test split.
 *
 * usage: bench_update U E key=value ...   (keys as in config.json, e.g.
 *        task=lm model=rnn numerics=dale threads=2 data=data)
 * prints: cpu_s_per_update wall_s_per_update cpu_s_per_eval wall_s_per_eval
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dale/config.h"
#include "dale/linalg.h"
#include "dale/model.h"
#include "dale/rng.h"
#include "dale/trainer.h"

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const char *what)
{
    fprintf(stderr, "bench_update: %s: %s\n", what, dale_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_update UPDATES EVALS key=value ...\n");
        return 2;
    }
    long U = atol(argv[1]), E = atol(argv[2]);
    dale_run_config c;
    dale_config_defaults(&c);
    for (int i = 3; i < argc; i++) {
        char key[64];
        const char *eq = strchr(argv[i], '=');
        if (!eq || (size_t)(eq - argv[i]) >= sizeof key) {
            fprintf(stderr, "bench_update: expected key=value, got '%s'\n", argv[i]);
            return 2;
        }
        memcpy(key, argv[i], (size_t)(eq - argv[i]));
        key[eq - argv[i]] = '\0';
        if (dale_config_set(&c, key, eq + 1)) return fail(argv[i]);
    }
    if (dale_config_resolve(&c)) return fail("config");
    dale_set_threads((int)c.threads);
    dale_task *task = NULL;
    if (dale_task_from_config(&c, &task)) return fail("task");
    dale_net_config nc;
    dale_net *net = NULL;
    dale_trainer *tr = NULL;
    dale_update_policy pol;
    dale_schedule sch;
    dale_rng init;
    dale_rng_seed(&init, c.seed);
    if (dale_config_net(&c, task->input, task->output, task->input_mean, &nc) || dale_net_create(&nc, &net) ||
        dale_net_init(net, &init))
        return fail("network");
    if (dale_config_policy(&c, &pol)) return fail("policy");
    dale_config_schedule(&c, &sch);
    if (dale_trainer_create(net, task, &pol, &sch, c.seed, NULL, &tr)) return fail("trainer");
    dale_trainer_step_info info;
    if (dale_trainer_step(tr, &info)) return fail("warm-up update");
    double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    for (long u = 0; u < U; u++)
        if (dale_trainer_step(tr, &info)) return fail("update");
    double cu = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)(U > 0 ? U : 1);
    double wu = (clock_s(CLOCK_MONOTONIC) - w0) / (double)(U > 0 ? U : 1);
    double ce = 0, we = 0;
    if (E > 0) {
        c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        w0 = clock_s(CLOCK_MONOTONIC);
        for (long e = 0; e < E; e++) {
            double loss, err;
            if (task->count[DALE_SPLIT_VAL] && dale_trainer_evaluate(tr, DALE_SPLIT_VAL, &loss, &err))
                return fail("evaluation");
            if (dale_trainer_evaluate(tr, DALE_SPLIT_TEST, &loss, &err)) return fail("evaluation");
        }
        ce = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / (double)E;
        we = (clock_s(CLOCK_MONOTONIC) - w0) / (double)E;
    }
    printf("%.5f %.5f %.4f %.4f\n", cu, wu, ce, we);
    dale_trainer_free(tr);
    dale_net_free(net);
    dale_task_free(task);
    return 0;
}
