"""Run every python/tests/test_*.py with unittest; one line per test
("ok NAME" / "FAIL NAME: why"), then "N passed, N failed"; exit 1 on failure."""
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(here))


class Result(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        print(f"ok {test.id()}", flush=True)

    def _bad(self, test, err, kind):
        msg = self._exc_info_to_string(err, test).strip().splitlines()
        print(f"FAIL {test.id()}: {kind}: {msg[-1] if msg else ''}", flush=True)
        print("    " + "\n    ".join(msg[-12:]), flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad(test, err, "failure")

    def addError(self, test, err):
        super().addError(test, err)
        self._bad(test, err, "error")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print(f"skip {test.id()}: {reason}", flush=True)


suite = unittest.defaultTestLoader.discover(here, pattern=sys.argv[1] if len(sys.argv) > 1 else "test_*.py")
res = unittest.TextTestRunner(resultclass=Result, verbosity=0, stream=open(os.devnull, "w")).run(suite)
bad = len(res.failures) + len(res.errors)
print(f"{res.testsRun - bad - len(res.skipped)} passed, {bad} failed")
sys.exit(1 if bad or res.testsRun == 0 else 0)
