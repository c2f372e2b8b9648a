#!/usr/bin/env bash
# run-tests.sh BUILD_DIR TEST... — run every test executable and shell test,
# print each one's verdict, then "N passed, N failed" and exit non-zero if
# any failed.  Shell tests (tests/test_*.sh) get the build dir as $1.
set -u
# dale's thread policy (one BLAS thread per process) also for the tests: an
# OpenBLAS pool spinning against other processes slows eigen-solves tenfold
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
build=$1; shift
pass=0; fail=0; failed=()
for t in "$@"; do
  name=$(basename "$t")
  start=$(date +%s.%N)
  if [ "${t##*.}" = sh ]; then
    out=$(bash "$t" "$build" 2>&1); rc=$?
  else
    out=$("$t" 2>&1); rc=$?
  fi
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  if [ $rc -eq 0 ]; then
    pass=$((pass+1)); echo "PASS $name (${secs}s) $(echo "$out" | tail -n 1)"
  else
    fail=$((fail+1)); failed+=("$name")
    echo "FAIL $name (exit $rc, ${secs}s)"; echo "$out" | grep -v '^ok ' | tail -n 40 | sed 's/^/    /'
  fi
done
echo
[ $fail -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
