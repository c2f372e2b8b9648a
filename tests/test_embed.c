/* test_embed.c — the config-by-name entry points (dale/embed.h): a heap
 * config, the network of `dale train` from option names, hidden states
 * after a forward and when they are refused, a trainer from a config. */
#include <math.h>
#include <string.h>
#include "check.h"
#include "dale/embed.h"
#include "dale/linalg.h"
#include "dale/rng.h"
#include "dale/status.h"
#include "dale/task.h"

static dale_run_config *config(const char *model)
{
    dale_run_config *c = NULL;
    CHECK_OK(dale_config_create(&c));
    CHECK_OK(dale_config_set(c, "model", model));
    CHECK_OK(dale_config_set(c, "hidden", "12"));
    CHECK_OK(dale_config_set(c, "adding_n", "200"));
    CHECK_OK(dale_config_set(c, "adding_test", "50"));
    CHECK_OK(dale_config_set(c, "max_updates", "5"));
    CHECK_OK(dale_config_set(c, "seed", "7"));
    CHECK_OK(dale_config_resolve(c));
    return c;
}

static void test_net_as_dale_train(void)
{
    const char *models[] = {"rnn", "colei", "dann"};
    for (int k = 0; k < 3; k++) {
        dale_run_config *c = config(models[k]);
        dale_task *task = NULL;
        CHECK_OK(dale_task_from_config(c, &task));
        dale_net *a = NULL, *b = NULL;
        CHECK_OK(dale_net_create_widths(c, task->input, task->output, task->input_mean, &a));
        CHECK_OK(dale_net_init_seed(a, 7));
        CHECK_OK(dale_net_from_config(c, task, &b));
        dale_rng r;
        dale_rng_seed(&r, 7);
        CHECK_OK(dale_net_init(b, &r));
        CHECK(dale_net_size(a) == dale_net_size(b) &&
                  !memcmp(dale_net_theta(a), dale_net_theta(b), dale_net_size(a) * sizeof(float)),
              "%s: dale_net_create_widths + dale_net_init_seed = dale_net_from_config + init(rng(seed))", models[k]);
        /* the trainer of the config makes the same updates on both */
        dale_trainer *ta = NULL;
        CHECK_OK(dale_trainer_create_config(a, task, c, NULL, &ta));
        CHECK_OK(dale_trainer_run(ta));
        CHECK(dale_trainer_updates(ta) == 5, "%s: 5 updates (max_updates of the config)", models[k]);
        /* adding: lr 0.1, times 0.99 after batch 0 of each epoch (3 batches of 64
         * per epoch here, so 5 updates pass two epoch starts) */
        CHECK(fabs(dale_trainer_lr(ta) - 0.1 * 0.99 * 0.99) < 1e-12, "%s: lr from the task's defaults (%g)", models[k],
              dale_trainer_lr(ta));
        dale_trainer_free(ta);
        dale_net_free(a);
        dale_net_free(b);
        dale_task_free(task);
        dale_config_free(c);
    }
}

static void test_hidden(void)
{
    dale_run_config *c = config("rnn");
    dale_net *net = NULL;
    CHECK_OK(dale_net_create_widths(c, 3, 2, 0.0, &net));
    CHECK_OK(dale_net_init_seed(net, 1));
    const float *h = NULL;
    size_t T = 0, B = 0;
    CHECK(dale_net_hidden(net, 0, &h, &T, &B) == DALE_ERR_STATE, "no forward yet: DALE_ERR_STATE");
    CHECK_OK(dale_net_plan(net, 4, 2));
    float x[4 * 2 * 3];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)((i * 7) % 5) / 5.0f - 0.3f;
    const float *out = NULL;
    CHECK_OK(dale_net_forward(net, x, 4, 2, 1, &out));
    CHECK_OK(dale_net_hidden(net, 0, &h, &T, &B));
    CHECK(T == 4 && B == 2, "sizes of the forward (%zu, %zu)", T, B);
    /* h_1 = relu(U x_1 + b) (h_0 = 0), checked for both rows */
    float W[12 * 12], U[12 * 3];
    CHECK_OK(dale_net_effective(net, 0, W, U));
    const float *b = dale_net_theta(net) + dale_net_param(net, (size_t)dale_net_find(net, "cell0.b"))->offset;
    double worst = 0;
    for (size_t r = 0; r < 2; r++)
        for (size_t i = 0; i < 12; i++) {
            double z = (double)b[i];
            for (size_t j = 0; j < 3; j++) z += (double)U[i * 3 + j] * (double)x[r * 3 + j];
            double want = z > 0 ? z : 0;
            double d = fabs(want - (double)h[r * 12 + i]);
            if (d > worst) worst = d;
        }
    CHECK(worst < 1e-5, "first hidden state is relu(U x_1 + b) (worst %g)", worst);
    CHECK(dale_net_hidden(net, 1, &h, &T, &B) == DALE_ERR_ARG, "cell 1 of a 1-cell net: DALE_ERR_ARG");
    CHECK(strstr(dale_last_error(), "cell 1") != NULL, "the message names the cell: %s", dale_last_error());
    CHECK(dale_net_hidden(net, 0, NULL, &T, &B) == DALE_ERR_ARG, "NULL h: DALE_ERR_ARG");
    float dout[4 * 2 * 2] = {0};
    dale_net_zero_grad(net);
    CHECK_OK(dale_net_backward(net, dout));
    CHECK(dale_net_hidden(net, 0, &h, &T, &B) == DALE_ERR_STATE, "after a backward: DALE_ERR_STATE");
    dale_net_free(net);
    dale_config_free(c);
}

static void test_errors(void)
{
    CHECK(dale_config_create(NULL) == DALE_ERR_ARG, "dale_config_create(NULL)");
    dale_config_free(NULL);
    dale_net *net = (dale_net *)1;
    CHECK(dale_net_create_widths(NULL, 1, 1, 0, &net) == DALE_ERR_ARG && net == NULL, "NULL config");
    dale_run_config *c = config("colei");
    CHECK(dale_net_create_widths(c, 0, 1, 0, &net) == DALE_ERR_ARG, "input width 0");
    CHECK(dale_net_init_seed(NULL, 0) == DALE_ERR_ARG, "init of NULL");
    dale_trainer *tr = (dale_trainer *)1;
    CHECK(dale_trainer_create_config(NULL, NULL, NULL, NULL, &tr) == DALE_ERR_ARG && tr == NULL,
          "trainer from a NULL config");
    /* an unresolved config is refused by the policy mapping, naming the option */
    dale_run_config *raw = NULL;
    CHECK_OK(dale_config_create(&raw));
    CHECK_OK(dale_net_create_widths(c, 2, 1, 0, &net));
    dale_task *task = NULL;
    CHECK_OK(dale_task_from_config(c, &task));
    CHECK(dale_trainer_create_config(net, task, raw, NULL, &tr) == DALE_ERR_ARG &&
              strstr(dale_last_error(), "clip-scope") != NULL,
          "unresolved config: %s", dale_last_error());
    dale_task_free(task);
    dale_net_free(net);
    dale_config_free(raw);
    dale_config_free(c);
}

int main(void)
{
    dale_set_blas_threads(1);
    test_net_as_dale_train();
    test_hidden();
    test_errors();
    return check_done("test_embed");
}
