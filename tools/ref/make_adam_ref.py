#!/usr/bin/python3
"""make_adam_ref.py - reference Adam updates from torch.optim.Adam.

Writes tests/ref/optim/<case>_*.npy for tests/test_optim.c.  The parameter
vector is the flat theta of a ColEI network (input 2, hidden 4, output 2,
E:I ratio 3), laid out as dale's parameter table:
    cell0.U_pos (4, 2), cell0.W_pos (4, 4), cell0.b (4), out.W_pos (2, 4), out.b (2)
38 floats; kind 1 = a weight matrix (sign-constrained, >= 0), 0 = a bias.
The gradients are given (seeded NumPy), as a backward pass would leave them
(0 at masked connections); each step does what dale's update does:
  g += 2 lambda w on the weights (float64, cast to float32),
  global clipping f = c / (||g|| + 1e-12) when f < 1 (the norm in float64),
  torch.optim.Adam's step (float32 parameter and state; lr of step k =
  lr0 * decay^k), then the projection max(w, 0) of the weights.
Files per case:
  <case>_theta0.npy  f4 (N,)     initial parameters
  <case>_grads.npy   f4 (K, N)   gradient of each step
  <case>_kinds.npy   i4 (N,)     1 weight, 0 bias
  <case>_mask.npy    f4 (N,)     1 kept, 0 a masked connection (parameter 0)
  <case>_hyper.npy   f8 (8,)     lr0, decay, beta1, beta2, eps, clip, lambda, project
  <case>_theta.npy   f4 (K, N)   parameters after each step
Run with Debian's python3-torch:  /usr/bin/python3 tools/ref/make_adam_ref.py
"""
import os
import sys

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "ref", "optim")
SHAPES = [("cell0.U_pos", 4, 2, 1), ("cell0.W_pos", 4, 4, 1), ("cell0.b", 4, 1, 0),
          ("out.W_pos", 2, 4, 1), ("out.b", 2, 1, 0)]


def layout():
    kinds = []
    for _, r, c, k in SHAPES:
        kinds += [k] * (r * c)
    return np.array(kinds, dtype=np.int32)


def run(name, seed, K, lr0, decay, b1, b2, eps, clip, lam, project, masked, gscale):
    rs = np.random.RandomState(seed)
    kinds = layout()
    N = kinds.size
    theta0 = np.where(kinds == 1, rs.exponential(0.05, N), rs.normal(0, 0.1, N)).astype(np.float32)
    mask = np.ones(N, dtype=np.float32)
    if masked:
        # two recurrent connections (W_pos entries 1 and 10) and one readout weight (entry 0 of out.W_pos)
        for k in (8 + 1, 8 + 10, 28 + 0):
            mask[k] = 0.0
    theta0[mask == 0] = 0.0
    grads = (rs.normal(0, gscale, (K, N)) * mask).astype(np.float32)
    p = torch.nn.Parameter(torch.tensor(theta0))
    opt = torch.optim.Adam([p], lr=lr0, betas=(b1, b2), eps=eps)
    w = torch.tensor(kinds == 1)
    out = []
    for k in range(K):
        opt.param_groups[0]["lr"] = lr0 * decay ** k
        g = grads[k].astype(np.float64)
        if lam > 0:
            g = g + np.where(kinds == 1, 2.0 * lam * p.detach().numpy().astype(np.float64), 0.0)
        g32 = g.astype(np.float32)
        if clip > 0:
            nrm = np.sqrt(np.sum(g32.astype(np.float64) ** 2))
            f = clip / (nrm + 1e-12)
            if f < 1.0:
                g32 = (g32.astype(np.float64) * f).astype(np.float32)
        p.grad = torch.tensor(g32)
        opt.step()
        with torch.no_grad():
            if project:
                p[w] = torch.clamp(p[w], min=0.0)
            p[torch.tensor(mask == 0)] = 0.0
        out.append(p.detach().numpy().copy())
    theta = np.array(out, dtype=np.float32)
    hyper = np.array([lr0, decay, b1, b2, eps, clip, lam, float(project)], dtype=np.float64)
    os.makedirs(OUT, exist_ok=True)
    for key, arr in (("theta0", theta0), ("grads", grads), ("kinds", kinds), ("mask", mask),
                     ("hyper", hyper), ("theta", theta)):
        np.save(os.path.join(OUT, "%s_%s.npy" % (name, key)), arr)
    moved = np.abs(theta[-1] - theta0).max()
    clamped = int(np.sum((theta == 0) & (kinds == 1) & (mask == 1)))
    print("%s: %d steps, largest change %.3g, clamped weight entries over the steps %d" % (name, K, moved, clamped))


def main():
    torch.set_num_threads(1)
    run("adam_plain", 1, 5, 1e-2, 1.0, 0.9, 0.999, 1e-8, 0.0, 0.0, False, False, 1.0)
    run("adam_betas", 2, 5, 5e-2, 1.0, 0.5, 0.9, 1e-6, 0.0, 0.0, False, False, 0.3)
    run("adam_full", 3, 6, 5e-2, 0.5, 0.9, 0.999, 1e-8, 1.0, 0.01, True, True, 1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
