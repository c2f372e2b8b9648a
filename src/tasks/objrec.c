/* objrec.c — the naturalistic object-recognition task (paper Sec. 2.3, 6.2.4).
 *
 * The data set (dale/objrec.h) is read once: the three splits' IDX files
 * stay uint8 (N, side, side) in memory (640 x 7225 bytes = 4.6 MB for the
 * default build).  A batch is time-major x (T, B, side*side):
 *   x[0][b][i] = image_b[i] / 255 (- the mean training pixel when centred),
 *   x[t][b][i] = 0 for t = 1 .. T-1,
 * and yi[b] = the category label; the loss is cross-entropy at step T.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "dale/idx.h"
#include "dale/objrec.h"
#include "dale/taskdesc.h"
#include "internal.h"

typedef struct objrec_task {
    dale_task task;
    dale_idx img[3], lab[3];
    size_t npix;
    float shift; /* subtracted from every pixel / 255 (0, or the mean) */
} objrec_task;

static const char *const split_names[3] = {"train", "val", "test"};

static dale_status objrec_batch(dale_task *t, dale_split split, const size_t *idx, size_t B, float *x, float *yf,
                                int32_t *yi)
{
    (void)yf;
    objrec_task *m = t->impl;
    size_t d = t->input;
    /* steps 2..T carry no input */
    memset(x + B * d, 0, (t->T - 1) * B * d * sizeof *x);
    for (size_t b = 0; b < B; b++) {
        if (idx[b] >= t->count[split])
            return DALE_FAIL(DALE_ERR_ARG, "objrec: sample %zu out of range (the %s split has %zu)", idx[b],
                             split_names[split], t->count[split]);
        const uint8_t *p = m->img[split].data + idx[b] * m->npix;
        float *x0 = x + b * d;
        for (size_t i = 0; i < d; i++) x0[i] = (float)p[i] / 255.0f - m->shift;
        yi[b] = (int32_t)m->lab[split].data[idx[b]];
    }
    return DALE_OK;
}

static void free_impl(objrec_task *m)
{
    for (int s = 0; s < 3; s++) {
        dale_idx_free(&m->img[s]);
        dale_idx_free(&m->lab[s]);
    }
    dalei_free(m);
}

static void objrec_destroy(dale_task *t) { free_impl(t->impl); }

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* Number of categories: the non-empty lines of categories.txt. */
static dale_status count_categories(const char *dir, size_t *n)
{
    char path[4200], line[1024];
    snprintf(path, sizeof path, "%s/categories.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) return DALE_FAIL(DALE_ERR_IO, "%s: missing", path);
    *n = 0;
    while (fgets(line, sizeof line, f))
        if (line[0] != '\n' && line[0] != '\0') (*n)++;
    fclose(f);
    if (*n < 2 || *n > 255) return DALE_FAIL(DALE_ERR_FORMAT, "%s: %zu categories (need 2..255)", path, *n);
    return DALE_OK;
}

dale_status dale_task_objrec_create(const dale_objrec_task_config *cfg, dale_task **out)
{
    if (!out) return DALE_FAIL(DALE_ERR_ARG, "dale_task_objrec_create: out is NULL");
    *out = NULL;
    if (!cfg || !cfg->dir) return DALE_FAIL(DALE_ERR_ARG, "dale_task_objrec_create: no data directory");
    if (cfg->steps < 1) return DALE_FAIL(DALE_ERR_ARG, "objrec: steps must be >= 1 (got %zu)", cfg->steps);
    char dir[4096], path[4300];
    snprintf(dir, sizeof dir, "%s", cfg->dir);
    snprintf(path, sizeof path, "%s/objrec.json", dir);
    if (!exists(path)) {
        snprintf(path, sizeof path, "%s/objrec/objrec.json", cfg->dir);
        if (!exists(path))
            return DALE_FAIL(DALE_ERR_IO,
                             "%s: no objrec data set here (neither objrec.json nor objrec/objrec.json)\n"
                             "hint: run `dale data get objrec --data %s` or `dale data make-objrec ... --out DIR`",
                             cfg->dir, cfg->dir);
        snprintf(dir, sizeof dir, "%s/objrec", cfg->dir);
    }
    objrec_task *m = dalei_calloc(1, sizeof *m);
    if (!m) return DALE_ERR_NOMEM;
    dale_task *t = &m->task;
    size_t ncat = 0, side = 0;
    dale_status st = count_categories(dir, &ncat);
    for (int s = 0; s < 3 && !st; s++) {
        char ip[4300], lp[4300];
        snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte", dir, split_names[s]);
        snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte", dir, split_names[s]);
        if (!exists(ip) && !exists(lp) && s > 0) continue; /* an empty val or test split */
        if ((st = dale_idx_read(ip, (size_t)1 << 30, &m->img[s])) || (st = dale_idx_read(lp, (size_t)1 << 26, &m->lab[s])))
            break;
        const dale_idx *im = &m->img[s], *lb = &m->lab[s];
        if (im->ndim != 3 || im->dim[1] != im->dim[2] || (side && im->dim[1] != side)) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: images must be (N, side, side) with one side for all splits", ip);
            break;
        }
        side = im->dim[1];
        if (lb->ndim != 1 || lb->dim[0] != im->dim[0]) {
            st = DALE_FAIL(DALE_ERR_FORMAT, "%s: %zu labels for %zu images", lp, lb->dim[0], im->dim[0]);
            break;
        }
        for (size_t k = 0; k < lb->count; k++)
            if (lb->data[k] >= ncat) {
                st = DALE_FAIL(DALE_ERR_FORMAT, "%s: label %u of item %zu is not a category (0..%zu)", lp,
                               (unsigned)lb->data[k], k, ncat - 1);
                break;
            }
        t->count[s] = im->dim[0];
    }
    if (st) {
        free_impl(m);
        return st;
    }
    m->npix = side * side;
    double sum = 0;
    for (size_t i = 0; i < m->img[0].count; i++) sum += m->img[0].data[i];
    t->input_mean = sum / ((double)m->img[0].count * 255.0);
    if (cfg->center) {
        m->shift = (float)t->input_mean;
        t->input_mean = 0;
    }
    t->name = "objrec";
    t->T = cfg->steps;
    t->input = m->npix;
    t->output = ncat;
    t->loss = DALE_LOSS_CE_LAST;
    t->batch = objrec_batch;
    t->destroy = objrec_destroy;
    t->impl = m;
    *out = t;
    return DALE_OK;
}

/* ------------------------------------------------------------ registry */

static const dale_task_option objrec_options[] = {
    {"objrec_steps", DALE_OPT_LONG, "5", "time steps (the image at step 1, zero input after, loss at the last)", NULL, 1},
    {"objrec_center", DALE_OPT_STR, "off", "subtract the mean training pixel from the image (zero-mean input)", "on|off", 0},
};

/* Paper 6.2.4 gives no script: batch 16, 1 x 1000, constant lr and clip as
 * selected on validation from the paper's grid (lr 1e-1..1e-3 x clip {1, 5,
 * 10, none}, seeds 0-1; docs/reproduction.md): RNN and DANN lr 0.1 clip 1,
 * ColEI lr 0.01 clip 10 per tensor; 50 epochs of 32 updates, evaluated
 * once per epoch. */
static const dale_task_default objrec_defaults[] = {
    {NULL, "hidden", "1000"},  {NULL, "batch", "16"},   {NULL, "epochs", "50"},     {NULL, "eval_every", "32"},
    {NULL, "lr", "0.1"},       {"colei", "lr", "0.01"}, {NULL, "lr_decay", "1"},    {NULL, "lr_decay_every", "0"},
    {NULL, "clip", "1"},       {"colei", "clip", "10"},
};

/* The set in place (DATA or DATA/objrec): image counts and size from the
 * IDX headers, categories from categories.txt; else the default build
 * (85 x 85, 8 categories, 512 / 64 / 64). */
static dale_status objrec_shape(const dale_options *o, dale_task_shape *s)
{
    char data[512], dir[1100], path[1200];
    dale_opt_str(o, "data", data, sizeof data);
    snprintf(dir, sizeof dir, "%s", data);
    snprintf(path, sizeof path, "%s/objrec.json", data);
    if (!exists(path)) snprintf(dir, sizeof dir, "%s/objrec", data);
    double n[3] = {512, 64, 64}, side = 85;
    size_t ncat = 8, dim[DALE_IDX_MAXDIM];
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    if (dale_idx_peek(path, dim) == 3) {
        n[0] = (double)dim[0];
        side = (double)dim[1];
        for (int k = 1; k < 3; k++) {
            snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, split_names[k]);
            n[k] = dale_idx_peek(path, dim) == 3 ? (double)dim[0] : 0;
        }
        if (count_categories(dir, &ncat)) ncat = 8;
    }
    memset(s, 0, sizeof *s);
    s->T = (double)dale_opt_long(o, "objrec_steps");
    s->Tin = 1;
    s->input = side * side;
    s->output = (double)ncat;
    s->ntrain = n[0];
    s->neval = n[1] + n[2];
    s->eval_max = n[1] > n[2] ? n[1] : n[2];
    s->rows = 1;
    s->data_bytes = (n[0] + n[1] + n[2]) * (side * side + 1);
    return DALE_OK;
}

static dale_status objrec_create(const dale_options *o, dale_task **out)
{
    char data[512];
    dale_objrec_task_config oc = {dale_opt_str(o, "data", data, sizeof data), (size_t)dale_opt_long(o, "objrec_steps"),
                                  dale_opt_is(o, "objrec_center", "on")};
    return dale_task_objrec_create(&oc, out);
}

const dale_task_desc dalei_task_objrec = {
    "objrec", "object recognition from DATA/objrec (dale data get objrec): the image at step 1, cross-entropy at the last",
    objrec_options, sizeof objrec_options / sizeof objrec_options[0],
    objrec_defaults, sizeof objrec_defaults / sizeof objrec_defaults[0],
    NULL, objrec_shape, objrec_create,
};
