#!/usr/bin/python3
"""Write the small NumPy reference files that tests/test_npy.c reads.

Run from the repository root with the Debian interpreter:
    /usr/bin/python3 tools/ref/make_npy_ref.py
Files go to tests/ref/npy/ and are committed, so the C tests run without
Python.  The values are simple closed forms that the C test recomputes:
element i of a flat array is a small function of i, written next to each file.
"""
import io
import os
import zipfile

import numpy as np
from numpy.lib import format as npf

OUT = os.path.join("tests", "ref", "npy")
os.makedirs(OUT, exist_ok=True)


def path(name):
    return os.path.join(OUT, name)


# float32 (2, 3): x[i] = i * 0.5 - 1  (flat index i)
f32 = (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3)
np.save(path("f32_2x3.npy"), f32)

# int64 (5,): x[i] = (i - 2) * 10^12  (exercises the high bytes)
i64 = (np.arange(5, dtype=np.int64) - 2) * 10**12
np.save(path("i64_5.npy"), i64)

# float64 0-d: pi
np.save(path("f64_scalar.npy"), np.array(np.pi, dtype=np.float64))

# version 2.0 header (4-byte header length), int32 (3, 2): x[i] = 7 * i - 3
i32 = (np.arange(6, dtype=np.int32) * 7 - 3).reshape(3, 2)
with open(path("v2_i32_3x2.npy"), "wb") as f:
    npf.write_array(f, i32, version=(2, 0))

# Fortran order (must be refused): float64 (2, 3)
np.save(path("fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)))

# Big-endian (must be refused): '>f4' (4,)
np.save(path("bigendian.npy"), np.arange(4, dtype=">f4"))

# np.savez (stored members): a = f32 above, b = uint8 (4,) x[i] = 250 + i,
# c = float64 0-d e
np.savez(path("stored.npz"), a=f32, b=np.arange(250, 254, dtype=np.uint8),
         c=np.array(np.e))

# np.savez_compressed (deflated): big = float64 (100,) x[i] = sin(i) (compresses
# poorly, but is deflated anyway), zeros = int32 (10, 10) of 0, u64 = uint64
# (3,) x[i] = 2^63 + i
np.savez_compressed(path("deflated.npz"), big=np.sin(np.arange(100, dtype=np.float64)),
                    zeros=np.zeros((10, 10), dtype=np.int32),
                    u64=np.array([2**63, 2**63 + 1, 2**63 + 2], dtype=np.uint64))

# Check that the compressed archive really is deflated.
with zipfile.ZipFile(path("deflated.npz")) as z:
    assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
with zipfile.ZipFile(path("stored.npz")) as z:
    assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())

for name in sorted(os.listdir(OUT)):
    print(name, os.path.getsize(path(name)))
