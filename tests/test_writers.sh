#!/usr/bin/env bash
# test_writers.sh BUILD_DIR — one writer per run directory.
#
# A second `dale train --resume` on a run that is training is refused at
# once (the run's lock) and the first run ends exactly as an undisturbed
# run; four `dale sweep --jobs 2` processes started together on one sweep,
# three times over, all exit 0, and every run is trained exactly once (its
# log shows one start, its metrics.csv has no repeated rows, the store holds
# each run once).
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
cd "$T" || exit 1

# --- two dale train on one directory
A=(--quiet --adding-n 2000 --hidden 40 --epochs 60 --eval-every 50)
"$DALE" train "${A[@]}" --out ref >/dev/null 2>&1
"$DALE" train "${A[@]}" --out run >/dev/null 2>"$T/first.err" & first=$!
for _ in $(seq 100); do [ -f run/checkpoint.npz ] && break; sleep 0.05; done
dale train --resume --out run
if [ "$RC" -ne 0 ] && grep -q "being written by another dale process" "$T/err"; then
    ok "a second writer (--resume) is refused while the run trains"
else
    fail "second writer refused" "exit $RC: $(err1)"
fi
dale train "${A[@]}" --force --out run
if [ "$RC" -ne 0 ] && grep -q "being written by another dale process" "$T/err" && [ ! -e run.old-1 ]; then
    ok "--force does not move a run that is being written"
else
    fail "--force on a live run" "exit $RC, $(ls -d run* | tr '\n' ' '): $(err1)"
fi
wait "$first"; rc1=$?
[ "$rc1" -eq 0 ] && ok "the first writer finishes (exit 0)" || fail "first writer" "exit $rc1: $(head -c 200 "$T/first.err")"
expect_npz_same "its final.npz is the undisturbed run's" ref/final.npz run/final.npz
expect_same_file "its metrics.csv is the undisturbed run's" ref/metrics.csv run/metrics.csv

# --- concurrent sweep processes on one sweep
cat >conc.json <<'J'
{"name": "conc", "base": {"task": "adding", "adding_n": 400, "adding_test": 100, "epochs": 3, "eval_every": 5},
 "runs": [{"label": "RNN", "model": "rnn"}, {"label": "DANN", "model": "dann"}],
 "axes": {"seed": [0, 1, 2, 3, 4]}}
J
for trial in 1 2 3; do
    rm -rf "sw$trial"
    pids=()
    for w in 1 2 3 4; do
        "$DALE" sweep conc.json --out "sw$trial" --jobs 2 --quiet >"w$trial.$w.out" 2>&1 & pids+=($!)
    done
    bad=0
    for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
    [ "$bad" -eq 0 ] && ok "trial $trial: 4 sweep processes all exit 0" ||
        fail "trial $trial exits" "$bad non-zero: $(cat "w$trial".*.out | grep -v '^\[' | head -n 3 | tr '\n' ' ')"
    nruns=$(ls -d "sw$trial"/runs/*/ | wc -l)
    once=1
    for d in "sw$trial"/runs/*/; do
        rows=$(($(wc -l <"$d/metrics.csv") - 1))
        uniq_rows=$(tail -n +2 "$d/metrics.csv" | cut -d, -f1 | sort -u | wc -l)
        [ "$rows" -eq "$uniq_rows" ] && [ "$(json_get "$d/result.json" status)" = ok ] || once=0
    done
    [ "$nruns" -eq 10 ] && [ "$once" -eq 1 ] && ok "trial $trial: 10 runs, each finished once (no repeated metrics rows)" ||
        fail "trial $trial runs" "$nruns runs, once=$once"
    n=$("$DALE" results "sw$trial" --csv 2>/dev/null | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "n") c = i; next } { s += $c } END { print s + 0 }')
    [ "$n" = 10 ] && ok "trial $trial: the store counts 10 runs" || fail "trial $trial store" "n = $n"
done

# --- SIGKILL of the sweep parent while its workers train and store results
cat >kill.json <<'J'
{"name": "kill", "base": {"task": "adding", "adding_n": 1000, "adding_test": 100, "hidden": 30, "epochs": 20, "eval_every": 10},
 "runs": [{"label": "RNN", "model": "rnn"}, {"label": "DANN", "model": "dann"}],
 "axes": {"seed": [0, 1, 2]}}
J
"$DALE" sweep kill.json --out ks --jobs 2 --quiet >/dev/null 2>&1 & parent=$!
for _ in $(seq 200); do
    [ "$(ls ks/runs/*/result.json 2>/dev/null | wc -l)" -ge 1 ] && break
    sleep 0.05
done
kill -9 "$parent" 2>/dev/null
wait "$parent" 2>/dev/null
sleep 1 # the workers get SIGTERM from the kernel when the parent dies and keep a checkpoint
left=$(pgrep -f "dale train.* ($(pwd)/)?ks/runs/" | wc -l) # this test's workers only, not another sweep's
[ "$left" -eq 0 ] && ok "no worker outlives a SIGKILLed sweep parent" || fail "orphan workers" "$left still running"
dale sweep kill.json --out ks --jobs 2 --quiet
[ "$RC" -eq 0 ] && ok "the sweep run again after the SIGKILL exits 0" || fail "rerun after SIGKILL" "exit $RC: $(err1)"
n=$("$DALE" results ks --csv 2>/dev/null | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "n") c = i; next } { s += $c } END { print s + 0 }')
[ "$n" = 6 ] && ok "the store counts all 6 runs once" || fail "store after SIGKILL" "n = $n"
"$DALE" sweep kill.json --out ks-ref --jobs 2 --quiet >/dev/null 2>&1
same=1
for d in ks-ref/runs/*/; do
    id=$(basename "$d")
    npz_same "$d/final.npz" "ks/runs/$id/final.npz" || same=0
done
[ "$same" -eq 1 ] && ok "every run ends as in an uninterrupted sweep (final.npz)" || fail "runs after SIGKILL" "final.npz differ"
lib_finish
