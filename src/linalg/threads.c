/* threads.c — the BLAS thread policy (OpenBLAS), and the small worker pool
 * that splits dale's own kernels (linalg/kernels.c) between threads.
 *
 * The pool.  dalei_kernels_set_threads(n) asks for n threads per product:
 * the caller and n - 1 workers, started on first use and never stopped
 * (detached; they hold no memory of their own besides their stacks).  A
 * job is a function fn(arg, part, nparts); the caller runs part 0, worker
 * w part w.  Hand-off is a generation counter: a worker that finished a
 * job spins on it for SPIN_NS (the per-step products of a forward come
 * every few hundred microseconds, and a condition-variable wake-up costs
 * tens of microseconds; after the first few microseconds the spin also
 * yields the core, for when the machine is busier than its cores), then
 * sleeps on a condition variable, so an idle pool costs no CPU.  The
 * caller waits for the workers the same way.
 *
 * Only one job runs at a time: a call made while the pool is busy (two
 * threads of the caller using kernels at once) runs all parts itself, in
 * order.  Which thread runs a part never changes a result: the kernels
 * split the output, never the sum over k (kernels.c).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include "dale/linalg.h"
#include "linalg/kernels.h"

void openblas_set_num_threads(int num_threads);

void dale_set_blas_threads(int n) { openblas_set_num_threads(n > 0 ? n : 1); }

void dale_set_threads(int n)
{
    dale_set_blas_threads(n);
    dalei_kernels_set_threads(n > 0 ? n : 1);
}

#define POOL_MAX 64
#define SPIN_NS 200000L

typedef void (*pool_fn)(void *arg, int part, int nparts);

static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* workers: a new generation */
    pthread_cond_t done; /* caller: pending reached 0 */
    _Atomic unsigned gen;
    _Atomic int pending; /* workers yet to finish this generation */
    _Atomic int busy;    /* a caller owns the pool */
    int started;         /* workers running (guarded by busy) */
    pool_fn fn;
    void *arg;
    int nparts;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
          0, 0, 0, 0, NULL, NULL, 0};

static _Atomic int want_threads = 1;
/* The generation each worker was started in (it waits for the next one). */
static unsigned start_gen[POOL_MAX];

void dalei_kernels_set_threads(int n)
{
    atomic_store_explicit(&want_threads, n < 1 ? 1 : n > POOL_MAX ? POOL_MAX : n,
                          memory_order_relaxed);
}

int dalei_kernels_threads(void) { return atomic_load_explicit(&want_threads, memory_order_relaxed); }

static long elapsed_ns(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)(t.tv_sec - t0->tv_sec) * 1000000000L + (t.tv_nsec - t0->tv_nsec);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spin until *v != old (gen) or == 0 (pending), at most SPIN_NS; 1 when it happened. */
static int spin_until(_Atomic unsigned *gen, unsigned old, _Atomic int *pending)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 1;; i++) {
        if (gen ? atomic_load_explicit(gen, memory_order_acquire) != old
                : atomic_load_explicit(pending, memory_order_acquire) == 0)
            return 1;
        cpu_relax();
        if (!(i & 255)) {
            if (elapsed_ns(&t0) > SPIN_NS) return 0;
            if (i >= 4096) sched_yield(); /* a loaded machine: let the partner run */
        }
    }
}

static void *worker(void *p)
{
    const int id = (int)(intptr_t)p;
    unsigned seen = start_gen[id];
    for (;;) {
        if (!spin_until(&pool.gen, seen, NULL)) {
            pthread_mutex_lock(&pool.mu);
            while (atomic_load_explicit(&pool.gen, memory_order_acquire) == seen)
                pthread_cond_wait(&pool.wake, &pool.mu);
            pthread_mutex_unlock(&pool.mu);
        }
        seen = atomic_load_explicit(&pool.gen, memory_order_acquire);
        if (id < pool.nparts) pool.fn(pool.arg, id, pool.nparts);
        if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool.mu);
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

/* After fork() only the forking thread exists: forget the workers. */
static void pool_atfork_child(void)
{
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    atomic_store(&pool.pending, 0);
    atomic_store(&pool.busy, 0);
    pool.started = 0;
}

/* Start workers 1..n-1 (caller owns the pool); returns how many run. */
static int pool_grow(int n)
{
    static int atfork_done;
    if (!atfork_done) {
        pthread_atfork(NULL, NULL, pool_atfork_child);
        atfork_done = 1;
    }
    while (pool.started + 1 < n) {
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        start_gen[pool.started + 1] = atomic_load_explicit(&pool.gen, memory_order_relaxed);
        int rc = pthread_create(&t, &at, worker, (void *)(intptr_t)(pool.started + 1));
        pthread_attr_destroy(&at);
        if (rc != 0) break;
        pool.started++;
    }
    return pool.started + 1;
}

void dalei_pool_run(void (*fn)(void *arg, int part, int nparts), void *arg, int nparts)
{
    int expect = 0;
    if (nparts <= 1 || !atomic_compare_exchange_strong(&pool.busy, &expect, 1)) {
        for (int p = 0; p < nparts; p++) fn(arg, p, nparts);
        return;
    }
    const int have = pool_grow(nparts);
    pool.fn = fn;
    pool.arg = arg;
    pool.nparts = nparts;
    atomic_store_explicit(&pool.pending, pool.started, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
    pthread_mutex_lock(&pool.mu);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
    fn(arg, 0, nparts);
    for (int p = have; p < nparts; p++) fn(arg, p, nparts); /* workers that did not start */
    if (!spin_until(NULL, 0, &pool.pending)) {
        pthread_mutex_lock(&pool.mu);
        while (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0)
            pthread_cond_wait(&pool.done, &pool.mu);
        pthread_mutex_unlock(&pool.mu);
    }
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
}
