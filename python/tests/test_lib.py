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


class InstallTest(unittest.TestCase):
    def test_pip_install_offline(self):
        """make python + pip install --no-build-isolation: the installed
        package carries its library and finds it outside the checkout."""
        import shutil
        d = tmpdir(self)
        src = d / "python"
        def skip(folder, names):  # build leftovers and an earlier `make python` copy
            return [n for n in names if n in ("__pycache__", "build", "libdale.so") or n.endswith(".egg-info")
                    or (n == "dale" and os.path.isfile(os.path.join(folder, n)))]
        shutil.copytree(ROOT / "python", src, ignore=skip)
        shutil.copy(BUILD / "libdale.so", src / "dale" / "libdale.so")
        shutil.copy(BUILD / "dale", src / "dale" / "dale")
        venv = d / "venv"
        r = subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], capture_output=True)
        if r.returncode != 0:
            self.skipTest("python3 -m venv is not available here")
        py = venv / "bin" / "python"
        r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-build-isolation", "--no-index", str(src)],
                           capture_output=True, text=True, cwd=d)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        env = {k: v for k, v in os.environ.items() if k not in ("DALE_LIBRARY", "PYTHONPATH")}
        r = subprocess.run([str(py), "-c", "import dale; print(dale.__version__, dale.library_path, "
                                           "dale.runs.executable())"],
                           capture_output=True, text=True, cwd=d, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        ver, lib_path, exe = r.stdout.split()
        self.assertEqual(ver, dale.__version__)
        self.assertIn("site-packages", lib_path)
        self.assertIn("site-packages", exe)

    def test_exit_with_live_objects(self):
        """Objects still alive at interpreter exit are freed without a crash."""
        code = ("import numpy as np, dale\n"
                "net = dale.Net(model='dann', inputs=3, hidden=20, outputs=2)\n"
                "tr = dale.Trainer(net, lr=0.01)\n"
                "tr.step(np.ones((4, 5, 3)), np.array([0, 1, 0, 1]))\n"
                "W = net.params['cell0.W_EE']; t = dale.Task.arrays(np.ones((4, 5, 3)), np.array([0, 1, 0, 1]))\n"
                "print('done')\n")
        env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "done"), r.stderr)
