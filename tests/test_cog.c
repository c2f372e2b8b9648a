/* test_cog.c — the cognitive tasks pdm, cdm and dms (src/tasks/cog.c), their
 * scoring and the psychometric logistic fit.
 *
 * 1. Period lengths in steps for several dt (round to nearest, at least 1).
 * 2. Balanced conditions: trial i has condition i mod ncond (exact counts
 *    over many trials); cdm's truth follows the cued modality; cdm's delay
 *    lies in [min, max) with the truncated exponential's mean; dms's
 *    non-matching test stimulus differs from the sample, uniformly.
 * 3. Determinism: the same data_seed gives the same bits (also for a batch
 *    in another order, with repeats), another seed other noise; the
 *    splits differ.
 * 4. Inputs with noise off: the go cue (fixation input 1 until the decision
 *    period, 0 from its first step and in the padding), the evidence
 *    levels, the context inputs, the dms one-hot stimuli; the noise sd is
 *    sigma/sqrt(dt) with noise on.
 * 5. Labels and weights: fixate before the decision period, the choice in
 *    it, weight 1 / decision weight / 0 on the padding (cdm batches padded
 *    to their longest trial).
 * 6. dale_trial_outcome on hand-made outputs: correct, wrong, broken
 *    fixation, ties, the decision-period mean, refusals.
 * 7. The score hook through dale_evaluate: the error is over trials and
 *    agrees with dale_trials_run's outcomes; trials' arrays and hidden
 *    states match a plain forward.
 * 8. dale_logistic_fit: exact expected counts give back slope and intercept,
 *    sampled counts lie within a few standard errors, separable data are
 *    flagged, bad input is refused.
 * 9. Bad task options refused with a message naming the option.
 * 10. The grace period (--<task>-grace): weight 0 exactly at the first grace
 *     steps of the decision period, everything else (inputs, labels, other
 *     weights) as without it; the default is no grace; ms rounded to the
 *     nearest step; the scorer skips the grace steps for the choice and
 *     still checks every step before the go cue; bad values refused.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dale/config.h"
#include "dale/eval.h"
#include "dale/model.h"
#include "dale/rng.h"
#include "dale/stats.h"
#include "dale/task.h"
#include "dale/trainer.h"
#include "internal.h"

/* A task from options "k=v" (NULL-terminated), NULL when refused (the
 * message is then in dale_last_error). */
static dale_task *make(const char *task, const char *const *kv, dale_run_config *cfg)
{
    dale_run_config c;
    dale_config_defaults(&c);
    if (dale_config_set(&c, "task", task)) return NULL;
    for (size_t i = 0; kv && kv[i]; i += 2)
        if (dale_config_set(&c, kv[i], kv[i + 1])) return NULL;
    if (dale_config_resolve(&c)) return NULL;
    dale_task *t = NULL;
    if (dale_task_from_config(&c, &t)) return NULL;
    if (cfg) *cfg = c;
    return t;
}

static void trial_of(dale_task *t, dale_split s, size_t i, dale_trial *tr)
{
    CHECK_OK(t->trial(t, s, i, tr));
}

/* ------------------------------------------------------ 1: periods */

static void test_periods(void)
{
    static const struct {
        const char *task, *dt;
        size_t steps[5], T;
    } cases[] = {
        {"pdm", "20", {5, 100, 5}, 110},
        {"pdm", "10", {10, 200, 10}, 220},
        {"pdm", "7", {14, 286, 14}, 314},       /* 14.29, 285.7, 14.29 */
        {"pdm", "1000", {1, 2, 1}, 4},          /* 0.1 -> at least 1 step */
        {"dms", "20", {15, 25, 50, 25, 45}, 160},
        {"dms", "100", {3, 5, 10, 5, 9}, 32},
        {"cdm", "20", {15, 38, 0, 5}, 15 + 38 + 150 + 5}, /* 37.5 rounds up; delay varies */
        {"cdm", "50", {6, 15, 0, 2}, 6 + 15 + 60 + 2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *kv[] = {"dt", cases[k].dt, NULL};
        dale_task *t = make(cases[k].task, kv, NULL);
        CHECK(t != NULL, "%s dt %s: %s", cases[k].task, cases[k].dt, dale_last_error());
        if (!t) continue;
        CHECK(t->T == cases[k].T, "%s dt %s: T %zu, want %zu", cases[k].task, cases[k].dt, t->T, cases[k].T);
        int bad = 0;
        for (size_t i = 0; i < 200; i++) {
            dale_trial tr;
            trial_of(t, DALE_SPLIT_TRAIN, i, &tr);
            for (size_t p = 0; p < tr.nperiods; p++) {
                size_t len = tr.start[p + 1] - tr.start[p];
                if (cases[k].steps[p] ? len != cases[k].steps[p] : len < 1) bad++;
            }
            if (tr.len != tr.start[tr.nperiods] || tr.len > t->T || tr.start[0] != 0) bad++;
        }
        CHECK(bad == 0, "%s dt %s: %d period lengths off", cases[k].task, cases[k].dt, bad);
        dale_task_free(t);
    }
    /* names and counts of the periods */
    dale_task *t = make("dms", NULL, NULL);
    if (t) {
        dale_trial tr;
        trial_of(t, DALE_SPLIT_TEST, 0, &tr);
        CHECK(tr.nperiods == 5 && !strcmp(tr.period[0], "fixation") && !strcmp(tr.period[3], "test") &&
                  !strcmp(tr.period[4], "decision"),
              "dms periods");
        CHECK(t->input == 3 && t->output == 3 && t->loss == DALE_LOSS_CE_WEIGHTED, "dms shape");
        dale_task_free(t);
    }
}

/* ---------------------------------------------- 2: balanced conditions */

static void test_balance(void)
{
    dale_task *t = make("pdm", NULL, NULL);
    if (t) {
        size_t cnt[2][5] = {{0}};
        int bad = 0;
        static const double coh[5] = {0, 6.4, 12.8, 25.6, 51.2};
        for (size_t i = 0; i < 1000; i++) {
            dale_trial tr;
            trial_of(t, DALE_SPLIT_TRAIN, i, &tr);
            size_t c = 0;
            while (c < 5 && fabs(fabs(tr.coh[0]) - coh[c]) > 1e-12) c++;
            if (c == 5 || tr.truth < 0 || tr.truth > 1 || tr.dir[0] != tr.truth || tr.context != -1) {
                bad++;
                continue;
            }
            if (tr.coh[0] != 0 && (tr.coh[0] > 0) != (tr.truth == 1)) bad++;
            cnt[tr.truth][c]++;
        }
        for (int g = 0; g < 2; g++)
            for (int c = 0; c < 5; c++) bad += cnt[g][c] != 100;
        CHECK(bad == 0, "pdm: 1000 trials, each of 10 conditions 100 times, coherence signed by the truth (%d off)",
              bad);
        dale_task_free(t);
    }
    t = make("cdm", NULL, NULL);
    if (t) {
        size_t cnt[72] = {0}, truth1 = 0;
        int bad = 0;
        double dsum = 0;
        size_t dmin = SIZE_MAX, dmax = 0, N = 7200;
        for (size_t i = 0; i < N; i++) {
            dale_trial tr;
            trial_of(t, DALE_SPLIT_TRAIN, i, &tr);
            if (tr.cond < 0 || tr.cond >= 72 || tr.context < 0 || tr.context > 1 || tr.truth != tr.dir[tr.context]) {
                bad++;
                continue;
            }
            cnt[tr.cond]++;
            truth1 += tr.truth == 1;
            for (int m = 0; m < 2; m++)
                if ((tr.coh[m] > 0) != (tr.dir[m] == 1)) bad++;
            size_t d = tr.start[3] - tr.start[2];
            dsum += (double)d;
            if (d < dmin) dmin = d;
            if (d > dmax) dmax = d;
        }
        for (int c = 0; c < 72; c++) bad += cnt[c] != 100;
        CHECK(bad == 0 && truth1 == N / 2, "cdm: 72 conditions 100 times each, truth = the cued direction (%d off)",
              bad);
        /* truncated exponential, mean 600 in [300, 3000): E = 300 + 600 - 2700 e^-4.5/(1 - e^-4.5) ms */
        double want = (900.0 - 2700.0 * exp(-4.5) / (1 - exp(-4.5))) / 20.0;
        CHECK(dmin >= 15 && dmax <= 150 && fabs(dsum / (double)N - want) < 1.5,
              "cdm delay: steps in [%zu, %zu], mean %.2f (want [15, 150], mean %.2f)", dmin, dmax, dsum / (double)N,
              want);
        dale_task_free(t);
    }
    const char *kv[] = {"dms_stimuli", "3", NULL};
    t = make("dms", kv, NULL);
    if (t) {
        size_t match = 0, test_of[3][3] = {{0}};
        int bad = 0;
        for (size_t i = 0; i < 6000; i++) {
            dale_trial tr;
            trial_of(t, DALE_SPLIT_TRAIN, i, &tr);
            int m = tr.stim[0] == tr.stim[1];
            if (tr.truth != (m ? 0 : 1) || tr.stim[0] < 0 || tr.stim[0] > 2 || tr.stim[1] < 0 || tr.stim[1] > 2) {
                bad++;
                continue;
            }
            match += (size_t)m;
            test_of[tr.stim[0]][tr.stim[1]]++;
        }
        CHECK(bad == 0 && match == 3000, "dms: half the trials match (%zu), truth 0 = match (%d off)", match, bad);
        /* non-matching tests: 1000 per sample, split evenly over the 2 others */
        for (int s = 0; s < 3; s++)
            for (int u = 0; u < 3; u++)
                if (s != u)
                    CHECK(fabs((double)test_of[s][u] - 500.0) < 4 * sqrt(250.0),
                          "dms: sample %d, test %d drawn %zu times of 1000", s, u, test_of[s][u]);
        CHECK(t->input == 4, "dms with 3 stimuli: 4 inputs (got %zu)", t->input);
        dale_task_free(t);
    }
}

/* --------------------------------------------------- 3: determinism */

static void fetch(dale_task *t, dale_split s, const size_t *idx, size_t B, float **x, int32_t **yi, float **w,
                  size_t *T)
{
    *T = t->steps ? t->steps(t, s, idx, B) : t->T;
    *x = calloc(t->T * B * t->input, sizeof(float));
    *yi = calloc(t->T * B, sizeof(int32_t));
    *w = calloc(t->T * B, sizeof(float));
    float *yf = calloc(t->T * B * t->output, sizeof(float));
    CHECK_OK(t->batch(t, s, idx, B, *x, yf, *yi));
    CHECK_OK(t->weights(t, s, idx, B, *T, *w));
    free(yf);
}

static void test_determinism(void)
{
    const char *tasks[] = {"pdm", "cdm", "dms"};
    for (size_t k = 0; k < 3; k++) {
        const char *s1[] = {"data_seed", "7", NULL}, *s2[] = {"data_seed", "8", NULL};
        dale_task *a = make(tasks[k], s1, NULL), *b = make(tasks[k], s1, NULL), *c = make(tasks[k], s2, NULL);
        if (!a || !b || !c) {
            CHECK(0, "%s: create", tasks[k]);
            dale_task_free(a);
            dale_task_free(b);
            dale_task_free(c);
            continue;
        }
        size_t idx[4] = {3, 17, 3, 40}, T1, T2, T3;
        float *x1, *x2, *x3, *w1, *w2, *w3;
        int32_t *y1, *y2, *y3;
        fetch(a, DALE_SPLIT_TRAIN, idx, 4, &x1, &y1, &w1, &T1);
        fetch(b, DALE_SPLIT_TRAIN, idx, 4, &x2, &y2, &w2, &T2);
        fetch(c, DALE_SPLIT_TRAIN, idx, 4, &x3, &y3, &w3, &T3);
        size_t nx = T1 * 4 * a->input;
        CHECK(T1 == T2 && !memcmp(x1, x2, nx * sizeof(float)) && !memcmp(y1, y2, T1 * 4 * sizeof(int32_t)) &&
                  !memcmp(w1, w2, T1 * 4 * sizeof(float)),
              "%s: the same data_seed gives the same batch", tasks[k]);
        CHECK(T1 != T3 || memcmp(x1, x3, nx * sizeof(float)), "%s: another data_seed, other trials", tasks[k]);
        /* columns 0 and 2 are the same trial */
        int same = 1;
        for (size_t t = 0; t < T1; t++)
            for (size_t i = 0; i < a->input; i++)
                if (x1[(t * 4 + 0) * a->input + i] != x1[(t * 4 + 2) * a->input + i]) same = 0;
        CHECK(same, "%s: a repeated index gives the same trial", tasks[k]);
        /* a trial alone is the same as within a batch */
        size_t one = 17, T4;
        float *x4, *w4;
        int32_t *y4;
        fetch(a, DALE_SPLIT_TRAIN, &one, 1, &x4, &y4, &w4, &T4);
        same = T4 <= T1;
        for (size_t t = 0; same && t < T4; t++)
            for (size_t i = 0; i < a->input; i++)
                if (x4[t * a->input + i] != x1[(t * 4 + 1) * a->input + i]) same = 0;
        CHECK(same, "%s: trial 17 alone equals its column in a batch", tasks[k]);
        /* the test split is not the training pool */
        size_t T5;
        float *x5, *w5;
        int32_t *y5;
        fetch(a, DALE_SPLIT_TEST, &one, 1, &x5, &y5, &w5, &T5);
        CHECK(T5 != T4 || memcmp(x4, x5, T4 * a->input * sizeof(float)), "%s: test trial 17 differs from train 17",
              tasks[k]);
        free(x1), free(x2), free(x3), free(x4), free(x5);
        free(y1), free(y2), free(y3), free(y4), free(y5);
        free(w1), free(w2), free(w3), free(w4), free(w5);
        /* an index beyond the split is refused */
        size_t far = a->count[DALE_SPLIT_TEST];
        float *xx = calloc(a->T * a->input, sizeof(float)), *yf = calloc(a->T * 3, sizeof(float));
        int32_t *yy = calloc(a->T, sizeof(int32_t));
        dale_trial tr;
        CHECK(a->batch(a, DALE_SPLIT_TEST, &far, 1, xx, yf, yy) == DALE_ERR_ARG &&
                  a->trial(a, DALE_SPLIT_TEST, far, &tr) == DALE_ERR_ARG,
              "%s: trial %zu of the test split refused", tasks[k], far);
        free(xx), free(yf), free(yy);
        dale_task_free(a);
        dale_task_free(b);
        dale_task_free(c);
    }
}

/* ------------------------------------- 4, 5: inputs, labels, weights */

static void test_inputs(void)
{
    const char *tasks[] = {"pdm", "cdm", "dms"};
    for (size_t k = 0; k < 3; k++) {
        char sig[32];
        snprintf(sig, sizeof sig, "%s_sigma", tasks[k]);
        const char *kv[] = {sig, "0", "dt", "25", NULL};
        dale_task *t = make(tasks[k], kv, NULL);
        if (!t) {
            CHECK(0, "%s sigma 0: %s", tasks[k], dale_last_error());
            continue;
        }
        enum { B = 24 };
        size_t idx[B], T;
        for (size_t b = 0; b < B; b++) idx[b] = 5 * b + 1;
        float *x, *w;
        int32_t *yi;
        fetch(t, DALE_SPLIT_VAL, idx, B, &x, &yi, &w, &T);
        size_t I = t->input, longest = 0;
        int go_bad = 0, stim_bad = 0, lab_bad = 0, w_bad = 0;
        for (size_t b = 0; b < B; b++) {
            dale_trial tr;
            trial_of(t, DALE_SPLIT_VAL, idx[b], &tr);
            if (tr.len > longest) longest = tr.len;
            size_t go = tr.start[tr.nperiods - 1];
            for (size_t s = 0; s < T; s++) {
                const float *v = x + (s * B + b) * I;
                if (v[0] != (s < go ? 1.0f : 0.0f)) go_bad++;
                int32_t want = s < go ? 0 : s < tr.len ? tr.truth + 1 : 0;
                if (yi[s * B + b] != want) lab_bad++;
                float ww = s < go ? 1.0f : s < tr.len ? 5.0f : 0.0f;
                if (w[s * B + b] != ww) w_bad++;
                /* the other inputs, noise off */
                float e[8] = {0};
                if (k == 0 && s >= tr.start[1] && s < tr.start[2]) {
                    double c = fabs(tr.coh[0]) / 200.0;
                    e[1] = (float)(0.5 + (tr.truth == 0 ? c : -c));
                    e[2] = (float)(0.5 + (tr.truth == 1 ? c : -c));
                } else if (k == 1) {
                    if (s < tr.len) e[5 + tr.context] = 1;
                    if (s >= tr.start[1] && s < tr.start[2])
                        for (int m = 0; m < 2; m++) {
                            double c = fabs(tr.coh[m]) / 200.0;
                            e[1 + 2 * m] = (float)(0.5 + (tr.dir[m] == 0 ? c : -c));
                            e[2 + 2 * m] = (float)(0.5 + (tr.dir[m] == 1 ? c : -c));
                        }
                } else if (k == 2) {
                    if (s >= tr.start[1] && s < tr.start[2]) e[1 + tr.stim[0]] = 1;
                    if (s >= tr.start[3] && s < tr.start[4]) e[1 + tr.stim[1]] = 1;
                }
                for (size_t i = 1; i < I; i++)
                    if (v[i] != e[i]) stim_bad++;
            }
        }
        CHECK(go_bad == 0, "%s: the fixation input is 1 until the decision period, 0 from then on (%d off)",
              tasks[k], go_bad);
        CHECK(stim_bad == 0, "%s: stimulus inputs with sigma 0 (%d off)", tasks[k], stim_bad);
        CHECK(lab_bad == 0, "%s: labels fixate / choice + 1 / padding 0 (%d off)", tasks[k], lab_bad);
        CHECK(w_bad == 0, "%s: weights 1 / 5 in the decision period / 0 on the padding (%d off)", tasks[k], w_bad);
        CHECK(T == longest || k != 1, "cdm: a batch runs to its longest trial (%zu, longest %zu)", T, longest);
        if (k == 1) CHECK(T < t->T, "cdm: these 24 trials are shorter than the longest possible (%zu)", T);
        free(x), free(yi), free(w);
        dale_task_free(t);
    }
    /* the noise: sd sigma / sqrt(dt) during the stimulus, none elsewhere */
    const char *kv[] = {"pdm_sigma", "2", "dt", "10", "pdm_coh", "25.6", NULL};
    dale_task *t = make("pdm", kv, NULL);
    if (t) {
        enum { B = 64 };
        size_t idx[B], T;
        for (size_t b = 0; b < B; b++) idx[b] = b;
        float *x, *w;
        int32_t *yi;
        fetch(t, DALE_SPLIT_TRAIN, idx, B, &x, &yi, &w, &T);
        double ss = 0, n = 0, outside = 0;
        for (size_t b = 0; b < B; b++) {
            dale_trial tr;
            trial_of(t, DALE_SPLIT_TRAIN, idx[b], &tr);
            for (size_t s = 0; s < T; s++)
                for (size_t i = 1; i < 3; i++) {
                    double v = x[(s * B + b) * 3 + i];
                    if (s >= tr.start[1] && s < tr.start[2]) {
                        double mean = 0.5 + ((int)i - 1 == tr.truth ? 0.128 : -0.128);
                        ss += (v - mean) * (v - mean);
                        n++;
                    } else outside += fabs(v);
                }
        }
        double sd = sqrt(ss / n), want = 2.0 / sqrt(10.0);
        CHECK(fabs(sd / want - 1) < 0.02 && outside == 0, "pdm noise sd %.4f (want %.4f), none outside the stimulus",
              sd, want);
        free(x), free(yi), free(w);
        dale_task_free(t);
    }
}

/* ------------------------------------------------------- 6: outcome */

static void test_outcome(void)
{
    dale_trial tr;
    memset(&tr, 0, sizeof tr);
    tr.nperiods = 3;
    tr.start[0] = 0, tr.start[1] = 2, tr.start[2] = 5, tr.start[3] = 8;
    tr.len = 8;
    tr.truth = 1;
    enum { T = 10, B = 2, M = 3 };
    float out[T * B * M];
    /* column 1: fixate until step 5, then output 2 (choice 1) wins */
    for (size_t i = 0; i < T * B * M; i++) out[i] = -7; /* column 0: junk to make sure it is not read */
    for (size_t t = 0; t < T; t++) {
        float *o = out + (t * B + 1) * M;
        o[0] = t < 5 ? 2.0f : -1.0f;
        o[1] = 0.5f;
        o[2] = t < 5 ? 1.0f : 3.0f;
    }
    int ch = 9;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, &ch) == 1 && ch == 1, "correct choice -> 1 (choice %d)", ch);
    tr.truth = 0;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, &ch) == 0 && ch == 1, "wrong choice -> 0 (choice %d)", ch);
    /* a tie with fixate is not broken; a choice above it at one step is */
    out[(3 * B + 1) * M + 1] = 2.0f;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, &ch) == 0, "a tie with fixate holds fixation");
    out[(3 * B + 1) * M + 1] = 2.5f;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, &ch) == -1 && ch == -1, "choice above fixate at step 3 -> -1");
    out[(3 * B + 1) * M + 1] = 0.5f;
    /* broken in the fixation period itself, and at the last step before the go cue */
    out[(0 * B + 1) * M + 2] = 9.0f;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, NULL) == -1, "broken at step 0");
    out[(0 * B + 1) * M + 2] = 1.0f;
    out[(4 * B + 1) * M + 2] = 9.0f;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, NULL) == -1, "broken at step 4, the last before the go cue");
    out[(4 * B + 1) * M + 2] = 1.0f;
    /* the choice is the mean over the decision period: output 1 wins at the
     * last step but output 2 on average; padding (steps 8, 9) is not read */
    out[(7 * B + 1) * M + 1] = 4.0f;
    out[(8 * B + 1) * M + 1] = 100.0f;
    out[(9 * B + 1) * M + 1] = 100.0f;
    tr.truth = 1;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, &ch) == 1 && ch == 1, "the decision mean decides (choice %d)", ch);
    out[(5 * B + 1) * M + 1] = 4.0f, out[(6 * B + 1) * M + 1] = 4.0f;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, &ch) == 0 && ch == 0, "output 1 above on average -> choice 0");
    /* equal means: the first choice */
    for (size_t t = 5; t < 8; t++) out[(t * B + 1) * M + 1] = out[(t * B + 1) * M + 2] = 1.0f;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, &ch) == 0 && ch == 0, "a tie goes to the first choice");
    /* fixation winning in the decision period does not matter: the choice is among 1..m-1 */
    for (size_t t = 5; t < 8; t++) out[(t * B + 1) * M + 0] = 50.0f, out[(t * B + 1) * M + 2] = 2.0f;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &tr, &ch) == 1 && ch == 1, "still fixating at the decision: choice 1");
    /* refusals */
    dale_trial bad = tr;
    bad.len = 11;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &bad, &ch) == -2 && ch == -1, "trial longer than T -> -2");
    bad = tr;
    bad.start[2] = 8;
    CHECK(dale_trial_outcome(out, T, B, 1, M, &bad, NULL) == -2, "empty decision period -> -2");
    CHECK(dale_trial_outcome(out, T, B, 2, M, &tr, NULL) == -2, "column out of range -> -2");
    CHECK(dale_trial_outcome(out, T, B, 1, 1, &tr, NULL) == -2, "one output -> -2");
    CHECK(dale_trial_outcome(NULL, T, B, 1, M, &tr, NULL) == -2, "NULL outputs -> -2");
}

/* ------------------------------------------- 7: score hook and trials */

static void test_score(void)
{
    const char *kv[] = {"pdm_eval", "50", "hidden", "16", "pdm_stimulus", "300", "eval_batch", "16", NULL};
    dale_run_config c;
    dale_task *t = make("pdm", kv, &c);
    const char *kv2[] = {"cdm_eval", "72", "hidden", "12", "cdm_delay_max", "1000", "eval_batch", "16", NULL};
    dale_run_config c2;
    dale_task *t2 = make("cdm", kv2, &c2);
    dale_task *tasks[2] = {t, t2};
    dale_run_config *cs[2] = {&c, &c2};
    for (int k = 0; k < 2; k++) {
        dale_task *task = tasks[k];
        if (!task) {
            CHECK(0, "score: task %d: %s", k, dale_last_error());
            continue;
        }
        dale_net *net = NULL;
        CHECK_OK(dale_net_from_config(cs[k], task, &net));
        if (!net) continue;
        dale_rng rng;
        dale_rng_seed(&rng, 3);
        CHECK_OK(dale_net_init(net, &rng));
        CHECK(dale_net_states(net, 0, NULL, NULL) == NULL, "no states before a forward");
        /* make the readout favour the choices a little so outcomes vary */
        dale_batch b;
        double loss, err;
        CHECK_OK(dale_batch_init(&b, net, task, 16));
        CHECK_OK(dale_evaluate(&b, DALE_SPLIT_TEST, 16, &loss, &err));
        dale_trials tr;
        CHECK_OK(dale_trials_run(net, task, DALE_SPLIT_TEST, 0, task->count[DALE_SPLIT_TEST], 7, 1, &tr));
        if (tr.outcome) {
            size_t correct = 0;
            for (size_t i = 0; i < tr.N; i++) correct += tr.outcome[i] == 1;
            double want = 100.0 * (1.0 - (double)correct / (double)tr.N);
            CHECK(fabs(err - want) < 1e-9, "%s: the split error %.4f %% is over trials (%.4f %%)", task->name, err,
                  want);
            dale_cond_stats st;
            CHECK_OK(dale_cond_stats_of(&tr, &st));
            size_t n = 0;
            for (size_t g = 0; g < st.n; g++) n += st.g[g].n;
            CHECK(n == tr.N && st.all.n == tr.N && fabs(st.all.correct - (double)correct / (double)tr.N) < 1e-12,
                  "%s: per-condition counts add up (%zu groups)", task->name, st.n);
            CHECK(st.n == (k == 0 ? 5u : 6u), "%s: %zu condition groups", task->name, st.n);
        }
        /* trials: the same numbers as one plain forward of those samples */
        if (tr.x) {
            size_t idx[3] = {4, 5, 6}, T;
            float *x, *w;
            int32_t *yi;
            fetch(task, DALE_SPLIT_TEST, idx, 3, &x, &yi, &w, &T);
            const float *out;
            CHECK_OK(dale_net_plan(net, task->T, 3));
            CHECK_OK(dale_net_forward(net, x, T, 3, 1, &out));
            size_t Tn = 0, Bn = 0, n = tr.hidden, m = tr.output, I = tr.input;
            const float *H = dale_net_states(net, 0, &Tn, &Bn);
            CHECK(H && Tn == T && Bn == 3, "states of the forward: %zu x %zu", Tn, Bn);
            int bad = 0;
            for (size_t col = 0; H && col < 3; col++)
                for (size_t s = 0; s < tr.T; s++) {
                    size_t r = (idx[col] * tr.T + s);
                    size_t len = tr.trial ? tr.trial[idx[col]].len : T;
                    if (s >= len) { /* padding: zeros everywhere */
                        for (size_t i = 0; i < m; i++) bad += tr.out[r * m + i] != 0.0f;
                        for (size_t i = 0; i < n; i++) bad += tr.h[r * n + i] != 0.0f;
                        bad += tr.w[r] != 0.0f;
                        continue;
                    }
                    for (size_t i = 0; i < I; i++) bad += tr.x[r * I + i] != (s < T ? x[(s * 3 + col) * I + i] : 0.0f);
                    for (size_t i = 0; i < m; i++)
                        bad += s < T ? tr.out[r * m + i] != out[(s * 3 + col) * m + i] : tr.out[r * m + i] != 0.0f;
                    for (size_t i = 0; i < n; i++)
                        bad += s < T ? tr.h[r * n + i] != H[(s * 3 + col) * n + i] : tr.h[r * n + i] != 0.0f;
                    bad += tr.w[r] != (s < T ? w[s * 3 + col] : 0.0f);
                    bad += tr.yi[r] != (s < T ? yi[s * 3 + col] : 0);
                }
            CHECK(bad == 0, "%s: kept trials equal a plain forward, padded with 0 (%d off)", task->name, bad);
            free(x), free(yi), free(w);
        }
        /* another chunking (cdm: chunks run to their longest trial): the same
         * data and labels, outputs and states to float round-off (products of
         * other sizes may take other kernels) */
        dale_trials tr2;
        CHECK_OK(dale_trials_run(net, task, DALE_SPLIT_TEST, 0, task->count[DALE_SPLIT_TEST], 0, 1, &tr2));
        if (tr.x && tr2.x) {
            size_t NT = tr.N * tr.T;
            CHECK(!memcmp(tr.x, tr2.x, NT * tr.input * sizeof(float)) && !memcmp(tr.w, tr2.w, NT * sizeof(float)) &&
                      !memcmp(tr.yi, tr2.yi, NT * sizeof(int32_t)) &&
                      !memcmp(tr.outcome, tr2.outcome, tr.N * sizeof(int)),
                  "%s: trials in chunks of 7 and all at once: the same inputs, labels, weights, outcomes",
                  task->name);
            check_close("outputs, chunks of 7 vs all", tr.out, tr2.out, NT * tr.output, 1e-5, 1e-5);
            check_close("hidden states, chunks of 7 vs all", tr.h, tr2.h, NT * tr.hidden * tr.ncells, 1e-5, 1e-5);
        }
        dale_trials_free(&tr2);
        dale_trials_free(&tr);
        dale_trials_free(&tr); /* idempotent */
        CHECK(dale_trials_run(net, task, DALE_SPLIT_TEST, task->count[DALE_SPLIT_TEST] - 5, 10, 0, 0, &tr) ==
                      DALE_ERR_ARG &&
                  tr.x == NULL,
              "trials beyond the split refused");
        CHECK(dale_trials_run(net, task, DALE_SPLIT_TEST, 0, 0, 0, 0, &tr) == DALE_ERR_ARG, "0 trials refused");
        dale_batch_free(&b);
        dale_net_free(net);
        dale_task_free(task);
    }
}

/* --------------------------------------------------- 8: logistic fit */

static double sigm(double z) { return 1.0 / (1.0 + exp(-z)); }

static void test_logistic(void)
{
    double x[9] = {-51.2, -25.6, -12.8, -6.4, 0, 6.4, 12.8, 25.6, 51.2}, n[9], k[9];
    double a = -0.7, b = 0.23;
    for (int i = 0; i < 9; i++) {
        n[i] = 200;
        k[i] = n[i] * sigm(a + b * x[i]); /* expected counts: the MLE is the truth */
    }
    dale_logistic f;
    CHECK_OK(dale_logistic_fit(x, n, k, 9, &f));
    CHECK(f.converged && fabs(f.slope - b) < 1e-9 && fabs(f.intercept - a) < 1e-9 &&
              fabs(f.bias - (-a / b)) < 1e-8,
          "exact counts: slope %.12g (want %g), intercept %.12g (want %g), bias %.9g", f.slope, b, f.intercept, a,
          f.bias);
    CHECK(f.se_slope > 0 && f.se_intercept > 0, "standard errors > 0");
    /* sampled counts: within 4 standard errors, over 20 draws */
    dale_rng r;
    dale_rng_seed(&r, 11);
    int off = 0;
    for (int rep = 0; rep < 20; rep++) {
        for (int i = 0; i < 9; i++) {
            n[i] = 100;
            k[i] = 0;
            for (int j = 0; j < 100; j++) k[i] += dale_rng_uniform01(&r) < sigm(a + b * x[i]);
        }
        if (dale_logistic_fit(x, n, k, 9, &f) || !f.converged || fabs(f.slope - b) > 4 * f.se_slope ||
            fabs(f.intercept - a) > 4 * f.se_intercept)
            off++;
    }
    CHECK(off == 0, "sampled counts: %d of 20 fits outside 4 standard errors", off);
    /* a negative slope and a level with no trials */
    for (int i = 0; i < 9; i++) {
        n[i] = i == 4 ? 0 : 50;
        k[i] = n[i] * sigm(0.3 - 0.1 * x[i]);
    }
    CHECK_OK(dale_logistic_fit(x, n, k, 9, &f));
    CHECK(f.converged && fabs(f.slope + 0.1) < 1e-9 && fabs(f.intercept - 0.3) < 1e-9, "negative slope %.9g",
          f.slope);
    /* flat data: slope 0, bias NaN */
    for (int i = 0; i < 9; i++) n[i] = 10, k[i] = 5;
    CHECK_OK(dale_logistic_fit(x, n, k, 9, &f));
    CHECK(f.converged && fabs(f.slope) < 1e-12 && fabs(f.intercept) < 1e-12, "flat: slope %g", f.slope);
    /* separable: a step at 0 has no finite MLE */
    for (int i = 0; i < 9; i++) n[i] = 10, k[i] = x[i] > 0 ? 10 : 0;
    k[4] = 5;
    CHECK_OK(dale_logistic_fit(x, n, k, 9, &f));
    CHECK(!f.converged, "separable data flagged (slope %g after %d iterations)", f.slope, f.iterations);
    /* refusals */
    double kbad[2] = {3, 1}, nbad[2] = {2, 2}, xs[2] = {0, 1};
    CHECK(dale_logistic_fit(xs, nbad, kbad, 2, &f) == DALE_ERR_ARG && isnan(f.slope), "k > n refused");
    double n1[2] = {5, 0}, k1[2] = {1, 0};
    CHECK(dale_logistic_fit(xs, n1, k1, 2, &f) == DALE_ERR_ARG, "one level refused");
    double xn[2] = {0, NAN}, n2[2] = {5, 5};
    CHECK(dale_logistic_fit(xn, n2, k1, 2, &f) == DALE_ERR_ARG, "NaN level refused");
}

/* ---------------------------------------------------- 9: bad options */

static void refused(const char *task, const char *key, const char *value, const char *needle)
{
    const char *kv[] = {key, value, NULL};
    dale_task *t = make(task, kv, NULL);
    CHECK(t == NULL && strstr(dale_last_error(), needle),
          "%s --%s '%s' refused naming %s (got: %s)", task, key, value, needle, t ? "accepted" : dale_last_error());
    dale_task_free(t);
}

static void test_bad_options(void)
{
    refused("pdm", "pdm_coh", "abc", "--pdm-coh");
    refused("pdm", "pdm_coh", "10,120", "--pdm-coh");
    refused("pdm", "pdm_coh", "", "--pdm-coh");
    refused("pdm", "pdm_coh", "5,,6", "--pdm-coh");
    refused("cdm", "cdm_coh", "-5", "--cdm-coh");
    refused("pdm", "pdm_stimulus", "0", "--pdm-stimulus");
    refused("pdm", "pdm_stimulus", "-100", "--pdm-stimulus");
    refused("pdm", "pdm_stimulus", "long", "--pdm-stimulus");
    refused("dms", "dms_delay", "nan", "--dms-delay");
    refused("pdm", "pdm_sigma", "-1", "--pdm-sigma");
    refused("pdm", "pdm_decision_weight", "0", "--pdm-decision-weight");
    refused("pdm", "pdm_trials", "0", "--pdm-trials");
    refused("pdm", "pdm_grace", "-20", "--pdm-grace");
    refused("cdm", "cdm_grace", "nan", "--cdm-grace");
    refused("dms", "dms_grace", "inf", "--dms-grace");
    refused("pdm", "pdm_grace", "100", "shorter than the decision period"); /* 5 steps = pdm's decision */
    refused("cdm", "cdm_grace", "90", "--cdm-grace");                        /* 90 ms rounds to 5 steps */
    refused("dms", "dms_grace", "900", "--dms-grace");
    refused("pdm", "pdm_grace", "soon", "--pdm-grace");
    refused("dms", "dms_stimuli", "1", "--dms-stimuli");
    refused("cdm", "cdm_delay_min", "4000", "--cdm-delay-min");
    refused("pdm", "dt", "0", "--dt");
    refused("pdm", "dt", "-20", "--dt");
    refused("pdm", "dt", "0.001", "too long");
    refused("pdm", "pdm_bogus", "1", "pdm_bogus");
    /* options of another task are checked too, but used only by theirs */
    const char *kv[] = {"cdm_coh", "1,2,3", "dt", "5", NULL};
    dale_task *t = make("pdm", kv, NULL);
    CHECK(t && t->T == 20 + 400 + 20, "pdm at dt 5 ignores cdm's options (T %zu)", t ? t->T : 0);
    dale_task_free(t);
}


/* -------------------------------------------------- 10: grace period */

static void test_grace(void)
{
    static const char *const tasks[] = {"pdm", "cdm", "dms"};
    for (size_t k = 0; k < 3; k++) {
        char gkey[32], dkey[32], wkey[32];
        snprintf(gkey, sizeof gkey, "%s_grace", tasks[k]);
        snprintf(dkey, sizeof dkey, "%s_decision", tasks[k]);
        snprintf(wkey, sizeof wkey, "%s_decision_weight", tasks[k]);
        /* the same task with and without a grace of 100 ms (5 steps at dt 20);
         * decision 300 ms (15 steps), weight 3 so that every value is distinct */
        const char *plain_kv[] = {dkey, "300", wkey, "3", NULL};
        const char *grace_kv[] = {dkey, "300", wkey, "3", gkey, "100", NULL};
        const char *zero_kv[] = {dkey, "300", wkey, "3", gkey, "0", NULL};
        dale_task *a = make(tasks[k], plain_kv, NULL), *g = make(tasks[k], grace_kv, NULL);
        dale_task *z = make(tasks[k], zero_kv, NULL);
        CHECK(a && g && z, "%s: tasks with and without grace (%s)", tasks[k], dale_last_error());
        if (!a || !g || !z) {
            dale_task_free(a), dale_task_free(g), dale_task_free(z);
            continue;
        }
        CHECK(a->T == g->T, "%s: grace leaves the trial length (%zu, %zu)", tasks[k], a->T, g->T);
        enum { B = 24 };
        size_t idx[B];
        for (size_t b = 0; b < B; b++) idx[b] = 3 * b + 1;
        float *xa, *wa, *xg, *wg, *xz, *wz;
        int32_t *ya, *yg, *yz;
        size_t Ta, Tg, Tz;
        fetch(a, DALE_SPLIT_TRAIN, idx, B, &xa, &ya, &wa, &Ta);
        fetch(g, DALE_SPLIT_TRAIN, idx, B, &xg, &yg, &wg, &Tg);
        fetch(z, DALE_SPLIT_TRAIN, idx, B, &xz, &yz, &wz, &Tz);
        CHECK(Ta == Tg && Ta == Tz, "%s: the same batch length (%zu %zu %zu)", tasks[k], Ta, Tg, Tz);
        CHECK(!memcmp(xa, xg, Ta * B * a->input * sizeof(float)) && !memcmp(ya, yg, Ta * B * sizeof(int32_t)),
              "%s: grace changes neither inputs nor labels", tasks[k]);
        CHECK(!memcmp(xa, xz, Ta * B * a->input * sizeof(float)) && !memcmp(ya, yz, Ta * B * sizeof(int32_t)) &&
                  !memcmp(wa, wz, Ta * B * sizeof(float)),
              "%s: grace 0 is the task without grace, bit for bit", tasks[k]);
        int zero_bad = 0, other_bad = 0, nzero = 0;
        for (size_t b = 0; b < B; b++) {
            dale_trial tr, tg;
            trial_of(a, DALE_SPLIT_TRAIN, idx[b], &tr);
            trial_of(g, DALE_SPLIT_TRAIN, idx[b], &tg);
            size_t go = tr.start[tr.nperiods - 1];
            if (tr.grace != 0 || tg.grace != 5 || tg.len != tr.len) zero_bad++;
            for (size_t s = 0; s < Ta; s++) {
                float va = wa[s * B + b], vg = wg[s * B + b];
                if (s >= go && s < go + 5) {
                    nzero++;
                    if (vg != 0.0f || va != 3.0f) zero_bad++;
                } else if (va != vg) other_bad++;
            }
        }
        CHECK(zero_bad == 0 && nzero == 5 * B, "%s: weight exactly 0 at the 5 grace steps of every trial (%d off)",
              tasks[k], zero_bad);
        CHECK(other_bad == 0, "%s: every other weight unchanged (%d off)", tasks[k], other_bad);
        free(xa), free(ya), free(wa), free(xg), free(yg), free(wg), free(xz), free(yz), free(wz);
        dale_task_free(a), dale_task_free(g), dale_task_free(z);
    }
    /* the default: no grace */
    dale_task *d = make("dms", NULL, NULL);
    if (d) {
        dale_trial tr;
        trial_of(d, DALE_SPLIT_TEST, 7, &tr);
        CHECK(tr.grace == 0, "dms: no grace by default (%zu)", tr.grace);
        dale_task_free(d);
    }
    /* ms to steps: round to nearest, like the periods (30 ms at dt 20 -> 2) */
    const char *r_kv[] = {"pdm_grace", "30", NULL};
    dale_task *r = make("pdm", r_kv, NULL);
    if (r) {
        dale_trial tr;
        trial_of(r, DALE_SPLIT_TRAIN, 0, &tr);
        CHECK(tr.grace == 2, "pdm: 30 ms of grace at dt 20 is 2 steps (%zu)", tr.grace);
        dale_task_free(r);
    } else CHECK(0, "pdm with 30 ms of grace (%s)", dale_last_error());

    /* the scorer: the grace steps are not read; the steps before the go cue are */
    dale_trial tr;
    memset(&tr, 0, sizeof tr);
    tr.nperiods = 2;
    tr.start[0] = 0, tr.start[1] = 3, tr.start[2] = 8;
    tr.len = 8;
    tr.truth = 0;
    tr.grace = 2; /* decision steps 3, 4 are grace; 5, 6, 7 scored */
    enum { T = 8, B = 1, M = 3 };
    float out[T * B * M];
    for (size_t t = 0; t < T; t++) {
        out[t * M + 0] = t < 3 ? 2.0f : 0.0f;
        out[t * M + 1] = t < 3 ? 0.0f : 1.0f;
        out[t * M + 2] = 0.0f;
    }
    int ch = 9;
    CHECK(dale_trial_outcome(out, T, B, 0, M, &tr, &ch) == 1 && ch == 0, "grace: correct (choice %d)", ch);
    /* a huge wrong choice in the grace steps: ignored with grace, decisive without */
    out[3 * M + 2] = 50.0f, out[4 * M + 2] = 50.0f;
    CHECK(dale_trial_outcome(out, T, B, 0, M, &tr, &ch) == 1 && ch == 0, "grace steps do not enter the choice");
    tr.grace = 0;
    CHECK(dale_trial_outcome(out, T, B, 0, M, &tr, &ch) == 0 && ch == 1, "without grace they do (choice %d)", ch);
    tr.grace = 2;
    out[3 * M + 2] = 0.0f, out[4 * M + 2] = 0.0f;
    /* fixation broken at the last step before the go cue: still an error */
    out[2 * M + 1] = 3.0f;
    CHECK(dale_trial_outcome(out, T, B, 0, M, &tr, &ch) == -1 && ch == -1,
          "grace does not relax the fixation check before the go cue");
    out[2 * M + 1] = 0.0f;
    /* grace as long as the decision period: nothing to score */
    tr.grace = 5;
    CHECK(dale_trial_outcome(out, T, B, 0, M, &tr, NULL) == -2, "grace filling the decision period -> -2");
    tr.grace = 4;
    CHECK(dale_trial_outcome(out, T, B, 0, M, &tr, &ch) == 1 && ch == 0, "one scored step is enough");
}

int main(void)
{
    test_periods();
    test_balance();
    test_determinism();
    test_inputs();
    test_outcome();
    test_score();
    test_logistic();
    test_bad_options();
    test_grace();
    CHECK(dalei_alloc_live() == 0, "no leaks: %ld live allocations", dalei_alloc_live());
    return check_done("test_cog");
}
