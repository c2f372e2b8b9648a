/* masked_task.c — a fixation/response task from caller-owned arrays, with
 * per-step loss weights (no loss while the network fixates), trained by the
 * library's trainer.  Build: make examples; run: build/examples/masked_task. */
#include <stdio.h>
#include "dale/trainer.h"

enum { N = 256, T = 10, F = 4 }; /* F fixation steps, then the response */
static float x[N][T][2], w[N][T];
static int32_t y[N][T];

int main(void)
{
    for (int s = 0; s < N; s++)
        for (int t = 0; t < T; t++) {
            int sign = s % 2;                     /* the stimulus to report */
            x[s][t][0] = t < F ? (sign ? 0.5f : -0.5f) : 0.0f;
            x[s][t][1] = t < F ? 1.0f : 0.0f;     /* fixation cue */
            w[s][t] = t < F ? 0.0f : 1.0f;        /* no loss while fixating */
            y[s][t] = t < F ? -1 : sign;          /* never read where w = 0 */
        }
    dale_arrays_task_config tc = {
        .name = "fixation", .N = N, .T = T, .input = 2, .output = 2,
        .loss = DALE_LOSS_CE_WEIGHTED, .x = &x[0][0][0], .yi = &y[0][0], .w = &w[0][0],
        .n_train = 192, .n_val = 32, .n_test = 32};
    dale_net_config nc;
    dale_net_config_defaults(&nc);
    nc.type = DALE_MODEL_DANN;
    nc.input = 2;
    nc.hidden = 20;
    nc.output = 2;
    dale_task *task = NULL;
    dale_net *net = NULL;
    dale_trainer *tr = NULL;
    dale_rng rng;
    dale_rng_seed(&rng, 1);
    dale_update_policy pol;
    dale_update_policy_default(DALE_MODEL_DANN, 1.0, &pol);
    dale_schedule sch;
    dale_schedule_defaults(&sch);
    sch.lr = 0.05;
    sch.batch = 32;
    sch.epochs = 50;
    sch.eval_every = 100;
    dale_status st = dale_task_arrays_create(&tc, &task);
    if (!st) st = dale_net_create(&nc, &net);
    if (!st) st = dale_net_init(net, &rng);
    if (!st) st = dale_trainer_create(net, task, &pol, &sch, 1, NULL, &tr);
    if (!st) st = dale_trainer_run(tr);
    double loss = 0, err = 0; /* err: % wrong over the response steps of the test split */
    if (!st) st = dale_trainer_evaluate(tr, DALE_SPLIT_TEST, &loss, &err);
    if (st) fprintf(stderr, "masked_task: %s\n", dale_last_error());
    else printf("test loss %.4f, error %.1f %% on the response steps\n", loss, err);
    dale_trainer_free(tr);
    dale_net_free(net);
    dale_task_free(task);
    return st ? 1 : 0;
}
