"""Loading the library: version, where it is found, what a missing or
foreign library says."""
import os
import re
import subprocess
import sys
import unittest

from common import BUILD, ROOT, tmpdir

import dale


def _import_with(env_lib):
    env = dict(os.environ, DALE_LIBRARY=str(env_lib), PYTHONPATH=str(ROOT / "python"))
    return subprocess.run([sys.executable, "-c", "import dale"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


class LibTest(unittest.TestCase):
    def test_version_is_the_headers(self):
        src = (ROOT / "include" / "dale" / "version.h").read_text() + (ROOT / "src" / "core" / "status.c").read_text()
        want = re.search(r'#define DALE_VERSION "([^"]+)"', src).group(1)
        self.assertEqual(dale.__version__, want)
        self.assertEqual(dale._lib.EXPECTED_VERSION, want)

    def test_missing_library_is_explained(self):
        p = _import_with("/nonexistent/libdale.so")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot find libdale.so", p.stderr)
        self.assertIn("DALE_LIBRARY", p.stderr)
        self.assertIn("make", p.stderr)

    def test_other_version_is_refused(self):
        d = tmpdir(self)
        src = d / "fake.c"
        src.write_text('const char *dale_version(void) { return "0.0.1"; }\n'
                       'const char *dale_git_commit(void) { return "x"; }\n')
        so = d / "libdale.so"
        r = subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src)], capture_output=True)
        if r.returncode != 0:
            self.skipTest("no C compiler")
        # the fake lacks the other symbols: the loader fails on them first
        # or on the version; either way an ImportError/AttributeError names it
        p = _import_with(so)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("is libdale 0.0.1, this package is written for", p.stderr)

    def test_found_in_build_tree(self):
        self.assertTrue(os.path.samefile(dale.library_path, os.environ.get("DALE_LIBRARY", BUILD / "libdale.so")))

    def test_error_carries_library_message(self):
        with self.assertRaises(dale.DaleError) as cm:
            dale.Net(model="colei", inputs=2, hidden=10, outputs=1, rho=-1)
        self.assertIn("rho", str(cm.exception))
        self.assertEqual(cm.exception.status, "invalid argument")

    def test_unknown_option_says_nearest(self):
        with self.assertRaises(TypeError) as cm:
            dale.Net(model="rnn", inputs=2, hidden=4, outputs=1, rhoo=1.0)
        self.assertIn("did you mean rho", str(cm.exception))

    def test_unknown_model(self):
        with self.assertRaises(dale.DaleError) as cm:
            dale.Net(model="lstm", inputs=2, hidden=4, outputs=1)
        self.assertIn("unknown model 'lstm'", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
