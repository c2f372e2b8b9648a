"""dale: E/I recurrent networks obeying Dale's law (standard RNN, ColEI,
DANN) from Python, over the C library libdale through ctypes.

    import numpy as np, dale
    net = dale.Net(model="colei", inputs=28, hidden=100, outputs=10, inhib=0.1, seed=0)
    s = dale.spectrum(net.W_eff(0))          # svals, eig, nse, sigma_max, rho
    tr = dale.Trainer(net, lr=0.01, clip=10, seed=0)
    x, y = dale.data.seqmnist("train")
    for xb, yb in dale.batches(x, y, 32, seed=0): tr.step(xb, yb)
    run = dale.train(task="seqmnist", model="dann", out="runs/d", epochs=1)

Objects: Net, Trainer, Task, Config; functions: spectrum, nse, transplant,
diagnose, batches, load_run, load_sweep, train, sweep; module data.
Errors from the library raise DaleError with its message.  The library is
found through $DALE_LIBRARY, then this package's folder, then the build
tree of the checkout (see dale._lib).  docs/python.md walks through it.
"""
from . import _lib
from ._core import Config, Net, Spectrum, Step, Task, Trainer, diagnose, nse, spectrum, transplant
from ._lib import DaleError
from .runs import Run, Sweep, batches, load_run, load_sweep, sweep, train
from . import data

#: The library's version (dale_version()); equal to the package's.
__version__: str = _lib.VERSION
#: The commit libdale was built from.
__commit__: str = _lib.COMMIT
#: Where libdale was loaded from.
library_path: str = str(_lib.LIBRARY_PATH)


def alloc_live() -> int:
    """Live allocations inside libdale (this thread): a leak check."""
    return int(_lib.lib.dalei_alloc_live())


def set_threads(n: int) -> None:
    """Threads of libdale's products (and OpenBLAS), as --threads."""
    _lib.lib.dale_set_threads(int(n))


__all__ = ["Config", "DaleError", "Net", "Run", "Spectrum", "Step", "Sweep", "Task", "Trainer", "alloc_live",
           "batches", "data", "diagnose", "load_run", "load_sweep", "nse", "set_threads", "spectrum", "sweep",
           "train", "transplant", "__version__"]
