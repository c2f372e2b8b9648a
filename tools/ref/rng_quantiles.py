#!/usr/bin/python3
"""Exact quantiles, means, variances and excess kurtoses of the distributions dale_rng draws.

The values come from scipy.stats (closed forms / accurate special functions),
not from sampling, so the C test compares its empirical quantiles against the
true ones.  Parameterisations follow NumPy: exponential(scale), normal(loc,
scale = standard deviation), uniform(low, high), gamma(shape, scale).

Run with the Debian interpreter:  /usr/bin/python3 tools/ref/rng_quantiles.py
and paste the output into the table in tests/test_rng.c.
"""
from scipy import stats

PROBS = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)

DISTS = [
    ("exponential(scale=0.5)", stats.expon(scale=0.5)),
    ("normal(mu=1, sd=2)", stats.norm(loc=1.0, scale=2.0)),
    ("uniform(-1, 3)", stats.uniform(loc=-1.0, scale=4.0)),
    ("gamma(shape=0.5, scale=2)", stats.gamma(0.5, scale=2.0)),
    ("gamma(shape=3, scale=0.7)", stats.gamma(3.0, scale=0.7)),
]

print("/* probabilities: " + ", ".join(f"{p:g}" for p in PROBS) + " */")
print("/* {{quantiles}, mean, variance, excess kurtosis} */")
for name, d in DISTS:
    q = ", ".join(f"{x:.10g}" for x in d.ppf(PROBS))
    print(f"/* {name} */")
    mean, var, kurt = (float(v) for v in d.stats(moments="mvk"))
    print(f"{{{{{q}}}, {mean:.10g}, {var:.10g}, {kurt:.10g}}},")
