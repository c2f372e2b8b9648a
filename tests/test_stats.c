/* test_stats.c — dale/stats.h against SciPy 1.10.1 (numbers printed by
 * tools/ref/make_stats_ref.py and pasted here). */
#include <math.h>
#include "check.h"
#include "dale/stats.h"

static const double A[] = {2.32, 2.51, 1.98, 2.77, 2.6};
static const double B[] = {3.95, 3.41, 4.4, 3.88, 4.12};
static const double C[] = {1.1, 2.2, 2.2, 3.3, 0.5, 4.0, 2.2, 1.7, 3.9, 2.8};
static const double D[] = {0.3, 1.9, 2.2, 5.1, 2.2, 0.7, 4.4, 3.3, 2.9, 1.0, 6.2, 2.2};
static const double E[] = {0.3456, 0.8216, 0.3304, -1.3032, 0.9054, 0.4464, -0.537, 0.5811, 0.3646, 0.2941, 0.0284, 0.5467};
static const double F[] = {0.8781, -0.5455, -0.3261, -4.3829, 4.0994, 2.7883, -0.1508, 2.0476, 1.0624, -0.6076, 2.4551, -0.1211, -0.1576, -1.0843, 1.4099};
static const double X[] = {0.5, 0.62, 0.71, 0.8, 0.84, 0.88, 0.92, 0.95};
static const double Y[] = {4.1, 3.6, 3.7, 2.9, 2.6, 2.8, 2.2, 1.9};
#define N(a) (sizeof a / sizeof a[0])

static void near(const char *what, double got, double want, double rtol)
{
    double err = fabs(got - want), lim = 1e-300 + rtol * fabs(want);
    CHECK(err <= lim || (want == 0 && err < 1e-14), "%s: got %.17g want %.17g (rel err %.3g)", what, got, want,
          want != 0 ? err / fabs(want) : err);
}

int main(void)
{
    static const double bi[][4] = {
        {0.5, 0.5, 0.3, 0.36901011956554541},  {2.0, 3.0, 0.4, 0.52479999999999993},
        {10.0, 0.5, 0.9, 0.15164090963470997}, {0.5, 7.5, 0.05, 0.61171409884410788},
        {50.0, 40.0, 0.6, 0.80115341797448836},
    };
    for (size_t i = 0; i < N(bi); i++) near("betainc", dale_betainc(bi[i][0], bi[i][1], bi[i][2]), bi[i][3], 1e-12);
    static const double ts[][3] = {
        {0.0, 3.0, 0.5},  {1.5, 4.0, 0.10399999999999991}, {-2.2, 7.5, 0.96940026704694204},
        {3.7, 2.0, 0.032953355097183355}, {8.0, 30.0, 3.1329112378503861e-09}, {12.0, 5.0, 3.5447462585807639e-05},
    };
    for (size_t i = 0; i < N(ts); i++) near("t_sf", dale_t_sf(ts[i][0], ts[i][1]), ts[i][2], 1e-10);
    static const double ns[][2] = {
        {0.0, 0.5}, {1.0, 0.15865525393145707}, {-1.5, 0.93319279873114191},
        {3.0, 0.0013498980316300933}, {6.0, 9.8658764503769458e-10},
    };
    for (size_t i = 0; i < N(ns); i++) near("norm_sf", dale_norm_sf(ns[i][0]), ns[i][1], 1e-12);

    double t, df, p, u;
    int exact;
    CHECK_OK(dale_welch_t(A, N(A), B, N(B), &t, &df, &p));
    near("welch A B t", t, -7.1736443534265897, 1e-12);
    near("welch A B df", df, 7.7435114986538665, 1e-12);
    near("welch A B p", p, 0.00011143871623546452, 1e-9);
    CHECK_OK(dale_welch_t(C, N(C), D, N(D), &t, &df, &p));
    near("welch C D t", t, -0.49162702433336192, 1e-12);
    near("welch C D df", df, 18.841698558702049, 1e-12);
    near("welch C D p", p, 0.62866135984182914, 1e-10);
    CHECK_OK(dale_welch_t(E, N(E), F, N(F), &t, &df, &p));
    near("welch E F t", t, -0.46743212890922003, 1e-12);
    near("welch E F df", df, 17.140624750083376, 1e-12);
    near("welch E F p", p, 0.64607829237692971, 1e-10);

    CHECK_OK(dale_mann_whitney(A, N(A), B, N(B), &u, &p, &exact));
    near("mwu A B U", u, 0, 0);
    near("mwu A B p", p, 0.0079365079365079361, 1e-12);
    CHECK(exact == 1, "mwu A B must be exact");
    CHECK_OK(dale_mann_whitney(B, N(B), A, N(A), &u, &p, &exact));
    near("mwu B A U", u, 25, 0);
    near("mwu B A p", p, 0.0079365079365079361, 1e-12);
    CHECK_OK(dale_mann_whitney(A, N(A), X, N(X), &u, &p, &exact));
    near("mwu A X U", u, 40, 0);
    near("mwu A X p", p, 0.001554001554001554, 1e-12);
    CHECK_OK(dale_mann_whitney(C, N(C), D, N(D), &u, &p, &exact));
    near("mwu C D U", u, 57, 0);
    near("mwu C D p", p, 0.86772685578831377, 1e-12);
    CHECK(exact == 0, "mwu C D has ties: normal approximation");
    CHECK_OK(dale_mann_whitney(E, N(E), F, N(F), &u, &p, &exact));
    near("mwu E F U", u, 86, 0);
    near("mwu E F p", p, 0.86439477984566038, 1e-12);

    /* Ties, hand-computed.  x {1, 2, 2} vs y {2, 3, 3}: midranks 1, 3, 3 | 3,
     * 5.5, 5.5, so R_x = 7, U_x = 7 − 6 = 1, U = max(1, 8) = 8; tie term
     * (3³ − 3) + (2³ − 2) = 30, var = 9/12·(7 − 30/30) = 4.5, z = (8 − 4.5 −
     * 0.5)/√4.5 = √2, p = 2·½·erfc(1) = erfc(1). */
    static const double T1[] = {1, 2, 2}, T2[] = {2, 3, 3};
    CHECK_OK(dale_mann_whitney(T1, N(T1), T2, N(T2), &u, &p, &exact));
    near("mwu ties U", u, 1, 0);
    near("mwu ties p", p, 0.15729920705028513, 1e-12);
    CHECK(exact == 0, "mwu with ties uses the normal approximation");
    /* Each sample constant, different values (zero variance in each): ranks
     * 2, 2, 2 | 5, 5, 5, U = 9, tie term 2·24 = 48, var = 9/12·(7 − 48/30) =
     * 4.05, z = 4/√4.05, p = erfc(z/√2). */
    static const double K1[] = {1, 1, 1}, K2[] = {2, 2, 2};
    CHECK_OK(dale_mann_whitney(K2, N(K2), K1, N(K1), &u, &p, &exact));
    near("mwu constant samples U", u, 9, 0);
    near("mwu constant samples p", p, erfc(4 / sqrt(4.05) / sqrt(2.0)), 1e-12);
    /* One sample constant at chance, the other varied (Table 2's ColEI vs
     * RNN): 87.5 × 5 vs {79.7, 84.4, 82.8, 81.2, 82.8}: U = 25, tie term
     * 120 + 6, var = 25/12·(11 − 126/90) = 20, z = 12/√20. */
    static const double H1[] = {87.5, 87.5, 87.5, 87.5, 87.5}, H2[] = {79.7, 84.4, 82.8, 81.2, 82.8};
    CHECK_OK(dale_mann_whitney(H1, N(H1), H2, N(H2), &u, &p, &exact));
    near("mwu one constant U", u, 25, 0);
    near("mwu one constant p", p, erfc(12 / sqrt(20.0) / sqrt(2.0)), 1e-12);
    /* Every value tied, within and across samples: no evidence, p = 1 and
     * U = nx·ny/2, at any size (not NaN, not 0). */
    static const double Z[] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    static const size_t zs[][2] = {{1, 1}, {3, 3}, {2, 11}, {5, 8}, {13, 13}};
    for (size_t i = 0; i < N(zs); i++) {
        CHECK_OK(dale_mann_whitney(Z, zs[i][0], Z, zs[i][1], &u, &p, &exact));
        CHECK(p == 1, "mwu all tied %zu vs %zu: p = %.17g, want 1", zs[i][0], zs[i][1], p);
        near("mwu all tied U", u, (double)(zs[i][0] * zs[i][1]) / 2, 0);
    }

    double r;
    dale_linreg lr;
    struct { const double *x, *y; size_t n; double pr, pp, sr, sp, l[6]; } co[] = {
        {X, Y, 8, -0.95092868088487936, 0.0002846432814163825, -0.95238095238095244, 0.00026040002438725105,
         {-4.6600525240735333, 6.5981908374671718, -0.9509286808848797, 0.00028464328141637654,
          0.61901589830404125, 0.48973704025926107}},
        {C, D, 10, 0.13238197925980466, 0.71543626354673928, 0.067695191809254845, 0.85259351604659017,
         {0.18136709727093842, 1.966532637522457, 0.13238197925980466, 0.71543626354673939,
          0.48011513355477647, 1.259421706912945}},
        {E, F, 12, 0.69607586297058799, 0.011924846247541733, 0.4825174825174825, 0.11210929146889191,
         {2.4880848867365333, 0.014191622613946464, 0.69607586297058788, 0.011924846247541747,
          0.81154732710290989, 0.51145427340748428}},
    };
    for (size_t i = 0; i < N(co); i++) {
        CHECK_OK(dale_pearson(co[i].x, co[i].y, co[i].n, &r, &p));
        near("pearson r", r, co[i].pr, 1e-12);
        near("pearson p", p, co[i].pp, 1e-9);
        CHECK_OK(dale_spearman(co[i].x, co[i].y, co[i].n, &r, &p));
        near("spearman rho", r, co[i].sr, 1e-12);
        near("spearman p", p, co[i].sp, 1e-9);
        CHECK_OK(dale_linregress(co[i].x, co[i].y, co[i].n, &lr));
        const double got[6] = {lr.slope, lr.intercept, lr.r, lr.p, lr.stderr_slope, lr.stderr_intercept};
        static const char *const nm[6] = {"slope", "intercept", "r", "p", "stderr", "intercept_stderr"};
        for (int k = 0; k < 6; k++) near(nm[k], got[k], co[i].l[k], k == 3 ? 1e-9 : 1e-11);
    }
    /* errors */
    CHECK(dale_welch_t(A, 1, B, 5, &t, &df, &p) == DALE_ERR_ARG && isnan(p), "welch n=1 refused");
    const double k3[] = {1, 1, 1};
    CHECK(dale_pearson(k3, X, 3, &r, &p) == DALE_ERR_ARG, "constant x refused");
    CHECK(dale_linregress(k3, X, 3, &lr) == DALE_ERR_ARG, "linregress constant x refused");
    CHECK(dale_spearman(X, Y, 2, &r, &p) == DALE_ERR_ARG, "spearman n=2 refused");
    return check_done("test_stats");
}
