/* eval.c — batches through a network, split evaluation, parameter files. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "dale/eval.h"
#include "dale/train.h"
#include "internal.h"

void dale_batch_free(dale_batch *b)
{
    if (!b) return;
    dalei_free(b->x);
    dalei_free(b->yf);
    dalei_free(b->yi);
    dalei_free(b->dout);
    dalei_free(b->w);
    b->x = b->yf = b->dout = b->w = NULL;
    b->yi = NULL;
}

dale_status dale_batch_init(dale_batch *b, dale_net *net, dale_task *task, size_t Bmax)
{
    memset(b, 0, sizeof *b);
    if ((unsigned)task->loss >= DALE_LOSS_COUNT)
        return DALE_FAIL(DALE_ERR_ARG, "task %s: unknown loss kind %d", task->name, (int)task->loss);
    b->net = net;
    b->task = task;
    b->Bmax = Bmax;
    size_t rows = task->T * Bmax;
    b->x = dalei_alloc(rows, task->input * sizeof(float));
    b->yf = dalei_alloc(rows, task->output * sizeof(float));
    b->yi = dalei_alloc(rows, sizeof(int32_t));
    b->dout = dalei_alloc(rows, task->output * sizeof(float));
    if (dale_loss_is_weighted(task->loss)) {
        b->w = dalei_alloc(rows, sizeof(float));
        if (!b->w) {
            dale_batch_free(b);
            return DALE_ERR_NOMEM;
        }
    }
    if (!b->x || !b->yf || !b->yi || !b->dout) {
        dale_batch_free(b);
        return DALE_ERR_NOMEM;
    }
    dale_status st = dale_net_plan(net, task->T, Bmax);
    if (st) dale_batch_free(b);
    return st;
}

/* The weighted kinds: weights from the task's hook (or ones), checked, then
 * an every-step forward and the weighted loss over the T*R predictions. */
static dale_status run_weighted(dale_batch *b, dale_split split, const size_t *idx, size_t B, size_t R,
                                size_t T, int backward, double *loss, size_t *ncorrect)
{
    dale_task *t = b->task;
    size_t rows = T * R, m = t->output;
    dale_status st;
    if (!b->w) return DALE_FAIL(DALE_ERR_STATE, "task %s: batch workspace has no weight buffer", t->name);
    if (t->weights) {
        if ((st = t->weights(t, split, idx, B, T, b->w))) return st;
    } else {
        for (size_t k = 0; k < rows; k++) b->w[k] = 1.0f;
    }
    int ce = t->loss == DALE_LOSS_CE_WEIGHTED;
    for (size_t k = 0; k < rows; k++) {
        float w = b->w[k];
        if (!(w >= 0.0f && w <= FLT_MAX))
            return DALE_FAIL(DALE_ERR_ARG, "task %s: weight %g at step %zu, row %zu is %s", t->name, (double)w,
                             k / R, k % R, w < 0.0f ? "negative" : "not finite");
        if (ce && w > 0.0f && (b->yi[k] < 0 || (size_t)b->yi[k] >= m))
            return DALE_FAIL(DALE_ERR_ARG, "task %s: label %d at step %zu, row %zu is outside [0, %zu)", t->name,
                             (int)b->yi[k], k / R, k % R, m);
    }
    const float *out;
    if ((st = dale_net_forward(b->net, b->x, T, R, 1, &out))) return st;
    float *dout = backward ? b->dout : NULL;
    size_t np = 0;
    *ncorrect = 0;
    if (ce)
        *loss = dale_loss_ce_weighted_num(dale_net_config_of(b->net)->numerics, out, b->yi, b->w, rows, m, dout,
                                          ncorrect, &np, &b->wsum);
    else *loss = dale_loss_mse_weighted(out, b->yf, b->w, rows, m, dout, &np, &b->wsum);
    b->npred = np;
    if (backward) *loss += dale_net_rate_penalty(b->net); /* the objective: task loss + rate_l2 penalty */
    /* Trial-based tasks: correct trials out of the batch's trials. */
    if (t->score && isfinite(*loss)) {
        if ((st = t->score(t, split, idx, B, T, out, ncorrect))) return st;
        b->npred = B;
    }
    if (backward && isfinite(*loss)) {
        if ((st = dalei_net_backward_fresh(b->net, b->dout))) return st;
    }
    return DALE_OK;
}

dale_status dale_batch_run(dale_batch *b, dale_split split, const size_t *idx, size_t B, int backward,
                           double *loss, size_t *ncorrect)
{
    dale_task *t = b->task;
    size_t sr = t->sample_rows[split] ? t->sample_rows[split] : 1, R = B * sr;
    if (B > b->Bmax / sr)
        return DALE_FAIL(DALE_ERR_SHAPE, "batch of %zu rows exceeds the workspace (%zu)", R, b->Bmax);
    /* Variable-length windows (lm): the task says how many steps this batch has. */
    size_t T = t->steps ? t->steps(t, split, idx, B) : t->T;
    if (T == 0 || T > t->T)
        return DALE_FAIL(DALE_ERR_SHAPE, "task %s: batch of %zu steps (sample index out of range?); at most %zu",
                         t->name, T, t->T);
    dale_status st = t->batch(t, split, idx, B, b->x, b->yf, b->yi);
    if (st) return st;
    if (dale_loss_is_weighted(t->loss)) return run_weighted(b, split, idx, B, R, T, backward, loss, ncorrect);
    int every = t->loss == DALE_LOSS_CE_EVERY;
    const float *out;
    if ((st = dale_net_forward(b->net, b->x, T, R, every, &out))) return st;
    size_t rows = every ? T * R : R;
    b->npred = rows;
    b->wsum = (double)rows;
    float *dout = backward ? b->dout : NULL;
    *ncorrect = 0;
    if (t->loss == DALE_LOSS_MSE_LAST) *loss = dale_loss_mse(out, b->yf, rows, t->output, dout);
    else *loss = dale_loss_ce_num(dale_net_config_of(b->net)->numerics, out, b->yi, rows, t->output, dout, ncorrect);
    if (backward) *loss += dale_net_rate_penalty(b->net); /* the objective: task loss + rate_l2 penalty */
    if (backward && isfinite(*loss)) {
        if ((st = dalei_net_backward_fresh(b->net, b->dout))) return st;
    }
    return DALE_OK;
}

dale_status dale_evaluate(dale_batch *b, dale_split split, size_t chunk, double *loss, double *err)
{
    size_t n = b->task->count[split];
    if (n == 0) return DALE_FAIL(DALE_ERR_ARG, "task %s has no samples in this split", b->task->name);
    if (chunk == 0 || chunk > b->Bmax) chunk = b->Bmax;
    size_t sr = b->task->sample_rows[split] ? b->task->sample_rows[split] : 1;
    if (sr > 1) chunk = 1; /* a multi-row sample (lm window) goes alone: windows differ in length */
    int cls = dale_loss_is_classification(b->task->loss), weighted = dale_loss_is_weighted(b->task->loss);
    size_t *idx = dalei_alloc(chunk, sizeof(size_t));
    if (!idx) return DALE_ERR_NOMEM;
    double sum = 0, wtotal = 0;
    size_t correct = 0, npred = 0;
    dale_status st = DALE_OK;
    for (size_t s = 0; s < n; s += chunk) {
        size_t B = n - s < chunk ? n - s : chunk;
        for (size_t k = 0; k < B; k++) idx[k] = s + k;
        double l;
        size_t c;
        if ((st = dale_batch_run(b, split, idx, B, 0, &l, &c))) break;
        /* chunk means weighted by their predictions (weighted kinds: by
         * their weight sums): the mean over all */
        if (weighted) {
            sum += l * b->wsum;
            wtotal += b->wsum;
        } else {
            sum += l * (double)b->npred;
        }
        npred += b->npred;
        correct += c;
    }
    dalei_free(idx);
    if (st) return st;
    if (weighted) *loss = wtotal > 0 ? sum / wtotal : 0.0;
    else *loss = sum / (double)npred;
    *err = cls ? 100.0 * (1.0 - (double)correct / (double)npred) : (double)NAN;
    return DALE_OK;
}

/* NPZ member of the mask of map (l, rec): cellK.U_mask, cellK.W_mask,
 * denseK.W_mask, out.W_mask. */
static void mask_key(const dale_net *net, size_t l, int rec, char *key, size_t cap)
{
    size_t nc = dale_net_ncells(net), nl = dale_net_nlayers(net);
    if (l < nc) snprintf(key, cap, "cell%zu.%s_mask", l, rec ? "W" : "U");
    else if (l + 1 < nl) snprintf(key, cap, "dense%zu.W_mask", l - nc);
    else snprintf(key, cap, "out.W_mask");
}

dale_status dale_params_save(dale_net *net, dale_npz_writer *w)
{
    float *th = dale_net_theta(net);
    dale_status st = DALE_OK;
    for (size_t i = 0; i < dale_net_nparams(net) && !st; i++) {
        const dale_param *q = dale_net_param(net, i);
        size_t shape[2] = {q->rows, q->cols};
        st = dale_npz_add(w, q->name, DALE_F32, (q->flags & DALE_P_BIAS) ? 1 : 2, shape, th + q->offset);
    }
    /* Effective matrices, so users need not rebuild them: straight from the
     * network's own (the writer copies them; objrec's U alone is 29 MB). */
    const dale_net_config *c = dale_net_config_of(net);
    size_t nc = dale_net_ncells(net), n = c->hidden, d = c->input;
    for (size_t l = 0; l < nc && !st; l++) {
        char key[64];
        size_t sw[2] = {n, n}, su[2] = {n, l == 0 ? d : n};
        const float *W, *U;
        dalei_net_cell_maps(net, l, &W, &U);
        snprintf(key, sizeof key, "cell%zu.W_eff", l);
        if ((st = dale_npz_add(w, key, DALE_F32, 2, sw, W))) break;
        snprintf(key, sizeof key, "cell%zu.U_eff", l);
        st = dale_npz_add(w, key, DALE_F32, 2, su, U);
    }
    for (size_t l = 0; l < dale_net_nlayers(net) && !st; l++)
        for (int rec = 0; rec < 2 && !st; rec++) {
            const float *m = dale_net_mask(net, l, rec);
            size_t shape[2];
            char key[64];
            if (!m || dale_net_map_shape(net, l, rec, &shape[0], &shape[1])) continue;
            mask_key(net, l, rec, key, sizeof key);
            st = dale_npz_add(w, key, DALE_F32, 2, shape, m);
        }
    return st;
}

dale_status dale_params_check_masks(dale_net *net, dale_npz *z, const char *path)
{
    for (size_t l = 0; l < dale_net_nlayers(net); l++)
        for (int rec = 0; rec < 2; rec++) {
            size_t R, C;
            if (dale_net_map_shape(net, l, rec, &R, &C)) continue;
            const float *m = dale_net_mask(net, l, rec);
            char key[64];
            mask_key(net, l, rec, key, sizeof key);
            int has = dale_npz_has(z, key);
            if (!m && !has) continue;
            if (!m)
                return DALE_FAIL(DALE_ERR_FORMAT, "%s: holds connectivity mask '%s' but this run has no mask on that "
                                 "map (was a --mask-* or --sparsity given when it was written?)", path, key);
            if (!has)
                return DALE_FAIL(DALE_ERR_FORMAT, "%s: has no member '%s', the connectivity mask this run has on that "
                                 "map (written without a mask?)", path, key);
            dale_array a;
            dale_status st = dale_npz_read(z, key, &a);
            if (st) return st;
            size_t bad = a.dtype == DALE_F32 && a.count == R * C ? R * C : 0;
            if (bad) {
                const float *v = a.data;
                for (bad = 0; bad < R * C && v[bad] == m[bad]; bad++) {}
            }
            dale_array_free(&a);
            if (bad < R * C)
                return DALE_FAIL(DALE_ERR_FORMAT, "%s: connectivity mask '%s' differs from the one this run has now "
                                 "(at row %zu, column %zu): the mask file changed since it was written; resume "
                                 "needs the same mask", path, key, bad / C, bad % C);
        }
    return DALE_OK;
}

dale_status dalei_param_read(dale_npz *z, const dale_param *q, const char *path, dale_array *a)
{
    if (!dale_npz_has(z, q->name))
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: parameter '%s' is missing (a file of another model?)", path,
                         q->name);
    dale_status st = dale_npz_read(z, q->name, a);
    if (st) return st;
    if (a->dtype != DALE_F32 || a->count != q->rows * q->cols) {
        dale_array_free(a);
        return DALE_FAIL(DALE_ERR_FORMAT, "%s: parameter '%s' has the wrong dtype or size (want %zu float32)",
                         path, q->name, q->rows * q->cols);
    }
    return DALE_OK;
}

dale_status dale_params_load(dale_net *net, dale_npz *z, const char *path)
{
    float *th = dale_net_theta(net);
    for (size_t i = 0; i < dale_net_nparams(net); i++) {
        const dale_param *q = dale_net_param(net, i);
        dale_array a;
        dale_status st = dalei_param_read(z, q, path, &a);
        if (st) return st;
        memcpy(th + q->offset, a.data, a.count * sizeof(float));
        dale_array_free(&a);
    }
    return DALE_OK;
}
