/* trials.c — every step of N samples through a trained network, kept for
 * analysis (dale eval --trials): inputs, targets, weights, hidden states,
 * outputs and, for trial-based tasks, the condition labels and outcomes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dale/eval.h"
#include "internal.h"

void dale_trials_free(dale_trials *t)
{
    if (!t) return;
    dalei_free(t->x);
    dalei_free(t->yf);
    dalei_free(t->yi);
    dalei_free(t->w);
    dalei_free(t->h);
    dalei_free(t->out);
    dalei_free(t->trial);
    dalei_free(t->choice);
    dalei_free(t->outcome);
    memset(t, 0, sizeof *t);
}

/* Batch scratch of one chunk, time-major as the task fills it. */
typedef struct chunkbuf {
    float *x, *yf, *w;
    int32_t *yi;
    size_t *idx;
} chunkbuf;

static void chunk_free(chunkbuf *c)
{
    dalei_free(c->x);
    dalei_free(c->yf);
    dalei_free(c->w);
    dalei_free(c->yi);
    dalei_free(c->idx);
}

/* Copy chunk rows [0, B) of a time-major (Tb, B, k) array into the
 * sample-major (N, T, k) array at samples s0.. (steps Tb..T stay 0). */
static void to_sample_major(float *dst, const float *src, size_t s0, size_t B, size_t Tb, size_t T, size_t k)
{
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < Tb; t++)
            memcpy(dst + ((s0 + b) * T + t) * k, src + (t * B + b) * k, k * sizeof(float));
}

dale_status dale_trials_run(dale_net *net, dale_task *task, dale_split split, size_t first, size_t N, size_t chunk,
                            int states, dale_trials *tr)
{
    memset(tr, 0, sizeof *tr);
    if (!net || !task) return DALE_FAIL(DALE_ERR_ARG, "dale_trials_run: the network or the task is NULL");
    if ((unsigned)split > DALE_SPLIT_TEST) return DALE_FAIL(DALE_ERR_ARG, "dale_trials_run: no split %d", (int)split);
    if (task->sample_rows[split] > 1)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: samples of several batch rows (streams) cannot be kept as trials",
                         task->name);
    if (N == 0) return DALE_FAIL(DALE_ERR_ARG, "dale_trials_run: 0 trials asked for");
    if (first > task->count[split] || N > task->count[split] - first)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: trials %zu..%zu asked for, but the split has %zu", task->name,
                         first, first + N - 1, task->count[split]);
    if ((unsigned)task->loss >= DALE_LOSS_COUNT)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: unknown loss kind %d", task->name, (int)task->loss);
    if (chunk == 0 || chunk > N) chunk = N;
    const dale_net_config *nc = dale_net_config_of(net);
    size_t T = task->T, I = task->input, m = task->output, n = nc->hidden, L = dale_net_ncells(net);
    dale_loss_kind k = task->loss;
    int ce = dale_loss_is_classification(k), last = k == DALE_LOSS_MSE_LAST || k == DALE_LOSS_CE_LAST;
    tr->N = N;
    tr->T = T;
    tr->input = I;
    tr->output = m;
    tr->hidden = n;
    tr->ncells = L;
    tr->loss = k;
    tr->x = dalei_calloc(N * T, I * sizeof(float));
    tr->w = dalei_calloc(N, T * sizeof(float));
    tr->out = dalei_calloc(N * T, m * sizeof(float));
    if (states) tr->h = dalei_calloc(L * N * T, n * sizeof(float));
    if (ce) tr->yi = dalei_calloc(N, (last ? 1 : T) * sizeof(int32_t));
    else tr->yf = dalei_calloc(N, (last ? 1 : T) * m * sizeof(float));
    if (task->trial) {
        tr->trial = dalei_calloc(N, sizeof(dale_trial));
        tr->choice = dalei_calloc(N, sizeof(int));
        tr->outcome = dalei_calloc(N, sizeof(int));
    }
    chunkbuf cb = {dalei_alloc(T * chunk, I * sizeof(float)), dalei_alloc(T * chunk, m * sizeof(float)),
                   dalei_alloc(T * chunk, sizeof(float)), dalei_alloc(T * chunk, sizeof(int32_t)),
                   dalei_alloc(chunk, sizeof(size_t))};
    dale_status st = DALE_OK;
    if (!tr->x || !tr->w || !tr->out || (states && !tr->h) || (ce ? !tr->yi : !tr->yf) ||
        (task->trial && (!tr->trial || !tr->choice || !tr->outcome)) || !cb.x || !cb.yf || !cb.w || !cb.yi ||
        !cb.idx) {
        st = DALE_ERR_NOMEM;
        goto done;
    }
    if ((st = dale_net_plan(net, T, chunk))) goto done;
    for (size_t s0 = 0; s0 < N; s0 += chunk) {
        size_t B = N - s0 < chunk ? N - s0 : chunk;
        for (size_t b = 0; b < B; b++) cb.idx[b] = first + s0 + b;
        size_t Tb = task->steps ? task->steps(task, split, cb.idx, B) : T;
        if (Tb == 0 || Tb > T) {
            st = DALE_FAIL(DALE_ERR_SHAPE, "task %s: batch of %zu steps (at most %zu)", task->name, Tb, T);
            goto done;
        }
        if ((st = task->batch(task, split, cb.idx, B, cb.x, cb.yf, cb.yi))) goto done;
        /* Weights: the task's (weighted kinds), else the steps the loss scores. */
        if (dale_loss_is_weighted(k) && task->weights) {
            if ((st = task->weights(task, split, cb.idx, B, Tb, cb.w))) goto done;
        } else {
            for (size_t r = 0; r < Tb * B; r++) cb.w[r] = !last || r / B == Tb - 1 ? 1.0f : 0.0f;
        }
        const float *out;
        if ((st = dale_net_forward(net, cb.x, Tb, B, 1, &out))) goto done;
        to_sample_major(tr->x, cb.x, s0, B, Tb, T, I);
        to_sample_major(tr->w, cb.w, s0, B, Tb, T, 1);
        to_sample_major(tr->out, out, s0, B, Tb, T, m);
        if (last && ce) memcpy(tr->yi + s0, cb.yi, B * sizeof(int32_t));
        else if (last) memcpy(tr->yf + s0 * m, cb.yf, B * m * sizeof(float));
        else if (ce)
            for (size_t b = 0; b < B; b++)
                for (size_t t = 0; t < Tb; t++) tr->yi[(s0 + b) * T + t] = cb.yi[t * B + b];
        else to_sample_major(tr->yf, cb.yf, s0, B, Tb, T, m);
        for (size_t l = 0; states && l < L; l++) {
            const float *H = dale_net_states(net, l, NULL, NULL);
            if (!H) {
                st = DALE_FAIL(DALE_ERR_STATE, "dale_trials_run: no hidden states after the forward");
                goto done;
            }
            to_sample_major(tr->h + l * N * T * n, H, s0, B, Tb, T, n);
        }
        for (size_t b = 0; task->trial && b < B; b++) {
            dale_trial *t = &tr->trial[s0 + b];
            if ((st = task->trial(task, split, cb.idx[b], t))) goto done;
            tr->outcome[s0 + b] = dale_trial_outcome(out, Tb, B, b, m, t, &tr->choice[s0 + b]);
            /* after its end a trial is padding, whatever the chunk's length:
             * the network ran on there (zero input), but that is not kept */
            size_t r0 = (s0 + b) * T;
            for (size_t s = t->len; s < Tb; s++) {
                memset(tr->out + (r0 + s) * m, 0, m * sizeof(float));
                for (size_t l = 0; states && l < L; l++) memset(tr->h + (l * N * T + r0 + s) * n, 0, n * sizeof(float));
            }
        }
    }
done:
    chunk_free(&cb);
    if (st) dale_trials_free(tr);
    return st;
}

dale_status dale_trials_save(const dale_trials *t, const char *path)
{
    if (!t || !t->x) return DALE_FAIL(DALE_ERR_ARG, "dale_trials_save: no trials to save");
    dale_npz_writer *w;
    dale_status st = dale_npz_writer_create(path, &w);
    if (st) return st;
    size_t N = t->N, T = t->T, m = t->output;
    int last = t->loss == DALE_LOSS_MSE_LAST || t->loss == DALE_LOSS_CE_LAST;
    size_t sx[3] = {N, T, t->input}, so[3] = {N, T, m}, sw[2] = {N, T}, sh[3] = {N, T, t->hidden};
    int32_t *i32 = NULL;
    double *f64 = NULL;
    if ((st = dale_npz_add(w, "inputs", DALE_F32, 3, sx, t->x))) goto fail;
    if (t->yi) {
        st = dale_npz_add(w, "targets", DALE_I32, last ? 1 : 2, sw, t->yi);
    } else {
        size_t sy[3] = {N, last ? m : T, m};
        st = dale_npz_add(w, "targets", DALE_F32, last ? 2 : 3, sy, t->yf);
    }
    if (st || (st = dale_npz_add(w, "weights", DALE_F32, 2, sw, t->w))) goto fail;
    for (size_t l = 0; t->h && l < t->ncells; l++) {
        char key[32];
        snprintf(key, sizeof key, "hidden%zu", l);
        if ((st = dale_npz_add(w, key, DALE_F32, 3, sh, t->h + l * N * T * t->hidden))) goto fail;
    }
    if ((st = dale_npz_add(w, "outputs", DALE_F32, 3, so, t->out))) goto fail;
    if (t->trial) {
        size_t P = t->trial[0].nperiods, s1[1] = {N}, s2[2] = {N, 2}, sp[2] = {N, P + 1};
        i32 = dalei_alloc(N * (P + 1 > 2 ? P + 1 : 2), sizeof(int32_t));
        f64 = dalei_alloc(N * 2, sizeof(double));
        if (!i32 || !f64) {
            st = DALE_ERR_NOMEM;
            goto fail;
        }
#define I32_MEMBER(key, nd, shape, expr)                                  \
    do {                                                                  \
        for (size_t i = 0; i < N; i++) expr;                              \
        if ((st = dale_npz_add(w, key, DALE_I32, nd, shape, i32))) goto fail; \
    } while (0)
        I32_MEMBER("truth", 1, s1, i32[i] = t->trial[i].truth);
        I32_MEMBER("choice", 1, s1, i32[i] = t->choice[i]);
        I32_MEMBER("outcome", 1, s1, i32[i] = t->outcome[i]);
        I32_MEMBER("condition", 1, s1, i32[i] = t->trial[i].cond);
        I32_MEMBER("context", 1, s1, i32[i] = t->trial[i].context);
        I32_MEMBER("direction", 2, s2, (i32[2 * i] = t->trial[i].dir[0], i32[2 * i + 1] = t->trial[i].dir[1]));
        I32_MEMBER("stimulus", 2, s2, (i32[2 * i] = t->trial[i].stim[0], i32[2 * i + 1] = t->trial[i].stim[1]));
        for (size_t i = 0; i < N; i++)
            for (size_t p = 0; p <= P; p++) i32[i * (P + 1) + p] = (int32_t)t->trial[i].start[p];
        if ((st = dale_npz_add(w, "periods", DALE_I32, 2, sp, i32))) goto fail;
#undef I32_MEMBER
        for (size_t i = 0; i < N; i++) {
            f64[2 * i] = t->trial[i].coh[0];
            f64[2 * i + 1] = t->trial[i].coh[1];
        }
        if ((st = dale_npz_add(w, "coherence", DALE_F64, 2, s2, f64))) goto fail;
        char names[256];
        size_t len = 0;
        for (size_t p = 0; p < P && len < sizeof names; p++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", p ? "," : "", t->trial[0].period[p]);
        if (len >= sizeof names) len = sizeof names - 1;
        size_t sn[1] = {len};
        if ((st = dale_npz_add(w, "period_names", DALE_U8, 1, sn, names))) goto fail;
    }
    dalei_free(i32);
    dalei_free(f64);
    return dale_npz_writer_commit(w);
fail:
    dalei_free(i32);
    dalei_free(f64);
    dale_npz_writer_free(w);
    return st;
}

static int cond_cmp(const void *pa, const void *pb)
{
    const dale_cond_stat *a = pa, *b = pb;
    if (a->context != b->context) return a->context < b->context ? -1 : 1;
    if (a->coh != b->coh) return a->coh < b->coh ? -1 : 1;
    if (a->match != b->match) return a->match > b->match ? -1 : 1;
    return 0;
}

dale_status dale_cond_stats_of(const dale_trials *tr, dale_cond_stats *cs)
{
    memset(cs, 0, sizeof *cs);
    snprintf(cs->all.label, sizeof cs->all.label, "all");
    if (!tr || !tr->trial || !tr->outcome)
        return DALE_FAIL(DALE_ERR_ARG, "per-condition performance needs the trials of a trial-based task (pdm, cdm, dms)");
    for (size_t i = 0; i < tr->N; i++) {
        const dale_trial *t = &tr->trial[i];
        dale_cond_stat key;
        memset(&key, 0, sizeof key);
        key.context = t->context;
        key.match = -1;
        key.coh = (double)NAN;
        if (t->dir[0] >= 0) key.coh = fabs(t->coh[t->context > 0 ? 1 : 0]);
        else if (t->stim[0] >= 0) key.match = t->stim[0] == t->stim[1];
        size_t g = 0;
        for (; g < cs->n; g++) {
            const dale_cond_stat *e = &cs->g[g];
            if (e->context == key.context && e->match == key.match &&
                (e->coh == key.coh || (isnan(e->coh) && isnan(key.coh))))
                break;
        }
        if (g == cs->n) {
            if (cs->n == DALE_COND_MAX)
                return DALE_FAIL(DALE_ERR_ARG, "more than %d conditions to report", DALE_COND_MAX);
            cs->g[cs->n++] = key;
        }
        dale_cond_stat *e = &cs->g[g];
        int o = tr->outcome[i];
        e->n++;
        cs->all.n++;
        e->correct += o == 1;
        cs->all.correct += o == 1;
        e->broken += o == -1;
        cs->all.broken += o == -1;
    }
    qsort(cs->g, cs->n, sizeof cs->g[0], cond_cmp);
    for (size_t g = 0; g <= cs->n; g++) {
        dale_cond_stat *e = g < cs->n ? &cs->g[g] : &cs->all;
        if (e->n) {
            e->correct /= (double)e->n;
            e->broken /= (double)e->n;
        }
        if (g == cs->n) break;
        size_t k = 0;
        if (e->context >= 0) k += (size_t)snprintf(e->label, sizeof e->label, "context %d, ", e->context + 1);
        if (e->match >= 0) snprintf(e->label + k, sizeof e->label - k, "%s", e->match ? "match" : "non-match");
        else snprintf(e->label + k, sizeof e->label - k, "coh %g", e->coh);
    }
    return DALE_OK;
}
