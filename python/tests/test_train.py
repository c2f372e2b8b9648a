"""Training from Python: the same results as the CLI, arrays fed step by
step, checkpoints, callbacks, freeing in any order, no leaks."""
import gc
import tracemalloc
import unittest

import numpy as np

import dale
from common import cli, tmpdir

OPTS = dict(task="adding", hidden=20, max_updates=30, adding_n=400, adding_test=100)


def toy(n=64, T=6, seed=0):
    """Sign of the sum of the first input column: 2 classes."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, T, 3)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int64)
    return x, y


class SameAsCli(unittest.TestCase):
    def check_model(self, model, seed):
        d = tmpdir(self)
        args = [f"--{k.replace('_', '-')}={v}" for k, v in OPTS.items()]
        cli("train", *args, "--model", model, "--seed", seed, "--out", d / "cli", "--quiet")
        ref = dale.load_run(d / "cli")
        self.assertEqual(ref.status, "ok")
        # 1: Net + Trainer over the task, in memory
        t = dale.Task.from_config("adding", adding_n=400, adding_test=100)
        net = dale.Net(model=model, inputs=t.inputs, outputs=t.outputs, task="adding", hidden=20, seed=seed)
        tr = dale.Trainer(net, task=t, seed=seed, max_updates=30)
        tr.run()
        self.assertEqual(tr.updates, 30)
        for k, v in net.params.items():
            self.assertTrue(np.array_equal(v, ref.params[k]), f"{model}: {k} differs from the CLI's final.npz")
        # 2: dale.train through the library's run API
        run = dale.train(out=d / "py", model=model, seed=seed, **OPTS)
        self.assertEqual(set(run.params), set(ref.params))
        for k in ref.params:
            self.assertTrue(np.array_equal(run.params[k], ref.params[k]), k)
        for k in ref.metrics:
            np.testing.assert_array_equal(run.metrics[k], ref.metrics[k])
        cfg = dict(run.config)
        self.assertEqual({k: v for k, v in cfg.items() if k not in ("out", "dale_commit")},
                         {k: v for k, v in ref.config.items() if k not in ("out", "dale_commit")})

    def test_rnn(self):
        self.check_model("rnn", 1)

    def test_colei(self):
        self.check_model("colei", 2)

    def test_dann(self):
        self.check_model("dann", 3)

    def test_train_errors(self):
        with self.assertRaisesRegex(dale.DaleError, "lr"):
            dale.train(out=tmpdir(self) / "x", task="adding", lr=-0.5)
        d = tmpdir(self)
        dale.train(out=d / "r", **OPTS)
        with self.assertRaises(dale.DaleError):  # refuses to overwrite a run
            dale.train(out=d / "r", **dict(OPTS, lr=0.05))
        dale.train(out=d / "r", force=True, **dict(OPTS, lr=0.05))
        self.assertTrue((d / "r.old-1").is_dir())
        with self.assertRaises(FileNotFoundError):
            dale.load_run(d / "nothing")


class ResumeTest(unittest.TestCase):
    def test_resume_continues_bit_for_bit(self):
        d = tmpdir(self)
        o = dict(OPTS, model="colei", eval_every=10)
        whole = dale.train(out=d / "whole", **dict(o, max_updates=20))
        dale.train(out=d / "part", **dict(o, max_updates=10))
        with self.assertRaises(ValueError):
            dale.train(out=d / "part", resume=True, lr=0.5)
        part = dale.train(out=d / "part", resume=True, max_updates=20)
        for k in whole.params:
            self.assertTrue(np.array_equal(part.params[k], whole.params[k]), k)
        np.testing.assert_array_equal(part.metrics["test_loss"], whole.metrics["test_loss"])


class FeedTest(unittest.TestCase):
    def test_learns_from_arrays(self):
        x, y = toy(256)
        net = dale.Net(model="dann", inputs=3, hidden=30, outputs=2, seed=0)
        tr = dale.Trainer(net, lr=0.05, seed=0)
        before = tr_eval = None
        for ep in range(8):
            for xb, yb in dale.batches(x, y, 32, seed=ep):
                s = tr.step(xb, yb)
                if before is None:
                    before = s.loss
        tr_eval = tr.evaluate(x=x, y=y)
        self.assertLess(tr_eval[0], before)
        self.assertEqual(tr.updates, 64)

    def test_weights(self):
        x, y = toy(32)
        yy = np.repeat(y[:, None], 6, 1)
        w = np.zeros((32, 6), np.float32)
        w[:, -1] = 1
        yy[:, :-1] = 7  # never read: weight 0
        net = dale.Net(model="rnn", inputs=3, hidden=10, outputs=2, seed=1)
        tr = dale.Trainer(net, lr=0.01, seed=0)
        s = tr.step(x, yy, weights=w)
        # weights 1 at the last step only = ce_last, to round-off
        net2 = dale.Net(model="rnn", inputs=3, hidden=10, outputs=2, seed=1)
        s2 = dale.Trainer(net2, lr=0.01, seed=0).step(x, y)
        self.assertAlmostEqual(s.loss, s2.loss, places=5)
        with self.assertRaises(ValueError):
            tr.step(x, yy)  # weights at the first step, so at every step
        with self.assertRaises(ValueError):
            tr.step(x, yy, weights=-w)

    def test_regression_targets(self):
        x, y = toy(32)
        target = x[:, :, 0].sum(1, keepdims=True)             # (B, 1): mse_last
        tr = dale.Trainer(dale.Net(model="rnn", inputs=3, hidden=10, outputs=1, seed=0), lr=0.01)
        a = [tr.step(x, target).loss for _ in range(20)]
        self.assertLess(a[-1], a[0])
        self.assertTrue(np.isnan(tr.step(x, target).err))
        every = np.cumsum(x[:, :, :1], axis=1)                 # (B, T, 1): mse at every step
        tr2 = dale.Trainer(dale.Net(model="rnn", inputs=3, hidden=10, outputs=1, seed=0), lr=0.01)
        b = [tr2.step(x, every).loss for _ in range(20)]
        self.assertLess(b[-1], b[0])
        tr2.step(x, every[:, :, 0])                            # (B, T) for m = 1: converted
        with self.assertRaisesRegex(ValueError, "expected targets of shape"):
            tr2.step(x, every[:, :3])

    def test_refusals(self):
        x, y = toy(32)
        net = dale.Net(model="rnn", inputs=3, hidden=10, outputs=2)
        tr = dale.Trainer(net, lr=0.01)
        with self.assertRaisesRegex(ValueError, "no step yet"):
            tr.updates
        with self.assertRaisesRegex(ValueError, "outside"):
            tr.step(x, y + 5)
        tr.step(x, y)
        with self.assertRaisesRegex(ValueError, "minibatches of shape"):
            tr.step(x[:10], y[:10])
        bad = x.copy()
        bad[3, 2, 1] = np.inf
        with self.assertRaisesRegex(ValueError, "not finite"):
            tr.step(bad, y)
        with self.assertRaises(TypeError):
            tr.step(x, y.astype(np.float32) + 0.5)
        with self.assertRaises(TypeError):
            dale.Trainer(net, lr=0.1, bogus=1)
        with self.assertRaises(dale.DaleError):
            dale.Trainer(net, lr=-0.1)
        with self.assertRaises(TypeError):
            dale.Trainer("net")
        with self.assertRaises(ValueError):
            tr.step()
        self.assertEqual(tr.updates, 1)

    def test_checkpoint_roundtrip(self):
        x, y = toy(32)
        net = dale.Net(model="colei", inputs=3, hidden=20, outputs=2, seed=5)
        tr = dale.Trainer(net, lr=0.01, clip=1, seed=0)
        tr.step(x, y)
        p = tmpdir(self) / "ck.npz"
        tr.save(p)
        saved = net.theta.copy()
        a = [tr.step(x, y).loss for _ in range(3)]
        after = net.theta.copy()
        tr.load(p)
        self.assertTrue(np.array_equal(net.theta, saved))
        self.assertEqual(tr.updates, 1)
        b = [tr.step(x, y).loss for _ in range(3)]
        self.assertEqual(a, b)
        self.assertTrue(np.array_equal(net.theta, after))
        with self.assertRaises(dale.DaleError):
            tr.load(tmpdir(self) / "missing.npz")

    def test_progress_callback(self):
        x, y = toy(32)
        seen = []
        tr = dale.Trainer(dale.Net(model="rnn", inputs=3, hidden=8, outputs=2), lr=0.01,
                          progress=lambda t: seen.append(t.updates))
        for _ in range(3):
            tr.step(x, y)
        self.assertEqual(seen, [1, 2, 3])

        def boom(t):
            raise KeyError("stop")
        tr2 = dale.Trainer(dale.Net(model="rnn", inputs=3, hidden=8, outputs=2), lr=0.01, progress=boom)
        with self.assertRaises(KeyError):
            tr2.step(x, y)

    def test_on_eval_with_task(self):
        t = dale.Task.from_config("adding", adding_n=300, adding_test=100)
        net = dale.Net(model="rnn", inputs=2, outputs=1, hidden=10)
        got = []
        tr = dale.Trainer(net, task=t, max_updates=9, eval_every=3, on_eval=got.append)
        tr.run()
        self.assertEqual([m["updates"] for m in got], [3, 6, 9])
        self.assertTrue(np.isfinite(got[-1]["test_loss"]))
        loss, err = tr.evaluate("test")
        self.assertAlmostEqual(loss, got[-1]["test_loss"], places=12)

    def test_free_in_any_order(self):
        x, y = toy(32)
        for order in range(4):
            net = dale.Net(model="dann", inputs=3, hidden=20, outputs=2, seed=order)
            tr = dale.Trainer(net, lr=0.01)
            tr.step(x, y)
            W = net.params["cell0.W_EE"]
            if order == 0:
                net.close(); del net; gc.collect()
                tr.step(x, y)  # the trainer keeps the network alive
                del tr
            elif order == 1:
                tr.close(); del tr; gc.collect()
                net.forward(x)
                del net
            elif order == 2:
                del net, tr
            else:
                del tr, net
            gc.collect()
            self.assertTrue(np.isfinite(W).all())  # a view survives both
            del W

    def test_no_leak_over_1000_steps(self):
        x, y = toy(16, T=5)
        gc.collect()
        live0 = dale.alloc_live()
        net = dale.Net(model="colei", inputs=3, hidden=16, outputs=2, seed=0)
        tr = dale.Trainer(net, lr=0.01, clip=5, seed=0)
        for _ in range(50):  # warm caches, buffers
            tr.step(x, y)
        live1 = dale.alloc_live()
        tracemalloc.start()
        snap0 = tracemalloc.take_snapshot()
        for _ in range(1000):
            tr.step(x, y)
        gc.collect()
        snap1 = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename") if s.size_diff > 0)
        self.assertLess(grown, 64 * 1024, f"Python memory grew by {grown} bytes over 1000 steps")
        self.assertEqual(dale.alloc_live(), live1, "libdale's live allocations grew while stepping")
        self.assertEqual(tr.updates, 1050)
        del tr, net
        gc.collect()
        self.assertEqual(dale.alloc_live(), live0, "libdale allocations outlive the net and trainer")


if __name__ == "__main__":
    unittest.main()
