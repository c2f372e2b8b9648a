#!/usr/bin/env bash
# test_overwrite.sh — `dale train --out DIR` never overwrites what DIR holds:
#   * a finished run of another config, of the same config, an interrupted
#     run (SIGKILL) and a directory of other files are refused (exit 1) with
#     a message naming the run and the ways on, and every file in DIR is
#     byte-identical afterwards;
#   * --force moves DIR aside to DIR.old-N (old files byte-identical there)
#     and trains afresh in DIR; --resume still continues an interrupted run;
#   * a start of the same config that never reached its first checkpoint
#     (what a sweep and a killed run leave) starts again;
#   * SIGINT / SIGTERM: the run stops after an update with its checkpoint
#     there, prints the resume command (the path quoted for a shell), exits
#     130 / 143, and the resumed run equals the uninterrupted one;
#   * non-TTY progress: "no clipping", the closing line's epochs those of
#     result.json, no line printed twice, a rate that is never "0 upd/s";
#   * `dale data get kjv` keeps a copy that matches its manifest (a local
#     fixture; a fake `bible` on PATH records whether a rebuild was tried).
# Usage: tests/test_overwrite.sh BUILD_DIR
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
export OPENBLAS_NUM_THREADS=1
cd "$T" || exit 1

SMALL=(--task adding --adding-n 2000 --max-updates 12 --eval-every 5 --checkpoint-every 5)

# snapshot DIR NAME — a copy of DIR (with its file list) to compare against.
snapshot() { rm -rf "$T/snap-$2"; cp -a "$1" "$T/snap-$2"; }
# unchanged WHAT DIR NAME — DIR holds exactly the snapshot's files, byte for byte.
unchanged() {
    local f bad=""
    if [ "$(cd "$2" && ls -A | sort)" != "$(cd "$T/snap-$3" && ls -A | sort)" ]; then
        fail "$1" "the file list of $2 changed: $(cd "$2" && ls -A | tr '\n' ' ')"
        return
    fi
    for f in "$T/snap-$3"/*; do
        cmp -s "$f" "$2/$(basename "$f")" || bad="$bad $(basename "$f")"
    done
    if [ -z "$bad" ]; then ok "$1"; else fail "$1" "changed:$bad"; fi
}
# says WHAT PATTERN — stderr of the last command has PATTERN (fixed string).
says() {
    if grep -q -F -e "$2" "$T/err"; then ok "$1"; else fail "$1" "no '$2' in: $(err1)"; fi
}
lacks() {
    if grep -q -F -e "$2" "$T/err"; then fail "$1" "'$2' in: $(err1)"; else ok "$1"; fi
}

# --- a finished run of another config --------------------------------------------------
dale train --quiet "${SMALL[@]}" --model colei --seed 1 --out fin
[ "$RC" -eq 0 ] || fail "set-up: colei run" "exit $RC: $(err1)"
snapshot fin fin
expect_exit 1 "another config over a finished run: refused" "--out fin already holds a finished run (status ok, 12 updates" \
    train --quiet "${SMALL[@]}" --model rnn --seed 1 --out fin
says "the message names task, model and seed of the run there" "task adding, model colei, seed 1"
says "the message says how the config differs" 'model is "colei" there, "rnn" here'
says "the message offers another --out" "--out ANOTHER_DIR"
says "the message offers --force and where it moves the run" "move fin aside to fin.old-N"
lacks "no --resume offered for another config" "--resume"
unchanged "another config: every file of the finished run byte-identical" fin fin
dale train "${SMALL[@]}" --model rnn --seed 1 --out fin # not quiet: refused all the same
[ "$RC" -eq 1 ] && ok "refused without --quiet too" || fail "refused without --quiet" "exit $RC"
unchanged "... and the run still byte-identical" fin fin

# --- the same config, finished ----------------------------------------------------------
expect_exit 1 "the same config over its finished run: refused" "already holds a finished run" \
    train --quiet "${SMALL[@]}" --model colei --seed 1 --out fin
says "same config: --resume offered" "dale train --resume --out 'fin'"
unchanged "same config: every file byte-identical" fin fin
expect_exit 1 "a larger budget: refused, resume with it offered" "dale train --resume --out 'fin' --max-updates 20" \
    train --quiet "${SMALL[@]}" --model colei --seed 1 --max-updates 20 --out fin
says "... saying the budget differs" "max_updates is 12 there, 20 here"
unchanged "larger budget: every file byte-identical" fin fin

# --- an interrupted run (SIGKILL) ----------------------------------------------------------
LONG=(--task adding --model rnn --adding-n 2000 --epochs 300 --checkpoint-every 7 --seed 3)
"$DALE" train --quiet "${LONG[@]}" --out int >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
    [ -f int/checkpoint.npz ] && [ "$(wc -l 2>/dev/null <int/metrics.csv || echo 0)" -ge 3 ] && break
    sleep 0.02
done
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
if [ -f int/result.json ]; then
    skip "interrupted run" "it finished before the kill"
else
    snapshot int int
    expect_exit 1 "the same config over an interrupted run: refused" "already holds a run interrupted at update" \
        train --quiet "${LONG[@]}" --out int
    says "interrupted: --resume offered" "dale train --resume --out 'int'"
    unchanged "interrupted, same config: every file byte-identical" int int
    expect_exit 1 "another config over an interrupted run: refused" "interrupted at update" \
        train --quiet "${LONG[@]}" --lr 0.05 --out int
    unchanged "interrupted, another config: every file byte-identical" int int
    dale train --quiet --resume --out int
    json_expect "--resume still continues the interrupted run" int/result.json status ok
fi

# --- other files, empty directories ------------------------------------------------------
mkdir -p notes && echo hi >notes/a.txt && echo ho >notes/b.txt && : >notes/.hidden
snapshot notes notes
expect_exit 1 "a directory of other files: refused" "3 files that are not a run's: .hidden, a.txt, b.txt" \
    train --quiet "${SMALL[@]}" --model rnn --out notes
unchanged "other files: byte-identical" notes notes
mkdir empty
dale train --quiet "${SMALL[@]}" --model rnn --out empty
[ "$RC" -eq 0 ] && [ -f empty/final.npz ] && ok "an empty directory is trained into" || fail "empty dir" "exit $RC: $(err1)"
printf 'x\n' >afile
expect_exit 1 "--out naming a file: refused" "a file, not a directory" train --quiet "${SMALL[@]}" --model rnn --out afile

# --- a start that never reached its first checkpoint starts again ------------------------
dale train --quiet "${SMALL[@]}" --model dann --out restart
rm -f restart/checkpoint.npz restart/final.npz restart/result.json
dale train --quiet "${SMALL[@]}" --model dann --out restart
[ "$RC" -eq 0 ] && ok "the same config without a checkpoint starts again (as sweeps and killed runs need)" \
    || fail "restart" "exit $RC: $(err1)"
echo '{"status": "failed", "reason": "no data"}' >restart/result.json
rm -f restart/checkpoint.npz restart/final.npz
dale train --quiet "${SMALL[@]}" --model dann --out restart
[ "$RC" -eq 0 ] && ok "... also after a failure before it" || fail "restart after failure" "exit $RC: $(err1)"
echo '{"status": "failed", "reason": "no data"}' >restart/result.json
rm -f restart/checkpoint.npz restart/final.npz
dale train --quiet "${SMALL[@]}" --model rnn --out restart
[ "$RC" -eq 0 ] && ok "another config over a failure before any checkpoint: starts (nothing was trained)" \
    || fail "another config after a failure" "exit $RC: $(err1)"
rm -f restart/checkpoint.npz restart/final.npz restart/result.json
expect_exit 1 "another config over a start without a result (perhaps still loading): refused" \
    "a run that stopped before its first checkpoint" train --quiet "${SMALL[@]}" --model dann --out restart

# --- --force -------------------------------------------------------------------------------
dale train --quiet "${SMALL[@]}" --model rnn --seed 1 --out fin --force
[ "$RC" -eq 0 ] && ok "--force trains" || fail "--force" "exit $RC: $(err1)"
says "--force says where the old run went" "moved to fin.old-1"
unchanged "--force: the old run byte-identical in fin.old-1" fin.old-1 fin
json_expect "--force: a new run of the new config in fin" fin/config.json model rnn
json_expect "--force: ... finished" fin/result.json status ok
dale train --quiet "${SMALL[@]}" --model rnn --seed 2 --out fin/ --force
[ "$RC" -eq 0 ] && [ -d fin.old-2 ] && [ ! -e fin/.old-1 ] && ok "a second --force (--out with a slash) takes fin.old-2" \
    || fail "second --force" "exit $RC: $(ls -d fin* | tr '\n' ' ')"
json_expect "... the first stays in fin.old-1" fin.old-1/config.json model colei
expect_exit 2 "--resume with --force: usage error" "give one" train --resume --force --out fin

# --- SIGINT / SIGTERM ---------------------------------------------------------------------
SIG=(--task adding --model dann --adding-n 2000 --epochs 60 --checkpoint-every 9 --seed 4)
dale train --quiet "${SIG[@]}" --out whole
[ "$RC" -eq 0 ] || fail "set-up: uninterrupted run" "exit $RC: $(err1)"
# sigcase NAME SIGNAL WANT_RC — a run stopped by SIGNAL, then resumed
sigcase() {
    local name=$1 d="$T/sig $1 it's" q rc
    "$DALE" train --quiet "${SIG[@]}" --out "$d" >"$T/out" 2>"$T/err" &
    local pid=$!
    for _ in $(seq 1 300); do
        [ "$(wc -l 2>/dev/null <"$d/metrics.csv" || echo 0)" -ge 3 ] && break
        sleep 0.02
    done
    kill "-$2" $pid
    wait $pid
    rc=$?
    if [ -f "$d/result.json" ]; then # about 2000 updates; the signal comes near update 20
        fail "$name" "the run went on to the end after the signal (exit $rc)"
        return
    fi
    [ "$rc" -eq "$3" ] && ok "$1: exit $3" || fail "$1: exit status" "$rc, want $3 ($(err1))"
    q="'$T/sig $1 it'\\''s'"
    local n
    n=$(sed -n 's/.*interrupted at update \([0-9]*\); the checkpoint at update \([0-9]*\) is kept.*/\1 \2/p' "$T/err")
    if [ -n "$n" ] && [ "${n% *}" = "${n#* }" ] && grep -q -F -e "continue with: dale train --resume --out $q" "$T/err"
    then ok "$1: says the update, the checkpoint kept and the resume command (path quoted)"
    else fail "$1: message" "$(err1)"; fi
    # the command as printed, run by a shell, resumes the run
    local cmd
    cmd=$(sed -n 's/.*continue with: dale train \(.*\)$/\1/p' "$T/err")
    eval "set -- $cmd"
    dale train --quiet "$@"
    [ "$RC" -eq 0 ] || fail "$name: resume with the printed command" "exit $RC: $(err1)"
    expect_npz_same "$name: the resumed final.npz equals the uninterrupted run's" whole/final.npz "$d/final.npz"
    expect_same_file "$name: metrics.csv equals the uninterrupted run's" whole/metrics.csv "$d/metrics.csv"
}
sigcase SIGINT INT 130
sigcase SIGTERM TERM 143

# --- non-TTY progress ---------------------------------------------------------------------
"$DALE" train "${SMALL[@]}" --model rnn --out prog >"$T/out" 2>"$T/err"
says "no clipping said as such" "no clipping"
lacks "... not as clip 0" "clip 0"
ep=$(json_get prog/result.json epochs_done)
says "the closing line's epochs are result.json's ($ep)" "epochs done $ep/"
dups=$(grep -v '^ ' "$T/err" | grep -v '^[{}]' | sort | uniq -d)
[ -z "$dups" ] && ok "no progress line printed twice" || fail "a line printed twice" "$dups"
"$DALE" train "${SMALL[@]}" --model colei --out prog2 >"$T/out" 2>"$T/err"
says "clipping named with its scope" "clip 7 (tensor)"
# slow updates: one update whose run takes over a second shows s/upd, not 0 upd/s
"$DALE" train --task adding --model rnn --max-updates 1 --adding-n 200000 --adding-test 100000 --hidden 100 \
    --spectra off --out slow >"$T/out" 2>"$T/err"
w=$(json_get slow/result.json wall_s)
lacks "a slow run's rate is never 0 upd/s" " 0 upd/s"
if awk -v w="$w" 'BEGIN { exit !(w > 1.2) }'; then says "a run slower than 1 upd/s shows s/upd ($w s)" " s/upd"
elif grep -q -E '^done: .* ([0-9]+\.[0-9] upd/s|[0-9.]+ s/upd)' "$T/err"; then
    ok "a run of under 10 upd/s shows decimals or s/upd ($w s)"
else fail "slow rate" "neither s/upd nor a rate with decimals ($w s): $(grep '^done' "$T/err")"; fi

# --- dale data get kjv keeps a verified copy -------------------------------------------------
mkdir -p data/kjv fakebin
printf 'in the beginning\n' >data/kjv/ptb.train.txt
printf 'god created\n' >data/kjv/ptb.valid.txt
printf 'the heaven\n' >data/kjv/ptb.test.txt
{ echo "# dale data get kjv: a test fixture"; (cd data/kjv && sha256sum ptb.train.txt ptb.valid.txt ptb.test.txt); } \
    >data/kjv/manifest.txt
printf '#!/bin/sh\necho called >>"%s/bible.called"\nexit 3\n' "$T" >fakebin/bible
chmod +x fakebin/bible
snapshot data/kjv kjv
PATH="$T/fakebin:$PATH" dale data get kjv --data data
[ "$RC" -eq 0 ] && [ ! -e bible.called ] && ok "data get kjv: a verified copy is kept, nothing rebuilt" \
    || fail "data get kjv keeps its copy" "exit $RC, bible called: $([ -e bible.called ] && echo yes || echo no): $(err1)"
says "... and says so" "already in place and verified"
unchanged "... its files unchanged" data/kjv kjv
echo extra >>data/kjv/ptb.test.txt
PATH="$T/fakebin:$PATH" dale data get kjv --data data
[ -e bible.called ] && ok "data get kjv: a copy that fails its manifest is rebuilt" || fail "kjv rebuild" "bible not called: $(err1)"

lib_finish
