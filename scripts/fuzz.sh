#!/usr/bin/env bash
# fuzz.sh BUILD_DIR [TARGET...] — build and run the libFuzzer harnesses.
#
# `make fuzz` first builds libdale.a and cli/matio.o with clang and
# -fsanitize=fuzzer-no-link,address,undefined into BUILD_DIR (build-fuzz);
# this script compiles each fuzz/fuzz_<target>.c against them, then runs
# every target for FUZZ_SECONDS (default 60) with -rss_limit_mb=2048, one
# at a time and under nice, starting from the committed seeds in
# fuzz/corpus/<target>/ (new inputs go to BUILD_DIR/corpus/<target>/, so the
# committed corpus is only read).  A crash stops that target and leaves the
# input in BUILD_DIR/artifacts/<target>/; copy it to fuzz/regress/ so that
# tests/test_fuzz_regress.c replays it in `make test`.
# Prints one line per target (executions, crashes) and exits non-zero if
# any target crashed.  TARGET names are e.g. npy, npz, idx (default: all).
set -u
build=${1:?usage: fuzz.sh BUILD_DIR [TARGET...]}
shift
secs=${FUZZ_SECONDS:-60}
nice=${FUZZ_NICE:-10}
cc=${FUZZ_CC:-clang}
flags="-std=c11 -D_POSIX_C_SOURCE=200809L -O1 -g -fno-omit-frame-pointer -Iinclude -Isrc -Icli"
flags="$flags -I/usr/include/x86_64-linux-gnu -fsanitize=fuzzer,address,undefined"
blas=$(ls -d /usr/lib/x86_64-linux-gnu/openblas-pthread 2>/dev/null | head -n 1)
libs="${blas:+-L$blas} -lopenblas -llapacke -lzip -lz -lcjson -lm -lpthread"

# temp files of the file-based harnesses: memory, when there is a tmpfs
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz/fuzz_*.c; do t=${f#fuzz/fuzz_}; targets+=("${t%.c}"); done
fi

mkdir -p "$build/fuzz"
for t in "${targets[@]}"; do
    src=fuzz/fuzz_$t.c bin=$build/fuzz/fuzz_$t
    if [ ! -f "$src" ]; then echo "fuzz: no harness $src" >&2; exit 2; fi
    if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ fuzz/fuzz_util.h -nt "$bin" ] ||
       [ "$build/libdale.a" -nt "$bin" ]; then
        echo "fuzz: building $bin"
        # shellcheck disable=SC2086
        $cc $flags -o "$bin" "$src" "$build/cli/matio.o" "$build/libdale.a" $libs || exit 1
    fi
done

total_crash=0
summary=()
for t in "${targets[@]}"; do
    bin=$build/fuzz/fuzz_$t work=$build/corpus/$t art=$build/artifacts/$t/ log=$build/fuzz-$t.log
    mkdir -p "$work" "$art" "fuzz/corpus/$t"
    before=$(ls "$art" 2>/dev/null | grep -c '^\(crash\|leak\|oom\|timeout\)-')
    echo "fuzz: $t for ${secs}s (log $log)"
    nice -n "$nice" "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$art" "$work" "fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    rm -rf "${TMPDIR:-/tmp}"/dale-fuzz-* # the harnesses' temp files (one fuzzer at a time)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    after=$(ls "$art" 2>/dev/null | grep -c '^\(crash\|leak\|oom\|timeout\)-')
    crashes=$((after - before))
    [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1 # died without an artifact
    total_crash=$((total_crash + crashes))
    corpus=$(ls "$work" | wc -l)
    line=$(printf "%-8s %10s executions in %ss, %d crash(es), corpus %d" "$t" "${execs:-?}" "$secs" "$crashes" "$corpus")
    [ "$crashes" -gt 0 ] && line="$line; see $log and $art" && grep -m 3 'ERROR\|SUMMARY\|==.*==' "$log" | sed 's/^/    /'
    summary+=("$line")
done
echo
printf '%s\n' "${summary[@]}"
echo "fuzz: ${#targets[@]} targets, $total_crash crash(es)"
[ "$total_crash" -eq 0 ]
