#!/usr/bin/env bash
# test_resume.sh BUILD_DIR — checkpoints and `dale train --resume`.
#
# A run that is stopped and resumed must end exactly where the uninterrupted
# run ends: the same final.npz (member data; see lib.sh for zip timestamps)
# and a byte-identical metrics.csv.  Stops are made three ways:
#   * --max-updates K, then config.json's max_updates lifted to -1 (the
#     budget is part of the run's config and --resume refuses flags);
#   * SIGKILL at random-ish moments, several times in a row;
#   * a run killed after its last checkpoint but before final.npz.
# Then damaged checkpoints and misuse of --resume.
# Adding task, 2000 sequences: 1000 training samples, 16 minibatches of 64
# per epoch (the last holds 40), so 3 epochs are 48 updates.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"

BASE=(--quiet --adding-n 2000 --epochs 3 --eval-every 10)
TOTAL=48

# expect_same_result WHAT DIR_A DIR_B — result.json equal but for wall_s
expect_same_result() {
    local d
    d=$(diff <(grep -v '"wall_s"' "$2/result.json") <(grep -v '"wall_s"' "$3/result.json") 2>&1)
    if [ -z "$d" ]; then ok "$1"; else fail "$1" "$(echo "$d" | head -n 8 | tr '\n' ' ')"; fi
}

# resume_case NAME K ARGS... — run A uninterrupted, run B stopped at K and
# resumed; compare.
resume_case() {
    local name=$1 k=$2
    shift 2
    local a=$T/${name}_A b=$T/${name}_B$k
    if [ ! -d "$a" ]; then
        dale train "${BASE[@]}" "$@" --out "$a"
        if [ "$RC" -ne 0 ]; then fail "$name uninterrupted run" "exit $RC: $(err1)"; return; fi
    fi
    dale train "${BASE[@]}" "$@" --max-updates "$k" --out "$b"
    if [ "$RC" -ne 0 ]; then fail "$name run stopped at $k" "exit $RC: $(err1)"; return; fi
    if [ "$(json_get "$b/result.json" updates)" != "$k" ]; then
        fail "$name --max-updates $k stops at $k" "result.json updates $(json_get "$b/result.json" updates)"
        return
    fi
    # the budget is the one option --resume may change (--max-updates -1: none)
    dale train --quiet --resume --max-updates -1 --out "$b"
    if [ "$RC" -ne 0 ]; then fail "$name resume from $k" "exit $RC: $(err1)"; return; fi
    json_expect "$name resume from $k: result.json updates $TOTAL" "$b/result.json" updates $TOTAL
    expect_npz_same "$name resume from $k: final.npz equals the uninterrupted run's" "$a/final.npz" "$b/final.npz"
    expect_same_file "$name resume from $k: metrics.csv equals the uninterrupted run's" "$a/metrics.csv" "$b/metrics.csv"
    expect_same_result "$name resume from $k: result.json equals the uninterrupted run's" "$a" "$b"
}

# K = 30: mid-epoch, on the evaluation grid; 32: an epoch boundary;
# 47: mid-epoch, off the grid (the stop writes an extra evaluation row).
for m in rnn colei dann; do
    for k in 30 32 47; do resume_case "$m" "$k" --model "$m"; done
done
# Sign memory (frozen signs) must come back from the checkpoint.
for k in 5 30 47; do resume_case rnn-signfreeze "$k" --model rnn --sign-freeze on; done
if npz_names "$T/rnn-signfreeze_B30/checkpoint.npz" | grep -qx state.signs; then
    ok "sign-freeze checkpoint holds state.signs"
else fail "sign-freeze checkpoint holds state.signs" "members: $(npz_names "$T/rnn-signfreeze_B30/checkpoint.npz" | tr '\n' ' ')"; fi
# Checkpoints off the evaluation grid, and a 2-layer net with a dense layer.
resume_case dann-deep 25 --model dann --layers 2 --dense 6 --checkpoint-every 7 --seed 4

# A run killed after its last checkpoint but before final.npz and
# result.json (simulated by deleting them) finishes on resume exactly as the
# uninterrupted run; with the total of 48 updates off the evaluation grid
# (eval-every 10, which adds a closing evaluation) and on it (eval-every 16).
dale train --quiet --adding-n 2000 --epochs 3 --eval-every 16 --out "$T/grid16_A"
for a in "$T/rnn_A" "$T/colei_A" "$T/grid16_A"; do
    name=$(basename "$a" _A)
    c=$T/${name}_again
    cp -r "$a" "$c"
    rm -f "$c/final.npz" "$c/result.json"
    dale train --quiet --resume --out "$c"
    if [ "$RC" -ne 0 ]; then fail "$name resume after the last checkpoint" "exit $RC: $(err1)"; continue; fi
    expect_npz_same "$name resume after the last checkpoint: final.npz equal" "$a/final.npz" "$c/final.npz"
    expect_same_file "$name resume after the last checkpoint: metrics.csv equal" "$a/metrics.csv" "$c/metrics.csv"
    expect_same_result "$name resume after the last checkpoint: result.json equal" "$a" "$c"
done
# Resuming a finished run changes nothing.
cp -r "$T/grid16_A" "$T/grid16_done"
dale train --quiet --resume --out "$T/grid16_done"
if [ "$RC" -eq 0 ]; then ok "resume of a finished run exits 0"; else fail "resume of a finished run" "exit $RC: $(err1)"; fi
expect_npz_same "resume of a finished run: final.npz unchanged" "$T/grid16_A/final.npz" "$T/grid16_done/final.npz"
expect_same_file "resume of a finished run: metrics.csv unchanged" "$T/grid16_A/metrics.csv" "$T/grid16_done/metrics.csv"
expect_same_result "resume of a finished run: result.json unchanged" "$T/grid16_A" "$T/grid16_done"

# ------------------------------------------------------- SIGKILL, resume
# kill_case NAME ARGS... — uninterrupted run, then the same run SIGKILLed at
# fractions of the uninterrupted wall time, resumed and killed again, then
# resumed to the end.
kill_case() {
    local name=$1
    shift
    local a=$T/kill_${name}_A b=$T/kill_${name}_B t0 ms
    t0=$(now_ms)
    dale train --quiet "$@" --out "$a"
    ms=$(($(now_ms) - t0))
    if [ "$RC" -ne 0 ]; then fail "kill $name: uninterrupted run" "exit $RC: $(err1)"; return; fi
    local total killed=0 fresh=0 pct pid rc delay
    total=$(json_get "$a/result.json" updates)
    for pct in 15 20 10 25 15; do
        delay=$((ms * pct / 100))
        [ "$delay" -lt 50 ] && delay=50
        if [ -f "$b/checkpoint.npz" ]; then
            "$DALE" train --quiet --resume --out "$b" >"$T/out" 2>"$T/err" &
        else # killed before its first checkpoint: start again
            [ -d "$b" ] && fresh=$((fresh + 1))
            "$DALE" train --quiet "$@" --out "$b" >"$T/out" 2>"$T/err" &
        fi
        pid=$!
        sleep "$(awk -v d="$delay" 'BEGIN { printf "%.3f", d / 1000 }')"
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        rc=$?
        if [ "$rc" -eq 137 ]; then killed=$((killed + 1))
        elif [ "$rc" -ne 0 ]; then fail "kill $name: interrupted piece" "exit $rc: $(err1)"; return
        fi
    done
    if [ -f "$b/checkpoint.npz" ]; then dale train --quiet --resume --out "$b"
    else dale train --quiet "$@" --out "$b"; fi
    if [ "$RC" -ne 0 ]; then fail "kill $name: final resume" "exit $RC: $(err1)"; return; fi
    local note="$killed of 5 pieces killed mid-run, ${ms} ms uninterrupted"
    [ "$fresh" -gt 0 ] && note="$note, $fresh restarted before a first checkpoint"
    if [ "$killed" -eq 0 ]; then skip "kill $name: no piece was killed mid-run" "runs too fast here ($note)"; fi
    json_expect "kill $name: result.json updates $total ($note)" "$b/result.json" updates "$total"
    expect_npz_same "kill $name: final.npz equals the uninterrupted run's" "$a/final.npz" "$b/final.npz"
    expect_same_file "kill $name: metrics.csv equals the uninterrupted run's" "$a/metrics.csv" "$b/metrics.csv"
    expect_same_result "kill $name: result.json equals the uninterrupted run's" "$a" "$b"
}
kill_case rnn --model rnn --adding-n 2000 --epochs 300 --checkpoint-every 7 --seed 1
kill_case dann --model dann --adding-n 2000 --epochs 200 --sign-freeze on --seed 2

# ------------------------------------------------ damaged checkpoints
# A run stopped at 20 updates, copied and damaged several ways.
dale train "${BASE[@]}" --model colei --max-updates 20 --out "$T/dmg"
lift_max_updates "$T/dmg"
size=$(stat -c %s "$T/dmg/checkpoint.npz")
damage() { # damage WHAT COMMAND... — COMMAND damages $f (a fresh copy of the checkpoint)
    local what=$1 d=$T/dmg_$2
    shift 2
    rm -rf "$d"
    cp -r "$T/dmg" "$d"
    f=$d/checkpoint.npz
    "$@"
    expect_exit 1 "resume with $what -> exit 1 naming checkpoint.npz" "checkpoint.npz" train --quiet --resume --out "$d"
    if [ "$(json_get "$d/result.json" status)" = failed ]; then ok "resume with $what: result.json says failed"
    else fail "resume with $what: result.json says failed" "status '$(json_get "$d/result.json" status)'"; fi
}
truncate100() { head -c 100 "$f" >"$f.x" && mv "$f.x" "$f"; }
truncate_half() { head -c $((size / 2)) "$f" >"$f.x" && mv "$f.x" "$f"; }
truncate_tail() { head -c $((size - 10)) "$f" >"$f.x" && mv "$f.x" "$f"; }
overwrite_at() { printf 'XXXXXXXXXXXXXXXX' | dd of="$f" bs=1 seek="$1" conv=notrunc status=none; }
garbage() { head -c "$size" /dev/urandom >"$f"; }
empty() { : >"$f"; }
damage "a checkpoint cut to 100 bytes" cut100 truncate100
damage "a checkpoint cut in half" cuthalf truncate_half
damage "a checkpoint missing its last 10 bytes" cuttail truncate_tail
damage "16 bytes overwritten at 1/4" ow1 overwrite_at $((size / 4))
damage "16 bytes overwritten in the middle" ow2 overwrite_at $((size / 2))
damage "16 bytes overwritten at 3/4" ow3 overwrite_at $((size * 3 / 4))
damage "a checkpoint of random bytes" garbage garbage
damage "an empty checkpoint" empty empty
damage "a missing checkpoint" missing rm -f "$T/dmg_missing/checkpoint.npz"
# A checkpoint of another network (config.json says hidden 12).
damage "a checkpoint that does not fit config.json" shape \
    sed -i 's/^\([[:space:]]*"hidden":[[:space:]]*\)[0-9]*/\112/' "$T/dmg_shape/config.json"
# Good checkpoint of another model
damage "a checkpoint of another model" model \
    sed -i 's/^\([[:space:]]*"model":[[:space:]]*\)"colei"/\1"dann"/' "$T/dmg_model/config.json"

# -------------------------------------------------- misuse of --resume
expect_exit 2 "--resume with another flag -> exit 2" "--resume" train --quiet --resume --out "$T/dmg" --seed 1
expect_exit 2 "--resume with --lr -> exit 2" "--resume" train --quiet --resume --lr 0.5 --out "$T/dmg"
expect_exit 2 "--resume with --config -> exit 2" "--resume" train --quiet --resume --config "$T/dmg/config.json" --out "$T/dmg"
expect_exit 2 "--resume without --out -> exit 2" "--out" train --quiet --resume
mkdir "$T/emptydir"
expect_exit 1 "--resume on a directory without config.json -> exit 1" "config.json" train --quiet --resume --out "$T/emptydir"
expect_exit 1 "--resume on a missing directory -> exit 1" "config.json" train --quiet --resume --out "$T/nodir"
if [ -e "$T/nodir" ]; then fail "--resume on a missing directory creates nothing" "$T/nodir exists"
else ok "--resume on a missing directory creates nothing"; fi

# A finished run continued for longer: --resume --epochs N equals a run made
# with N epochs from the start (same trajectory, the budget only moves the end).
dale train "${BASE[@]}" --model dann --epochs 5 --out "$T/long5"
dale train "${BASE[@]}" --model dann --out "$T/ext5"
dale train --quiet --resume --epochs 5 --out "$T/ext5"
if [ "$RC" -eq 0 ]; then
    json_expect "--resume --epochs 5 extends a finished run: epochs_done" "$T/ext5/result.json" epochs_done 5
    expect_npz_same "--resume --epochs 5: final.npz equals a 5-epoch run's" "$T/long5/final.npz" "$T/ext5/final.npz"
else
    fail "--resume --epochs 5" "exit $RC: $(err1)"
fi

lib_finish
