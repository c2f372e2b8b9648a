"""Shared set-up of the Python tests: the checkout, the build dir, the CLI."""
import os
import pathlib
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
BUILD = pathlib.Path(os.environ.get("DALE_BUILD", ROOT / "build"))
DALE = str(BUILD / "dale")


def cli(*args, check=True):
    """Run the dale CLI with an argument list; return the CompletedProcess."""
    p = subprocess.run([DALE, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"dale {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


def tmpdir(case):
    d = tempfile.TemporaryDirectory(prefix="dale-py-")
    case.addCleanup(d.cleanup)
    return pathlib.Path(d.name)
