#!/usr/bin/env python3
"""neuro_summary.py SWEEP_DIR... -- the tables of docs/neuro.md, "Measured: leaky
E/I networks with Adam", from sweeps of experiments/neuro-tasks.json and
neuro-inhib.json after `dale eval RUN --trials N --out RUN/trials.npz` of
every run (experiments/neuro-accept.sh does both).

Per task and model, mean ± sd over seeds of:
  perf      performance as scored by dale (a broken fixation is an error)
  top       pdm: performance at the two highest coherences; cdm: at the highest
            coherence of the cued modality; dms: overall
  choice    the decision alone: argmax of the mean choice outputs over the
            decision period (after its grace steps, --<task>-grace, as dale
            scores it) against the ground truth, fixation breaks ignored
  top choice  the decision alone on the trials of "top"
  broken    fraction of trials with a broken fixation
  uncued    cdm: fraction of choices that follow the uncued modality's sign
            (0.5 = ignored)
  monotone  pdm/cdm: runs whose choice curve (fraction choosing option 2 per
            signed coherence of the cued modality) never decreases and rises
            by at least 0.5 over the coherence range
  wall s    training wall time (2 runs at a time on 2 cores)
neuro-inhib: NSE at initialisation against final performance, Pearson r and
its two-sided p (Student t with n - 2 degrees of freedom).
Needs NumPy only.
"""
import json
import math
import os
import sys

import numpy as np


def load(run):
    with open(os.path.join(run, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(run, "result.json")) as f:
        res = json.load(f)
    met = np.genfromtxt(os.path.join(run, "metrics.csv"), delimiter=",", names=True)
    z = np.load(os.path.join(run, "trials.npz"))
    return cfg, res, met, z


def grace_steps(cfg):
    """The grace period in steps (dale rounds ms / dt to the nearest step); 0 without one."""
    ms = float(cfg.get(cfg["task"] + "_grace", 0) or 0)
    return int(math.floor(ms / float(cfg.get("dt", 20)) + 0.5)) if ms > 0 else 0


def choices(z, grace=0):
    """Decision alone: argmax over the choice outputs' mean in the decision
    period after its first `grace` steps."""
    o, p = z["outputs"], z["periods"]
    go, end = p[:, -2] + grace, p[:, -1]
    c = np.empty(len(o), dtype=int)
    for i in range(len(o)):
        c[i] = int(np.argmax(o[i, go[i]:end[i], 1:].mean(axis=0)))
    return c


def student_p(r, n):
    """Two-sided p of Pearson r with n pairs (t with n - 2 dof, by the
    regularised incomplete beta's continued fraction)."""
    if n < 3 or abs(r) >= 1:
        return float("nan") if n < 3 else 0.0
    df = n - 2
    t = r * math.sqrt(df / (1 - r * r))
    x = df / (df + t * t)
    return betainc(df / 2, 0.5, x)


def betainc(a, b, x):
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    if x > (a + 1) / (a + b + 2):
        return 1.0 - betainc(b, a, 1 - x)
    # Lentz's continued fraction
    tiny, f, c, d = 1e-300, 1.0, 1.0, 0.0
    for m in range(0, 400):
        for k in (0, 1):
            if m == 0 and k == 0:
                num = 1.0
            elif k == 0:
                num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            else:
                num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + num * d
            d = tiny if abs(d) < tiny else d
            c = 1 + num / c
            c = tiny if abs(c) < tiny else c
            d = 1 / d
            f *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return math.exp(lbeta) / a * (f - 1)


def ms(v, digits=1):
    v = np.asarray(v, dtype=float)
    if len(v) == 0:
        return "–"
    sd = v.std(ddof=1) if len(v) > 1 else 0.0
    return "%.*f ± %.*f" % (digits, v.mean(), digits, sd)


def summarise(run):
    cfg, res, met, z = load(run)
    task = cfg["task"]
    out = z["outcome"]
    truth = z["truth"]
    ch = choices(z, grace_steps(cfg))
    row = {"task": task, "model": cfg["model"], "seed": cfg["seed"], "inhib": 1 / (1 + cfg["ei_ratio"]),
           "perf": 100 * np.mean(out == 1), "choice": 100 * np.mean(ch == truth),
           "broken": 100 * np.mean(out == -1), "wall": res.get("wall_s", float("nan")),
           "nse0": float(np.atleast_1d(met["nse_cell0"])[0]), "test_err": res.get("test_err", float("nan"))}
    coh = z["coherence"]
    if task == "pdm":
        a = np.abs(coh[:, 0])
        top = a >= np.sort(np.unique(a))[-2]
        row["top"] = 100 * np.mean(out[top] == 1)
        row["topc"] = 100 * np.mean(ch[top] == truth[top])
        sc = coh[:, 0]
    elif task == "cdm":
        ctx = z["context"]
        cued = coh[np.arange(len(coh)), ctx]
        uncued = coh[np.arange(len(coh)), 1 - ctx]
        top = np.abs(cued) >= np.abs(cued).max()
        row["top"] = 100 * np.mean(out[top] == 1)
        row["topc"] = 100 * np.mean(ch[top] == truth[top])
        # choice index 1 = option 2; the uncued modality's "answer" is option 2 when its coherence > 0
        hit = (ch == (uncued > 0).astype(int))[uncued != 0]
        row["uncued"] = 100 * np.mean(hit)
        sc = cued
    else:
        row["top"], row["topc"] = row["perf"], row["choice"]
        sc = None
    if sc is not None:
        levels = np.unique(sc)
        frac = [np.mean(ch[sc == s] == 1) for s in levels]
        # monotone and not flat: never decreasing, and rising by at least 0.5
        # from the most negative to the most positive coherence
        row["monotone"] = int(all(np.diff(frac) >= -1e-12) and frac[-1] - frac[0] >= 0.5)
        row["curve"] = list(zip(levels.tolist(), frac))
    return row


def main(dirs):
    rows = []
    for d in dirs:
        rd = os.path.join(d, "runs")
        for name in sorted(os.listdir(rd)):
            run = os.path.join(rd, name)
            if os.path.exists(os.path.join(run, "trials.npz")):
                rows.append((d, summarise(run)))
    for d in dirs:
        sub = [r for dd, r in rows if dd == d]
        if not sub:
            continue
        print("## %s (%d runs)\n" % (os.path.basename(os.path.normpath(d)), len(sub)))
        inhib = len({round(r["inhib"], 4) for r in sub}) > 1
        keyf = (lambda r: (r["task"], r["model"], round(r["inhib"], 4))) if inhib else (lambda r: (r["task"], r["model"]))
        print("| task | model |" + (" inhib |" if inhib else "") +
              " n | perf % | top % | choice % | top choice % | broken % | uncued % | monotone | wall s |")
        print("|---|---|%s---|---|---|---|---|---|---|---|---|" % ("---|" if inhib else ""))
        for k in sorted({keyf(r) for r in sub}):
            g = [r for r in sub if keyf(r) == k]
            mono = [r["monotone"] for r in g if "monotone" in r]
            print("| %s | %s |%s %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                k[0], k[1], (" %g |" % k[2]) if inhib else "", len(g), ms([r["perf"] for r in g]),
                ms([r["top"] for r in g]), ms([r["choice"] for r in g]), ms([r["topc"] for r in g]),
                ms([r["broken"] for r in g]),
                ms([r["uncued"] for r in g if "uncued" in r]), ("%d/%d" % (sum(mono), len(mono))) if mono else "–",
                ms([r["wall"] for r in g])))
        print()
        if inhib:
            x = np.array([r["nse0"] for r in sub])
            for label, key in (("performance", "perf"), ("decision alone", "choice")):
                y = np.array([r[key] for r in sub])
                r = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else float("nan")
                print("NSE at init vs %s: Pearson r = %.3f, p = %.3g (n = %d)" % (label, r, student_p(r, len(x)), len(x)))
            for k in sorted({round(r["inhib"], 4) for r in sub}):
                print("  inhib %g: NSE0 %s" % (k, ms([r["nse0"] for r in sub if round(r["inhib"], 4) == k], 3)))
            print()
        for r in sub:
            if "curve" in r and r["seed"] == 0:
                print("curve %s %s%s seed 0 (signed coherence: P(option 2)): %s" % (
                    r["task"], r["model"], (" inhib %g" % r["inhib"]) if inhib else "", ", ".join("%g: %.2f" % (s, f) for s, f in r["curve"])))
        print()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
