/* spectrum.c — spectra of many initialisations (paper Fig. 3, Table 3), histograms,
 * summary statistics and the spectrum transplant (paper Sec. 2.3.1).
 *
 * Sampling layout: the (job, draw) pairs form one task list, jobs with the
 * largest n first so that the slow solves start early and the pool drains
 * evenly.  Workers take the next task index under a mutex, compute that
 * draw from its own seed (so the result does not depend on which thread ran
 * it) and write it into the draw's row of the job's arrays.  Each worker owns
 * one scratch block sized for the largest n, allocated and freed inside the
 * worker (dalei_alloc's counters are thread-local).  The first error is
 * copied with its message; the other workers stop at their next task and the
 * caller re-raises it in its own thread.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "dale/linalg.h"
#include "dale/rng.h"
#include "dale/spectrum.h"
#include "internal.h"

/* ------------------------------------------------------------ one draw */

/* The sampled configuration: one cell, input 1, output 1, no dense layers. */
static dale_net_config sample_config(const dale_net_config *cfg)
{
    dale_net_config c = *cfg;
    c.input = 1;
    c.output = 1;
    c.layers = 1;
    c.ndense = 0;
    return c;
}

/* The model's init keeps W's eigenvalues (ColEI): no eigen-solve needed. */
static int keeps_init_eigs(const dale_net_config *c)
{
    const dale_model_info *m = dale_model_of(c->type);
    return m && (m->traits & DALE_MODEL_INIT_EIGS);
}

/* Draw with `seed` into the network `net` made from the sample config c
 * (dale_net_init rewrites every parameter from the seed, so a network can
 * be reused for the next draw of the same job): W (n, n) float64 into A,
 * eigenvalues into re/im when they are wanted (ColEI: from the init;
 * others: dgeev unless skip_eig).  Wf is float32 scratch of n*n.  Sets
 * *have_eig. */
static dale_status draw_into(dale_net *net, const dale_net_config *c, uint64_t seed, float *Wf,
                             double *A, double *re, double *im, int skip_eig, int *have_eig)
{
    dale_rng rng;
    size_t n = c->hidden;
    *have_eig = 0;
    dale_rng_seed(&rng, seed);
    dale_status st = dale_net_init(net, &rng);
    if (st) return st;
    if ((st = dale_net_effective(net, 0, Wf, NULL))) return st;
    for (size_t i = 0; i < n * n; i++) A[i] = (double)Wf[i];
    if (re && im) {
        if (keeps_init_eigs(c)) {
            /* Saves a solve: the init already computed (ρ/ρ0)·λ(A). */
            st = dale_net_init_eigvals(net, 0, re, im);
            *have_eig = st == DALE_OK;
        } else if (!skip_eig) {
            st = dale_eigvals(A, n, re, im);
            *have_eig = st == DALE_OK;
        }
    }
    return st;
}

/* The sampling network of config c with W's mask (NULL: none). */
static dale_status sample_net(const dale_net_config *c, const float *W_mask, dale_net **net)
{
    dale_status st = dale_net_create(c, net);
    if (!st && W_mask && (st = dale_net_set_mask(*net, 0, 1, W_mask))) {
        dale_net_free(*net);
        *net = NULL;
    }
    return st;
}

/* draw_into on a network of its own. */
static dale_status draw_one(const dale_net_config *c, const float *W_mask, uint64_t seed, float *Wf, double *A,
                            double *re, double *im, int skip_eig, int *have_eig)
{
    dale_net *net = NULL;
    *have_eig = 0;
    dale_status st = sample_net(c, W_mask, &net);
    if (!st) st = draw_into(net, c, seed, Wf, A, re, im, skip_eig, have_eig);
    dale_net_free(net);
    return st;
}

dale_status dale_spectrum_draw(const dale_net_config *cfg, uint64_t seed, double *W, double *re,
                               double *im)
{
    return dale_spectrum_draw_masked(cfg, NULL, seed, W, re, im);
}

dale_status dale_spectrum_draw_masked(const dale_net_config *cfg, const float *W_mask, uint64_t seed, double *W,
                                      double *re, double *im)
{
    if (!cfg || !W) return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_draw: cfg and W must not be NULL");
    if (cfg->hidden == 0) return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_draw: hidden must be > 0");
    dale_net_config c = sample_config(cfg);
    size_t n = c.hidden;
    float *Wf = dalei_alloc(n * n, sizeof *Wf);
    if (!Wf) return DALE_ERR_NOMEM;
    int have = 0;
    dale_status st = draw_one(&c, W_mask, seed, Wf, W, re, im, 0, &have);
    dalei_free(Wf);
    return st;
}

/* ------------------------------------------------------------- sampling */

typedef struct task {
    size_t job, draw;
} task;

typedef struct pool {
    const dale_spectrum_job *jobs;
    const float *const *masks;  /* W's mask per job, or NULL */
    dale_net_config *cfgs; /* sample_config of each job */
    dale_spectrum_set *out;
    unsigned flags;
    task *tasks;
    size_t ntasks, next, nmax;
    pthread_mutex_t lock;
    int stop;
    dale_status err;
    char msg[512];
    size_t done;                    /* draws finished                     */
    dale_spectrum_progress progress; /* called under the lock after each  */
    void *user;
} pool;

static void pool_fail(pool *p, dale_status st)
{
    pthread_mutex_lock(&p->lock);
    if (!p->err) {
        p->err = st;
        snprintf(p->msg, sizeof p->msg, "%s", dale_last_error());
    }
    p->stop = 1;
    pthread_mutex_unlock(&p->lock);
}

static void *worker(void *arg)
{
    pool *p = arg;
    size_t nmax = p->nmax;
    /* Scratch: W float32 (n²) then A (n²), s, re, im (n each) in doubles. */
    double *block = dalei_alloc(nmax * nmax + 3 * nmax + (nmax * nmax + 1) / 2, sizeof(double));
    if (!block) {
        pool_fail(p, DALE_ERR_NOMEM);
        return NULL;
    }
    double *A = block, *s = A + nmax * nmax, *re = s + nmax, *im = re + nmax;
    float *Wf = (float *)(im + nmax);
    /* The network of the job last drawn: tasks come grouped by job, so a
     * worker creates one network per job it visits, not one per draw. */
    dale_net *net = NULL;
    size_t net_job = SIZE_MAX;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t t = p->stop ? p->ntasks : p->next++;
        pthread_mutex_unlock(&p->lock);
        if (t >= p->ntasks) break;
        size_t j = p->tasks[t].job, k = p->tasks[t].draw;
        dale_spectrum_set *o = &p->out[j];
        size_t n = o->n;
        int keep = (p->flags & DALE_SPEC_KEEP) != 0, have = 0;
        double *sk = keep ? o->svals + k * n : s;
        double *rk = keep && o->eig_re ? o->eig_re + k * n : re;
        double *ik = keep && o->eig_im ? o->eig_im + k * n : im;
        dale_status st = DALE_OK;
        if (j != net_job) {
            dale_net_free(net);
            net = NULL;
            net_job = SIZE_MAX;
            if (!(st = sample_net(&p->cfgs[j], p->masks ? p->masks[j] : NULL, &net))) net_job = j;
        }
        if (!st)
            st = draw_into(net, &p->cfgs[j], p->jobs[j].seed0 + k, Wf, A, rk, ik,
                           (p->flags & DALE_SPEC_NO_EIG) != 0, &have);
        if (!st) st = dale_svals(A, n, n, sk);
        if (!st)
            st = dale_spectrum_summary_from(A, n, sk, have ? rk : NULL, have ? ik : NULL,
                                            &o->sum[k]);
        if (st) {
            pool_fail(p, st);
            break;
        }
        if (p->progress) {
            pthread_mutex_lock(&p->lock);
            p->done++;
            p->progress(p->done, p->ntasks, n, p->user);
            pthread_mutex_unlock(&p->lock);
        }
    }
    dale_net_free(net);
    dalei_free(block);
    return NULL;
}

void dale_spectrum_set_free(dale_spectrum_set *s)
{
    if (!s) return;
    dalei_free(s->sum);
    dalei_free(s->svals);
    dalei_free(s->eig_re);
    dalei_free(s->eig_im);
    s->sum = NULL;
    s->svals = s->eig_re = s->eig_im = NULL;
}

/* Job order for the task list: larger n first, then job index (a stable
 * insertion sort; there are few jobs). */
static void order_jobs(const dale_spectrum_job *jobs, size_t *order, size_t njobs)
{
    for (size_t j = 0; j < njobs; j++) order[j] = j;
    for (size_t a = 1; a < njobs; a++) {
        size_t v = order[a], b = a;
        while (b > 0 && jobs[order[b - 1]].cfg->hidden < jobs[v].cfg->hidden) {
            order[b] = order[b - 1];
            b--;
        }
        order[b] = v;
    }
}

/* Sets up out[j] for job j: validates the config through dale_net_create
 * and reads the E/I counts of W's columns from the network. */
static dale_status prepare_job(const dale_net_config *c, const dale_spectrum_job *job, const float *W_mask,
                               unsigned flags, dale_spectrum_set *o)
{
    dale_net *net = NULL;
    dale_status st = sample_net(c, W_mask, &net); /* also checks the mask's values */
    if (st) return st;
    size_t n = c->hidden;
    o->cfg = *c;
    o->seed0 = job->seed0;
    o->inits = job->inits;
    o->n = n;
    dale_net_ei_units(net, 0, &o->nE, &o->nI);
    dale_net_free(net);
    o->sum = dalei_calloc(job->inits, sizeof *o->sum);
    if (!o->sum) return DALE_ERR_NOMEM;
    if (flags & DALE_SPEC_KEEP) {
        int eig = keeps_init_eigs(c) || !(flags & DALE_SPEC_NO_EIG);
        o->svals = dalei_alloc(job->inits * n, sizeof(double));
        if (!o->svals) return DALE_ERR_NOMEM;
        if (eig) {
            o->eig_re = dalei_alloc(job->inits * n, sizeof(double));
            o->eig_im = dalei_alloc(job->inits * n, sizeof(double));
            if (!o->eig_re || !o->eig_im) return DALE_ERR_NOMEM;
        }
    }
    return DALE_OK;
}

dale_status dale_spectrum_sample(const dale_spectrum_job *jobs, size_t njobs, unsigned flags,
                                 int threads, dale_spectrum_set *out)
{
    return dale_spectrum_sample_progress(jobs, njobs, flags, threads, out, NULL, NULL);
}

dale_status dale_spectrum_sample_progress(const dale_spectrum_job *jobs, size_t njobs, unsigned flags,
                                          int threads, dale_spectrum_set *out, dale_spectrum_progress progress,
                                          void *user)
{
    return dale_spectrum_sample_masked(jobs, NULL, njobs, flags, threads, out, progress, user);
}

dale_status dale_spectrum_sample_masked(const dale_spectrum_job *jobs, const float *const *W_masks, size_t njobs,
                                        unsigned flags, int threads, dale_spectrum_set *out,
                                        dale_spectrum_progress progress, void *user)
{
    if (!jobs || !out || njobs == 0)
        return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_sample: jobs and out must not be NULL, njobs > 0");
    memset(out, 0, njobs * sizeof *out);
    dale_status st = DALE_OK;
    pool p = {0};
    size_t *order = NULL;
    pthread_t *tid = NULL;
    size_t started = 0;
    int have_lock = 0;
    p.jobs = jobs;
    p.masks = W_masks;
    p.out = out;
    p.flags = flags;
    p.progress = progress;
    p.user = user;
    for (size_t j = 0; j < njobs; j++) {
        if (!jobs[j].cfg)
            return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_sample: job %zu has no config", j);
        if (jobs[j].inits == 0)
            return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_sample: job %zu: inits must be > 0", j);
        if (p.ntasks > SIZE_MAX - jobs[j].inits)
            return DALE_FAIL(DALE_ERR_ARG, "dale_spectrum_sample: too many draws");
        p.ntasks += jobs[j].inits;
    }
    p.cfgs = dalei_alloc(njobs, sizeof *p.cfgs);
    order = dalei_alloc(njobs, sizeof *order);
    p.tasks = dalei_alloc(p.ntasks, sizeof *p.tasks);
    if (!p.cfgs || !order || !p.tasks) { st = DALE_ERR_NOMEM; goto fail; }
    for (size_t j = 0; j < njobs; j++) {
        p.cfgs[j] = sample_config(jobs[j].cfg);
        if ((st = prepare_job(&p.cfgs[j], &jobs[j], W_masks ? W_masks[j] : NULL, flags, &out[j]))) goto fail;
        if (out[j].n > p.nmax) p.nmax = out[j].n;
    }
    order_jobs(jobs, order, njobs);
    for (size_t t = 0, jj = 0; jj < njobs; jj++)
        for (size_t k = 0; k < jobs[order[jj]].inits; k++) p.tasks[t++] = (task){order[jj], k};

    if (pthread_mutex_init(&p.lock, NULL) != 0) {
        st = DALE_FAIL(DALE_ERR_STATE, "dale_spectrum_sample: cannot create a mutex");
        goto fail;
    }
    have_lock = 1;
    size_t nthr = threads > 0 ? (size_t)threads : 1;
    if (nthr > p.ntasks) nthr = p.ntasks;
    if (nthr == 1) {
        worker(&p); /* no thread needed; errors land in this thread directly */
    } else {
        tid = dalei_alloc(nthr, sizeof *tid);
        if (!tid) { st = DALE_ERR_NOMEM; goto fail; }
        for (; started < nthr; started++)
            if (pthread_create(&tid[started], NULL, worker, &p) != 0) break;
        if (started == 0) {
            st = DALE_FAIL(DALE_ERR_STATE, "dale_spectrum_sample: cannot start a thread");
            goto fail;
        }
        for (size_t i = 0; i < started; i++) pthread_join(tid[i], NULL);
    }
    if (p.err) st = DALE_FAIL(p.err, "%s", p.msg);

fail:
    if (have_lock) pthread_mutex_destroy(&p.lock);
    dalei_free(tid);
    dalei_free(p.tasks);
    dalei_free(order);
    dalei_free(p.cfgs);
    if (st)
        for (size_t j = 0; j < njobs; j++) {
            dale_spectrum_set_free(&out[j]);
            memset(&out[j], 0, sizeof out[j]);
        }
    return st;
}

/* ------------------------------------------------- histograms, statistics */

dale_status dale_histogram(const double *x, size_t count, double lo, double hi, size_t bins,
                           double *density, size_t *outside)
{
    if ((!x && count) || !density || bins == 0 || !(lo < hi) || !isfinite(lo) || !isfinite(hi))
        return DALE_FAIL(DALE_ERR_ARG, "dale_histogram: need x, density, bins > 0 and finite lo < hi "
                                       "(got bins %zu, lo %g, hi %g)", bins, lo, hi);
    memset(density, 0, bins * sizeof *density);
    size_t inside = 0, out = 0;
    double width = (hi - lo) / (double)bins;
    for (size_t i = 0; i < count; i++) {
        double v = x[i];
        if (!isfinite(v)) continue;
        if (v < lo || v > hi) {
            out++;
            continue;
        }
        /* Bin b covers [lo + b w, lo + (b+1) w); the last one also holds hi. */
        size_t b = (size_t)((v - lo) / width);
        if (b >= bins) b = bins - 1;
        density[b] += 1.0;
        inside++;
    }
    if (inside)
        for (size_t b = 0; b < bins; b++) density[b] /= (double)inside * width;
    if (outside) *outside = out;
    return DALE_OK;
}

void dale_mean_sd(const double *x, size_t count, size_t stride, double *mean, double *sd)
{
    if (count == 0) {
        *mean = *sd = (double)NAN;
        return;
    }
    double m = 0.0;
    for (size_t i = 0; i < count; i++) m += x[i * stride];
    m /= (double)count;
    double ss = 0.0;
    for (size_t i = 0; i < count; i++) ss += (x[i * stride] - m) * (x[i * stride] - m);
    *mean = m;
    *sd = count > 1 ? sqrt(ss / (double)(count - 1)) : 0.0;
}

double dale_nse_rnn_reference(size_t n)
{
    /* c = ∫ (σ/μ) ln(σ/μ) f(σ) dσ for the quarter-circle density
     * f(σ) = sqrt(4 - σ²)/π on [0, 2], μ = 8/(3π); then H ≈ ln n - c. */
    const double c = 0.21686166;
    if (n < 2) return (double)NAN;
    return 1.0 - c / log((double)n);
}

/* ------------------------------------------------------------ transplant */

static int desc_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x > y ? -1 : x < y;
}

dale_status dale_transplant_values(const double *A_vectors, const double *sigma, size_t m,
                                   size_t n, double *out)
{
    if (!A_vectors || !sigma || !out)
        return DALE_FAIL(DALE_ERR_ARG, "dale_transplant: matrices must not be NULL");
    if (m == 0 || n == 0 || m > SIZE_MAX / n)
        return DALE_FAIL(DALE_ERR_ARG, "dale_transplant: bad shape %zu x %zu", m, n);
    size_t k = m < n ? m : n;
    for (size_t i = 0; i < k; i++)
        if (!isfinite(sigma[i]) || sigma[i] < 0)
            return DALE_FAIL(DALE_ERR_ARG, "dale_transplant: singular value %zu is %g (need finite, >= 0)",
                             i, sigma[i]);
    /* One block: U (m, k), σ_A (k), Vt (k, n), sorted σ_B (k). */
    if (m > SIZE_MAX / k / 2 || k > SIZE_MAX / n / 2)
        return DALE_FAIL(DALE_ERR_ARG, "dale_transplant: %zu x %zu is too large", m, n);
    double *block = dalei_alloc(m * k + k * n + 2 * k, sizeof(double));
    if (!block) return DALE_ERR_NOMEM;
    double *U = block, *sa = U + m * k, *Vt = sa + k, *sb = Vt + k * n;
    dale_status st = dale_svd(A_vectors, m, n, U, sa, Vt);
    if (st) goto done;
    memcpy(sb, sigma, k * sizeof *sb);
    qsort(sb, k, sizeof *sb, desc_cmp);
    /* out = (U diag(σ_B)) Vt: scale U's columns in place, then i-p-j loops
     * (row-major friendly; O(m k n)). */
    for (size_t i = 0; i < m; i++)
        for (size_t p = 0; p < k; p++) U[i * k + p] *= sb[p];
    for (size_t i = 0; i < m; i++) {
        double *o = out + i * n;
        memset(o, 0, n * sizeof *o);
        for (size_t p = 0; p < k; p++) {
            double u = U[i * k + p];
            const double *v = Vt + p * n;
            for (size_t j = 0; j < n; j++) o[j] += u * v[j];
        }
    }
done:
    dalei_free(block);
    return st;
}

dale_status dale_transplant(const double *A_vectors, const double *B_values, size_t m, size_t n,
                            double *out)
{
    if (!B_values) return DALE_FAIL(DALE_ERR_ARG, "dale_transplant: B must not be NULL");
    if (m == 0 || n == 0) return DALE_FAIL(DALE_ERR_ARG, "dale_transplant: bad shape %zu x %zu", m, n);
    size_t k = m < n ? m : n;
    double *sb = dalei_alloc(k, sizeof *sb);
    if (!sb) return DALE_ERR_NOMEM;
    dale_status st = dale_svals(B_values, m, n, sb);
    if (!st) st = dale_transplant_values(A_vectors, sb, m, n, out);
    dalei_free(sb);
    return st;
}
