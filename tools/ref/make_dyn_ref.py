#!/usr/bin/python3
"""Independent PyTorch reference for dale's leaky cell dynamics.

Tiny one-cell networks (rnn and colei; d 3 -> n 6 -> m 3, T 5, B 2) with fixed
seeded weights, in both leaky forms (docs/neuro.md, Dynamics and noise):

    leaky        h_t = (1 - a) h_{t-1} + a relu(z_t),      z_t = U x_t + W h_{t-1} + b
    leaky-state  s_t = (1 - a) s_{t-1} + a z_t, h_t = relu(s_t), z_t = U x_t + W h_{t-1} + b

with a per-unit a (colei: a_E for the E units, a_I for the I units), a learned
initial state (h_0, or s_0 with h_0 = relu(s_0)), a cross-entropy at every step
weighted per step (the first step weight 0), and the rate penalty
lambda * mean(h_t^2) over steps, rows and units.  Outputs, loss and the gradient
of every raw parameter come from torch autograd in float64; every gradient is
checked against central finite differences before anything is written.

Run with Debian's python (torch, numpy):

    /usr/bin/python3 tools/ref/make_dyn_ref.py            # writes tests/ref/dyn/<case>/*.npy
    /usr/bin/python3 tools/ref/make_dyn_ref.py --out DIR

Files per case (float64 unless said): the raw parameters under dale's names
(cell0.U.npy ... out.b.npy; colei: *_pos), x (T, B, d), labels (T, B) int32,
w (T, B), out (T, B, m) readout, h (T, B, n) hidden rates, loss (1,),
grad.<parameter>.npy.  tests/test_dyn_ref.c reads them.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

T, B, D, N, M = 5, 2, 3, 6, 3
RATIO = 2.0  # colei: nI = ceil(6 / 3) = 2

CASES = [
    dict(name="rnn_leaky", model="rnn", dyn="leaky", a_e=0.2, a_i=0.2, l2=0.05, seed=11),
    dict(name="rnn_state", model="rnn", dyn="leaky-state", a_e=0.25, a_i=0.25, l2=0.05, seed=12),
    dict(name="colei_leaky", model="colei", dyn="leaky", a_e=0.2, a_i=0.5, l2=0.05, seed=13),
    dict(name="colei_state", model="colei", dyn="leaky-state", a_e=0.2, a_i=0.5, l2=0.05, seed=14),
]


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def n_inhib(n):
    return int(math.ceil(n / (RATIO + 1.0)))


def make_params(c, rng):
    P = {}
    if c["model"] == "rnn":
        P["cell0.U"] = rng.normal(0, 1.0 / math.sqrt(D), size=(N, D))
        P["cell0.W"] = rng.normal(0, 0.8 / math.sqrt(N), size=(N, N))
        P["cell0.b"] = rng.uniform(-0.2, 0.5, size=N)
        P["cell0.h0"] = rng.uniform(-0.5, 0.8, size=N)
        P["out.W"] = rng.normal(0, 1.0 / math.sqrt(N), size=(M, N))
        P["out.b"] = rng.uniform(-0.2, 0.2, size=M)
    else:
        P["cell0.U_pos"] = rng.uniform(0, 1.0, size=(N, D))
        P["cell0.W_pos"] = rng.uniform(0, 0.6, size=(N, N))
        P["cell0.b"] = rng.uniform(-0.2, 0.5, size=N)
        P["cell0.h0"] = rng.uniform(-0.5, 0.8, size=N)
        P["out.W_pos"] = rng.uniform(0, 1.0, size=(M, N))
        P["out.b"] = rng.uniform(-0.2, 0.2, size=M)
    return {k: f32(v) for k, v in P.items()}


def signs(n):
    ni = n_inhib(n)
    return torch.tensor([1.0] * (n - ni) + [-1.0] * ni)


def forward(c, P, x, labels, w):
    """Returns (loss, out (T,B,M), h (T,B,N), min |relu argument|)."""
    if c["model"] == "rnn":
        U, W, R = P["cell0.U"], P["cell0.W"], P["out.W"]
    else:
        s = signs(N)
        U = P["cell0.U_pos"]                 # the first cell's U reads the data: all +
        W = P["cell0.W_pos"] * s[None, :]    # columns of the I units negative
        R = P["out.W_pos"] * s[None, :]
    a = torch.full((N,), c["a_e"])
    if c["model"] == "colei":
        a[N - n_inhib(N):] = c["a_i"]
    b, p0 = P["cell0.b"], P["cell0.h0"]
    state = c["dyn"] == "leaky-state"
    mins = []
    if state:
        s_prev = p0.expand(B, N)
        h_prev = torch.relu(s_prev)
        mins.append(p0.detach().abs().min().item())
    else:
        h_prev = p0.expand(B, N)
    hs = []
    for t in range(T):
        z = x[t] @ U.T + h_prev @ W.T + b
        if state:
            s_t = (1 - a) * s_prev + a * z
            mins.append(s_t.detach().abs().min().item())
            h = torch.relu(s_t)
            s_prev = s_t
        else:
            mins.append(z.detach().abs().min().item())
            h = (1 - a) * h_prev + a * torch.relu(z)
        hs.append(h)
        h_prev = h
    H = torch.stack(hs)                                   # (T, B, N)
    out = H @ R.T + P["out.b"]                            # (T, B, M)
    lse = torch.logsumexp(out, dim=2)
    picked = torch.gather(out, 2, labels.unsqueeze(2)).squeeze(2)
    ce = (w * (lse - picked)).sum() / w.sum()
    loss = ce + c["l2"] * (H ** 2).mean()
    return loss, out, H, min(mins)


def build(c):
    for attempt in range(100):
        rng = np.random.RandomState(c["seed"] * 100 + attempt)
        P = make_params(c, rng)
        x = f32(rng.normal(0, 1, size=(T, B, D)))
        labels = rng.randint(0, M, size=(T, B)).astype(np.int32)
        w = f32(np.concatenate([np.zeros((1, B)), rng.uniform(0.5, 2.0, size=(T - 1, B))]))
        tp = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
        loss, out, H, mz = forward(c, tp, torch.tensor(x), torch.tensor(labels, dtype=torch.int64),
                                   torch.tensor(w))
        if mz > 1e-3:
            return P, x, labels, w, tp, loss, out, H, mz
    sys.exit(f"{c['name']}: no draw keeps every relu argument 1e-3 away from 0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "ref", "dyn"))
    args = ap.parse_args()
    for c in CASES:
        P, x, labels, w, tp, loss, out, H, mz = build(c)
        loss.backward()
        xt, lt, wt = torch.tensor(x), torch.tensor(labels, dtype=torch.int64), torch.tensor(w)
        # central differences of every entry
        for k, v in P.items():
            g = tp[k].grad.numpy()
            for idx in np.ndindex(v.shape):
                eps = 1e-6
                pp = {kk: torch.tensor(vv) for kk, vv in P.items()}
                pp[k][idx] += eps
                lp = forward(c, pp, xt, lt, wt)[0].item()
                pp[k][idx] -= 2 * eps
                lm = forward(c, pp, xt, lt, wt)[0].item()
                fd = (lp - lm) / (2 * eps)
                err = abs(fd - g[idx]) / max(abs(g[idx]), abs(fd), 1e-3)
                if err > 1e-6:
                    sys.exit(f"{c['name']}: grad {k}{idx}: autograd {g[idx]:.12g}, FD {fd:.12g}")
            if np.abs(g).max() < 1e-3:
                sys.exit(f"{c['name']}: trivial gradient of {k}")
        d = os.path.join(args.out, c["name"])
        os.makedirs(d, exist_ok=True)
        for k, v in P.items():
            np.save(os.path.join(d, k + ".npy"), v)
            np.save(os.path.join(d, "grad." + k + ".npy"), tp[k].grad.numpy())
        np.save(os.path.join(d, "x.npy"), x)
        np.save(os.path.join(d, "labels.npy"), labels)
        np.save(os.path.join(d, "w.npy"), w)
        np.save(os.path.join(d, "out.npy"), out.detach().numpy())
        np.save(os.path.join(d, "h.npy"), H.detach().numpy())
        np.save(os.path.join(d, "loss.npy"), np.array([loss.item()]))
        print(f"{c['name']}: loss {loss.item():.10f}, min |relu argument| {mz:.3g}")


if __name__ == "__main__":
    main()
