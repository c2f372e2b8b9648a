"""Steps per second of seqMNIST 1 x 100 (row-wise, batch 32, standard RNN):
a Python loop of Trainer.step over NumPy minibatches against the CLI, in
the same process run, in CPU time (user + system), so a loaded machine
does not skew the ratio.

    PYTHONPATH=python python3 bench/python_steps.py [--data DIR] [--steps N] [--build build]

The CLI's rate is (CPU of a run of N updates - CPU of a run of 0 updates) / N
(both runs load the data and evaluate the initial network once).
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

import dale


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cli_run(exe, data, updates, out):
    c0 = cpu_children()
    subprocess.run([exe, "train", "--task", "seqmnist", "--data", data, "--model", "rnn", "--hidden", "100",
                    "--max-updates", str(updates), "--eval-every", "1000000", "--out", out, "--quiet"], check=True)
    return cpu_children() - c0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("DALE_DATA", "data"))
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    exe = os.path.join(a.build, "dale")
    x, y = dale.data.seqmnist("train", data=a.data)
    tmp = tempfile.mkdtemp(prefix="dale-bench-")
    rows = []
    for rep in range(a.repeat):
        c_zero = cli_run(exe, a.data, 0, f"{tmp}/z{rep}")
        c_n = cli_run(exe, a.data, a.steps, f"{tmp}/n{rep}")
        cli = a.steps / (c_n - c_zero)
        # Python loop over NumPy minibatches
        net = dale.Net(model="rnn", inputs=28, hidden=100, outputs=10, task="seqmnist", seed=0)
        tr = dale.Trainer(net, seed=0)
        it = dale.batches(x, y, 32, seed=rep)
        xb, yb = next(it)
        tr.step(xb, yb)
        t0 = cpu_self()
        for i, (xb, yb) in enumerate(it):
            if i == a.steps:
                break
            tr.step(xb, yb)
        py = a.steps / (cpu_self() - t0)
        # the library's own loop, driven from Python (Trainer over the Task)
        task = dale.Task.from_config("seqmnist", data=a.data)
        net2 = dale.Net(model="rnn", inputs=28, hidden=100, outputs=10, task="seqmnist", seed=0)
        tr2 = dale.Trainer(net2, task=task, seed=0, max_updates=a.steps, eval_every=1000000)
        t0 = cpu_self()
        tr2.run()
        lib_loop = a.steps / (cpu_self() - t0)
        rows.append((cli, py, lib_loop))
        print(f"run {rep}: CLI {cli:7.1f} steps/s   Python step loop {py:7.1f} steps/s ({py / cli:5.1%})   "
              f"Trainer.run {lib_loop:7.1f} steps/s", flush=True)
    med = np.median(np.array(rows), axis=0)
    print(f"median: CLI {med[0]:.1f}, Python loop {med[1]:.1f} ({med[1] / med[0]:.1%} of the CLI), "
          f"Trainer.run {med[2]:.1f} steps/s")


if __name__ == "__main__":
    sys.exit(main())
