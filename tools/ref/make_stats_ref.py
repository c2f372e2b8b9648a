#!/usr/bin/python3
"""make_stats_ref.py — SciPy reference values for tests/test_stats.c.

Run with Debian's /usr/bin/python3 (python3-scipy); paste the printed C
block into tests/test_stats.c (the numbers are committed, CI needs no Python).
"""
import numpy as np
from scipy import stats, special

a = [2.32, 2.51, 1.98, 2.77, 2.60]
b = [3.95, 3.41, 4.40, 3.88, 4.12]
c = [1.1, 2.2, 2.2, 3.3, 0.5, 4.0, 2.2, 1.7, 3.9, 2.8]          # ties
d = [0.3, 1.9, 2.2, 5.1, 2.2, 0.7, 4.4, 3.3, 2.9, 1.0, 6.2, 2.2]  # ties
e = list(np.round(np.random.default_rng(1).normal(0.0, 1.0, 12), 4))
f = list(np.round(np.random.default_rng(2).normal(0.5, 2.0, 15), 4))
x = [0.50, 0.62, 0.71, 0.80, 0.84, 0.88, 0.92, 0.95]
y = [4.1, 3.6, 3.7, 2.9, 2.6, 2.8, 2.2, 1.9]


def arr(name, v):
    print("static const double %s[] = {%s};" % (name, ", ".join(repr(float(t)) for t in v)))


for n, v in [("A", a), ("B", b), ("C", c), ("D", d), ("E", e), ("F", f), ("X", x), ("Y", y)]:
    arr(n, v)
print("/* betainc(a, b, x) */")
for (p, q, t) in [(0.5, 0.5, 0.3), (2.0, 3.0, 0.4), (10.0, 0.5, 0.9), (0.5, 7.5, 0.05), (50.0, 40.0, 0.6)]:
    print("    {%r, %r, %r, %.17g}," % (p, q, t, special.betainc(p, q, t)))
print("/* t sf(t, df) */")
for (t, df) in [(0.0, 3.0), (1.5, 4.0), (-2.2, 7.5), (3.7, 2.0), (8.0, 30.0), (12.0, 5.0)]:
    print("    {%r, %r, %.17g}," % (t, df, stats.t.sf(t, df)))
print("/* norm sf */")
for z in [0.0, 1.0, -1.5, 3.0, 6.0]:
    print("    {%r, %.17g}," % (z, stats.norm.sf(z)))
print("/* welch: t df p */")
for (u, v) in [("A", "B"), ("C", "D"), ("E", "F")]:
    U, V = {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f}[u], {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f}[v]
    r = stats.ttest_ind(U, V, equal_var=False)
    vx, vy = np.var(U, ddof=1) / len(U), np.var(V, ddof=1) / len(V)
    df = (vx + vy) ** 2 / (vx ** 2 / (len(U) - 1) + vy ** 2 / (len(V) - 1))
    print("    welch %s %s: %.17g %.17g %.17g" % (u, v, r.statistic, df, r.pvalue))
print("/* mann-whitney: U p */")
for (u, v) in [("A", "B"), ("B", "A"), ("A", "X"), ("C", "D"), ("E", "F")]:
    S = {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "X": x}
    r = stats.mannwhitneyu(S[u], S[v])
    print("    mwu %s %s: %.17g %.17g" % (u, v, r.statistic, r.pvalue))
print("/* pearson, spearman, linregress on X, Y and on C, D[:10] */")
for (U, V, nm) in [(x, y, "XY"), (c, d[:10], "CD"), (e, f[:12], "EF")]:
    p = stats.pearsonr(U, V)
    s = stats.spearmanr(U, V)
    l = stats.linregress(U, V)
    print("    %s pearson %.17g %.17g spearman %.17g %.17g" % (nm, p[0], p[1], s.correlation, s.pvalue))
    print("    %s linreg %.17g %.17g %.17g %.17g %.17g %.17g" % (nm, l.slope, l.intercept, l.rvalue, l.pvalue,
                                                          l.stderr, l.intercept_stderr))
