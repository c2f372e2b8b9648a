#!/usr/bin/python3
"""Independent PyTorch reference for dale's model forward/backward and update policies.

Builds tiny Dale's-law RNNs (rnn / colei / dann, paper Sec. 2.1) with fixed seeded
weights and inputs, computes outputs, loss and gradients with torch autograd in
float64, then applies three updates of the case's update policy
(docs/reference-behaviour.md, Update order) and writes one uncompressed NPZ per
case to tests/ref/model/ plus tests/ref/model/cases.txt.

Run with Debian's python (torch 1.13, numpy):

    /usr/bin/python3 tools/ref/make_model_ref.py            # writes tests/ref/model/
    /usr/bin/python3 tools/ref/make_model_ref.py --out DIR   # elsewhere

Every gradient is checked against central finite differences (all entries, float64)
before anything is written; the script aborts if any check fails.

See tools/ref/README.md for the key layout.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

# ---------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------


def case(name, model, L, d, n, m, loss, policy, lr, clip, seed, T=5, B=3, dense=(),
         dense_mI=(), nIu=0, nIw=0, mI=0, ratio=0.0):
    return dict(name=name, model=model, L=L, d=d, n=n, m=m, loss=loss, policy=policy,
                lr=float(lr), clip=float(clip), seed=seed, T=T, B=B, dense=list(dense),
                dense_mI=list(dense_mI) if dense_mI else [0] * len(dense), nIu=nIu,
                nIw=nIw, mI=mI, ratio=float(ratio))


CASES = [
    case("rnn_1l_mse", "rnn", L=1, d=2, n=5, m=1, loss="mse_last", policy="sgd",
         lr=0.1, clip=0.0, seed=101),
    case("rnn_2l_ce_freeze", "rnn", L=2, d=3, n=5, m=4, loss="ce_last",
         policy="rnn_freeze", lr=0.5, clip=0.5, seed=402),
    case("colei_1l_ce", "colei", L=1, d=3, n=6, m=4, ratio=2.0, loss="ce_last",
         policy="colei", lr=0.3, clip=0.3, seed=1403),
    case("colei_2l_mse", "colei", L=2, d=3, n=6, m=2, ratio=2.0, loss="mse_last",
         policy="colei", lr=0.1, clip=1.0, seed=1104),
    case("dann_1l_ce", "dann", L=1, d=3, n=6, m=4, nIu=2, nIw=2, mI=1, loss="ce_last",
         policy="dann", lr=0.3, clip=1.0, seed=205),
    case("dann_2l_every", "dann", L=2, d=3, n=5, m=3, nIu=1, nIw=1, mI=1,
         loss="ce_every", policy="dann", lr=0.3, clip=0.5, seed=106),
    case("rnn_global_every", "rnn", L=1, d=3, n=4, m=3, loss="ce_every",
         policy="global", lr=0.5, clip=0.5, seed=107),
    case("colei_dense_every", "colei", L=1, d=3, n=6, m=4, ratio=2.0, dense=[5],
         loss="ce_every", policy="colei", lr=0.3, clip=0.3, seed=3608),
    case("dann_dense_every", "dann", L=1, d=3, n=5, m=3, nIu=2, nIw=2, mI=1,
         dense=[4], dense_mI=[1], loss="ce_every", policy="dann", lr=0.3, clip=0.5,
         seed=109),
]

# ---------------------------------------------------------------------------------
# Parameter construction (numpy, seeded; float32-rounded)
# ---------------------------------------------------------------------------------


def ei_split(N, r):
    nI = int(math.ceil(N / (r + 1.0)))
    return N - nI, nI


def col_signs(N, r):
    nE, nI = ei_split(N, r)
    return np.concatenate([np.ones(nE), -np.ones(nI)])


def sprinkle_small(rng, a, frac, lo=1e-3, hi=2e-2, signed=False):
    """Replace a fraction of entries by small magnitudes (so clamping/freezing bites)."""
    a = a.copy()
    flat = a.reshape(-1)
    k = max(1, int(round(frac * flat.size)))
    idx = rng.choice(flat.size, size=k, replace=False)
    mag = rng.uniform(lo, hi, size=k)
    if signed:
        flat[idx] = np.sign(flat[idx]) * mag
    else:
        flat[idx] = mag
    return a


def small_bias(rng, k):
    b = rng.uniform(0.02, 0.1, size=k) * rng.choice([-1.0, 1.0], size=k)
    return b


def layer_specs(c):
    """List of (prefix, kind, n_in, n_out, extra) in parameter order."""
    specs = []
    n_in = c["d"]
    for k in range(c["L"]):
        specs.append((f"cell{k}", "cell", n_in, c["n"], dict(first=(k == 0))))
        n_in = c["n"]
    for k, (w, wmI) in enumerate(zip(c["dense"], c["dense_mI"])):
        specs.append((f"dense{k}", "dense", n_in, w, dict(mI=wmI)))
        n_in = w
    specs.append(("out", "out", n_in, c["m"], dict(mI=c["mI"])))
    return specs


def make_params(c):
    rng = np.random.RandomState(c["seed"])
    P = {}  # name -> np.float32 array (ordered)
    model = c["model"]
    for pre, kind, nin, nout, ex in layer_specs(c):
        if model == "rnn":
            if kind == "cell":
                a = 1.0 / math.sqrt(nout)
                U = rng.uniform(-2 * a, 2 * a, size=(nout, nin))
                W = rng.uniform(-a, a, size=(nout, nout))
                W = sprinkle_small(rng, W, 0.2, lo=1e-3, hi=1e-2, signed=True)
                # one entry exactly 0 (sign 0 stays 0 under freezing)
                W[0, nout - 1] = 0.0
                P[pre + ".U"] = U
                P[pre + ".W"] = W
                P[pre + ".b"] = small_bias(rng, nout)
            else:
                W = rng.normal(0.0, math.sqrt(2.0 / nin), size=(nout, nin))
                W = sprinkle_small(rng, W, 0.15, lo=1e-3, hi=1e-2, signed=True)
                P[pre + ".W"] = W
                P[pre + ".b"] = small_bias(rng, nout)
        elif model == "colei":
            if kind == "cell":
                P[pre + ".U_pos"] = sprinkle_small(
                    rng, rng.exponential(0.5, size=(nout, nin)), 0.2)
                P[pre + ".W_pos"] = sprinkle_small(
                    rng, rng.exponential(0.3, size=(nout, nout)), 0.25)
                P[pre + ".b"] = small_bias(rng, nout)
            else:
                P[pre + ".W_pos"] = sprinkle_small(
                    rng, rng.exponential(0.4, size=(nout, nin)), 0.2)
                P[pre + ".b"] = small_bias(rng, nout)
        elif model == "dann":
            if kind == "cell":
                nIu, nIw = c["nIu"], c["nIw"]
                s = 0.4
                P[pre + ".U_EE"] = sprinkle_small(rng, rng.exponential(s, (nout, nin)), 0.2)
                P[pre + ".U_IE"] = sprinkle_small(rng, rng.exponential(s, (nIu, nin)), 0.2)
                P[pre + ".U_EI"] = sprinkle_small(rng, rng.exponential(0.5, (nout, nIu)), 0.2)
                P[pre + ".W_EE"] = sprinkle_small(rng, rng.exponential(0.3, (nout, nout)), 0.2)
                P[pre + ".W_IE"] = sprinkle_small(rng, rng.exponential(0.3, (nIw, nout)), 0.2)
                P[pre + ".W_EI"] = sprinkle_small(rng, rng.exponential(0.5, (nout, nIw)), 0.2)
                P[pre + ".b"] = small_bias(rng, nout)
            else:
                mI = ex["mI"]
                P[pre + ".W_EE"] = sprinkle_small(rng, rng.exponential(0.4, (nout, nin)), 0.2)
                P[pre + ".W_IE"] = sprinkle_small(rng, rng.exponential(0.4, (mI, nin)), 0.2)
                P[pre + ".W_EI"] = sprinkle_small(rng, rng.exponential(0.5, (nout, mI)), 0.2)
                P[pre + ".b"] = small_bias(rng, nout)
        else:
            raise ValueError(model)
    P = {k: np.asarray(v, dtype=np.float32) for k, v in P.items()}
    T, B, d, m = c["T"], c["B"], c["d"], c["m"]
    x = rng.normal(0.0, 1.0, size=(T, B, d)).astype(np.float32)
    if c["loss"] == "mse_last":
        y = rng.normal(0.0, 1.0, size=(B, m)).astype(np.float32)
    elif c["loss"] == "ce_last":
        y = rng.randint(0, m, size=(B,)).astype(np.int64)
    elif c["loss"] == "ce_every":
        y = rng.randint(0, m, size=(T, B)).astype(np.int64)
    else:
        raise ValueError(c["loss"])
    return P, x, y


# ---------------------------------------------------------------------------------
# Torch model (float64)
# ---------------------------------------------------------------------------------


def effective(c, P, pre, kind, nin, which):
    """Effective matrix `which` ('U' or 'W') of layer `pre` from raw params P (torch)."""
    model = c["model"]
    if model == "rnn":
        return P[f"{pre}.{which}"]
    if model == "colei":
        Wp = P[f"{pre}.{which}_pos"]
        ncol = Wp.shape[1]
        if kind == "cell" and which == "U" and pre == "cell0":
            s = np.ones(ncol)
        else:
            s = col_signs(ncol, c["ratio"])
        return Wp * torch.tensor(s)[None, :]  # M_pos . diag(sign)
    if model == "dann":
        return P[f"{pre}.{which}_EE"] - P[f"{pre}.{which}_EI"] @ P[f"{pre}.{which}_IE"]
    raise ValueError(model)


def forward(c, P, x, record_z=None):
    """x: (T,B,d) float64 tensor. Returns readout at every step (T,B,m)."""
    specs = layer_specs(c)
    cells = [s for s in specs if s[1] == "cell"]
    denses = [s for s in specs if s[1] == "dense"]
    outl = specs[-1]
    T, B = x.shape[0], x.shape[1]
    Ueff = [effective(c, P, pre, "cell", nin, "U") for pre, _, nin, _, _ in cells]
    Weff = [effective(c, P, pre, "cell", nin, "W") for pre, _, nin, _, _ in cells]
    Deff = [effective(c, P, pre, "dense", nin, "W") for pre, _, nin, _, _ in denses]
    Oeff = effective(c, P, outl[0], "out", outl[2], "W")
    h = [torch.zeros(B, nout) for _, _, _, nout, _ in cells]
    outs = []
    for t in range(T):
        inp = x[t]
        for k, (pre, _, _, _, _) in enumerate(cells):
            z = inp @ Ueff[k].T + h[k] @ Weff[k].T + P[pre + ".b"]
            if record_z is not None:
                record_z.append(z.detach().abs().min().item())
            h[k] = torch.relu(z)
            inp = h[k]
        for k, (pre, _, _, _, _) in enumerate(denses):
            z = inp @ Deff[k].T + P[pre + ".b"]
            if record_z is not None:
                record_z.append(z.detach().abs().min().item())
            inp = torch.relu(z)
        outs.append(inp @ Oeff.T + P[outl[0] + ".b"])
    return torch.stack(outs, 0)


def loss_fn(c, out, y):
    if c["loss"] == "mse_last":
        return ((out[-1] - y) ** 2).mean()
    if c["loss"] == "ce_last":
        return F.cross_entropy(out[-1], y)
    if c["loss"] == "ce_every":
        T, B, m = out.shape
        return F.cross_entropy(out.reshape(T * B, m), y.reshape(T * B))
    raise ValueError(c["loss"])


def to_torch(Pnp, requires_grad):
    return {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=requires_grad)
            for k, v in Pnp.items()}


def loss_and_grad(c, Pnp, x, y, zmins=None):
    P = to_torch(Pnp, True)
    out = forward(c, P, x, record_z=zmins)
    L = loss_fn(c, out, y)
    names = list(Pnp.keys())
    gs = torch.autograd.grad(L, [P[k] for k in names])
    return (L.item(), out.detach().numpy(),
            {k: g.numpy().copy() for k, g in zip(names, gs)})


def loss_only(c, Pnp, x, y):
    with torch.no_grad():
        return loss_fn(c, forward(c, to_torch(Pnp, False), x), y).item()


def fd_check(c, Pnp, x, y, G, eps=1e-6):
    """Central finite differences for every entry of every tensor."""
    worst = 0.0
    for k, v in Pnp.items():
        v = np.asarray(v, dtype=np.float64)
        g = G[k]
        fd = np.zeros_like(v)
        for i in range(v.size):
            Pp = dict(Pnp)
            Pm = dict(Pnp)
            a = v.copy().reshape(-1)
            a[i] += eps
            Pp[k] = a.reshape(v.shape)
            a = v.copy().reshape(-1)
            a[i] -= eps
            Pm[k] = a.reshape(v.shape)
            fd.reshape(-1)[i] = (loss_only(c, Pp, x, y) - loss_only(c, Pm, x, y)) / (2 * eps)
        denom = np.maximum(np.maximum(np.abs(g), np.abs(fd)), 1e-3)
        rel = np.abs(g - fd) / denom
        # at least one entry per tensor is checked with a true relative error
        j = int(np.argmax(np.abs(g)))
        assert abs(g.reshape(-1)[j]) > 1e-3, (c["name"], k, "gradient too small to check")
        assert rel.max() < 1e-6, (c["name"], k, rel.max())
        worst = max(worst, rel.max())
    return worst


# ---------------------------------------------------------------------------------
# Update policies (numpy float64)
# ---------------------------------------------------------------------------------


def layer_of(name):
    return name.split(".")[0]


def is_factor(c, name):
    """Constrained (clamped at 0) tensors: colei *_pos, dann factor matrices."""
    leaf = name.split(".")[1]
    if c["model"] == "colei":
        return leaf.endswith("_pos")
    if c["model"] == "dann":
        return leaf != "b"
    return False


def dann_scale(c, G):
    G = dict(G)
    for pre, kind, nin, nout, _ in layer_specs(c):
        if kind == "cell":
            G[pre + ".U_IE"] = G[pre + ".U_IE"] / math.sqrt(nout)
            G[pre + ".U_EI"] = G[pre + ".U_EI"] / nin
            G[pre + ".W_IE"] = G[pre + ".W_IE"] / math.sqrt(nout)
            G[pre + ".W_EI"] = G[pre + ".W_EI"] / nout
        else:
            G[pre + ".W_IE"] = G[pre + ".W_IE"] / math.sqrt(nout)
            G[pre + ".W_EI"] = G[pre + ".W_EI"] / nin
    return G


def clip_per_layer(c, G, info):
    G = dict(G)
    layers = []
    for k in G:
        if layer_of(k) not in layers:
            layers.append(layer_of(k))
    for lay in layers:
        keys = [k for k in G if layer_of(k) == lay]
        total = math.sqrt(sum(float(np.sum(G[k] ** 2)) for k in keys))
        f = c["clip"] / (total + 1e-12)
        info.append((lay, total, f < 1))
        if f < 1:
            for k in keys:
                G[k] = G[k] * f
    return G


def clip_per_tensor(c, G, info):
    G = dict(G)
    for k in G:
        nrm = float(np.sqrt(np.sum(G[k] ** 2)))
        trig = nrm > c["clip"]
        info.append((k, nrm, trig))
        if trig:
            G[k] = G[k] * (c["clip"] / nrm)
    return G


def clip_global(c, G, info):
    total = math.sqrt(sum(float(np.sum(g ** 2)) for g in G.values()))
    f = c["clip"] / (total + 1e-12)
    info.append(("global", total, f < 1))
    if f < 1:
        G = {k: g * f for k, g in G.items()}
    return G


def project(c, P, stat):
    P = dict(P)
    for k in P:
        if is_factor(c, k):
            stat["clamped"] += int(np.sum(P[k] < 0))
            P[k] = np.maximum(P[k], 0.0)
    return P


def freeze_keys(c, P):
    return [k for k in P if k.endswith(".W") and c["model"] == "rnn"]


def update(c, P, G, S, stat):
    """One application of the case's update policy. Returns new params (float64)."""
    pol = c["policy"]
    lr = c["lr"]
    info = []
    if pol == "sgd":
        pass
    elif pol == "colei":
        G = clip_per_tensor(c, G, info)
    elif pol == "dann":
        G = dann_scale(c, G)
        G = clip_per_layer(c, G, info)
    elif pol == "rnn_freeze":
        G = clip_per_layer(c, G, info)
    elif pol == "global":
        G = clip_global(c, G, info)
    else:
        raise ValueError(pol)
    P = {k: np.asarray(P[k], dtype=np.float64) - lr * G[k] for k in P}
    if pol in ("colei", "dann") or (pol == "global" and c["model"] != "rnn"):
        P = project(c, P, stat)
    if pol == "rnn_freeze":
        for k in freeze_keys(c, P):
            new = S[k] * np.maximum(S[k] * P[k], 1e-9)
            stat["frozen"] += int(np.sum(new != P[k]))
            P[k] = new
    stat["clip_events"].append(info)
    return P


# ---------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------


def run_case(c, outdir):
    P32, x32, y = make_params(c)
    x = torch.tensor(x32.astype(np.float64))
    yt = torch.tensor(y.astype(np.float64)) if c["loss"] == "mse_last" else torch.tensor(y)
    P0 = {k: v.astype(np.float64) for k, v in P32.items()}
    zmins = []
    L0, out, G0 = loss_and_grad(c, P0, x, yt, zmins)
    fd_worst = fd_check(c, P0, x, yt, G0)

    S = {k: np.sign(P0[k]) for k in freeze_keys(c, P0)}
    stat = dict(clamped=0, frozen=0, clip_events=[], clamped_per_step=[], frozen_per_step=[])
    losses = [L0]
    steps = []
    P, G = P0, G0
    for s in range(3):
        cl0, fr0 = stat["clamped"], stat["frozen"]
        P = update(c, P, G, S, stat)
        stat["clamped_per_step"].append(stat["clamped"] - cl0)
        stat["frozen_per_step"].append(stat["frozen"] - fr0)
        steps.append(P)
        Ls, _, G = loss_and_grad(c, P, x, yt, zmins)
        losses.append(Ls)

    arrs = {}
    for k, v in P32.items():
        arrs["param." + k] = v
    arrs["x"] = x32
    arrs["y"] = y
    arrs["out_last"] = np.asarray(out[-1], dtype=np.float64)
    arrs["out"] = np.asarray(out, dtype=np.float64)
    arrs["loss"] = np.array(L0, dtype=np.float64)
    for k in P32:
        arrs["grad." + k] = G0[k].astype(np.float64)
    for s, Ps in enumerate(steps):
        for k in P32:
            arrs[f"step{s + 1}.{k}"] = np.asarray(Ps[k], dtype=np.float64)
    for s, Ls in enumerate(losses):
        arrs[f"loss_step{s}"] = np.array(Ls, dtype=np.float64)
    arrs["cfg.lr"] = np.array(c["lr"], dtype=np.float64)
    arrs["cfg.clip"] = np.array(c["clip"], dtype=np.float64)
    for k in ("T", "B", "d", "n", "m", "L", "nIu", "nIw", "mI"):
        arrs["cfg." + k] = np.array(c[k], dtype=np.int64)
    arrs["cfg.dense"] = np.array(c["dense"], dtype=np.int64).reshape(len(c["dense"]))
    arrs["cfg.dense_mI"] = np.array(c["dense_mI"], dtype=np.int64).reshape(len(c["dense"]))
    arrs["cfg.ratio"] = np.array(c["ratio"], dtype=np.float64)
    path = os.path.join(outdir, c["name"] + ".npz")
    np.savez(path, **arrs)

    # summary
    clip_steps = []
    for ev in stat["clip_events"]:
        trig = [e[0] for e in ev if e[2]]
        clip_steps.append(f"{len(trig)}/{len(ev)}" if ev else "-")
    clip_str = "none" if not any(stat["clip_events"]) else ",".join(clip_steps)
    summ = dict(
        clip=clip_str,
        clamped=stat["clamped_per_step"],
        frozen=stat["frozen_per_step"],
        min_abs_z=min(zmins),
        clip_margin=min([abs(e[1] - c["clip"]) / c["clip"]
                         for ev in stat["clip_events"] for e in ev] or [float("inf")]),
        fd_worst=fd_worst,
        losses=losses,
        size=os.path.getsize(path),
        events=stat["clip_events"],
    )
    return summ


def cfg_line(c, s):
    dense = "x".join(str(v) for v in c["dense"]) or "-"
    dmi = "x".join(str(v) for v in c["dense_mI"]) or "-"
    return (f"{c['name']} model={c['model']} L={c['L']} T={c['T']} B={c['B']} d={c['d']} "
            f"n={c['n']} m={c['m']} dense={dense} dense_mI={dmi} ratio={c['ratio']:g} "
            f"nIu={c['nIu']} nIw={c['nIw']} mI={c['mI']} loss={c['loss']} "
            f"policy={c['policy']} lr={c['lr']:g} clip={c['clip']:g} seed={c['seed']} | "
            f"clip_triggered(per step, triggered/units)={s['clip']} "
            f"clamped_per_step={','.join(map(str, s['clamped']))} "
            f"frozen_per_step={','.join(map(str, s['frozen']))} "
            f"clip_margin={s['clip_margin']:.3g} min|z|={s['min_abs_z']:.3g} fd_rel_err={s['fd_worst']:.1e} "
            f"loss={'>'.join(f'{v:.5f}' for v in s['losses'])}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(root, "tests", "ref", "model"))
    ap.add_argument("--only", default=None, help="comma-separated case names")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sel = CASES if not a.only else [c for c in CASES if c["name"] in a.only.split(",")]
    lines = []
    for c in sel:
        s = run_case(c, a.out)
        line = cfg_line(c, s)
        print(line)
        if a.verbose:
            for i, ev in enumerate(s["events"]):
                print("   step", i + 1, " ".join(f"{e[0]}:{e[1]:.3f}{'*' if e[2] else ''}"
                                              for e in ev))
        lines.append(line)
        # every case must exercise its policy's nonlinear parts
        if c["clip"] > 0:
            assert any(e[2] for ev in s["events"] for e in ev), (c["name"], "no clipping")
        if c["policy"] in ("colei", "dann"):
            assert sum(s["clamped"]) > 0, (c["name"], "no clamping")
        if c["policy"] == "rnn_freeze":
            assert sum(s["frozen"]) > 0, (c["name"], "no freezing")
        assert s["min_abs_z"] > 1e-4, (c["name"], "pre-activation too close to the ReLU kink")
    if not a.only:
        with open(os.path.join(a.out, "cases.txt"), "w") as f:
            f.write("# generated by tools/ref/make_model_ref.py — one case per line\n")
            for line in lines:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
