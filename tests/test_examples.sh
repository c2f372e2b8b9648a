#!/usr/bin/env bash
# test_examples.sh BUILD_DIR — the example programs of docs/library.md and
# docs/losses.md (examples/*.c, built by `make all` against the public
# headers only) run and learn their tasks.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
EX=$(dirname "$DALE")/examples
cd "$T" || exit 1
for prog in train_custom masked_task; do
    if [ ! -x "$EX/$prog" ]; then fail "$prog" "$EX/$prog missing (make all)"; continue; fi
    out=$("$EX/$prog" 2>&1); rc=$?
    [ "$rc" -eq 0 ] && ok "$prog runs" || fail "$prog runs" "exit $rc: $(echo "$out" | tail -n 2)"
    case $prog in
    train_custom) v=$(echo "$out" | sed -n 's/^test MSE after [0-9]* updates: \([0-9.e-]*\).*/\1/p') ;;
    masked_task) v=$(echo "$out" | sed -n 's/^test loss \([0-9.]*\), .*/\1/p') ;;
    esac
    if [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v < 0.05) }'; then ok "$prog learns (test loss $v)"
    else fail "$prog learns" "test loss '$v': $(echo "$out" | tail -n 1)"; fi
done
lib_finish
