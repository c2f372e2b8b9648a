#!/usr/bin/env bash
# test_crash.sh BUILD_DIR — crash safety, a full disk, and hostile files.
#
# (a) SIGKILL: one uninterrupted DANN run on the adding problem, then the
#     same run killed with SIGKILL after a random delay, resumed (or, when
#     killed before its first checkpoint, restarted), killed again, ... until
#     KILLS kills have landed mid-run (a piece that finishes first is not
#     counted).  Each time the run completes, final.npz must be byte-identical
#     to the uninterrupted run's and metrics.csv equal; then a fresh run
#     directory is started.  Prints the count of kills survived.
# (b) Disk full: a resume under a file-size limit (ulimit -f; dale ignores
#     SIGXFSZ so write() fails with EFBIG) and, when this user may mount
#     one, on a nearly full 64 KiB tmpfs (ENOSPC): exit 1 and a message naming
#     the file; checkpoint.npz unchanged, no temp files left, and after the
#     space comes back the resume finishes with the uninterrupted final.npz.
# (c) Every command that reads a file, on corrupt, truncated and hostile
#     files (and every file in fuzz/regress/): `dale diagnose` (NPY, NPZ,
#     CSV), `dale data verify` (IDX), `dale train --config` (JSON: deep
#     nesting, huge numbers, wrong types, a 10 MB string), `dale eval` (a run
#     with a damaged final.npz).  Each must exit 1 (2 for --config, which
#     dale treats as part of the command line) with a message naming the
#     file, never a signal (exit >= 128) and never a hang (timeout 20 s).
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
SRC=$(cd "$(dirname "$0")/.." && pwd)
KILLS=${DALE_CRASH_KILLS:-25}

RUN=(--quiet --model dann --hidden 64 --adding-n 4000 --epochs 10 --eval-every 6 --checkpoint-every 4)

# ------------------------------------------------------------ (a) SIGKILL
A=$T/uninterrupted
t0=$(now_ms)
dale train "${RUN[@]}" --out "$A"
ms=$(($(now_ms) - t0))
if [ "$RC" -ne 0 ]; then fail "uninterrupted run" "exit $RC: $(err1)"; lib_finish; fi
total=$(json_get "$A/result.json" updates)
ok "uninterrupted run: $total updates in $ms ms"

killed=0 pieces=0 restarts=0 completed=0 same=0 stale=0 run_no=1
B=$T/killed1
maxdelay=$((ms / 3))
[ "$maxdelay" -lt 60 ] && maxdelay=60
# check_completed — compare a finished B with A, then start a new B
check_completed() {
    completed=$((completed + 1))
    if cmp -s "$A/final.npz" "$B/final.npz" && cmp -s "$A/metrics.csv" "$B/metrics.csv" &&
       [ "$(json_get "$B/result.json" updates)" = "$total" ]; then
        same=$((same + 1))
    else
        fail "killed run $run_no" "final.npz/metrics.csv differ from the uninterrupted run's ($(cmp "$A/final.npz" "$B/final.npz" 2>&1 | head -n 1))"
    fi
    stale=$((stale + $(find "$B" -name '*.tmp.*' | wc -l)))
    run_no=$((run_no + 1))
    B=$T/killed$run_no
}
while [ "$killed" -lt "$KILLS" ] && [ "$pieces" -lt $((KILLS * 4)) ]; do
    pieces=$((pieces + 1))
    if [ -f "$B/checkpoint.npz" ]; then
        "$DALE" train --quiet --resume --out "$B" >"$T/out" 2>"$T/err" &
    else
        [ -d "$B" ] && restarts=$((restarts + 1))
        "$DALE" train "${RUN[@]}" --out "$B" >"$T/out" 2>"$T/err" &
    fi
    pid=$!
    delay=$((5 + RANDOM % maxdelay))
    sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    if [ "$rc" -eq 137 ]; then
        killed=$((killed + 1))
    elif [ "$rc" -eq 0 ]; then
        check_completed
    else
        fail "piece $pieces (run $run_no)" "exit $rc: $(err1)"
        break
    fi
done
# finish the last run
if [ -d "$B" ]; then
    if [ -f "$B/checkpoint.npz" ]; then dale train --quiet --resume --out "$B"
    else dale train "${RUN[@]}" --out "$B"; fi
    if [ "$RC" -ne 0 ]; then fail "final resume of run $run_no" "exit $RC: $(err1)"
    else check_completed; fi
fi
note="$killed kills landed mid-run in $pieces pieces ($restarts restarts before a first checkpoint); $completed runs completed"
if [ "$killed" -ge "$KILLS" ] && [ "$same" -eq "$completed" ]; then
    ok "SIGKILL: $note, every final.npz byte-identical to the uninterrupted run's"
elif [ "$killed" -lt "$KILLS" ]; then
    fail "SIGKILL" "only $note (want $KILLS kills)"
fi
# a resume removes the temp files a killed writer left behind
if [ "$stale" -eq 0 ]; then ok "SIGKILL: no temp files left in completed run dirs"
else fail "SIGKILL: temp files" "$stale stale temp file(s) left in completed run dirs"; fi
echo "kills survived: $killed"

# The update-0 checkpoint (written before the first shuffle) is the same
# bytes every time and resumes: its batch order once came from
# uninitialised memory (found by valgrind).
dale train "${RUN[@]}" --max-updates 0 --out "$T/zero1"
dale train "${RUN[@]}" --max-updates 0 --out "$T/zero2"
# (state.wall, the wall time so far, differs between any two runs)
diffm=$(npz_diff_members "$T/zero1/checkpoint.npz" "$T/zero2/checkpoint.npz")
if [ "$diffm" = "state.wall " ]; then ok "update-0 checkpoint.npz is reproducible (all members but state.wall)"
else fail "update-0 checkpoint.npz is reproducible" "members differ: '$diffm'"; fi
lift_max_updates "$T/zero1"
dale train --quiet --resume --out "$T/zero1"
if [ "$RC" -eq 0 ] && cmp -s "$A/final.npz" "$T/zero1/final.npz"; then ok "resume from the update-0 checkpoint"
else fail "resume from the update-0 checkpoint" "exit $RC: $(err1)"; fi

# ---------------------------------------------------------- (b) disk full
# A run stopped at 12 updates, then resumed with too little room for the
# next checkpoint.
SMALL=(--quiet --model dann --hidden 64 --adding-n 4000 --epochs 2 --eval-every 6 --checkpoint-every 6)
A2=$T/full-ref
dale train "${SMALL[@]}" --out "$A2"
[ "$RC" -eq 0 ] || fail "disk full: reference run" "exit $RC: $(err1)"

# disk_full_case WHAT DIR — DIR holds a run stopped at 12 updates; the
# caller has arranged for writes to fail.  Runs the resume via "$@".
expect_disk_full() {
    local what=$1 dir=$2
    if [ "$RC" -ne 1 ]; then fail "$what: exit" "exit $RC, want 1 (stderr: $(err1))"; return; fi
    ok "$what: exit 1"
    if grep -q -e 'checkpoint.npz\|metrics.csv\|result.json\|config.json' "$T/err"; then
        ok "$what: message names the file: $(head -n 1 "$T/err" | cut -c1-160)"
    else fail "$what: message" "$(err1)"; fi
    if cmp -s "$dir/checkpoint.npz" "$T/ckpt.saved"; then ok "$what: checkpoint.npz unchanged"
    else fail "$what: checkpoint.npz" "changed or missing"; fi
    if [ -z "$(find "$dir" -name '*.tmp.*' -o -name '*.npz.*')" ]; then ok "$what: no temp files left"
    else fail "$what: temp files left" "$(find "$dir" -name '*.tmp.*' -o -name '*.npz.*' | tr '\n' ' ')"; fi
}
expect_resume_recovers() {
    local what=$1 dir=$2
    dale train --quiet --resume --out "$dir"
    if [ "$RC" -ne 0 ]; then fail "$what: resume after space is freed" "exit $RC: $(err1)"; return; fi
    if cmp -s "$A2/final.npz" "$dir/final.npz"; then ok "$what: resume after space is freed gives the uninterrupted final.npz"
    else fail "$what: resume after space is freed" "final.npz differs"; fi
}

D1=$T/fsize
dale train "${SMALL[@]}" --max-updates 12 --out "$D1"
lift_max_updates "$D1"
cp "$D1/checkpoint.npz" "$T/ckpt.saved"
size_kb=$(($(stat -c %s "$D1/checkpoint.npz") / 1024))
# ulimit -f counts KiB here; half the checkpoint leaves room for the small files
( ulimit -f $((size_kb / 2)); exec "$DALE" train --quiet --resume --out "$D1" ) >"$T/out" 2>"$T/err"
RC=$?
expect_disk_full "file-size limit (ulimit -f $((size_kb / 2)))" "$D1"
if grep -q '"status": "failed"' "$D1/result.json" 2>/dev/null; then ok "file-size limit: result.json says failed"
else fail "file-size limit: result.json" "$(cat "$D1/result.json" 2>/dev/null | head -n 3 | tr '\n' ' ')"; fi
expect_resume_recovers "file-size limit" "$D1"

MNT=$T/tmpfs
mkdir -p "$MNT"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=256k tmpfs "$MNT" 2>/dev/null; then
    trap 'umount "$MNT" 2>/dev/null; rm -rf "$T"' EXIT
    D2=$MNT/run
    dale train "${SMALL[@]}" --max-updates 12 --out "$D2"
    lift_max_updates "$D2"
    cp "$D2/checkpoint.npz" "$T/ckpt.saved"
    # fill the rest, leaving less than one checkpoint free
    avail=$(df -B1 --output=avail "$MNT" | tail -n 1)
    left=$((size_kb * 1024 / 2))
    dd if=/dev/zero of="$MNT/filler" bs=4096 count=$(((avail - left) / 4096)) 2>/dev/null
    dale train --quiet --resume --out "$D2"
    expect_disk_full "full tmpfs (ENOSPC, $(df -B1 --output=avail "$MNT" | tail -n 1) bytes free)" "$D2"
    rm -f "$MNT/filler"
    expect_resume_recovers "full tmpfs" "$D2"
    umount "$MNT" 2>/dev/null
else
    skip "full tmpfs" "cannot mount a tmpfs here (needs root); the file-size limit covers write errors"
fi

# ------------------------------------------------------ (c) hostile files
# expect_clean_refusal WHAT FILE CODE ARGS... — exit CODE, FILE named, no signal, no hang
expect_clean_refusal() {
    local what=$1 file=$2 want=$3
    shift 3
    timeout 20 "$DALE" "$@" >"$T/out" 2>"$T/err"
    RC=$?
    if [ "$RC" -eq 124 ]; then fail "$what" "hang (killed after 20 s)"
    elif [ "$RC" -ge 128 ]; then fail "$what" "killed by signal $((RC - 128)): $(err1)"
    elif [ "$RC" -ne "$want" ]; then fail "$what" "exit $RC, want $want: $(err1)"
    elif ! grep -q -F -e "$file" "$T/err"; then fail "$what" "message does not name $file: $(err1)"
    elif grep -q -e 'AddressSanitizer\|runtime error' "$T/err"; then fail "$what" "sanitizer report: $(err1)"
    else ok "$what"
    fi
}

H=$T/hostile
mkdir -p "$H"
cp "$A/final.npz" "$H/good.npz"
head -c 100 "$A/final.npz" >"$H/trunc.npz"
head -c 3000 "$A/final.npz" >"$H/trunc_mid.npz"
: >"$H/empty.npz"
head -c 4096 /dev/urandom >"$H/random.npz"
printf 'PK\003\004not really a zip' >"$H/fake.npz"
printf '\223NUMPY\001\000\377\377{' >"$H/trunc.npy"
printf '\223NUMPY\001\000\106\000{"descr": "<f4", "fortran_order": False, "shape": (99999999999, 99999999999), }\n' >"$H/huge.npy"
head -c 2048 /dev/urandom >"$H/random.npy"
printf '1,2\n3\n' >"$H/ragged.csv"
printf '1,nan\n2,3\n' >"$H/nan.csv"
printf 'a,b\n1,2\n' >"$H/text.csv"
printf '1e999,0\n0,1\n' >"$H/overflow.csv"
head -c 1000000 /dev/zero | tr '\0' '1' >"$H/longline.csv"
for f in trunc.npz trunc_mid.npz empty.npz random.npz fake.npz trunc.npy huge.npy random.npy \
         ragged.csv nan.csv text.csv overflow.csv longline.csv; do
    expect_clean_refusal "diagnose $f" "$H/$f" 1 diagnose "$H/$f"
done
for f in "$SRC"/fuzz/regress/npy/* "$SRC"/fuzz/regress/npz/*; do
    [ -f "$f" ] && expect_clean_refusal "diagnose fuzz/regress/${f#"$SRC"/fuzz/regress/}" "$f" 1 diagnose "$f"
done

# IDX for dale data verify
printf '\000\000\010\003\000\000\000\012\000\000\000\034\000\000\000\034abc' >"$H/trunc-idx3-ubyte"
printf 'hello' | gzip -c | head -c 15 >"$H/trunc-idx3-ubyte.gz"
printf '\037\213\010\000garbagegarbage' >"$H/garbage.gz"
printf '\000\000\010\001\000\000\000\002ab' >"$H/unknown-idx1-ubyte"
for f in trunc-idx3-ubyte trunc-idx3-ubyte.gz garbage.gz unknown-idx1-ubyte; do
    expect_clean_refusal "data verify $f" "$H/$f" 1 data verify "$H/$f"
done
for f in "$SRC"/fuzz/regress/idx/*; do
    [ -f "$f" ] && expect_clean_refusal "data verify fuzz/regress/${f#"$SRC"/fuzz/regress/}" "$f" 1 data verify "$f"
done

# hostile JSON for dale train --config
awk 'BEGIN { printf "{\"a\": "; for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; print "}" }' >"$H/deep.json"
printf '{"hidden": 1e999999}' >"$H/hugenum.json"
printf '{"hidden": 123456789012345678901234567890}' >"$H/bigint.json"
printf '{"seed": -1}' >"$H/negseed.json"
printf '{"model": ["rnn"], "hidden": {"a": 1}}' >"$H/types.json"
printf '{"lr": "fast"}' >"$H/lrtext.json"
{ printf '{"model": "'; head -c 10000000 /dev/zero | tr '\0' 'x'; printf '"}'; } >"$H/bigstring.json"
printf '{"task": "adding", "model": "rnn"' >"$H/truncated.json"
printf '\357\273\277\000\000' >"$H/binary.json"
for f in deep.json hugenum.json bigint.json negseed.json types.json lrtext.json bigstring.json truncated.json binary.json; do
    expect_clean_refusal "train --config $f" "$H/$f" 2 train --config "$H/$f" --out "$H/run-$f"
done
for f in "$SRC"/fuzz/regress/config/*; do
    [ -f "$f" ] && expect_clean_refusal "train --config fuzz/regress/${f#"$SRC"/fuzz/regress/}" "$f" 2 train --config "$f" --out "$H/run-x"
done

# dale eval on a run whose final.npz is damaged
for f in trunc.npz trunc_mid.npz empty.npz random.npz fake.npz; do
    R=$H/eval-$f
    mkdir -p "$R"
    cp "$A/config.json" "$R/"
    cp "$H/$f" "$R/final.npz"
    expect_clean_refusal "eval with final.npz = $f" "$R/final.npz" 1 eval "$R"
done
# a final.npz of another model
R=$H/eval-othermodel
mkdir -p "$R"
cp "$A/config.json" "$R/"
dale train --quiet --model colei --hidden 64 --adding-n 4000 --max-updates 0 --out "$H/colei"
cp "$H/colei/final.npz" "$R/final.npz"
expect_clean_refusal "eval with a final.npz of another model" "$R/final.npz" 1 eval "$R"

lib_finish
