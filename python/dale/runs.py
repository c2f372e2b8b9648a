"""Run directories and sweep stores on disk, and dale.train / dale.sweep."""
from __future__ import annotations

import csv
import json
import os
import pathlib
import shutil
import sqlite3
import subprocess
from ctypes import byref
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from . import _lib
from ._core import Config, as_f32
from ._lib import check, lib


@dataclass
class Run:
    """One run directory: config (dict of config.json), metrics (column ->
    float64 array of metrics.csv), params (final.npz: name -> array; empty
    when the run has not finished), result (dict of result.json, or None)."""
    dir: str
    config: Dict[str, Any]
    metrics: Dict[str, np.ndarray]
    params: Dict[str, np.ndarray]
    result: Optional[Dict[str, Any]]

    @property
    def status(self) -> Optional[str]:
        return None if self.result is None else self.result.get("status")


def _read_npz(path: pathlib.Path) -> Dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _read_metrics(path: pathlib.Path) -> Dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    head, body = rows[0], rows[1:]
    out = {}
    for j, k in enumerate(head):
        try:
            out[k] = np.array([float(r[j]) if r[j] != "" else np.nan for r in body], dtype=np.float64)
        except ValueError:
            out[k] = np.array([r[j] for r in body])
    return out


def load_run(dir: str) -> Run:
    """Read a run directory written by dale train (or dale.train)."""
    d = pathlib.Path(dir)
    cfgp = d / "config.json"
    if not cfgp.is_file():
        raise FileNotFoundError(f"{d}: no config.json there (is it a run directory written by dale train?)")
    config = json.loads(cfgp.read_text())
    res = d / "result.json"
    fin = d / "final.npz"
    return Run(str(d), config, _read_metrics(d / "metrics.csv"), _read_npz(fin) if fin.is_file() else {},
               json.loads(res.read_text()) if res.is_file() else None)


@dataclass
class Sweep:
    """A sweep's results store (results.sqlite): runs (one dict per run:
    id, label, status, final metrics, nse0 ..., config and given parsed from
    JSON), meta (dict) and curves(id) -> column -> array over updates."""
    dir: str
    runs: List[Dict[str, Any]]
    meta: Dict[str, str]
    _db: str = field(repr=False, default="")

    def curves(self, run_id: str) -> Dict[str, np.ndarray]:
        con = sqlite3.connect(f"file:{self._db}?mode=ro", uri=True)
        try:
            cur = con.execute('SELECT * FROM curves WHERE id = ? ORDER BY "update"', (run_id,))
            cols = [c[0] for c in cur.description]
            rows = cur.fetchall()
        finally:
            con.close()
        return {c: np.array([r[j] for r in rows], dtype=np.float64) for j, c in enumerate(cols) if c != "id"}

    def run(self, run_id: str) -> Run:
        """The run directory of one run of the sweep."""
        return load_run(os.path.join(self.dir, "runs", run_id))

    def column(self, key: str) -> np.ndarray:
        """One value per run: a store column (test_err ...) or a config key."""
        vals = [r.get(key, r["config"].get(key) if isinstance(r.get("config"), dict) else None) for r in self.runs]
        try:
            return np.array([np.nan if v is None else v for v in vals], dtype=np.float64)
        except (TypeError, ValueError):
            return np.array(vals, dtype=object)


def load_sweep(dir: str) -> Sweep:
    """Read a sweep directory's results.sqlite (read-only)."""
    db = pathlib.Path(dir) / "results.sqlite"
    if not db.is_file():
        raise FileNotFoundError(f"{dir}: no results.sqlite there (is it a sweep directory written by dale sweep?)")
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        con.row_factory = sqlite3.Row
        runs = []
        for r in con.execute("SELECT * FROM runs ORDER BY id"):
            d = dict(r)
            for k in ("config", "given"):
                if isinstance(d.get(k), str):
                    try:
                        d[k] = json.loads(d[k])
                    except ValueError:
                        pass
            runs.append(d)
        meta = {r["key"]: r["value"] for r in con.execute("SELECT key, value FROM meta")}
    finally:
        con.close()
    return Sweep(str(dir), runs, meta, str(db))


def train(out: Optional[str] = None, resume: bool = False, force: bool = False, quiet: bool = True,
          **options: Any) -> Run:
    """Train as `dale train` does, in this process, through the library's run
    API (dale_train_run): the same config.json, metrics.csv, checkpoints,
    final.npz and result.json.  Options by their config.json names
    (task="seqmnist", model="dann", epochs=1, data=..., ...).  resume
    continues the run in `out`; force moves what `out` holds aside first.
    quiet=False prints the progress lines on stderr.  Returns load_run(out)."""
    cfg = Config()
    if resume:
        if out is None:
            raise ValueError("resume needs out=RUN_DIR")
        if set(options) - {"epochs", "max_updates"}:
            raise ValueError("resume takes only a new budget (epochs, max_updates): the run's config.json defines it")
        check(lib.dale_config_load_json(cfg.ptr, os.path.join(out, "config.json").encode()))
    for k, v in options.items():
        cfg.set(k, v)
    if out is not None:
        cfg.set("out", str(out))
    cfg.resolve()
    check(lib.dale_config_check_memory(cfg.ptr))
    lib.dale_set_threads(int(cfg.get("threads")))
    opt = _lib.TrainOptions(1 if resume else 0, None if quiet else _lib.stderr_file().value, 0, 1 if force else 0, None)
    check(lib.dale_train_run(cfg.ptr, byref(opt)))
    return load_run(cfg.get("out"))


def executable() -> str:
    """The dale CLI: $DALE_EXE, the package folder, the build tree, or PATH."""
    here = pathlib.Path(__file__).resolve().parent
    env = os.environ.get("DALE_EXE")
    for p in ([pathlib.Path(env)] if env else []) + [here / "dale", pathlib.Path(_lib.LIBRARY_PATH).parent / "dale",
                                                      here.parent.parent / "build" / "dale"]:
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    w = shutil.which("dale")
    if w:
        return w
    raise FileNotFoundError("dale: cannot find the dale executable: build it (make), set DALE_EXE, or put it on PATH")


def sweep(spec: str, out: str, jobs: int = 1, scale: Optional[str] = None, args: Sequence[str] = (),
          quiet: bool = True) -> Sweep:
    """Run a sweep as `dale sweep SPEC --out OUT --jobs N [--scale S]` (the
    CLI runs each run in a child process; an argument list, no shell), then
    return load_sweep(out).  Raises DaleError with the CLI's message when it
    fails."""
    cmd = [executable(), "sweep", str(spec), "--out", str(out), "--jobs", str(int(jobs))]
    if scale:
        cmd += ["--scale", str(scale)]
    cmd += [str(a) for a in args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise _lib.DaleError(p.returncode, "dale sweep failed", p.stderr.strip() or p.stdout.strip())
    if not quiet:
        print(p.stderr, end="")
    return load_sweep(out)


def batches(x: Any, y: Any, n: int, seed: int = 0, weights: Any = None, drop_last: bool = False,
            shuffle: bool = True) -> Iterator[Tuple[np.ndarray, ...]]:
    """Minibatches of n samples of (x, y[, weights]) in an order drawn from
    `seed` (numpy's default_rng); the last smaller one is dropped with
    drop_last=True."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive batch size, got {n!r}")
    xa, ya = np.asarray(x), np.asarray(y)
    N = xa.shape[0]
    if ya.shape[0] != N:
        raise ValueError(f"x has {N} samples, y {ya.shape[0]}")
    wa = None if weights is None else np.asarray(weights)
    order = np.random.default_rng(seed).permutation(N) if shuffle else np.arange(N)
    stop = N - N % n if drop_last else N
    for a in range(0, stop, n):
        i = np.sort(order[a:a + n]) if False else order[a:a + n]
        if wa is None:
            yield xa[i], ya[i]
        else:
            yield xa[i], ya[i], wa[i]
