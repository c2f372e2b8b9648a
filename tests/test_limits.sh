#!/usr/bin/env bash
# test_limits.sh BUILD_DIR — absurd sizes are refused before any large
# allocation.
#
# Each command runs under `ulimit -v` of 4 GB (skipped for sanitizer builds,
# which reserve terabytes of shadow memory), so an attempted huge
# allocation would fail loudly as "out of memory" instead of passing
# quietly on a big machine; the refusal must instead come from the
# argument checks or the memory estimate (dale_config_check_memory), with
# a message that says what is wrong or how many GB the run needs.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"

VLIMIT="ulimit -v 4000000"
if grep -q -a -m 1 '__asan_init\|__ubsan_handle' "$DALE" 2>/dev/null; then
    VLIMIT=":"
    skip "ulimit -v" "sanitizer build: running without the 4 GB address-space limit"
fi

# refuse WHAT PATTERN ARGS... — dale train ARGS under the limit: exit 2
# (usage) or 1, the message matches PATTERN (extended regex), never "out of memory".
refuse() {
    local what=$1 pat=$2
    shift 2
    (eval "$VLIMIT"; exec timeout 20 "$DALE" train --quiet "$@" --out "$T/run") >"$T/out" 2>"$T/err"
    RC=$?
    if [ "$RC" -ne 1 ] && [ "$RC" -ne 2 ]; then fail "$what" "exit $RC: $(err1)"
    elif grep -q -i 'out of memory' "$T/err"; then fail "$what" "attempted the allocation: $(err1)"
    elif ! grep -q -E -e "$pat" "$T/err"; then fail "$what" "message does not match '$pat': $(err1)"
    else ok "$what: $(head -n 1 "$T/err" | cut -c 1-150)"
    fi
    if [ -e "$T/run/checkpoint.npz" ]; then fail "$what" "a run was started"; fi
    rm -rf "$T/run"
}

refuse "--hidden 1000000000" "hidden|needs about" --hidden 1000000000
# (cases below 10^4 GB pin --max-memory-gb, so a big machine refuses them too)
refuse "--hidden 100000" "needs about" --hidden 100000 --max-memory-gb 100
refuse "--adding-len 0" "adding-len" --adding-len 0
refuse "--adding-len 1000000000" "needs about" --adding-len 1000000000
refuse "--adding-n 100000000000" "needs about" --adding-n 100000000000
refuse "--batch 100000000" "larger than the training set|needs about" --batch 100000000
refuse "--batch 0" "batch" --batch 0
refuse "--layers 100000" "layers|needs about" --layers 100000 --max-memory-gb 100
refuse "--layers 0" "layers" --layers 0
refuse "--dense 100000000" "needs about|width" --dense 100000000
refuse "--task seqmnist --variant pixel --hidden 20000" "needs about" --task seqmnist --variant pixel --hidden 20000 --max-memory-gb 100
refuse "--max-memory-gb 0.001" "needs about .* --max-memory-gb" --max-memory-gb 0.001
refuse "--max-memory-gb -1" "max-memory-gb" --max-memory-gb -1

# An --eval-batch far above the test set is harmless: the buffers are
# sized by the split (and the results do not depend on the chunk).
(eval "$VLIMIT"; exec timeout 60 "$DALE" train --quiet --eval-batch 1000000000000 --max-updates 3 --out "$T/eb") >"$T/out" 2>"$T/err"
RC=$?
(eval "$VLIMIT"; exec timeout 60 "$DALE" train --quiet --max-updates 3 --out "$T/eb0") >"$T/out" 2>>"$T/err"
RC0=$?
if [ "$RC" -eq 0 ] && [ "$RC0" -eq 0 ] && cmp -s "$T/eb/final.npz" "$T/eb0/final.npz"; then
    ok "--eval-batch 10^12 runs with buffers sized by the test set, same final.npz"
else fail "--eval-batch 10^12" "exit $RC: $(err1)"; fi
(eval "$VLIMIT"; exec timeout 60 "$DALE" eval "$T/eb") >"$T/out" 2>"$T/err"
RC=$?
if [ "$RC" -eq 0 ]; then ok "dale eval of that run: $(head -c 100 "$T/out")"; else fail "dale eval --eval-batch 10^12 run" "exit $RC: $(err1)"; fi

lib_finish
