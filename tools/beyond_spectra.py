#!/usr/bin/env python3
"""beyond_spectra.py SWEEP_DIR — spectra and test error along training for
the beyond-init sweep (docs/beyond.md): for each label, the mean over its
finished runs of NSE, sigma_max and rho of the recurrent W and of the test
error at every evaluation in metrics.csv.  Standard library only; prints a
Markdown table (one row per label and evaluation)."""
import csv
import os
import sqlite3
import sys
from collections import defaultdict


def main(sweep):
    db = sqlite3.connect(os.path.join(sweep, "results.sqlite"))
    rows = db.execute("select label, out from runs where status = 'ok' order by rowid").fetchall()
    acc = defaultdict(lambda: defaultdict(list))
    order = []
    for label, out in rows:
        path = out if os.path.isabs(out) else os.path.join(sweep, out)
        mpath = os.path.join(path, "metrics.csv")
        if not os.path.exists(mpath):
            continue
        if label not in order:
            order.append(label)
        with open(mpath) as f:
            for r in csv.DictReader(f):
                u = int(r["update"])
                acc[label][u].append((float(r["nse_cell0"]), float(r["smax_cell0"]), float(r["rho_cell0"]),
                                      float(r["test_err"])))
    print("| label | update | runs | NSE | sigma_max | rho | test error % |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label in order:
        for u in sorted(acc[label]):
            v = acc[label][u]
            m = [sum(x[k] for x in v) / len(v) for k in range(4)]
            print(f"| {label} | {u} | {len(v)} | {m[0]:.3f} | {m[1]:.2f} | {m[2]:.2f} | {m[3]:.2f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: beyond_spectra.py SWEEP_DIR")
    main(sys.argv[1])
