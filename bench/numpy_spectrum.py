#!/usr/bin/env python3
"""numpy_spectrum.py — the NumPy side of the spectral benchmarks in `make bench`.

  table SEEDS SIZES   paper Table 3 end to end, the recipe of `dale spectrum --table nse`
                      (src/model/init.c, docs/spectral.md): for each size n, each of
                      ColEI 1/10/50 % inhibitory (exponential weights with balanced E/I
                      means, zero diagonal, one eigen-solve to rescale to rho 1.5; its
                      eigenvalues are reused), DANN 1/10/50 % (W = W_EE - W_EI W_IE with
                      the mean-row W_IE, nu 1/3) and the RNN (uniform, nu 1/3), and each
                      seed: the recurrent W, its singular values (values only), its
                      eigenvalues (RNN and DANN; ColEI reuses the init's), NSE, sigma_max
                      and rho.  Prints "numpy,table,SEEDS,SIZES,wall_s,cpu_s" and the NSE
                      means on stderr (a check that the work is the same).
  svals N REPS        singular values of a random N x N float64 matrix,
                      numpy.linalg.svd(compute_uv=False); prints the median seconds.
The random streams differ from dale's (NumPy's generator), so the NSE values agree with
dale's only statistically; the work per draw (one dgesdd, one dgeev per draw) is the same.
"""
import math
import sys
import time

import numpy as np

COLEI_C = (2 * math.pi - 1) / (2 * math.pi)


def ei_split(n, r):
    ni = min(math.ceil(n / (r + 1)), n)
    return n - ni, ni


def nse(s):
    p = s / s.sum()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / math.log(len(s)))


def colei(rng, n, r):
    ne, ni = ei_split(n, r)
    se = math.sqrt(1 / (COLEI_C * (ne + ne * ne / ni)))
    si = se * ne / ni
    scale = np.where(np.arange(n) < ne, se, si)
    sign = np.where(np.arange(n) < ne, 1.0, -1.0)
    W = rng.exponential(1.0, (n, n)).astype(np.float32) * scale.astype(np.float32)
    np.fill_diagonal(W, 0)
    A = W.astype(np.float64) * sign
    eig = np.linalg.eigvals(A)
    f = 1.5 / np.abs(eig).max()
    A = (W * np.float32(f)).astype(np.float64) * sign
    return A, eig * f


def dann(rng, n, r):
    ni = max(math.floor(n / (r + 1)), 1)
    s = math.sqrt((1 / 3) / (n - 1))
    EE = rng.exponential(s, (n, n)).astype(np.float32)
    IE = np.repeat(EE.mean(axis=0, dtype=np.float64).astype(np.float32)[None, :], ni, axis=0)
    EI = rng.exponential(1.0, (n, ni))
    EI = (EI / EI.sum(axis=1, keepdims=True)).astype(np.float32)
    return (EE - EI @ IE).astype(np.float64), None


def rnn(rng, n, _r):
    b = math.sqrt(3 * (1 / 3) / n)
    return rng.uniform(-b, b, (n, n)).astype(np.float32).astype(np.float64), None


NETS = [("ColEI 1%", colei, 99), ("ColEI 10%", colei, 9), ("ColEI 50%", colei, 1),
        ("DANN 1%", dann, 99), ("DANN 10%", dann, 9), ("DANN 50%", dann, 1), ("RNN", rnn, 0)]


def table(seeds, sizes):
    w0, c0 = time.perf_counter(), time.process_time()
    for n in sizes:
        for name, make, r in NETS:
            vals = []
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                W, eig = make(rng, n, r)
                s = np.linalg.svd(W, compute_uv=False)
                if eig is None:
                    eig = np.linalg.eigvals(W)
                vals.append((nse(s), s[0], np.abs(eig).max()))
            print(f"  n {n} {name}: NSE {np.mean([v[0] for v in vals]):.3f}", file=sys.stderr)
    w, c = time.perf_counter() - w0, time.process_time() - c0
    print(f"numpy,table,{seeds},{'/'.join(map(str, sizes))},{w:.3f},{c:.3f}")


def svals(n, reps):
    A = np.random.default_rng(0).standard_normal((n, n))
    t = []
    for rep in range(reps + 1):
        t0 = time.perf_counter()
        np.linalg.svd(A, compute_uv=False)
        if rep:
            t.append(time.perf_counter() - t0)
    t.sort()
    print(f"numpy,svals,{n},{t[len(t) // 2]:.4f}")


if __name__ == "__main__":
    if sys.argv[1] == "table":
        table(int(sys.argv[2]), [int(x) for x in sys.argv[3].split(",")])
    else:
        svals(int(sys.argv[2]), int(sys.argv[3]))
