#!/usr/bin/env bash
# test_python.sh — the Python package (python/dale) over this build's
# libdale.so: every python/tests/test_*.py through unittest, one line per
# test, counted in this script's summary line.  Needs python3 with NumPy
# (Debian's python3-numpy, installed by scripts/install-deps.sh).
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$(dirname "$DALE")" && pwd)

# a python3 that has NumPy: the one on PATH, else Debian's
PY=""
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' >/dev/null 2>&1; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    fail "python3 with numpy" "none found (scripts/install-deps.sh installs python3-numpy)"
    lib_finish
fi
[ -f "$build/libdale.so" ] || { fail "libdale.so" "$build/libdale.so missing (make all)"; lib_finish; }

# A sanitizer build (make asan): the interpreter is not instrumented, so the
# sanitizer runtimes must be loaded first; CPython's own allocations at exit
# are not the library's leaks, so leak detection is off for this process.
pre=$(ldd "$build/libdale.so" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { printf "%s ", $3 }')
san=()
[ -n "$pre" ] && san=("LD_PRELOAD=$pre" "ASAN_OPTIONS=detect_leaks=0")
out=$(cd "$T" && env DALE_LIBRARY="$build/libdale.so" DALE_BUILD="$build" PYTHONDONTWRITEBYTECODE=1 "${san[@]}" \
      "$PY" "$here/python/tests/run.py" 2>&1)
rc=$?
echo "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
n_ok=$(echo "$out" | grep -c '^ok ')
n_bad=$(echo "$out" | grep -c '^FAIL ')
PASS=$((PASS + n_ok))
FAILS=$((FAILS + n_bad))
if [ "$rc" -ne 0 ] && [ "$n_bad" -eq 0 ]; then fail "python test run" "exit $rc"; fi
[ "$n_ok" -gt 0 ] || fail "python tests" "none ran"
lib_finish
