"""The ColEI inits beyond the paper are run options, so the package takes
them by name (docs/beyond.md)."""
import unittest

import numpy as np

import dale


class ColeiInitTest(unittest.TestCase):
    def _w(self, **kw):
        with dale.Net(model="colei", inputs=2, hidden=40, outputs=1, inhib=0.1, **kw) as net:
            ne, ni = net.ei_units()
            return np.array(net.W_eff()), ne, ni

    def test_by_name_keeps_signs_and_changes_w(self):
        std, ne, ni = self._w()
        for init in ("balanced", "spectral"):
            w, _, _ = self._w(colei_init=init, colei_init_iters=10, colei_init_floor=0.1)
            self.assertTrue((w[:, :ne] >= 0).all() and (w[:, ne:] <= 0).all(), init)
            self.assertFalse(np.array_equal(w, std), init)
            self.assertAlmostEqual(float(np.abs(np.linalg.eigvals(w.astype(np.float64))).max()), 1.5, places=4)
        w, _, _ = self._w(colei_init="balanced")
        rows = np.abs(w[:, ne:]).sum(1) > 0
        np.testing.assert_allclose(w[rows].sum(1), 0, atol=1e-5)

    def test_bad_values(self):
        with self.assertRaises(dale.DaleError) as cm:
            dale.Net(model="colei", inputs=2, hidden=10, outputs=1, colei_init="spectrall")
        self.assertIn("did you mean spectral", str(cm.exception))
        with self.assertRaises(dale.DaleError) as cm:
            dale.Net(model="rnn", inputs=2, hidden=10, outputs=1, colei_init="spectral")
        self.assertIn("needs --model colei", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
