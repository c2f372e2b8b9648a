/* check.h — the tiny test harness shared by every tests/test_*.c.
 *
 * CHECK(cond, ...) records a failure with file:line and a message but keeps
 * going; check_close() compares float arrays with |got-want| <= atol+rtol|want|
 * and prints the worst element.  check_done() prints "N passed, N failed" and
 * returns the process exit code (non-zero on any failure), so every test
 * main ends with `return check_done();`. */
#ifndef DALE_TESTS_CHECK_H
#define DALE_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stddef.h>

static int check_pass_count, check_fail_count;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            check_pass_count++;                                           \
        } else {                                                          \
            check_fail_count++;                                           \
            printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);        \
            printf(__VA_ARGS__);                                          \
            printf("\n");                                                 \
        }                                                                 \
    } while (0)

/* Status-returning call that must succeed. */
#define CHECK_OK(expr)                                                              \
    do {                                                                            \
        int check_st_ = (int)(expr);                                                \
        CHECK(check_st_ == 0, "%s -> %d: %s", #expr, check_st_, dale_last_error()); \
    } while (0)

/* Shared body of check_close / check_close_d: element i of got/want is read
 * as float or double according to `dbl`. */
static inline double check_elem_(const void *a, size_t i, int dbl)
{
    return dbl ? ((const double *)a)[i] : (double)((const float *)a)[i];
}

static inline int check_close_any_(const char *label, const void *got, const void *want, size_t n,
                                   double atol, double rtol, int dbl)
{
    double worst = 0, worst_excess = -(double)INFINITY;
    size_t wi = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        double g = check_elem_(got, i, dbl), w = check_elem_(want, i, dbl);
        double err = fabs(g - w), lim = atol + rtol * fabs(w);
        if (!(err <= lim)) bad++;
        double excess = isnan(err) ? (double)INFINITY : err - lim;
        if (excess > worst_excess) { worst_excess = excess; worst = err; wi = i; }
    }
    if (bad == 0) {
        check_pass_count++;
        return 1;
    }
    check_fail_count++;
    printf("FAIL %s: %zu/%zu elements off (atol %g, rtol %g); worst [%zu] got %.9g want %.9g err %.3g\n",
           label, bad, n, atol, rtol, wi, check_elem_(got, wi, dbl), check_elem_(want, wi, dbl), worst);
    for (size_t i = 0; i < n && i < 4; i++)
        printf("     [%zu] got %.9g want %.9g\n", i, check_elem_(got, i, dbl), check_elem_(want, i, dbl));
    return 0;
}

static inline int check_close_d(const char *label, const double *got, const double *want, size_t n,
                                double atol, double rtol)
{
    return check_close_any_(label, got, want, n, atol, rtol, 1);
}

static inline int check_close(const char *label, const float *got, const float *want, size_t n,
                              double atol, double rtol)
{
    return check_close_any_(label, got, want, n, atol, rtol, 0);
}

static inline int check_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_pass_count, check_fail_count);
    return check_fail_count ? 1 : 0;
}

#endif
