"""Networks, tasks, trainers and spectra over libdale (see the package docstring)."""
from __future__ import annotations

import json
import math
import weakref
from ctypes import byref, c_char_p, c_double, c_size_t, c_void_p, cast, create_string_buffer, string_at
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _lib
from ._lib import DaleError, check, lib

ArrayLike = Any

SPLITS = {"train": 0, "val": 1, "test": 2}
LOSSES = ["mse_last", "ce_last", "ce_every", "mse_weighted", "ce_weighted"]
P_BIAS = 1 << 2


# ------------------------------------------------------------ ownership


class _Handle:
    """Owns one C object; frees it when the last Python reference goes.

    ``deps`` keeps what the C object borrows alive (a trainer's network and
    task, an arrays task's NumPy buffers), so objects can be dropped or
    closed in any order without a dangling pointer.
    """

    __slots__ = ("ptr", "_free", "deps", "__weakref__")

    def __init__(self, ptr: int, free: Callable, deps: Sequence = ()):
        self.ptr = ptr
        self._free = free
        self.deps = tuple(deps)

    def __del__(self):
        p, self.ptr = self.ptr, None
        if p:
            try:
                self._free(p)
            except Exception:  # interpreter shutdown
                pass


class _View:
    """An __array_interface__ over C memory that keeps its owner alive."""

    def __init__(self, owner: Any, ptr: int, shape: Tuple[int, ...], typestr: str = "<f4", readonly=False):
        self._owner = owner
        self.__array_interface__ = {"data": (ptr, readonly), "shape": shape, "typestr": typestr, "version": 3}


def _view(owner, ptr, shape, typestr="<f4"):
    return np.asarray(_View(owner, ptr, tuple(int(s) for s in shape), typestr))


# ----------------------------------------------------- input validation


def as_f32(name: str, a: ArrayLike, ndim: Optional[int] = None, finite: bool = True) -> np.ndarray:
    """`a` as a C-contiguous float32 array: real numbers only (TypeError
    otherwise), `ndim` dimensions (ValueError), every value finite
    (ValueError naming the first bad index)."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if arr.dtype.kind == "b":
        raise TypeError(f"{name}: expected real numbers, got booleans")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow shows as Inf, refused below
        out = np.ascontiguousarray(arr, dtype=np.float32)
    if finite:
        _check_finite(name, out)
    return out


def as_f64(name: str, a: ArrayLike, ndim: Optional[int] = None) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    out = np.ascontiguousarray(arr, dtype=np.float64)
    _check_finite(name, out)
    return out


def _check_finite(name, a):
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name}: value {a[tuple(bad)]} at index {tuple(int(i) for i in bad)} is not finite "
                         "(NaN and Inf are refused)")


def as_labels(name: str, a: ArrayLike, classes: int) -> np.ndarray:
    """Integer labels in [0, classes) as C-contiguous int32."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            pass  # whole numbers stored as floats convert safely
        else:
            raise TypeError(f"{name}: expected integer class labels, got dtype {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.int32)
    if out.size and (out.min() < 0 or out.max() >= classes):
        bad = np.argwhere((out < 0) | (out >= classes))[0]
        raise ValueError(f"{name}: label {out[tuple(bad)]} at index {tuple(int(i) for i in bad)} "
                         f"is outside [0, {classes})")
    return out


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


# --------------------------------------------------------------- config


class Config:
    """A run configuration: every option of `dale train` by its config.json
    name (or its CLI name without "--"), set from Python values (True/False
    become on/off, lists become comma-separated text)."""

    def __init__(self, options: Optional[Mapping[str, Any]] = None):
        p = c_void_p()
        check(lib.dale_config_create(byref(p)))
        self._h = _Handle(p.value, lib.dale_config_free)
        for k, v in (options or {}).items():
            self.set(k, v)

    @property
    def ptr(self) -> int:
        return self._h.ptr

    def set(self, key: str, value: Any) -> None:
        k = key.replace("-", "_")
        if not lib.dale_config_has(k.encode()):
            buf = create_string_buffer(64)
            near = lib.dale_config_nearest(k.encode(), buf, 64)
            hint = f"; did you mean {near.decode()}?" if near else ""
            raise TypeError(f"unknown option '{key}'{hint}")
        if value is None:
            return
        check(lib.dale_config_set(self.ptr, k.encode(), _text(value).encode()))

    def get(self, key: str) -> str:
        buf = create_string_buffer(1024)
        r = lib.dale_config_get(self.ptr, key.replace("-", "_").encode(), buf, 1024)
        if r is None:
            raise KeyError(key)
        return buf.value.decode()

    def resolve(self) -> "Config":
        check(lib.dale_config_resolve(self.ptr))
        return self

    def to_dict(self) -> Dict[str, Any]:
        t = c_void_p()
        check(lib.dale_config_to_json(self.ptr, byref(t)))
        try:
            return json.loads(string_at(t).decode())
        finally:
            lib.dale_config_free_text(t)


# ------------------------------------------------------------------ net


class _Params(dict):
    """name -> zero-copy view; assigning copies into the buffer (shape and
    finiteness checked), so net.params[k] = A changes the network."""

    def __setitem__(self, key: str, value: ArrayLike) -> None:
        if key not in self:
            raise KeyError(f"no parameter '{key}' (the network has {', '.join(self)})")
        view = dict.__getitem__(self, key)
        a = as_f32(f"params['{key}']", value)
        if a.shape != view.shape:
            raise ValueError(f"params['{key}']: expected shape {view.shape}, got {a.shape}")
        view[...] = a

    def __delitem__(self, key):
        raise TypeError("the parameters of a network cannot be removed")


class Net:
    """An E/I recurrent network of libdale (standard RNN, ColEI or DANN).

    Net(model="rnn", inputs=1, hidden=None, outputs=1, layers=1, inhib=None,
        seed=0, task=None, **options)

    model    "rnn" | "colei" | "dann" (aliases "song", "danns")
    inputs   input width d; outputs: readout width m
    hidden   units per recurrent cell (default: the task's default)
    layers   recurrent cells; inhib: fraction of inhibitory units (0.1 = 9:1)
    seed     initialisation seed: the parameters are exactly those of
             `dale train --seed SEED` with the same options
    task     the task whose defaults fill "auto" options (default "adding",
             as in dale train); its data is not loaded
    options  any other run option by its config.json name, e.g. rho=1.5,
             dense=[500, 500], numerics="dale", and every option a newer
             library adds (dynamics, time constants ...)

    Attributes: params (dict name -> zero-copy float32 view into the single
    parameter buffer; writing to it changes the network), theta (the whole
    buffer), grad, config (the resolved options as a dict).
    Methods: W_eff(layer), U_eff(layer), forward(x) -> (outputs, hidden
    states per step), ei_units(layer), close() (or use it in a with block).
    A view keeps the C buffer alive after close() or del: reading it stays safe.
    init=False leaves every parameter 0 (to load your own).

    Example:
        net = dale.Net(model="colei", inputs=28, hidden=100, outputs=10, inhib=0.1, seed=0)
        s = dale.spectrum(net.W_eff(0))       # s.nse, s.sigma_max, s.rho
        net.params["cell0.W_pos"] *= 0.5      # scales the network's own weights
        out, h = net.forward(x)               # x (N, T, 28) -> (N, 10), (N, T, 100)
    """

    def __init__(self, model: str = "rnn", inputs: int = 1, hidden: Optional[int] = None, outputs: int = 1,
                 layers: int = 1, inhib: Optional[float] = None, seed: int = 0, task: Optional[str] = None,
                 init: bool = True, **options: Any):
        for n, v in (("inputs", inputs), ("outputs", outputs), ("layers", layers)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise TypeError(f"{n}: expected an int, got {type(v).__name__}")
            if v < 1:
                raise ValueError(f"{n} must be >= 1 (got {v})")
        given: Dict[str, Any] = {"model": model, "layers": int(layers), "seed": int(seed)}
        if task is not None:
            given["task"] = task
        if hidden is not None:
            given["hidden"] = int(hidden)
        if inhib is not None:
            given["inhib"] = float(inhib)
        given.update(options)
        cfg = Config(given).resolve()
        self._given = given
        self.config = cfg.to_dict()
        p = c_void_p()
        check(lib.dale_net_create_widths(cfg.ptr, int(inputs), int(outputs), 0.0, byref(p)))
        self._h = _Handle(p.value, lib.dale_net_free)
        if init:
            check(lib.dale_net_init_seed(self._h.ptr, int(seed)))
        self.seed = int(seed)
        self._params: Optional[Dict[str, np.ndarray]] = None

    # --- state
    @property
    def ptr(self) -> int:
        if self._h is None:
            raise ValueError("this Net is closed")
        return self._h.ptr

    def close(self) -> None:
        """Release this object's hold on the C network (freed once no view,
        trainer or other user holds it)."""
        self._h = None
        self._params = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def model(self) -> str:
        return lib.dale_model_name(lib.dale_net_config_of(self.ptr).contents.type).decode()

    @property
    def inputs(self) -> int:
        return int(lib.dale_net_config_of(self.ptr).contents.input)

    @property
    def outputs(self) -> int:
        return int(lib.dale_net_config_of(self.ptr).contents.output)

    @property
    def hidden(self) -> int:
        return int(lib.dale_net_config_of(self.ptr).contents.hidden)

    @property
    def layers(self) -> int:
        return int(lib.dale_net_ncells(self.ptr))

    @property
    def theta(self) -> np.ndarray:
        """The whole parameter buffer (float32, zero-copy)."""
        return _view(self._h, lib.dale_net_theta(self.ptr), (lib.dale_net_size(self.ptr),))

    @property
    def grad(self) -> np.ndarray:
        """The gradient buffer, same layout as theta (zero-copy)."""
        return _view(self._h, lib.dale_net_grad(self.ptr), (lib.dale_net_size(self.ptr),))

    @property
    def params(self) -> Dict[str, np.ndarray]:
        """Parameter name -> zero-copy view (rows, cols); biases are (rows,).
        Writing into a view, or assigning net.params[name] = array (copied in,
        shape and finiteness checked), changes the network."""
        if self._params is None:
            theta = self.theta
            out = _Params()
            for i in range(lib.dale_net_nparams(self.ptr)):
                p = lib.dale_net_param(self.ptr, i).contents
                n = p.rows * p.cols
                v = theta[p.offset:p.offset + n]
                dict.__setitem__(out, p.name.decode(), v if (p.flags & P_BIAS) else v.reshape(p.rows, p.cols))
            self._params = out
        return self._params

    def ei_units(self, layer: int = 0) -> Tuple[int, int]:
        """(excitatory, inhibitory) units that layer's weight map reads."""
        ne, ni = c_size_t(), c_size_t()
        lib.dale_net_ei_units(self.ptr, int(layer), byref(ne), byref(ni))
        return ne.value, ni.value

    def _eff(self, layer: int, want_u: bool) -> np.ndarray:
        L = self.layers
        if not isinstance(layer, (int, np.integer)) or not 0 <= layer <= L:
            raise ValueError(f"layer must be 0..{L - 1} (a recurrent cell) or {L} (the readout), got {layer!r}")
        if layer == L:
            if want_u:
                raise ValueError("the readout has no input map U")
            W = np.empty((self.outputs, self.hidden), np.float32)
            check(lib.dale_net_effective(self.ptr, L, W, None))
            return W
        n = self.hidden
        d = self.inputs if layer == 0 else n
        W = np.empty((n, n), np.float32)
        U = np.empty((n, d), np.float32)
        check(lib.dale_net_effective(self.ptr, int(layer), W, U.ctypes.data))
        return U if want_u else W

    def W_eff(self, layer: int = 0) -> np.ndarray:
        """Effective recurrent matrix W (n, n) of cell `layer` (post x pre,
        a new float32 array), or the readout (m, n) for layer == layers."""
        return self._eff(layer, False)

    def U_eff(self, layer: int = 0) -> np.ndarray:
        """Effective input matrix U (n, d) of cell `layer`."""
        return self._eff(layer, True)

    def forward(self, x: ArrayLike, all_steps: bool = False) -> Tuple[np.ndarray, np.ndarray]:
        """Run the network on x (N, T, inputs), sample-major.

        Returns (out, h): out is (N, outputs) at the last step, or
        (N, T, outputs) with all_steps=True; h holds the hidden states per
        step, (N, T, hidden) for one cell and (layers, N, T, hidden) for
        more.  Both are new arrays.  x is converted to float32; NaN/Inf
        and a wrong width are refused."""
        x = as_f32("x", x, 3)
        N, T, d = x.shape
        if d != self.inputs:
            raise ValueError(f"x: the network takes {self.inputs} inputs per step, x has {d} (shape {x.shape})")
        if N == 0 or T == 0:
            raise ValueError(f"x: needs at least one sample and one step (shape {x.shape})")
        xt = np.ascontiguousarray(x.transpose(1, 0, 2))
        ptr = self.ptr
        check(lib.dale_net_plan(ptr, T, N))
        o = c_void_p()
        check(lib.dale_net_forward(ptr, xt, T, N, 1 if all_steps else 0, byref(o)))
        m = self.outputs
        if all_steps:
            out = np.ctypeslib.as_array(cast(o, _FP), shape=(T, N, m)).transpose(1, 0, 2).copy()
        else:
            out = np.ctypeslib.as_array(cast(o, _FP), shape=(N, m)).copy()
        hs = []
        for c in range(self.layers):
            hp, tt, bb = c_void_p(), c_size_t(), c_size_t()
            check(lib.dale_net_hidden(ptr, c, byref(hp), byref(tt), byref(bb)))
            h = np.ctypeslib.as_array(cast(hp, _FP), shape=(T, N, self.hidden))
            hs.append(h.transpose(1, 0, 2).copy())
        # the net kept a pointer to xt for a backward pass that will not come
        return out, (hs[0] if len(hs) == 1 else np.stack(hs))

    def __repr__(self):
        if self._h is None:
            return "<dale.Net (closed)>"
        return (f"<dale.Net {self.model}: {self.inputs} -> {self.layers} x {self.hidden} -> {self.outputs}, "
                f"{lib.dale_net_size(self.ptr)} parameters, seed {self.seed}>")


from ctypes import POINTER, c_float  # noqa: E402

_FP = POINTER(c_float)


# ----------------------------------------------------------------- task


class Task:
    """A task of libdale: where batches come from.

    Task.from_config(task="seqmnist", data=..., **options) builds a
    registered task (loading or generating its data) as `dale train` does;
    Task.arrays(x, y, weights=None, ...) wraps your own NumPy arrays.
    Attributes: name, T, inputs, outputs, loss, counts (train, val, test).
    """

    def __init__(self, handle: _Handle, options: Dict[str, Any]):
        self._h = handle
        self._options = options

    @classmethod
    def from_config(cls, task: str = "adding", **options: Any) -> "Task":
        given = dict(options, task=task)
        cfg = Config(given).resolve()
        p = c_void_p()
        check(lib.dale_task_from_config(cfg.ptr, byref(p)))
        return cls(_Handle(p.value, lib.dale_task_free), given)

    @classmethod
    def arrays(cls, x: ArrayLike, y: ArrayLike, weights: Optional[ArrayLike] = None, loss: Optional[str] = None,
               outputs: Optional[int] = None, n_val: int = 0, n_test: int = 0, name: str = "arrays") -> "Task":
        """A task over arrays: x (N, T, I) floats; y (N,) or (N, T) integer
        labels (cross-entropy) or (N, m) / (N, T, m) floats (MSE); weights
        (N, T) per-step loss weights (weighted losses).  The last n_test
        samples are the test split, the n_val before them validation, the
        rest training.  loss defaults from the shapes: ce_last, ce_every
        (ce_weighted with weights), mse_last, mse_weighted."""
        x = as_f32("x", x, 3)
        N, T, I = x.shape
        yarr = np.asarray(y)
        if yarr.shape[:1] != (N,):
            raise ValueError(f"y: expected {N} samples like x, got shape {yarr.shape}")
        w = None if weights is None else as_f32("weights", weights, 2)
        if w is not None and w.shape != (N, T):
            raise ValueError(f"weights: expected shape {(N, T)}, got {w.shape}")
        if w is not None and (w < 0).any():
            raise ValueError("weights: must be >= 0")
        cls_kind = yarr.dtype.kind in "iu"
        if loss is None:
            if cls_kind:
                loss = "ce_weighted" if w is not None else ("ce_last" if yarr.ndim == 1 else "ce_every")
            else:
                loss = "mse_weighted" if (w is not None or yarr.ndim == 3) else "mse_last"
        if loss not in LOSSES:
            raise ValueError(f"loss: expected one of {', '.join(LOSSES)}, got {loss!r}")
        k = LOSSES.index(loss)
        yf = yi = None
        if loss.startswith("ce"):
            m = int(outputs) if outputs is not None else int(np.max(yarr)) + 1 if yarr.size else 2
            want = (N,) if loss == "ce_last" else (N, T)
            if yarr.shape != want:
                raise ValueError(f"y: loss {loss} takes labels of shape {want}, got {yarr.shape}")
            mask = None if w is None else (w > 0)
            lab = yarr if mask is None else np.where(mask, yarr, 0)
            yi = as_labels("y", lab, m) if mask is None else as_labels("y", lab, m)
            if mask is not None:
                yi = np.ascontiguousarray(np.where(mask, yi, -1).astype(np.int32))
        else:
            yf = as_f32("y", yarr)
            m = yf.shape[-1] if yf.ndim >= 2 else 1
            want = (N, m) if loss == "mse_last" else (N, T, m)
            if yf.ndim == 1 and loss == "mse_last":
                yf = yf.reshape(N, 1)
            if yf.shape != want:
                raise ValueError(f"y: loss {loss} takes targets of shape {want}, got {yf.shape}")
        if w is None and loss.endswith("weighted"):
            w = np.ones((N, T), np.float32)
        if w is not None and not loss.endswith("weighted"):
            raise ValueError(f"weights: loss {loss} takes no weights (use ce_weighted or mse_weighted)")
        n_train = N - int(n_val) - int(n_test)
        if n_train < 0:
            raise ValueError(f"n_val + n_test = {n_val + n_test} exceeds the {N} samples")
        bufs = [a for a in (x, yf, yi, w) if a is not None]
        cfg = _lib.ArraysTaskConfig(name.encode(), N, T, I, m, k, x.ctypes.data,
                                    yf.ctypes.data if yf is not None else None,
                                    yi.ctypes.data if yi is not None else None,
                                    w.ctypes.data if w is not None else None, n_train, int(n_val), int(n_test))
        p = c_void_p()
        check(lib.dale_task_arrays_create(byref(cfg), byref(p)))
        t = cls(_Handle(p.value, lib.dale_task_free, deps=bufs), {})
        t._bufs = (x, yf, yi, w)
        return t

    @property
    def ptr(self) -> int:
        if self._h is None:
            raise ValueError("this Task is closed")
        return self._h.ptr

    def close(self) -> None:
        self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def _head(self):
        return cast(self.ptr, POINTER(_lib.TaskHead)).contents

    name = property(lambda self: self._head.name.decode())
    T = property(lambda self: int(self._head.T))
    inputs = property(lambda self: int(self._head.input))
    outputs = property(lambda self: int(self._head.output))
    loss = property(lambda self: LOSSES[self._head.loss])
    counts = property(lambda self: tuple(int(c) for c in self._head.count))
    input_mean = property(lambda self: float(self._head.input_mean))

    def data(self, split: str = "train", chunk: int = 1000) -> Tuple[np.ndarray, np.ndarray]:
        """Every sample of a split as arrays: x (N, T, inputs) float32 and
        the targets (int32 labels, or float32 targets for MSE tasks), in the
        layouts Task.arrays takes."""
        s = _split(split)
        hd = self._head
        if any(hd.sample_rows[i] > 1 for i in range(3)) or hd.steps:
            raise ValueError(f"task {self.name}: its samples are not single fixed-length sequences")
        N, T, d, m = int(hd.count[s]), int(hd.T), int(hd.input), int(hd.output)
        if N == 0:
            raise ValueError(f"task {self.name} has no {split} split")
        k = hd.loss
        every = k in (2, 3, 4)
        x = np.empty((N, T, d), np.float32)
        if k in (1, 2, 4):
            y = np.empty((N, T) if every else (N,), np.int32)
        else:
            y = np.empty((N, T, m) if every else (N, m), np.float32)
        fn = hd.batch
        for a in range(0, N, chunk):
            B = min(chunk, N - a)
            idx = (c_size_t * B)(*range(a, a + B))
            xb = np.empty((T, B, d), np.float32)
            yfb = np.zeros((T, B, m), np.float32)
            yib = np.zeros((T, B), np.int32)
            check(fn(self.ptr, s, idx, B, xb.ctypes.data, yfb.ctypes.data, yib.ctypes.data))
            x[a:a + B] = xb.transpose(1, 0, 2)
            if k in (1, 2, 4):
                y[a:a + B] = yib.transpose(1, 0) if every else yib.reshape(-1)[:B]
            else:
                y[a:a + B] = yfb.transpose(1, 0, 2) if every else yfb.reshape(-1)[:B * m].reshape(B, m)
        return x, y

    def __repr__(self):
        if self._h is None:
            return "<dale.Task (closed)>"
        return f"<dale.Task {self.name}: T {self.T}, {self.inputs} -> {self.outputs}, {self.loss}, counts {self.counts}>"


def _split(split: Union[str, int]) -> int:
    if split in SPLITS:
        return SPLITS[split]  # type: ignore[index]
    raise ValueError(f"split: expected train, val or test, got {split!r}")


# -------------------------------------------------------------- trainer


@dataclass
class Step:
    """What one update did: the minibatch loss and error (percent; NaN for
    MSE) before the update, the gradient norm before clipping, whether the
    update diverged (non-finite loss or gradient: nothing changed and the
    trainer stops) and whether the budget was already spent."""
    loss: float
    err: float
    grad_norm: float
    diverged: bool
    done: bool


class Trainer:
    """Trains a Net with libdale's trainer: the update policy (clipping,
    projection, inhibitory gradient scaling, sign freezing, and any newer
    optimiser option) is the one `dale train` uses for the same options.

    Trainer(net, lr=None, clip=None, seed=0, task=None, progress=None,
            on_eval=None, **options)

    Two ways to feed it:
      * your arrays: tr.step(xb, yb, weights=None) makes one update on that
        minibatch (x (B, T, inputs); y labels (B,) / (B, T) or float targets;
        weights (B, T) per-step loss weights).  The batch size is fixed by
        the first step.  An epoch is one step here, so lr_decay_every counts
        steps only when you set it.
      * a Task: Trainer(net, task=dale.Task.from_config("seqmnist", ...),
        batch=32, epochs=1) then tr.step() / tr.run() draws minibatches in
        the order `dale train --seed SEED` does: with the same options the
        parameters after run() equal the CLI's final.npz bit for bit.
    lr, clip and every other option default as `dale train` resolves them
    for the net's task and model.  progress(trainer) is called after every
    update; on_eval(metrics dict) after every scheduled evaluation.
    evaluate(), save(path) / load(path) (checkpoints), close().
    """

    def __init__(self, net: Net, lr: Optional[float] = None, clip: Optional[float] = None, seed: int = 0,
                 task: Optional[Task] = None, progress: Optional[Callable[["Trainer"], None]] = None,
                 on_eval: Optional[Callable[[Dict[str, float]], None]] = None, **options: Any):
        if not isinstance(net, Net):
            raise TypeError(f"net: expected a dale.Net, got {type(net).__name__}")
        if task is not None and not isinstance(task, Task):
            raise TypeError(f"task: expected a dale.Task, got {type(task).__name__}")
        self.net = net
        self.task = task
        self._outputs = net.outputs
        if net._h is None:
            raise ValueError("net: this Net is closed")
        self._net_h = net._h  # the trainer holds the C network, even after net.close()
        given = dict(net._given)
        if task is not None:
            given.update(task._options)
        given.update({k: v for k, v in (("lr", lr), ("clip", clip)) if v is not None})
        given["seed"] = int(seed)
        given.update(options)
        self._given = given
        self._progress = progress
        self._on_eval = on_eval
        self._exc: Optional[BaseException] = None
        self._h: Optional[_Handle] = None
        self._feed = None
        self._feed_weighted = False
        self._info = _lib.StepInfo()
        self._cb = None
        Config(given).resolve()  # refuse bad options now, not at the first step
        if task is not None:
            self._create(task)

    # --- set-up
    def _callbacks(self):
        if not (self._progress or self._on_eval):
            return None
        me = weakref.ref(self)

        def on_eval(_tr, m, _u):
            t = me()
            if t is None or t._on_eval is None:
                return 0
            try:
                t._on_eval(_metrics(m.contents))
                return 0
            except BaseException as e:  # noqa: BLE001 -- re-raised after the C call
                t._exc = e
                return 8  # DALE_ERR_STATE: stops the update

        def on_progress(_tr, _u):
            t = me()
            if t is None or t._progress is None or t._exc is not None:
                return
            try:
                t._progress(t)
            except BaseException as e:  # noqa: BLE001
                t._exc = e

        cb = _lib.Callbacks(_lib.ON_EVAL(on_eval), _lib.ON_CHECKPOINT(0), _lib.ON_PROGRESS(on_progress), None)
        return cb

    def _create(self, task: Task, force: Optional[Dict[str, Any]] = None,
                default: Optional[Dict[str, Any]] = None) -> None:
        given = dict(self._given)
        for k, v in (default or {}).items():
            given.setdefault(k, v)
        given.update(force or {})
        self._cb = self._callbacks()
        self._h, self.config = _make_trainer(self._net_h, task, given, self._cb)

    @property
    def ptr(self) -> int:
        if self._h is None:
            if self._feed is None and self.task is None:
                raise ValueError("this Trainer has made no step yet (it learns the batch shape from the first one)")
            raise ValueError("this Trainer is closed")
        return self._h.ptr

    def close(self) -> None:
        self._h = None
        self._feed = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _rethrow(self):
        if self._exc is not None:
            e, self._exc = self._exc, None
            raise e

    # --- stepping
    def step(self, x: Optional[ArrayLike] = None, y: Optional[ArrayLike] = None,
             weights: Optional[ArrayLike] = None) -> Step:
        """One update: on the minibatch (x, y[, weights]) you give, or, for a
        trainer over a Task, on its next minibatch.  Returns a Step."""
        if x is None:
            if y is not None or weights is not None:
                raise ValueError("step: give x with y")
            if self.task is None:
                raise ValueError("step: this trainer has no Task: give a minibatch (x, y)")
        else:
            if y is None:
                raise ValueError("step: give the targets y with x")
            if self.task is not None:
                raise ValueError("step: this trainer draws from its Task; make a Trainer without task= to feed arrays")
            self._fill(x, y, weights)
        info = self._info
        st = lib.dale_trainer_step(self.ptr, byref(info))
        self._rethrow()
        check(st)
        return Step(info.loss, info.err, info.grad_norm, bool(info.diverged), bool(info.done))

    def _fill(self, x, y, weights):
        f = self._feed
        if f is None:
            xa = as_f32("x", x, 3)
            task = Task.arrays(xa.copy(), np.array(y, copy=True), None if weights is None else np.array(weights),
                               outputs=self._outputs if np.asarray(y).dtype.kind in "iu" else None,
                               name="python")
            B = xa.shape[0]
            self._create(task, force={"batch": B, "eval_batch": B, "epochs": (1 << 53) - 1, "max_updates": -1,
                                      "eval_every": (1 << 53) - 1, "checkpoint_every": (1 << 53) - 1},
                         default={"lr_decay": 1, "lr_decay_every": 0})
            self._feed = task
            self._feed_weighted = weights is not None
            return
        fx, fyf, fyi, fw = f._bufs
        xa = np.asarray(x)
        if xa.shape != fx.shape:
            raise ValueError(f"x: this trainer takes minibatches of shape {fx.shape} (set by its first step), "
                             f"got {xa.shape}; use dale.batches(..., drop_last=True) or a new Trainer")
        if xa.dtype.kind not in "fiu":
            raise TypeError(f"x: expected real numbers, got dtype {xa.dtype}")
        np.copyto(fx, xa, casting="unsafe")
        _check_finite("x", fx)
        if self._feed_weighted != (weights is not None):
            raise ValueError("weights: give them at every step or at none (as at the first step)")
        if weights is not None:
            wa = as_f32("weights", weights, 2)
            if wa.shape != fw.shape:
                raise ValueError(f"weights: expected shape {fw.shape}, got {wa.shape}")
            if (wa < 0).any() or not (wa > 0).any():
                raise ValueError("weights: must be >= 0 with at least one > 0")
            fw[...] = wa
        mask = None if fw is None else fw > 0
        if fyi is not None:
            ya = np.asarray(y)
            if ya.shape != fyi.shape:
                raise ValueError(f"y: expected labels of shape {fyi.shape}, got {ya.shape}")
            lab = as_labels("y", ya if mask is None else np.where(mask, ya, 0), self._outputs)
            fyi[...] = lab if mask is None else np.where(mask, lab, -1)
        else:
            ya = as_f32("y", y)
            if ya.shape != fyf.shape and ya.shape + (1,) != fyf.shape:  # a missing unit axis is fine
                raise ValueError(f"y: expected targets of shape {fyf.shape}, got {ya.shape}")
            fyf[...] = ya.reshape(fyf.shape)

    def run(self) -> None:
        """Train on the Task until the budget (epochs, max_updates) is spent or
        the run diverges (see .diverged)."""
        if self.task is None:
            raise ValueError("run: this trainer has no Task (feed it with step(x, y))")
        st = lib.dale_trainer_run(self.ptr)
        self._rethrow()
        check(st)

    def evaluate(self, split: str = "test", x: Optional[ArrayLike] = None, y: Optional[ArrayLike] = None,
                 weights: Optional[ArrayLike] = None) -> Tuple[float, float]:
        """(mean loss, error in percent) over a split of the Task, or over
        arrays (x, y[, weights]) you give; the weights are not changed."""
        loss, err = c_double(), c_double()
        if x is not None:
            t = Task.arrays(x, y, weights, outputs=self._outputs if np.asarray(y).dtype.kind in "iu" else None)
            n = t.counts[0]
            h, _ = _make_trainer(self._net_h, t, dict(self._given, batch=min(n, 1000), eval_batch=1000, epochs=1,
                                                      max_updates=-1, eval_every=1, checkpoint_every=1), None)
            check(lib.dale_trainer_evaluate(h.ptr, 0, byref(loss), byref(err)))
            return loss.value, err.value
        check(lib.dale_trainer_evaluate(self.ptr, _split(split), byref(loss), byref(err)))
        return loss.value, err.value

    def eval(self) -> Dict[str, float]:
        """A full evaluation as the scheduled ones (train means, val, test)."""
        m = _lib.Metrics()
        st = lib.dale_trainer_eval(self.ptr, 0, byref(m))
        check(st)
        return _metrics(m)

    # --- checkpoints
    def save(self, path: str) -> None:
        """Write a checkpoint (parameters, effective matrices, trainer state)."""
        check(lib.dale_trainer_checkpoint_save(self.ptr, str(path).encode()))

    def load(self, path: str) -> None:
        """Restore a checkpoint written by save() (or a run's checkpoint.npz)
        into this trainer and its network."""
        check(lib.dale_trainer_checkpoint_load(self.ptr, str(path).encode()))

    # --- accessors
    updates = property(lambda self: int(lib.dale_trainer_updates(self.ptr)), doc="updates made")
    epoch = property(lambda self: int(lib.dale_trainer_epoch(self.ptr)), doc="completed epochs")
    lr = property(lambda self: float(lib.dale_trainer_lr(self.ptr)), doc="the next update's learning rate")
    total_updates = property(lambda self: int(lib.dale_trainer_total_updates(self.ptr)))

    @property
    def diverged(self) -> Optional[str]:
        """None, or why training stopped diverging."""
        r = lib.dale_trainer_diverged(self.ptr)
        return r.decode() if r else None

    @property
    def train_means(self) -> Tuple[float, float]:
        """Means of the last (up to) 10 minibatch losses and errors."""
        a, b = c_double(), c_double()
        lib.dale_trainer_train_means(self.ptr, byref(a), byref(b))
        return a.value, b.value

    def __repr__(self):
        if self._h is None:
            return "<dale.Trainer (no C trainer yet or closed)>"
        return f"<dale.Trainer {self.updates} updates, lr {self.lr:g}>"


def _make_trainer(net_h: Optional[_Handle], task: Task, given: Dict[str, Any], cb) -> Tuple[_Handle, Dict[str, Any]]:
    if net_h is None:
        raise ValueError("the Net of this Trainer was closed before the trainer was made")
    cfg = Config(given).resolve()
    p = c_void_p()
    check(lib.dale_trainer_create_config(net_h.ptr, task.ptr, cfg.ptr, byref(cb) if cb is not None else None,
                                         byref(p)))
    return _Handle(p.value, lib.dale_trainer_free, deps=(net_h, task._h, cb)), cfg.to_dict()


def _metrics(m) -> Dict[str, float]:
    return {k: getattr(m, k) for k, _ in _lib.Metrics._fields_}


# -------------------------------------------------------------- spectra


@dataclass
class Spectrum:
    """Spectral summary of a square matrix (dale/spectral.h): singular
    values (descending), eigenvalues (complex, by descending modulus as
    LAPACK returns them sorted), NSE (normalised SVD entropy), sigma_max,
    rho (spectral radius), Frobenius norm and row-sum statistics."""
    svals: np.ndarray
    eig: np.ndarray
    nse: float
    sigma_max: float
    rho: float
    frob: float
    rowsum_mean: float
    rowsum_sd: float


def spectrum(W: ArrayLike) -> Spectrum:
    """Singular values, eigenvalues, NSE, sigma_max and rho of any square
    real matrix (converted to float64; NaN/Inf refused)."""
    A = as_f64("W", W, 2)
    n = A.shape[0]
    if A.shape != (n, n) or n == 0:
        raise ValueError(f"W: expected a non-empty square matrix, got shape {A.shape}")
    s = np.empty(n)
    re = np.empty(n)
    im = np.empty(n)
    sm = _lib.SpectrumSummary()
    check(lib.dale_spectrum_summarize(A, n, byref(sm), s, re, im))
    return Spectrum(s, re + 1j * im, sm.nse, sm.sigma_max, sm.rho, sm.frob, sm.rowsum_mean, sm.rowsum_sd)


def nse(svals: ArrayLike) -> float:
    """Normalised SVD entropy of singular values (1: all equal)."""
    s = as_f64("svals", svals, 1)
    if s.size == 0:
        raise ValueError("svals: empty")
    return float(lib.dale_nse(s, s.size))


def transplant(vectors: ArrayLike, values: ArrayLike) -> np.ndarray:
    """Spectrum transplant (paper Sec. 2.3.1): U_A diag(sigma_B) V_A^T, the
    singular vectors of `vectors` with the singular values of `values`
    (both (m, n))."""
    A = as_f64("vectors", vectors, 2)
    B = as_f64("values", values, 2)
    if A.shape != B.shape:
        raise ValueError(f"vectors and values must have one shape, got {A.shape} and {B.shape}")
    out = np.empty_like(A)
    check(lib.dale_transplant(A, B, A.shape[0], A.shape[1], out))
    return out


def diagnose(W: ArrayLike) -> Dict[str, Any]:
    """The summary and verdict of `dale diagnose` for one square matrix:
    NSE against a standard RNN of the same size (mean of its draws 0-2 for
    n <= 1000, else the quarter-circle estimate), sigma_max against rho,
    and whether the columns obey Dale's law."""
    A = as_f64("W", W, 2)
    s = spectrum(A)
    n = A.shape[0]
    if n <= 1000:
        ref = float(np.mean([spectrum(Net("rnn", 1, n, 1, seed=k).W_eff(0)).nse for k in range(3)]))
    else:
        ref = float(lib.dale_nse_rnn_reference(n))
    gap = ref - s.nse
    pos = (A >= 0).all(axis=0)
    neg = (A <= 0).all(axis=0)
    dale_law = bool((pos | neg).all() and pos.any() and neg.any() and not (pos & neg).all())
    verdict = []
    verdict.append("poor spectrum (NSE well below a standard RNN)" if gap > 0.10 else
                   "somewhat less flat than a standard RNN" if gap > 0.03 else "spectrum fine")
    if s.sigma_max > 3 * s.rho:
        verdict.append("strongly non-normal: clip gradients")
    if dale_law:
        verdict.append("obeys Dale's law")
    return {"n": n, "nse": s.nse, "nse_rnn": ref, "sigma_max": s.sigma_max, "rho": s.rho, "frob": s.frob,
            "rowsum_mean": s.rowsum_mean, "rowsum_sd": s.rowsum_sd, "dale_law": dale_law,
            "verdict": "; ".join(verdict)}
