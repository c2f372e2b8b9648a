"""Tasks as arrays, run directories, sweeps."""
import gzip
import struct
import unittest

import numpy as np

import dale
from common import cli, tmpdir


def write_idx(path, arr):
    arr = np.asarray(arr, np.uint8)
    code = {1: 0x0801, 3: 0x0803}[arr.ndim]
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", code) + b"".join(struct.pack(">I", d) for d in arr.shape) + arr.tobytes())


class DataTest(unittest.TestCase):
    def test_seqmnist_from_idx_files(self):
        d = tmpdir(self)
        (d / "mnist").mkdir()
        rng = np.random.default_rng(0)
        tr_img = rng.integers(0, 256, (20, 28, 28))
        tr_lab = rng.integers(0, 10, 20)
        te_img = rng.integers(0, 256, (7, 28, 28))
        te_lab = rng.integers(0, 10, 7)
        write_idx(d / "mnist" / "train-images-idx3-ubyte.gz", tr_img)
        write_idx(d / "mnist" / "train-labels-idx1-ubyte.gz", tr_lab)
        write_idx(d / "mnist" / "t10k-images-idx3-ubyte.gz", te_img)
        write_idx(d / "mnist" / "t10k-labels-idx1-ubyte.gz", te_lab)
        x, y = dale.data.seqmnist("train", data=str(d))
        self.assertEqual(x.shape, (20, 28, 28))
        self.assertEqual(x.dtype, np.float32)
        np.testing.assert_array_equal(y, tr_lab)
        np.testing.assert_allclose(x, (tr_img / np.float32(255)).astype(np.float32), rtol=0, atol=0)
        xt, yt = dale.data.seqmnist("test", data=str(d), variant="pixel")
        self.assertEqual(xt.shape, (7, 784, 1))
        np.testing.assert_array_equal(yt, te_lab)
        with self.assertRaises(ValueError):
            dale.data.seqmnist("val", data=str(d))
        with self.assertRaises(dale.DaleError) as cm:
            dale.data.seqmnist("train", data=str(d / "nowhere"))
        self.assertIn("nowhere", str(cm.exception))

    def test_adding_arrays_and_task(self):
        x, y = dale.data.adding("test", adding_n=300, adding_test=50, adding_len=20)
        self.assertEqual(x.shape, (50, 20, 2))
        np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(1), rtol=1e-5)
        t = dale.Task.arrays(x, y)
        self.assertEqual((t.T, t.inputs, t.outputs, t.loss, t.counts), (20, 2, 1, "mse_last", (50, 0, 0)))
        with self.assertRaisesRegex(ValueError, "n_val"):
            dale.Task.arrays(x, y, n_val=40, n_test=40)
        with self.assertRaises(ValueError):
            dale.Task.arrays(x, y[:3])


class RunsTest(unittest.TestCase):
    def test_load_run(self):
        d = tmpdir(self)
        cli("train", "--task", "adding", "--adding-n", 300, "--adding-test", 100, "--hidden", 8, "--max-updates", 8,
            "--eval-every", 4, "--out", d / "r", "--quiet")
        r = dale.load_run(d / "r")
        self.assertEqual(r.config["task"], "adding")
        np.testing.assert_array_equal(r.metrics["update"], [0, 4, 8])
        self.assertEqual(r.metrics["test_loss"].dtype, np.float64)
        self.assertEqual(r.params["cell0.W"].shape, (8, 8))
        self.assertEqual(r.status, "ok")

    def test_sweep(self):
        d = tmpdir(self)
        spec = d / "s.json"
        spec.write_text('{"name": "py", "base": {"task": "adding", "adding_n": 200, "adding_test": 50, '
                        '"hidden": 6, "max_updates": 6, "eval_every": 3}, '
                        '"runs": [{"label": "RNN", "model": "rnn"}, {"label": "ColEI", "model": "colei"}], '
                        '"axes": {"seed": [0, 1]}}')
        sw = dale.sweep(spec, d / "out", jobs=2)
        self.assertEqual(len(sw.runs), 4)
        self.assertEqual({r["label"] for r in sw.runs}, {"RNN", "ColEI"})
        self.assertTrue(all(r["status"] == "ok" for r in sw.runs))
        rid = sw.runs[0]["id"]
        c = sw.curves(rid)
        np.testing.assert_array_equal(c["update"], [0, 3, 6])
        self.assertEqual(sw.column("test_loss").shape, (4,))
        self.assertEqual(sw.run(rid).config["task"], "adding")
        again = dale.load_sweep(d / "out")
        self.assertEqual([r["id"] for r in again.runs], [r["id"] for r in sw.runs])
        with self.assertRaises(dale.DaleError):
            dale.sweep(d / "missing.json", d / "o2")
        with self.assertRaises(FileNotFoundError):
            dale.load_sweep(d / "none")

    def test_batches(self):
        x = np.arange(10)[:, None]
        y = np.arange(10)
        got = list(dale.batches(x, y, 4, seed=1))
        self.assertEqual([len(b[1]) for b in got], [4, 4, 2])
        self.assertEqual(sorted(np.concatenate([b[1] for b in got])), list(range(10)))
        self.assertEqual([len(b[1]) for b in dale.batches(x, y, 4, drop_last=True)], [4, 4])
        with self.assertRaises(ValueError):
            list(dale.batches(x, y, 0))


if __name__ == "__main__":
    unittest.main()
