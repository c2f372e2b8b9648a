#!/usr/bin/env bash
# test_memlimit.sh BUILD_DIR — under a memory limit every command exits
# promptly, with a clear "out of memory" message or a result; inputs that
# are not regular files are refused instead of read forever.
#
# OpenBLAS starts its thread pool when the library loads; under `ulimit -v`
# a worker retried its 128 MB buffer forever and the process hung at exit.
# dale pins OPENBLAS_NUM_THREADS before the library starts (cli/dale.c), so
# the variable is unset here: that is the case users hit.  Every command
# runs under `timeout 60`, so a hang fails the test instead of blocking it.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
unset OPENBLAS_NUM_THREADS GOTO_NUM_THREADS OMP_NUM_THREADS DALE_BLAS_REEXEC

SAN=0
if grep -q -a -m 1 '__asan_init\|__ubsan_handle' "$DALE" 2>/dev/null; then
    SAN=1
    skip "ulimit -v" "sanitizer build: it reserves terabytes of shadow memory"
fi

# limited KB WHAT CMD... — run CMD under ulimit -v KB and timeout 60; RC, $T/out, $T/err
limited() {
    local kb=$1
    shift
    (ulimit -v "$kb"; exec timeout 60 "$@") >"$T/out" 2>"$T/err"
    RC=$?
}

if [ "$SAN" -eq 0 ]; then
    "$DALE" train --quiet --hidden 8 --epochs 1 --max-updates 2 --out "$T/small" >/dev/null 2>&1 ||
        fail "setup" "small run failed"

    limited 250000 "$DALE" diagnose "$T/small/final.npz"
    if [ "$RC" -eq 124 ]; then fail "diagnose under ulimit -v 250000" "hung (timeout)"
    elif [ "$RC" -eq 0 ] || grep -q 'out of memory' "$T/err"; then ok "diagnose under ulimit -v 250000: exit $RC"
    else fail "diagnose under ulimit -v 250000" "exit $RC: $(err1)"
    fi

    limited 100000 "$DALE" train --hidden 500 --out "$T/big"
    if [ "$RC" -eq 124 ]; then fail "train --hidden 500 under ulimit -v 100000" "hung (timeout)"
    elif [ "$RC" -ne 1 ]; then fail "train --hidden 500 under ulimit -v 100000" "exit $RC: $(err1)"
    elif ! grep -q 'out of memory' "$T/err"; then fail "train --hidden 500 under ulimit -v 100000" "no out-of-memory message: $(err1)"
    elif ! grep -q '"status": "failed"' "$T/big/result.json" 2>/dev/null; then fail "train --hidden 500 under ulimit -v 100000" "result.json is not failed"
    else ok "train --hidden 500 under ulimit -v 100000: $(grep 'out of memory' "$T/err" | head -n 1)"
    fi

    limited 100000 "$DALE" --version
    if [ "$RC" -eq 0 ] && grep -q '^dale ' "$T/out"; then ok "--version under ulimit -v 100000"
    else fail "--version under ulimit -v 100000" "exit $RC: $(err1)"
    fi

    # two sampling threads do not fit in 250 MB: one is used, or a clear refusal
    limited 250000 "$DALE" spectrum --threads 2 --hidden 200 --inits 20 --no-plot --out "$T/spec"
    if [ "$RC" -eq 124 ]; then fail "spectrum --threads 2 under ulimit -v 250000" "hung (timeout)"
    elif [ "$RC" -eq 0 ] || grep -q 'out of memory' "$T/err"; then ok "spectrum --threads 2 under ulimit -v 250000: exit $RC"
    else fail "spectrum --threads 2 under ulimit -v 250000" "exit $RC: $(err1)"
    fi
    limited 150000 "$DALE" spectrum --threads 2 --hidden 200 --inits 20 --no-plot --out "$T/spec2"
    if [ "$RC" -eq 1 ] && grep -q 'out of memory.*ulimit -v' "$T/err"; then ok "spectrum under ulimit -v 150000 refused: $(err1 | cut -c 1-120)"
    else fail "spectrum under ulimit -v 150000" "exit $RC: $(err1)"
    fi
    [ -e "$T/spec2" ] && fail "spectrum refused" "created its --out"

    cat >"$T/spec.json" <<'JSON'
{"name": "lim", "base": {"task": "adding", "hidden": 8, "epochs": 1, "max-updates": 2}, "axes": {"seed": [0, 1]}}
JSON
    limited 250000 "$DALE" sweep "$T/spec.json" --out "$T/sweep"
    if [ "$RC" -eq 124 ]; then fail "sweep under ulimit -v 250000" "hung (timeout)"
    elif [ "$RC" -eq 0 ] || grep -q 'out of memory' "$T/err"; then ok "sweep under ulimit -v 250000: exit $RC"
    else fail "sweep under ulimit -v 250000" "exit $RC: $(err1)"
    fi
fi

# Inputs that are not regular files: refused at once, not read forever
mkfifo "$T/fifo" || fail "setup" "mkfifo"
# nonreg WHAT PATTERN CMD... — exit 1 or 2 within the timeout, message matches
nonreg() {
    local what=$1 pat=$2
    shift 2
    # a 4 GB address-space cap keeps /dev/zero from eating the machine if it
    # were read (not under a sanitizer, which reserves terabytes up front)
    if [ "$SAN" -eq 0 ]; then
        (ulimit -v 4000000 2>/dev/null; exec timeout 20 "$@") >"$T/out" 2>"$T/err"
    else
        timeout 20 "$@" >"$T/out" 2>"$T/err"
    fi
    RC=$?
    if [ "$RC" -ne 1 ] && [ "$RC" -ne 2 ]; then fail "$what" "exit $RC: $(err1)"
    elif ! grep -q -E -e "$pat" "$T/err"; then fail "$what" "message does not match '$pat': $(err1)"
    else ok "$what: $(err1 | cut -c 1-110)"
    fi
}
nonreg "diagnose FIFO" "not a regular file" "$DALE" diagnose "$T/fifo"
nonreg "diagnose /dev/zero" "not a regular file" "$DALE" diagnose /dev/zero
nonreg "transplant FIFO" "not a regular file" "$DALE" transplant --vectors "$T/fifo" --values /dev/zero --out "$T/tp.npy"
nonreg "sweep spec FIFO" "not a regular file" "$DALE" sweep "$T/fifo" --out "$T/sw1"
nonreg "sweep spec /dev/zero" "not a regular file" "$DALE" sweep /dev/zero --out "$T/sw2"
nonreg "train --config FIFO" "not a regular file" "$DALE" train --config "$T/fifo" --out "$T/tr1"
nonreg "train --config /dev/zero" "not a regular file" "$DALE" train --config /dev/zero --out "$T/tr2"
for d in sw1 sw2 tr1 tr2; do [ -e "$T/$d" ] && fail "refused input" "$d was created"; done

# Control bytes quoted from a file are escaped, not echoed raw
printf '1,2\n3,\033[31mred\n' >"$T/ctl.csv"
"$DALE" diagnose "$T/ctl.csv" >/dev/null 2>"$T/err"
if grep -q "$(printf '\033')" "$T/err"; then fail "CSV control bytes" "ESC echoed raw"
elif grep -q -F "'\x1b[31mred'" "$T/err"; then ok "CSV control bytes escaped: $(err1)"
else fail "CSV control bytes" "$(err1)"
fi
printf '1,2\n3,4\001\n' >"$T/ctl2.csv"
"$DALE" diagnose "$T/ctl2.csv" >/dev/null 2>"$T/err"
if grep -q -F '\x01' "$T/err" && ! grep -q "$(printf '\001')" "$T/err"; then ok "CSV bad number escaped: $(err1)"
else fail "CSV bad number" "$(err1)"
fi
printf '{"name": "x",\n "base": {\033[2J }}' >"$T/ctl.json"
"$DALE" sweep "$T/ctl.json" --out "$T/sw3" >/dev/null 2>"$T/err"
if grep -q "$(printf '\033')" "$T/err"; then fail "JSON control bytes" "ESC echoed raw"
elif grep -q -F '\x1b[2J' "$T/err"; then ok "JSON control bytes escaped: $(err1)"
else fail "JSON control bytes" "$(err1)"
fi

# dale spectrum estimates its memory before allocating
timeout 60 "$DALE" spectrum --hidden 300 --inits 1000 --max-memory-gb 0.001 --no-plot --out "$T/spec3" >"$T/out" 2>"$T/err"
RC=$?
if [ "$RC" -eq 1 ] && grep -q 'needs about .* GB.*--max-memory-gb' "$T/err"; then ok "spectrum over --max-memory-gb refused: $(err1 | cut -c 1-120)"
else fail "spectrum over --max-memory-gb" "exit $RC: $(err1)"
fi
[ -e "$T/spec3" ] && fail "spectrum over the estimate" "created its --out"

# dale sweep --out too long for the run paths under it: refused, nothing created
cat >"$T/s.json" <<'JSON'
{"name": "lim", "base": {"task": "adding", "hidden": 8, "epochs": 1, "max-updates": 2}, "axes": {"seed": [0, 1]}}
JSON
A=$(printf '%0120d' 0)
LONG="$T/long/$A/$A/$A/$(printf '%0130d' 0)"
(cd "$T" && timeout 60 "$DALE" sweep s.json --out "${LONG#"$T"/}") >"$T/out" 2>"$T/err"
RC=$?
if [ "$RC" -eq 2 ] && grep -q 'at most [0-9]* characters' "$T/err"; then ok "sweep --out of ${#LONG} characters refused: $(err1 | cut -c 1-100)"
else fail "sweep --out of ${#LONG} characters" "exit $RC: $(err1)"
fi
[ -e "$T/long" ] && fail "sweep --out too long" "directories were created"

lib_finish
