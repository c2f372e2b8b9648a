/* dale/task.h — tasks: where batches come from.
 *
 * A task knows its sequence length T, input width d, output width m, its loss
 * and its splits; it knows nothing of model types.  Batches are time-major:
 * x is (T, B, d).  Targets: MSE tasks fill yf (B, m); classification tasks
 * fill yi (B) for last-step losses or (T, B) for every-step losses.
 * Samples are addressed by index within a split, so the trainer owns the
 * shuffling (and its RNG) and a run is reproducible from its seed.
 */
#ifndef DALE_TASK_H
#define DALE_TASK_H

#include <stddef.h>
#include <stdint.h>
#include "dale/status.h"
#include "dale/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dale_split { DALE_SPLIT_TRAIN, DALE_SPLIT_VAL, DALE_SPLIT_TEST } dale_split;

typedef struct dale_task dale_task;
struct dale_task {
    const char *name;
    size_t T, input, output;
    dale_loss_kind loss;
    size_t count[3]; /* samples per split (0: split absent) */
    double input_mean; /* dataset mean of the inputs (ColEI bias centering) */
    /* Fill x (T, B, d) and targets for samples idx[0..B) of `split`.  On an
     * error (an index out of range) x and the targets may be partly written. */
    dale_status (*batch)(dale_task *t, dale_split split, const size_t *idx, size_t B, float *x,
                         float *yf, int32_t *yi);
    void (*destroy)(dale_task *t);
    void *impl;
    /* Optional, for tasks whose samples are not single fixed-length
     * sequences (lm): sample_rows[s] is the number of batch rows one sample
     * of split s fills (0 means 1; when the training value is > 1 an update
     * takes exactly one sample); steps, when set, gives the time steps
     * (1..T) of the batch of samples idx[0..B), and `batch` then fills x and
     * the targets for that many steps (rows packed as for a T of that size). */
    size_t sample_rows[3];
    size_t (*steps)(const dale_task *t, dale_split split, const size_t *idx, size_t B);
    const char *summary; /* one line about the loaded data for logs (NULL: none) */
};

DALE_API void dale_task_free(dale_task *t); /* NULL-safe */

/* Adding problem (spec §4.1): N sequences of length T; input at step t is
 * (value_t, mark_t), value ~ U[0,1], exactly two marks chosen uniformly
 * without replacement; target = sum of the two marked values; MSE at the
 * last step.  Generated from `data_seed`.  Splits: paper_split = 0 (the
 * reference code): the last n_test sequences are the test set, the rest
 * train, no validation; paper_split = 1: train / val / test = N - 2 n_test,
 * n_test, n_test (8000/1000/1000 for N = 10000). */
typedef struct dale_adding_config {
    size_t N, T, n_test;
    uint64_t data_seed;
    int paper_split;
} dale_adding_config;
DALE_API dale_status dale_task_adding_create(const dale_adding_config *cfg, dale_task **out);

/* Sequential MNIST / Fashion-MNIST (spec §4.2).  Reads the four IDX files
 * (plain or .gz) from `dir`: train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte.  Pixels stay uint8 in
 * memory and are scaled to [0, 1] (/255, nothing else) per batch.
 * variant: 0 row-wise (T = 28 steps of 28 pixels, top row first), 1 pixel-wise
 * (T = 784 steps of 1, row-major), 2 permuted pixel-wise (a fixed permutation
 * drawn from perm_seed).  Cross-entropy at the last step.
 * Splits: paper_split = 0 (reference): train 60000, test 10000, no
 * validation; 1: 10000 training images chosen by a shuffle seeded with
 * val_seed are held out as validation (train 50000). */
typedef struct dale_seqmnist_config {
    const char *dir;
    int variant;
    uint64_t perm_seed;
    int paper_split;
    uint64_t val_seed;
} dale_seqmnist_config;
DALE_API dale_status dale_task_seqmnist_create(const dale_seqmnist_config *cfg, dale_task **out);

#ifdef __cplusplus
}
#endif
#endif
