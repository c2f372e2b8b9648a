"""Data sets as NumPy arrays, loaded by libdale exactly as `dale train` loads them."""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from ._core import Task


def task_arrays(task: str, split: str = "train", **options: Any) -> Tuple[np.ndarray, np.ndarray]:
    """Any registered fixed-length task's split as (x (N, T, I), y): e.g.
    task_arrays("adding", "test", adding_len=50)."""
    with Task.from_config(task, **options) as t:
        return t.data(split)


def seqmnist(split: str = "train", data: Optional[str] = None, variant: str = "row",
             dataset: str = "mnist", **options: Any) -> Tuple[np.ndarray, np.ndarray]:
    """Sequential MNIST (or Fashion-MNIST, dataset="fashion-mnist") as
    x (N, T, I) float32 in [0, 1] and y (N,) int32 labels.

    data: the data directory holding mnist/ (default: $DALE_DATA, else
    ./data, as dale train); variant: row (28 x 28), pixel (784 x 1) or
    permuted; split: train (60000) or test (10000) with the reference split,
    train/val/test with split="paper" passed as an option (split_kind)."""
    opts = dict(options)
    if "split_kind" in opts:
        opts["split"] = opts.pop("split_kind")
    return task_arrays("seqmnist", split, data=data, variant=variant, dataset=dataset, **opts)


def adding(split: str = "train", **options: Any) -> Tuple[np.ndarray, np.ndarray]:
    """The adding problem (x (N, T, 2), y (N, 1)) as dale train generates it."""
    return task_arrays("adding", split, **options)
