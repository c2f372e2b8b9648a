"""Loading libdale and declaring every C function the package calls.

The library is looked for, in order:

1. the file named by the environment variable ``DALE_LIBRARY``;
2. ``libdale.so`` in this package's folder (an installed copy: ``make python``
   puts one there);
3. the build tree of the source checkout this package sits in
   (``<checkout>/build/libdale.so``), so ``PYTHONPATH=python`` works after
   ``make``.

Every function has its ``argtypes`` and ``restype`` declared, so ctypes checks
argument types before C runs.
"""
from __future__ import annotations

import ctypes
import os
import pathlib
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int, c_int32, c_long,
                    c_size_t, c_uint, c_uint64, c_void_p)

import numpy as np

#: The library version this package was written for (include/dale/version.h).
EXPECTED_VERSION = "0.15.0"

_HERE = pathlib.Path(__file__).resolve().parent


class DaleError(RuntimeError):
    """A failure reported by libdale.

    ``code`` is the library's status code (``dale_status``), ``status`` its
    fixed text ("bad argument", ...) and ``message`` the detailed message of
    ``dale_last_error()`` (which file, which option, what was expected).
    """

    def __init__(self, code: int, status: str, message: str):
        self.code = code
        self.status = status
        self.message = message
        super().__init__(message or status)


def _candidates():
    env = os.environ.get("DALE_LIBRARY")
    if env:
        return [("DALE_LIBRARY", pathlib.Path(env))]
    return [("the package folder", _HERE / "libdale.so"),
            ("the build tree", _HERE.parent.parent / "build" / "libdale.so")]


def _load():
    tried = []
    for where, path in _candidates():
        if not path.is_file():
            tried.append(f"{path} ({where}: no such file)")
            continue
        try:
            return ctypes.CDLL(str(path)), path
        except OSError as e:
            tried.append(f"{path} ({where}: {e})")
    raise ImportError(
        "dale: cannot find libdale.so; looked for:\n  " + "\n  ".join(tried) +
        "\nBuild it with `make` in the dale checkout (then PYTHONPATH=python finds build/libdale.so), "
        "copy it into the package with `make python`, or set DALE_LIBRARY=/path/to/libdale.so")


lib, LIBRARY_PATH = _load()

# ------------------------------------------------------------------ structs


class Param(Structure):
    _fields_ = [("name", c_char * 32), ("rows", c_size_t), ("cols", c_size_t), ("offset", c_size_t),
                ("layer", c_size_t), ("flags", c_uint), ("grad_scale", c_float), ("inhib_cols", c_size_t)]


class NetConfigHead(Structure):
    """The leading members of dale_net_config (read through a pointer only)."""
    _fields_ = [("type", c_int), ("input", c_size_t), ("layers", c_size_t), ("hidden", c_size_t),
                ("output", c_size_t), ("ndense", c_size_t), ("dense", c_size_t * 8)]


class SpectrumSummary(Structure):
    _fields_ = [("n", c_size_t), ("nse", c_double), ("sigma_max", c_double), ("rho", c_double),
                ("frob", c_double), ("rowsum_mean", c_double), ("rowsum_sd", c_double)]


class StepInfo(Structure):
    _fields_ = [("loss", c_double), ("err", c_double), ("grad_norm", c_double), ("diverged", c_int),
                ("done", c_int)]


class Metrics(Structure):
    _fields_ = [("updates", c_long), ("epoch", c_long), ("lr", c_double), ("train_loss", c_double),
                ("train_err", c_double), ("val_loss", c_double), ("val_err", c_double),
                ("test_loss", c_double), ("test_err", c_double)]


ON_EVAL = CFUNCTYPE(c_int, c_void_p, POINTER(Metrics), c_void_p)
ON_CHECKPOINT = CFUNCTYPE(c_int, c_void_p, c_void_p)
ON_PROGRESS = CFUNCTYPE(None, c_void_p, c_void_p)


class Callbacks(Structure):
    _fields_ = [("on_eval", ON_EVAL), ("on_checkpoint", ON_CHECKPOINT), ("on_progress", ON_PROGRESS),
                ("user", c_void_p)]


class ArraysTaskConfig(Structure):
    _fields_ = [("name", c_char_p), ("N", c_size_t), ("T", c_size_t), ("input", c_size_t), ("output", c_size_t),
                ("loss", c_int), ("x", c_void_p), ("yf", c_void_p), ("yi", c_void_p), ("w", c_void_p),
                ("n_train", c_size_t), ("n_val", c_size_t), ("n_test", c_size_t)]


TASK_BATCH = CFUNCTYPE(c_int, c_void_p, c_int, POINTER(c_size_t), c_size_t, c_void_p, c_void_p, c_void_p)


class TaskHead(Structure):
    """The leading members of struct dale_task (public in dale/task.h)."""
    _fields_ = [("name", c_char_p), ("T", c_size_t), ("input", c_size_t), ("output", c_size_t), ("loss", c_int),
                ("count", c_size_t * 3), ("input_mean", c_double), ("batch", TASK_BATCH), ("destroy", c_void_p),
                ("impl", c_void_p), ("sample_rows", c_size_t * 3), ("steps", c_void_p), ("summary", c_char_p),
                ("weights", c_void_p)]


class TrainOptions(Structure):
    _fields_ = [("resume", c_int), ("log", c_void_p), ("tty", c_int), ("force", c_int), ("stop", c_void_p)]


# ---------------------------------------------------------------- functions

def _f32(ndim):
    return np.ctypeslib.ndpointer(dtype=np.float32, ndim=ndim, flags="C_CONTIGUOUS")


def _f64(ndim):
    return np.ctypeslib.ndpointer(dtype=np.float64, ndim=ndim, flags="C_CONTIGUOUS")


_P = c_void_p  # opaque handles: dale_net*, dale_trainer*, dale_task*, dale_run_config*
_SIGS = {
    "dale_version": (c_char_p, []),
    "dale_git_commit": (c_char_p, []),
    "dale_status_str": (c_char_p, [c_int]),
    "dale_last_error": (c_char_p, []),
    "dale_clear_error": (None, []),
    "dale_set_threads": (None, [c_int]),
    "dale_set_blas_threads": (None, [c_int]),
    "dalei_alloc_live": (c_long, []),
    # run configs
    "dale_config_create": (c_int, [POINTER(_P)]),
    "dale_config_free": (None, [_P]),
    "dale_config_set": (c_int, [_P, c_char_p, c_char_p]),
    "dale_config_has": (c_int, [c_char_p]),
    "dale_config_nearest": (c_char_p, [c_char_p, c_char_p, c_size_t]),
    "dale_config_get": (c_char_p, [_P, c_char_p, c_char_p, c_size_t]),
    "dale_config_resolve": (c_int, [_P]),
    "dale_config_check_memory": (c_int, [_P]),
    "dale_config_to_json": (c_int, [_P, POINTER(c_void_p)]),
    "dale_config_free_text": (None, [c_void_p]),
    "dale_config_load_json": (c_int, [_P, c_char_p]),
    # networks
    "dale_net_create_widths": (c_int, [_P, c_size_t, c_size_t, c_double, POINTER(_P)]),
    "dale_net_init_seed": (c_int, [_P, c_uint64]),
    "dale_net_free": (None, [_P]),
    "dale_net_config_of": (POINTER(NetConfigHead), [_P]),
    "dale_net_nparams": (c_size_t, [_P]),
    "dale_net_param": (POINTER(Param), [_P, c_size_t]),
    "dale_net_size": (c_size_t, [_P]),
    "dale_net_theta": (c_void_p, [_P]),
    "dale_net_grad": (c_void_p, [_P]),
    "dale_net_ncells": (c_size_t, [_P]),
    "dale_net_nlayers": (c_size_t, [_P]),
    "dale_net_effective": (c_int, [_P, c_size_t, _f32(2), c_void_p]),
    "dale_net_plan": (c_int, [_P, c_size_t, c_size_t]),
    "dale_net_forward": (c_int, [_P, _f32(3), c_size_t, c_size_t, c_int, POINTER(c_void_p)]),
    "dale_net_hidden": (c_int, [_P, c_size_t, POINTER(c_void_p), POINTER(c_size_t), POINTER(c_size_t)]),
    "dale_net_ei_units": (None, [_P, c_size_t, POINTER(c_size_t), POINTER(c_size_t)]),
    "dale_model_name": (c_char_p, [c_int]),
    # tasks
    "dale_task_from_config": (c_int, [_P, POINTER(_P)]),
    "dale_task_arrays_create": (c_int, [POINTER(ArraysTaskConfig), POINTER(_P)]),
    "dale_task_free": (None, [_P]),
    "dale_loss_name": (c_char_p, [c_int]),
    # trainer
    "dale_trainer_create_config": (c_int, [_P, _P, _P, POINTER(Callbacks), POINTER(_P)]),
    "dale_trainer_free": (None, [_P]),
    "dale_trainer_step": (c_int, [_P, POINTER(StepInfo)]),
    "dale_trainer_run": (c_int, [_P]),
    "dale_trainer_evaluate": (c_int, [_P, c_int, POINTER(c_double), POINTER(c_double)]),
    "dale_trainer_eval": (c_int, [_P, c_int, POINTER(Metrics)]),
    "dale_trainer_updates": (c_long, [_P]),
    "dale_trainer_epoch": (c_long, [_P]),
    "dale_trainer_total_updates": (c_long, [_P]),
    "dale_trainer_lr": (c_double, [_P]),
    "dale_trainer_diverged": (c_char_p, [_P]),
    "dale_trainer_train_means": (None, [_P, POINTER(c_double), POINTER(c_double)]),
    "dale_trainer_checkpoint_save": (c_int, [_P, c_char_p]),
    "dale_trainer_checkpoint_load": (c_int, [_P, c_char_p]),
    # runs
    "dale_train_run": (c_int, [_P, POINTER(TrainOptions)]),
    # spectra
    "dale_spectrum_summarize": (c_int, [_f64(2), c_size_t, POINTER(SpectrumSummary), _f64(1), _f64(1), _f64(1)]),
    "dale_nse": (c_double, [_f64(1), c_size_t]),
    "dale_nse_rnn_reference": (c_double, [c_size_t]),
    "dale_transplant": (c_int, [_f64(2), _f64(2), c_size_t, c_size_t, _f64(2)]),
}

# the version first, so a foreign library is named as such
for _name in ("dale_version", "dale_git_commit"):
    try:
        _fn = getattr(lib, _name)
    except AttributeError:
        raise ImportError(f"dale: {LIBRARY_PATH} is not libdale (it has no {_name}); "
                          "set DALE_LIBRARY to dale's build/libdale.so") from None
    _fn.restype, _fn.argtypes = c_char_p, []
VERSION = lib.dale_version().decode()
COMMIT = lib.dale_git_commit().decode()
if VERSION != EXPECTED_VERSION:
    raise ImportError(
        f"dale: {LIBRARY_PATH} is libdale {VERSION}, this package is written for {EXPECTED_VERSION}; "
        "rebuild the library from the same checkout (make), reinstall the package (make python), "
        "or point DALE_LIBRARY at a libdale.so of version " + EXPECTED_VERSION)

for _name, (_res, _args) in _SIGS.items():
    try:
        _fn = getattr(lib, _name)
    except AttributeError:
        raise ImportError(f"dale: {LIBRARY_PATH} (libdale {VERSION}) lacks {_name}: it was built from "
                          "another checkout; rebuild it (make) or reinstall the package") from None
    _fn.restype = _res
    _fn.argtypes = _args


def check(status: int) -> None:
    """Raise DaleError carrying the library's last error message when status != 0."""
    if status:
        msg = lib.dale_last_error().decode(errors="replace")
        raise DaleError(status, lib.dale_status_str(status).decode(), msg)


def stderr_file() -> c_void_p:
    """The C library's stderr FILE*, for progress lines of a run."""
    libc = ctypes.CDLL(None)
    return c_void_p.in_dll(libc, "stderr")
