"""Networks: parameters as zero-copy views, effective matrices, forward
pass and hidden states, input checks, lifetime."""
import gc
import unittest

import numpy as np

import dale


def relu(a):
    return np.maximum(a, 0)


class NetTest(unittest.TestCase):
    def test_params_are_views_of_theta(self):
        net = dale.Net(model="colei", inputs=28, hidden=50, outputs=10, inhib=0.1, seed=0)
        th = net.theta
        for k, v in net.params.items():
            self.assertTrue(np.shares_memory(v, th), k)
        W0 = net.W_eff(0)
        net.params["cell0.W_pos"] *= 0.5
        np.testing.assert_allclose(net.W_eff(0), W0 * 0.5, rtol=1e-6, atol=0)
        self.assertEqual(th.__array_interface__["data"][0], net.theta.__array_interface__["data"][0])
        net.params["cell0.b"] = np.arange(50)
        self.assertEqual(float(th[net.params["cell0.b"].__array_interface__["data"][0] // 4 -
                                  th.__array_interface__["data"][0] // 4 + 7]), 7.0)
        with self.assertRaises(ValueError):
            net.params["cell0.b"] = np.ones(3)
        with self.assertRaises(ValueError):
            net.params["cell0.b"] = np.full(50, np.nan)
        with self.assertRaises(KeyError):
            net.params["cell9.W"] = np.ones(3)

    def test_param_names_per_model(self):
        names = {"rnn": {"cell0.U", "cell0.W", "cell0.b", "out.W", "out.b"},
                 "colei": {"cell0.U_pos", "cell0.W_pos", "cell0.b", "out.W_pos", "out.b"}}
        for m, want in names.items():
            self.assertEqual(set(dale.Net(model=m, inputs=3, hidden=8, outputs=2).params), want)
        self.assertIn("cell0.W_EI", dale.Net(model="dann", inputs=3, hidden=20, outputs=2).params)

    def test_colei_obeys_dale(self):
        net = dale.Net(model="colei", inputs=5, hidden=40, outputs=2, inhib=0.25, seed=1)
        W = net.W_eff(0)
        ne, ni = net.ei_units(0)
        self.assertEqual((ne, ni), (30, 10))
        self.assertTrue((W[:, :ne] >= 0).all() and (W[:, ne:] <= 0).all())

    def test_forward_matches_numpy_recurrence(self):
        net = dale.Net(model="rnn", inputs=3, hidden=7, outputs=2, seed=4)
        x = np.random.default_rng(0).standard_normal((5, 6, 3))
        out, h = net.forward(x, all_steps=True)
        U, W, b = net.U_eff(0).astype(np.float64), net.W_eff(0).astype(np.float64), net.params["cell0.b"]
        R, c = net.params["out.W"], net.params["out.b"]
        hh = np.zeros((5, 7))
        for t in range(6):
            hh = relu(x[:, t] @ U.T + hh @ W.T + b)
            np.testing.assert_allclose(h[:, t], hh, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(out[:, t], hh @ R.T + c, rtol=1e-4, atol=1e-5)
        last, _ = net.forward(x)
        np.testing.assert_allclose(last, out[:, -1], rtol=1e-6)

    def test_two_layers_hidden_shape(self):
        net = dale.Net(model="dann", inputs=3, hidden=20, outputs=2, layers=2)
        out, h = net.forward(np.ones((4, 5, 3)))
        self.assertEqual(out.shape, (4, 2))
        self.assertEqual(h.shape, (2, 4, 5, 20))

    def test_seed_reproducible(self):
        a = dale.Net(model="dann", inputs=3, hidden=20, outputs=2, seed=9)
        b = dale.Net(model="dann", inputs=3, hidden=20, outputs=2, seed=9)
        c = dale.Net(model="dann", inputs=3, hidden=20, outputs=2, seed=10)
        self.assertTrue(np.array_equal(a.theta, b.theta))
        self.assertFalse(np.array_equal(a.theta, c.theta))

    def test_input_checks(self):
        net = dale.Net(model="rnn", inputs=3, hidden=4, outputs=2)
        with self.assertRaises(TypeError):
            net.forward(np.ones((2, 3, 3), complex))
        with self.assertRaises(TypeError):
            net.forward([["a"]])
        with self.assertRaises(ValueError):
            net.forward(np.ones((2, 3)))
        with self.assertRaisesRegex(ValueError, "takes 3 inputs"):
            net.forward(np.ones((2, 3, 4)))
        bad = np.ones((2, 3, 3))
        bad[1, 2, 0] = np.nan
        with self.assertRaisesRegex(ValueError, r"index \(1, 2, 0\) is not finite"):
            net.forward(bad)
        with self.assertRaises(ValueError):
            net.forward(np.full((2, 3, 3), np.inf))
        with self.assertRaises(ValueError):  # overflows float32
            net.forward(np.full((2, 3, 3), 1e300))
        with self.assertRaises(ValueError):
            net.W_eff(5)
        with self.assertRaises(TypeError):
            dale.Net(model="rnn", inputs=2.5, hidden=4, outputs=1)
        with self.assertRaises(ValueError):
            dale.Net(model="rnn", inputs=0, hidden=4, outputs=1)
        # layouts converted: Fortran order, float64, integers
        xf = np.asfortranarray(np.arange(18, dtype=np.float64).reshape(2, 3, 3) / 18)
        np.testing.assert_array_equal(net.forward(xf)[0], net.forward(np.ascontiguousarray(xf))[0])
        net.forward(np.ones((2, 3, 3), np.int64))
        net.forward(np.ones((2, 3, 6))[:, :, ::2])  # strided view

    def test_views_outlive_the_net(self):
        net = dale.Net(model="rnn", inputs=3, hidden=30, outputs=2, seed=2)
        W = net.params["cell0.W"]
        copy = W.copy()
        net.close()
        with self.assertRaisesRegex(ValueError, "closed"):
            net.W_eff(0)
        del net
        gc.collect()
        junk = [np.ones(1000) for _ in range(100)]  # reuse freed memory if any
        self.assertTrue(np.array_equal(W, copy))
        W[0, 0] = 1.0  # still writable, still owned
        del junk

    def test_context_manager(self):
        with dale.Net(model="rnn", inputs=3, hidden=4, outputs=2) as net:
            th = net.theta
        self.assertEqual(th.shape[0], 4 * 3 + 16 + 4 + 8 + 2)
        self.assertIn("closed", repr(net))

    def test_help_says_what_a_user_needs(self):
        doc = dale.Net.__doc__
        for word in ("model", "inputs", "hidden", "inhib", "seed", "params", "W_eff", "forward"):
            self.assertIn(word, doc)


if __name__ == "__main__":
    unittest.main()
