#!/usr/bin/python3
"""Reference values for the weighted losses (tests/ref/loss/*.npy).

An independent NumPy implementation, in float64, of the two weighted loss
kinds of include/dale/train.h on one fixed small case: N = T*R = 12
predictions (T = 4 steps, R = 3 rows, time-major) of m = 3 outputs, weights
with zeros, fractions and values > 1.  With W = sum of the weights:

    mse:  l_r = mean_j (out_rj - y_rj)^2,       loss = sum_r w_r l_r / W
    ce:   l_r = logsumexp(z_r) - z_r[y_r],      loss = sum_r w_r l_r / W

Steps of weight 0 are not scored: their labels are -1 here, and their
targets NaN, so a C implementation that reads them fails the comparison.
Gradients dL/dout come from the formulas and are checked here against
central differences (float64) before anything is written.

Run: /usr/bin/python3 tools/ref/make_loss_ref.py   (deterministic, < 1 s)
"""
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "ref", "loss")

T, R, m = 4, 3, 3
N = T * R


def mse(out, y, w):
    W = w.sum()
    keep = w > 0
    e = np.where(keep[:, None], out - np.where(keep[:, None], y, 0.0), 0.0)
    l = (e ** 2).mean(axis=1)
    loss = (w * l).sum() / W
    d = w[:, None] * 2.0 * e / (m * W)
    return loss, d


def ce(z, y, w):
    W = w.sum()
    keep = w > 0
    yy = np.where(keep, y, 0)
    zmax = z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
    l = np.where(keep, lse - z[np.arange(N), yy], 0.0)
    loss = (w * l).sum() / W
    p = np.exp(z - lse[:, None])
    onehot = np.zeros_like(z)
    onehot[np.arange(N), yy] = 1.0
    d = w[:, None] * (p - onehot) / W
    correct = int(((z.argmax(axis=1) == y) & keep).sum())
    return loss, d, correct, int(keep.sum())


def fd_check(f, x, g, name):
    h = 1e-6
    for k in range(x.size):
        xp = x.copy().ravel()
        xm = x.copy().ravel()
        xp[k] += h
        xm[k] -= h
        fd = (f(xp.reshape(x.shape)) - f(xm.reshape(x.shape))) / (2 * h)
        err = abs(fd - g.ravel()[k]) / max(abs(fd), abs(g.ravel()[k]), 1e-3)
        if err > 1e-6:
            sys.exit(f"{name}: dL/dout[{k}] {g.ravel()[k]!r} vs FD {fd!r} (rel err {err:.2e})")


def main():
    rs = np.random.RandomState(20261205)
    out = rs.normal(0.0, 1.5, size=(N, m)).astype(np.float32)
    yf = rs.normal(0.0, 1.0, size=(N, m)).astype(np.float32)
    yi = rs.randint(0, m, size=N).astype(np.int32)
    # fixation (weight 0) at the first step of every row, then mixed weights
    w = np.array([0, 0, 0, 0.5, 1, 2, 1, 0, 1, 3, 1, 0.25], dtype=np.float32)
    yi[w == 0] = -1
    yf[w == 0] = np.nan
    o64, y64, w64 = out.astype(np.float64), yf.astype(np.float64), w.astype(np.float64)
    # every scored row has a clear argmax (no ties)
    s = np.sort(o64, axis=1)
    assert (s[:, -1] - s[:, -2]).min() > 1e-3
    mse_loss, mse_d = mse(o64, y64, w64)
    ce_loss, ce_d, correct, npred = ce(o64, yi, w64)
    assert 0 < correct < npred, (correct, npred)  # both outcomes are counted
    fd_check(lambda o: mse(o, y64, w64)[0], o64, mse_d, "mse")
    fd_check(lambda o: ce(o, yi, w64)[0], o64, ce_d, "ce")
    os.makedirs(OUT, exist_ok=True)
    arrays = {
        "out": out, "yf": yf, "yi": yi, "w": w,
        "mse_loss": np.float64(mse_loss), "mse_dout": mse_d,
        "ce_loss": np.float64(ce_loss), "ce_dout": ce_d,
        "ce_correct": np.int64(correct), "npred": np.int64(npred), "wsum": np.float64(w64.sum()),
    }
    for k, v in arrays.items():
        np.save(os.path.join(OUT, k + ".npy"), v)
    print(f"mse {mse_loss:.12g} ce {ce_loss:.12g} correct {correct}/{npred} W {w64.sum()}")


if __name__ == "__main__":
    main()
