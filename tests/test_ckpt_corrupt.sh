#!/usr/bin/env bash
# test_ckpt_corrupt.sh BUILD_DIR — checkpoints that are well-formed NPZ
# files but hold a state the trainer could never have written.
#
# A run stopped at 20 updates (adding, 16 minibatches per epoch: epoch 1,
# batch 4) has one member of its checkpoint rewritten (by the helper
# build/tests/test_ckpt_corrupt, through the library's NPZ reader and
# writer); `dale train --resume` must then exit 1 within seconds naming the
# member, and leave checkpoint.npz and metrics.csv as they were.  An all-zero
# generator state used to hang the resume at 100 % CPU in the shuffle (deaf
# to SIGTERM: the stop flag is read between updates, hence timeout -s KILL); the
# others were accepted and trained on.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
EDIT=$(dirname "$DALE")/tests/test_ckpt_corrupt
if [ ! -x "$EDIT" ]; then
    fail "setup" "$EDIT is not built (make all)"
    lib_finish
fi

BASE=(--quiet --adding-n 2000 --epochs 3 --eval-every 10 --max-updates 20)
dale train "${BASE[@]}" --model colei --out "$T/good"
[ "$RC" -eq 0 ] || fail "setup: colei run" "exit $RC: $(err1)"
lift_max_updates "$T/good"
dale train "${BASE[@]}" --model rnn --sign-freeze on --out "$T/sf"
[ "$RC" -eq 0 ] || fail "setup: sign-freeze run" "exit $RC: $(err1)"
lift_max_updates "$T/sf"

# corrupt WHAT SRC MEMBER [INDEX VALUE]... — a copy of run SRC whose
# checkpoint has MEMBER's elements set (pairs INDEX VALUE, applied in order).
corrupt() {
    local what=$1 src=$2 member=$3 d=$T/c$((++NC))
    shift 3
    cp -r "$T/$src" "$d"
    while [ $# -ge 2 ]; do
        if ! "$EDIT" set "$d/checkpoint.npz" "$d/x.npz" "$member" "$1" "$2" 2>"$T/err"; then
            fail "$what: rewrite" "$(err1)"
            return
        fi
        mv "$d/x.npz" "$d/checkpoint.npz"
        shift 2
    done
    cp "$d/checkpoint.npz" "$d/ckpt.before"
    cp "$d/metrics.csv" "$d/metrics.before"
    local t0 ms
    t0=$(now_ms)
    timeout -s KILL 60 "$DALE" train --quiet --resume --out "$d" >"$T/out" 2>"$T/err"
    RC=$?
    ms=$(($(now_ms) - t0))
    if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
        fail "$what: resume refused" "still running after 60 s (killed)"
    elif [ "$RC" -ne 1 ]; then
        fail "$what: resume refused" "exit $RC, want 1 (stderr: $(err1))"
    elif ! grep -q -F "corrupt checkpoint: member '$member'" "$T/err"; then
        fail "$what: resume refused" "stderr does not name member '$member' (stderr: $(err1))"
    else
        ok "$what: resume exits 1 naming '$member' (${ms} ms)"
    fi
    if cmp -s "$d/checkpoint.npz" "$d/ckpt.before" && cmp -s "$d/metrics.csv" "$d/metrics.before"; then
        ok "$what: checkpoint.npz and metrics.csv unchanged"
    else
        fail "$what: checkpoint.npz and metrics.csv unchanged" "a file changed"
    fi
}
NC=0

# The good copy resumes (the rewrite itself damages nothing).
cp -r "$T/good" "$T/good2"
"$EDIT" set "$T/good/checkpoint.npz" "$T/good2/checkpoint.npz" state.lr 0 0.001 2>"$T/err" ||
    fail "rewrite of a good checkpoint" "$(err1)"
dale train --quiet --resume --out "$T/good2"
if [ "$RC" -eq 0 ]; then ok "a rewritten good checkpoint resumes"; else fail "a rewritten good checkpoint resumes" "exit $RC: $(err1)"; fi

corrupt "all-zero generator state" good state.rng all 0
corrupt "generator cache flag 5" good state.rng_cache 0 5
corrupt "cached normal nan" good state.rng_cache 1 nan
corrupt "lr nan" good state.lr 0 nan
corrupt "lr inf" good state.lr 0 inf
corrupt "lr negative" good state.lr 0 -0.01
corrupt "lr zero" good state.lr 0 0
corrupt "wall time nan" good state.wall 0 nan
corrupt "wall time negative" good state.wall 0 -5
corrupt "negative epoch" good state.counters 0 -1
corrupt "batch index = batches per epoch" good state.counters 1 16
corrupt "updates beyond epoch and batch" good state.counters 2 999
corrupt "negative updates" good state.counters 2 -1
corrupt "epoch near the int64 limit" good state.counters 0 9223372036854775807
corrupt "batch order with a duplicate index" good state.perm 0 0 1 0
corrupt "batch order with an index out of range" good state.perm 7 1000
corrupt "infinite loss in the ring" good state.ring 0 inf
corrupt "sign memory holding 2" sf state.signs 3 2
corrupt "sign memory holding nan" sf state.signs 0 nan
corrupt "a nan weight" good out.b 0 nan
corrupt "an infinite weight" good cell0.W_pos 5 -inf
corrupt "a negative sign-constrained weight" good cell0.W_pos 0 -0.5

# Only a checkpoint that failed to load earns the "start again" hint.
cp -r "$T/good" "$T/hint1"
"$EDIT" set "$T/good/checkpoint.npz" "$T/hint1/checkpoint.npz" state.lr 0 nan 2>/dev/null
expect_exit 1 "a corrupt checkpoint: the hint says it may be damaged" "checkpoint may be damaged" \
    train --quiet --resume --out "$T/hint1"

# ------------------------------------------------------------ appends
# metrics.csv replaced by a symbolic link: refused, the link's target untouched.
cp -r "$T/good" "$T/link"
cp "$T/good/metrics.csv" "$T/target.csv"
cp "$T/target.csv" "$T/target.before"
rm "$T/link/metrics.csv"
ln -s "$T/target.csv" "$T/link/metrics.csv"
expect_exit 1 "metrics.csv a symbolic link: resume refused" "symbolic link" train --quiet --resume --out "$T/link"
if cmp -s "$T/target.csv" "$T/target.before" && [ -L "$T/link/metrics.csv" ]; then
    ok "metrics.csv a symbolic link: its target unchanged"
else fail "metrics.csv a symbolic link: its target unchanged" "target or link changed"; fi
grep -q "checkpoint is intact" "$T/err" && ok "metrics.csv a symbolic link: the hint says the checkpoint is intact" ||
    fail "metrics.csv a symbolic link: the hint says the checkpoint is intact" "$(err1)"

# metrics.csv made a directory (a write error that works as root too): the
# hint keeps the run (the checkpoint is intact), never "start again".
cp -r "$T/good" "$T/mdir"
rm "$T/mdir/metrics.csv"
mkdir "$T/mdir/metrics.csv"
cp "$T/mdir/checkpoint.npz" "$T/mdir.ckpt"
expect_exit 1 "metrics.csv a directory: the hint says the checkpoint is intact" "checkpoint is intact" \
    train --quiet --resume --out "$T/mdir"
if grep -q "may be damaged" "$T/err"; then fail "metrics.csv a directory: no 'start again' hint" "$(err1)"
else ok "metrics.csv a directory: no 'start again' hint"; fi
cmp -s "$T/mdir/checkpoint.npz" "$T/mdir.ckpt" && ok "metrics.csv a directory: checkpoint unchanged" ||
    fail "metrics.csv a directory: checkpoint unchanged" "it changed"

# A torn last row is dropped on resume: the resumed metrics.csv equals an
# uninterrupted run's.  "10" without a newline is row 100 cut short (it
# would parse as update 10); "20,1,0.5" has a newline but too few fields.
dale train --quiet --adding-n 2000 --epochs 3 --eval-every 10 --model colei --out "$T/full"
[ "$RC" -eq 0 ] || fail "setup: uninterrupted run" "exit $RC: $(err1)"
for torn in '10' $'20,1,0.5\n'; do
    rm -rf "$T/torn"
    cp -r "$T/good" "$T/torn"
    printf '%s' "$torn" >>"$T/torn/metrics.csv"
    dale train --quiet --resume --out "$T/torn"
    name="a torn last row '$(printf '%s' "$torn" | tr '\n' '$')'"
    if [ "$RC" -ne 0 ]; then fail "$name: resume" "exit $RC: $(err1)"; continue; fi
    expect_same_file "$name is dropped on resume: metrics.csv equals the uninterrupted run's" \
        "$T/full/metrics.csv" "$T/torn/metrics.csv"
done

lib_finish
