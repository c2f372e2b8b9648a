"""Spectra, NSE and transplant against NumPy."""
import unittest

import numpy as np

import dale


class SpectrumTest(unittest.TestCase):
    def test_equals_numpy(self):
        rng = np.random.default_rng(0)
        for W in (rng.standard_normal((40, 40)), dale.Net(model="colei", inputs=2, hidden=60, outputs=1).W_eff(0),
                  dale.Net(model="dann", inputs=2, hidden=60, outputs=1).W_eff(0)):
            s = dale.spectrum(W)
            A = np.asarray(W, np.float64)
            np.testing.assert_allclose(s.svals, np.linalg.svd(A, compute_uv=False), rtol=1e-10, atol=1e-12)
            ev = np.linalg.eigvals(A)
            np.testing.assert_allclose(np.sort_complex(s.eig), np.sort_complex(ev), rtol=1e-8, atol=1e-10)
            self.assertAlmostEqual(s.rho, np.abs(ev).max(), places=10)
            self.assertAlmostEqual(s.sigma_max, s.svals[0], places=12)
            p = s.svals / s.svals.sum()
            self.assertAlmostEqual(s.nse, -(p * np.log(p)).sum() / np.log(len(p)), places=10)
            self.assertAlmostEqual(s.frob, np.linalg.norm(A), places=8)

    def test_nse_function(self):
        self.assertAlmostEqual(dale.nse(np.ones(10)), 1.0)
        self.assertLess(dale.nse([10.0, 1, 1, 1]), 0.9)

    def test_refusals(self):
        with self.assertRaises(ValueError):
            dale.spectrum(np.ones((3, 4)))
        with self.assertRaises(ValueError):
            dale.spectrum(np.ones(3))
        with self.assertRaises(ValueError):
            dale.spectrum(np.array([[1.0, np.nan], [0, 1]]))
        with self.assertRaises(TypeError):
            dale.spectrum(np.eye(3, dtype=complex))

    def test_transplant(self):
        rng = np.random.default_rng(1)
        A, B = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
        out = dale.transplant(A, B)
        U, _, Vt = np.linalg.svd(A, full_matrices=False)
        want = U @ np.diag(np.linalg.svd(B, compute_uv=False)) @ Vt
        np.testing.assert_allclose(out, want, rtol=1e-9, atol=1e-12)
        with self.assertRaises(ValueError):
            dale.transplant(A, B[:5])

    def test_diagnose(self):
        d = dale.diagnose(dale.Net(model="colei", inputs=2, hidden=100, outputs=1).W_eff(0))
        self.assertTrue(d["dale_law"])
        self.assertLess(d["nse"], d["nse_rnn"])
        self.assertIn("Dale", d["verdict"])


if __name__ == "__main__":
    unittest.main()
