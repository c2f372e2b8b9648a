/* train_custom.c — train a Dale's-law network on a task of your own. */
#include <stdio.h>
#include <string.h>
#include "dale/trainer.h"

/* The task: 8 steps of 1 input in [0, 1); the target is the input's mean. */
static float value(dale_split split, size_t k, size_t t)
{
    unsigned h = (unsigned)(split * 7919u + k * 104729u + t * 15485863u);
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return (float)(h % 10000u) / 10000.0f;
}

static dale_status mean_batch(dale_task *t, dale_split split, const size_t *idx, size_t B,
                              float *x, float *yf, int32_t *yi)
{
    (void)yi; /* class labels: classification tasks only */
    for (size_t b = 0; b < B; b++) {
        if (idx[b] >= t->count[split]) return DALE_ERR_ARG;
        float sum = 0;
        for (size_t s = 0; s < t->T; s++) {
            x[s * B + b] = value(split, idx[b], s); /* x is (T, B, input) */
            sum += x[s * B + b];
        }
        yf[b] = sum / (float)t->T; /* yf is (B, output) */
    }
    return DALE_OK;
}

static dale_status on_eval(dale_trainer *tr, const dale_trainer_metrics *m, void *user)
{
    (void)tr;
    fprintf(user, "update %4ld  lr %.4f  train %.5f  test %.5f\n", m->updates, m->lr,
            m->train_loss, m->test_loss);
    return DALE_OK; /* anything else stops the run */
}

static dale_status on_checkpoint(dale_trainer *tr, void *user)
{
    (void)user;
    return dale_trainer_checkpoint_save(tr, "mean-checkpoint.npz");
}

int main(void)
{
    dale_task task;
    memset(&task, 0, sizeof task);
    task.name = "mean";
    task.T = 8;
    task.input = 1;
    task.output = 1;
    task.loss = DALE_LOSS_MSE_LAST;
    task.count[DALE_SPLIT_TRAIN] = 1000;
    task.count[DALE_SPLIT_TEST] = 200;
    task.input_mean = 0.5;
    task.batch = mean_batch;

    dale_net_config nc;
    dale_net_config_defaults(&nc);
    nc.type = DALE_MODEL_DANN;
    nc.input = task.input;
    nc.output = task.output;
    nc.hidden = 32;
    nc.input_mean = task.input_mean;

    const uint64_t seed = 1;
    dale_net *net = NULL;
    dale_trainer *tr = NULL;
    dale_rng init;
    dale_rng_seed(&init, seed);
    dale_set_blas_threads(1); /* reproducible sums */
    dale_status st = dale_net_create(&nc, &net);
    if (!st) st = dale_net_init(net, &init);

    dale_update_policy pol;
    dale_update_policy_default(DALE_MODEL_DANN, 1.0, &pol);
    dale_schedule s;
    dale_schedule_defaults(&s);
    s.lr = 0.1;
    s.batch = 32;
    s.epochs = 30;
    s.eval_every = 150;
    s.checkpoint_every = 300;
    dale_trainer_callbacks cb = {on_eval, on_checkpoint, NULL, stdout};
    if (!st) st = dale_trainer_create(net, &task, &pol, &s, seed, &cb, &tr);
    if (!st) st = dale_trainer_run(tr);
    if (!st && dale_trainer_diverged(tr)) printf("diverged: %s\n", dale_trainer_diverged(tr));
    double loss, err;
    if (!st) st = dale_trainer_evaluate(tr, DALE_SPLIT_TEST, &loss, &err);
    if (!st) printf("test MSE after %ld updates: %.5f\n", dale_trainer_updates(tr), loss);
    if (st) fprintf(stderr, "error: %s\n", dale_last_error());
    dale_trainer_free(tr);
    dale_net_free(net);
    return st ? 1 : 0;
}
