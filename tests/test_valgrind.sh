#!/usr/bin/env bash
# test_valgrind.sh BUILD_DIR — the CLI smoke commands under valgrind memcheck.
#
# Skipped (one skip line, counts as a pass) unless DALE_VALGRIND=1, so that
# `make test` stays fast: run it with
#     DALE_VALGRIND=1 bash tests/test_valgrind.sh build
# Each command runs under `valgrind --leak-check=full` and must report no
# invalid read/write, no use of uninitialised values and no definitely or
# indirectly lost block (memcheck's exit code 99 otherwise); "still
# reachable" memory (OpenBLAS's thread pool and buffers) is not an error.
# Successful commands and the error paths of bad input are both covered.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"

if [ "${DALE_VALGRIND:-0}" != 1 ]; then
    skip "valgrind" "set DALE_VALGRIND=1 to run the CLI smoke tests under memcheck"
    echo "0 passed, 0 failed (skipped)"
    exit 0
fi
if ! command -v valgrind >/dev/null; then
    fail "valgrind" "valgrind is not installed"
    lib_finish
fi
# OpenBLAS threads make valgrind slow and noisy; dale pins them to 1 anyway.
export OPENBLAS_NUM_THREADS=1

# vg WHAT WANT_EXIT ARGS... — dale ARGS under memcheck
vg() {
    local what=$1 want=$2
    shift 2
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --log-file="$T/vg.log" "$DALE" "$@" >"$T/out" 2>"$T/err"
    RC=$?
    if [ "$RC" -eq 99 ] || [ -s "$T/vg.log" ]; then
        fail "$what" "memcheck: $(grep -m 3 -E 'Invalid|uninitialised|lost|ERROR SUMMARY' "$T/vg.log" | tr '\n' ' ')"
        sed 's/^/    /' "$T/vg.log" | head -n 40
    elif [ "$RC" -ne "$want" ]; then
        fail "$what" "exit $RC, want $want: $(err1)"
    else
        ok "$what (memcheck clean)"
    fi
}

SMALL=(--quiet --adding-n 300 --adding-test 100 --epochs 1 --eval-every 2 --batch 32)
for m in rnn colei dann; do
    vg "train $m" 0 train "${SMALL[@]}" --model "$m" --hidden 12 --dense 6 --out "$T/$m"
done
vg "train dann --split paper --sign-freeze on" 0 train "${SMALL[@]}" --model dann --split paper \
    --adding-n 400 --sign-freeze on --out "$T/paper"
vg "train --max-updates 3" 0 train "${SMALL[@]}" --model colei --max-updates 3 --out "$T/resume"
lift_max_updates "$T/resume"
vg "train --resume" 0 train --quiet --resume --out "$T/resume"
vg "eval" 0 eval "$T/dann"
vg "eval --checkpoint checkpoint --json" 0 eval "$T/colei" --checkpoint checkpoint --json
vg "diagnose final.npz" 0 diagnose --threads 1 "$T/dann/final.npz"
printf '1,2\n-3,4\n' >"$T/m.csv"
vg "diagnose csv --json" 0 diagnose --threads 1 --json "$T/m.csv"
vg "spectrum" 0 spectrum --model colei --hidden 20 --inits 3 --threads 1 --out "$T/spec"
vg "transplant" 0 transplant --vectors "$T/m.csv" --values "$T/m.csv" --out "$T/t.npy"

# error paths
head -c 200 "$T/dann/final.npz" >"$T/trunc.npz"
vg "diagnose truncated npz" 1 diagnose "$T/trunc.npz"
printf '1,2\n3\n' >"$T/ragged.csv"
vg "diagnose ragged csv" 1 diagnose "$T/ragged.csv"
printf '{"hidden": [1]}' >"$T/bad.json"
vg "train --config bad json" 2 train --config "$T/bad.json" --out "$T/x"
printf '\037\213\010\000garbage' >"$T/bad.gz"
vg "data verify corrupt gz" 1 data verify "$T/bad.gz"
mkdir -p "$T/broken"
cp "$T/dann/config.json" "$T/broken/"
cp "$T/trunc.npz" "$T/broken/final.npz"
vg "eval damaged final.npz" 1 eval "$T/broken"
vg "train --hidden 10^9 refused" 2 train --hidden 1000000000 --out "$T/y"

lib_finish
