# shellcheck shell=bash
# lib.sh — shared helpers of the CLI shell tests (tests/test_*.sh).
#
# A test sources it and calls lib_init "$1" (the build dir): that sets $DALE,
# creates a scratch dir $T removed on exit, and the helpers keep the
# pass/fail counts.  Every check prints one
# line, "ok <what>" or "FAIL <what>: details"; lib_finish prints
# "N passed, N failed" and exits non-zero when anything failed.
#
# Needs only bash, coreutils, grep, sed, awk and od: no Python, no unzip.

PASS=0
FAILS=0

ok() { PASS=$((PASS + 1)); echo "ok $1"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL $1: $2"; }
skip() { echo "skip $1: $2"; }

lib_init() {
    local build=${1:-}
    if [ -z "$build" ]; then
        echo "usage: $0 BUILD_DIR" >&2
        exit 2
    fi
    DALE=$build/dale
    case $DALE in /*) ;; *) DALE=$PWD/$DALE ;; esac
    if [ ! -x "$DALE" ]; then
        echo "FAIL setup: $DALE is not an executable (run make all first)"
        echo "0 passed, 1 failed"
        exit 1
    fi
    T=$(mktemp -d "${TMPDIR:-/tmp}/dale-test.XXXXXX") || exit 1
    trap 'rm -rf "$T"' EXIT
}

lib_finish() {
    echo "$PASS passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
    exit $?
}

# dale ARGS... — run the tool; sets RC and leaves stdout/stderr in $T/out, $T/err.
dale() {
    "$DALE" "$@" >"$T/out" 2>"$T/err"
    RC=$?
}

# first line of stderr, for FAIL details
err1() { head -c 300 "$T/err" | tr '\n' ' '; }

# expect_exit CODE WHAT PATTERN ARGS... — dale ARGS must exit CODE and say PATTERN
# (a fixed string; empty: anything) on stderr.
expect_exit() {
    local want=$1 what=$2 pat=$3
    shift 3
    dale "$@"
    if [ "$RC" -ne "$want" ]; then
        fail "$what" "exit $RC, want $want (stderr: $(err1))"
    elif [ -n "$pat" ] && ! grep -q -F -e "$pat" "$T/err"; then
        fail "$what" "stderr does not mention '$pat' (stderr: $(err1))"
    else
        ok "$what"
    fi
}

# json_get FILE KEY — the value of KEY in a dale JSON file (config.json,
# result.json: one key per line), without quotes and trailing comma.
json_get() {
    sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\(.*\)\$/\1/p" "$1" | sed 's/,$//; s/^"//; s/"$//' | head -n 1
}

# json_expect WHAT FILE KEY VALUE
json_expect() {
    local got
    got=$(json_get "$2" "$3")
    if [ "$got" = "$4" ]; then ok "$1"; else fail "$1" "$3 is '$got' in $(basename "$2"), want '$4'"; fi
}

# lift_max_updates DIR — set max_updates to -1 in DIR/config.json, so that a
# run stopped by --max-updates can be resumed like an interrupted one
# (--resume refuses flags, and the run's config.json pins its budget).
lift_max_updates() {
    sed -i 's/^\([[:space:]]*"max_updates":[[:space:]]*\)[-0-9]*/\1-1/' "$1/config.json"
}

# train_digests OUT FN "NAME|ARGS"... — `dale train --quiet ARGS --out $T/runs/NAME`
# for each run, then `FN NAME DIR >> OUT` (the test's own digest lines); a run
# that fails is a failed check and adds no lines
train_digests() {
    local out=$1 fn=$2 r name
    shift 2
    for r in "$@"; do
        name=${r%%|*}
        # shellcheck disable=SC2206
        local args=(${r#*|})
        dale train --quiet "${args[@]}" --out "$T/runs/$name"
        if [ "$RC" -ne 0 ]; then fail "$name runs" "exit $RC: $(err1)"; continue; fi
        "$fn" "$name" "$T/runs/$name" >>"$out"
    done
}

# run_digest NAME DIR — the digest lines of one run: "NAME result.json -
# STATUS UPDATES", "NAME final.npz MEMBER CRC32" for every member but the wall
# clock, "NAME metrics.csv - SHA256"; a diverged run writes no final.npz, so
# its last checkpoint is what it left
run_digest() {
    local name=$1 dir=$2 npz=final.npz
    [ -f "$dir/$npz" ] || npz=checkpoint.npz
    echo "$name result.json - $(json_get "$dir/result.json" status) $(json_get "$dir/result.json" updates)"
    NAMES=1 zip_bytes "$dir/$npz" | grep -v "^state.wall.npy " | while read -r member crc; do echo "$name $npz $member $crc"; done
    echo "$name metrics.csv - $(sha256sum <"$dir/metrics.csv" | cut -c1-64)"
}

# compare_digests REF GOT "NAME[|ARGS]"... — one check per name: its lines in
# GOT (run_digest or the test's own) equal those recorded in REF
compare_digests() {
    local ref=$1 got=$2 r name d
    shift 2
    for r in "$@"; do
        name=${r%%|*}
        d=$(diff <(grep "^$name " "$ref") <(grep "^$name " "$got"))
        if [ -z "$d" ]; then
            ok "$name: every number unchanged"
        else
            fail "$name changed" "$(echo "$d" | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
        fi
    done
}

# zip_bytes FILE — the archive's bytes, one decimal per line, with the DOS
# modification time/date of every member (local and central headers) zeroed.
# Walks the headers properly (no pattern search through member data); exits
# non-zero if the file is not a plain zip (data descriptors, zip64, ...).
# With NAMES=1 it prints "name crc32" of each member instead.
zip_bytes() {
    od -An -v -tu1 "$1" | awk -v names="${NAMES:-0}" '
        { for (i = 1; i <= NF; i++) b[n++] = $i + 0 }
        function u16(p) { return b[p] + 256 * b[p + 1] }
        function u32(p) { return u16(p) + 65536 * u16(p + 2) }
        function sig(p, c, d) { return p + 4 <= n && b[p] == 80 && b[p + 1] == 75 && b[p + 2] == c && b[p + 3] == d }
        END {
            p = 0
            while (sig(p, 3, 4)) {
                if (p + 30 > n || int(u16(p + 6) / 8) % 2 == 1) exit 2
                nl = u16(p + 26)
                if (names) {
                    s = ""
                    for (k = 0; k < nl; k++) s = s sprintf("%c", b[p + 30 + k])
                    printf "%s %.0f\n", s, u32(p + 14)
                }
                for (k = 10; k < 14; k++) b[p + k] = 0
                p += 30 + nl + u16(p + 28) + u32(p + 18)
            }
            while (sig(p, 1, 2)) {
                if (p + 46 > n) exit 2
                for (k = 12; k < 16; k++) b[p + k] = 0
                p += 46 + u16(p + 28) + u16(p + 30) + u16(p + 32)
            }
            if (!sig(p, 5, 6) || p + 22 > n) exit 2
            if (!names) for (i = 0; i < n; i++) print b[i]
        }'
}

# npz_names FILE — member names without ".npy", one a line.
npz_names() { NAMES=1 zip_bytes "$1" | sed 's/\.npy [0-9]*$//'; }

# npz_diff_members A B — names of members whose data differ or that only one holds.
npz_diff_members() {
    local a b
    a=$(NAMES=1 zip_bytes "$1" | sort) || return 1
    b=$(NAMES=1 zip_bytes "$2" | sort) || return 1
    diff <(echo "$a") <(echo "$b") | sed -n 's/^[<>] \(.*\)\.npy [0-9]*$/\1/p' | sort -u | tr '\n' ' '
}

# npz_same A B — 0 when the archives are byte-identical or differ only in the
# zip members' modification times; sets NPZ_HOW to say which.
npz_same() {
    NPZ_HOW=""
    if cmp -s "$1" "$2"; then NPZ_HOW="byte-identical"; return 0; fi
    local a b
    a=$(zip_bytes "$1") || { NPZ_HOW="$1 is not a plain zip"; return 1; }
    b=$(zip_bytes "$2") || { NPZ_HOW="$2 is not a plain zip"; return 1; }
    if [ "$a" = "$b" ]; then NPZ_HOW="same members; only zip timestamps differ"; return 0; fi
    NPZ_HOW="members differ: $(npz_diff_members "$1" "$2")"
    return 1
}

# expect_npz_same WHAT A B
expect_npz_same() {
    if npz_same "$2" "$3"; then ok "$1 ($NPZ_HOW)"; else fail "$1" "$NPZ_HOW"; fi
}

# expect_same_file WHAT A B — byte-identical (cmp)
expect_same_file() {
    if [ ! -f "$2" ] || [ ! -f "$3" ]; then
        fail "$1" "missing file ($2 or $3)"
    elif cmp -s "$2" "$3"; then
        ok "$1"
    else
        fail "$1" "$(cmp "$2" "$3" 2>&1 | head -n 1); diff: $(diff "$2" "$3" | head -n 4 | tr '\n' ' ')"
    fi
}

# have_numpy — /usr/bin/python3 with numpy (optional extra checks only)
have_numpy() { [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import numpy' 2>/dev/null; }

# now_ms — wall clock in milliseconds
now_ms() { echo $(($(date +%s%N) / 1000000)); }
