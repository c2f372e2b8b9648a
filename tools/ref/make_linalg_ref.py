#!/usr/bin/python3
"""make_linalg_ref.py — NumPy reference for tests/test_linalg.c and tests/test_spectral.c.

Run from the repository root with the Debian interpreter (it has numpy):

    /usr/bin/python3 tools/ref/make_linalg_ref.py

It writes little-endian float64 .npy files (C order) into tests/ref/linalg/:

    <name>.npy          the matrix A, shape (m, n)
    <name>_svals.npy    singular values of A, descending, shape (min(m, n),)
    <name>_eig.npy      (square only) eigenvalues as rows [re, im], shape (n, 2),
                        sorted like dale_eigvals: descending modulus, ties by
                        larger real part, then larger imaginary part
    <name>_scalars.npy  (square only) [rho, nse, sigma_max, frob,
                        rowsum_mean, rowsum_sd]  (field order of
                        dale_spectrum_summary, rowsum sd with ddof 0)

Matrices:
    nonsym7   7x7 non-symmetric, N(0, 1) entries (seed 1)
    rect5x3   5x3 rectangular, N(0, 1) entries (seed 2)
    colei100  100x100 ColEI recurrent matrix (docs/reference-behaviour.md,
              ColEI init): n = 100, nE = 90, nI = 10, E columns ~ Exp(sigma_E), I columns ~ -Exp(sigma_I),
              zero diagonal, rescaled so that rho = 1.5 (seed 3)
"""
import os

import numpy as np

OUT = os.path.join("tests", "ref", "linalg")


def save(name, arr):
    arr = np.ascontiguousarray(arr, dtype="<f8")
    np.save(os.path.join(OUT, name + ".npy"), arr)


def sorted_eigs(a):
    w = np.linalg.eigvals(a)
    # lexsort: last key is primary.  Descending modulus, then re, then im.
    order = np.lexsort((-w.imag, -w.real, -np.abs(w)))
    w = w[order]
    return np.stack([w.real, w.imag], axis=1)


def nse(s):
    p = s / s.sum()
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / np.log(len(s)))


def colei(n, n_e, n_i, rho, rng):
    c = (2 * np.pi - 1) / (2 * np.pi)
    sigma_e = np.sqrt(1.0 / (c * (n_e + n_e**2 / n_i)))
    sigma_i = sigma_e * n_e / n_i
    a = np.empty((n, n))
    a[:, :n_e] = rng.exponential(sigma_e, size=(n, n_e))
    a[:, n_e:] = -rng.exponential(sigma_i, size=(n, n_i))
    np.fill_diagonal(a, 0.0)
    rho0 = np.abs(np.linalg.eigvals(a)).max()
    return a * (rho / rho0)


def write(name, a):
    save(name, a)
    s = np.linalg.svd(a, compute_uv=False)
    save(name + "_svals", s)
    if a.shape[0] == a.shape[1]:
        eig = sorted_eigs(a)
        save(name + "_eig", eig)
        rows = a.sum(axis=1)
        scalars = [np.hypot(eig[0, 0], eig[0, 1]), nse(s), s[0], np.linalg.norm(a, "fro"),
                   rows.mean(), rows.std()]
        save(name + "_scalars", np.array(scalars))
        print(f"{name}: rho {scalars[0]:.12g} nse {scalars[1]:.12g} sigma_max {scalars[2]:.12g}")
    else:
        print(f"{name}: sigma {s}")


def main():
    os.makedirs(OUT, exist_ok=True)
    write("nonsym7", np.random.default_rng(1).standard_normal((7, 7)))
    write("rect5x3", np.random.default_rng(2).standard_normal((5, 3)))
    write("colei100", colei(100, 90, 10, 1.5, np.random.default_rng(3)))


if __name__ == "__main__":
    main()
