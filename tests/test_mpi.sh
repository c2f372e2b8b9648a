#!/usr/bin/env bash
# test_mpi.sh — sweeps shared out on demand: `dale sweep --mpi` under a real
# mpirun (2 ranks, 4 oversubscribed, 3 with a rank killed), with one run's
# training process killed mid-run, and `dale sweep --claim` processes sharing
# one sweep through claim files.  Every run must be recorded exactly once and
# its final.npz must equal a local `dale sweep --jobs 1` of the same spec.
#
# Needs mpicc and mpirun (Open MPI; scripts/install-deps.sh installs them) and
# a dale built with MPI: without them the test FAILS, unless
# DALE_SKIP_CLUSTER=1 says to skip the MPI half.  Every launcher call runs
# under `timeout`.  Running as root, mpirun needs OMPI_ALLOW_RUN_AS_ROOT*:
# set here for the test only, never by dale.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$T" || exit 1
t_start=$(now_ms)

cat >spec.json <<'J'
{"name": "mpi", "base": {"task": "adding", "adding_n": 300, "adding_test": 100, "max_updates": 30, "eval_every": 10},
 "runs": [{"label": "slow", "model": "rnn", "hidden": 64, "adding_n": 3000, "max_updates": 800, "eval_every": 40},
          {"label": "RNN", "model": "rnn"}, {"label": "ColEI", "model": "colei"}, {"label": "DANN", "model": "dann"}],
 "axes": {"seed": [0, 1]}}
J

# --- helpers -----------------------------------------------------------------
ids() { awk 'NR > 1 {print $1}' ids.txt; }
# the member CRCs of a run's final.npz (the wall-clock member aside)
npz_crcs() { NAMES=1 zip_bytes "$1/final.npz" | grep -v '^state\.wall\.npy '; }
# same_as_local WHAT DIR — every run's final.npz in DIR equals the local sweep's
same_as_local() {
    local bad="" id
    for id in $(ids); do
        if [ ! -f "$2/runs/$id/final.npz" ] || [ "$(npz_crcs "$2/runs/$id")" != "$(npz_crcs local/runs/$id)" ]; then
            bad="$bad $id"
        fi
    done
    [ -z "$bad" ] && ok "$1: every final.npz equals the local sweep's (member CRCs)" || fail "$1" "differ:$bad"
}
# all_ok WHAT DIR — 8 runs, each result.json ok, 8 rows in the store, all ok
all_ok() {
    local n=0 id rows
    for id in $(ids); do [ "$(json_get "$2/runs/$id/result.json" status)" = ok ] && n=$((n + 1)); done
    rows=$(sqlite3 "$2/results.sqlite" "select count(*) || ' ' || count(distinct id) || ' ' || sum(status = 'ok') from runs;")
    [ "$n" -eq 8 ] && [ "$rows" = "8 8 8" ] && ok "$1: 8 runs ok, the store holds each once (rows, ids, ok: $rows)" \
        || fail "$1" "$n ok result.json; store rows/ids/ok: $rows"
}
# ran_once WHAT ERRFILE... — each run has exactly one progress line over the files
ran_once() {
    local what=$1 id c bad=""
    shift
    for id in $(ids); do
        c=$(cat "$@" | grep -c "^\[[0-9]*/[0-9]*\] $id ")
        [ "$c" -eq 1 ] || bad="$bad $id:$c"
    done
    [ -z "$bad" ] && ok "$what: every run ran exactly once" || fail "$what" "runs and times:$bad"
}
# mtimes DIR — result.json modification times of the finished runs
mtimes() { for f in "$1"/runs/*/result.json; do grep -q '"status": "ok"' "$f" && stat -c '%n %.9Y' "$f"; done; }
# train_pid DIR ID — the pid of the `dale train` process of run ID, or empty
train_pid() { ps -eo pid=,args= | awk -v d="$1/runs/$2" '$0 ~ / train / && index($0, d) {print $1; exit}'; }
# wait_ckpt DIR ID — until the run's training process runs and has checkpointed (10 s at most)
wait_ckpt() {
    local i
    for i in $(seq 1 200); do
        [ -f "$1/runs/$2/checkpoint.npz" ] && [ -n "$(train_pid "$1" "$2")" ] && return 0
        sleep 0.05
    done
    return 1
}

# --- the local reference -------------------------------------------------------
dale sweep spec.json --out local --dry-run
cp "$T/out" ids.txt
[ "$(ids | wc -l)" -eq 8 ] && ok "the spec has 8 runs" || fail "spec" "$(ids | wc -l) runs"
slow1=$(ids | sed -n 1p)
slow2=$(ids | sed -n 2p)
dale sweep spec.json --out local --jobs 1 --quiet
[ "$RC" -eq 0 ] && ok "local sweep --jobs 1" || fail "local sweep" "rc $RC $(err1)"

# --- claims, without MPI -------------------------------------------------------
# three processes on one sweep directory share its runs through claim files
t0=$(now_ms)
for k in 1 2 3; do "$DALE" sweep spec.json --out claim --claim >"c$k.out" 2>"c$k.err" & eval "p$k=\$!"; done
# while they run, a claim names its process: host=<hostname> pid=<pid> time=<unix seconds>
seen=""
for i in $(seq 1 100); do
    seen=$(cat claim/runs/*/claim 2>/dev/null | head -n 1)
    [ -n "$seen" ] && break
    sleep 0.05
done
if echo "$seen" | grep -q -E "^host=$(hostname) pid=($p1|$p2|$p3) time=[0-9]+$"; then ok "a claim file reads '$seen'"
else fail "claim file format" "'$seen'"; fi
rcs=""
for p in "$p1" "$p2" "$p3"; do wait "$p"; rcs="$rcs $?"; done
[ "$rcs" = " 0 0 0" ] && ok "3 concurrent --claim processes exit 0 ($(($(now_ms) - t0)) ms)" || fail "claim processes" "rcs$rcs"
ran_once "3 --claim processes" c1.err c2.err c3.err
busy=0
for k in 1 2 3; do grep -q '^\[' "c$k.err" && busy=$((busy + 1)); done
[ "$busy" -ge 2 ] && ok "the runs were shared: $busy of 3 processes ran some" || fail "claim sharing" "$busy processes ran runs"
all_ok "--claim" claim
same_as_local "--claim" claim
left=$(ls claim/runs/*/claim 2>/dev/null | wc -l)
[ "$left" -eq 0 ] && ok "no claim file is left once the runs are recorded" || fail "claims left" "$left"

# a stale claim (this host, a process that is gone) is taken over; a live
# process's claim is respected; another host's claim older than --claim-stale
# is taken over, a fresh one respected.  (The 4 short runs only.)
cat >short.json <<'J'
{"name": "mpi", "base": {"task": "adding", "adding_n": 300, "adding_test": 100, "max_updates": 30, "eval_every": 10},
 "runs": [{"label": "RNN", "model": "rnn"}, {"label": "ColEI", "model": "colei"}],
 "axes": {"seed": [0, 1]}}
J
dale sweep short.json --out stale --dry-run
sids=$(awk 'NR > 1 {print $1}' "$T/out")
r2=$(echo "$sids" | sed -n 1p)
r3=$(echo "$sids" | sed -n 2p)
r4=$(echo "$sids" | sed -n 3p)
r5=$(echo "$sids" | sed -n 4p)
[ "$(echo "$sids" | wc -l)" -eq 4 ] && [ "$r2" = "$(ids | sed -n 3p)" ] && ok "a spec of the 4 short runs (the same ids)" \
    || fail "short spec" "$sids"
mkdir -p stale/runs/"$r2" stale/runs/"$r3" stale/runs/"$r4" stale/runs/"$r5"
sleep 0 &
dead=$!
wait "$dead"
now=$(date +%s)
echo "host=$(hostname) pid=$dead time=$now" >"stale/runs/$r2/claim"
echo "host=$(hostname) pid=$$ time=$now" >"stale/runs/$r3/claim"
echo "host=elsewhere.example pid=1 time=$((now - 100))" >"stale/runs/$r4/claim"
echo "host=elsewhere.example pid=1 time=$now" >"stale/runs/$r5/claim"
dale sweep short.json --out stale --claim --claim-stale 50
grep -q "$r2: took over the stale claim of host $(hostname) pid $dead" "$T/err" \
    && [ "$(json_get "stale/runs/$r2/result.json" status)" = ok ] && [ ! -e "stale/runs/$r2/claim" ] \
    && ok "a claim of a dead process on this host is taken over and the run recorded" \
    || fail "dead claim" "rc $RC $(grep "$r2" "$T/err" | head -n 2)"
grep -q "$r3 is claimed by host $(hostname) pid $$" "$T/err" && [ ! -e "stale/runs/$r3/result.json" ] \
    && [ "$(cat "stale/runs/$r3/claim")" = "host=$(hostname) pid=$$ time=$now" ] \
    && ok "a live process's claim is respected (run not run, claim untouched)" || fail "live claim" "$(grep "$r3" "$T/err" | head -n 2)"
grep -q "$r4: took over the stale claim of host elsewhere.example" "$T/err" && [ "$(json_get "stale/runs/$r4/result.json" status)" = ok ] \
    && ok "another host's claim older than --claim-stale 50 is taken over" || fail "old claim" "$(grep "$r4" "$T/err" | head -n 2)"
grep -q "$r5 is claimed by host elsewhere.example" "$T/err" && [ ! -e "stale/runs/$r5/result.json" ] \
    && ok "another host's fresh claim is respected" || fail "fresh remote claim" "$(grep "$r5" "$T/err" | head -n 2)"
rm "stale/runs/$r3/claim" "stale/runs/$r5/claim"
dale sweep short.json --out stale --claim
grep -q '2 finished, 0 invalid, 2 to run' "$T/err" && [ "$RC" -eq 0 ] && ok "with those claims gone, a re-run takes the 2 runs left" \
    || fail "claim re-run" "rc $RC $(err1)"
bad=""
for id in $sids; do [ "$(npz_crcs "stale/runs/$id")" = "$(npz_crcs "local/runs/$id")" ] || bad="$bad $id"; done
[ -z "$bad" ] && ok "--claim with takeovers: final.npz equal to the local sweep's" || fail "takeover results" "differ:$bad"

# --- MPI ---------------------------------------------------------------------------
mpi_missing=""
command -v mpicc >/dev/null || mpi_missing="mpicc"
command -v mpirun >/dev/null || mpi_missing="$mpi_missing mpirun"
"$DALE" version | grep -q '^mpi: not built in' && mpi_missing="$mpi_missing dale-with-MPI (make MPI=1)"
if [ -n "$mpi_missing" ]; then
    if [ "${DALE_SKIP_CLUSTER:-0}" = 1 ]; then
        skip "MPI" "missing:$mpi_missing (DALE_SKIP_CLUSTER=1)"
    else
        fail "MPI" "missing:$mpi_missing: install openmpi-bin libopenmpi-dev (scripts/install-deps.sh) and rebuild, or set DALE_SKIP_CLUSTER=1"
    fi
    echo "test_mpi.sh: $(($(now_ms) - t_start)) ms"
    lib_finish
fi
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
# under `make asan`: Open MPI's own never-freed allocations are not dale's leaks
export LSAN_OPTIONS="suppressions=$here/tests/lsan-openmpi.supp:fast_unwind_on_malloc=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
MPIRUN=(timeout 60 mpirun --mca btl self,vader)

# the probe: a world of the size asked for, also oversubscribed
mpicc -O2 -Wall -Wextra -o mpi-hello "$here/tests/cluster/mpi-hello.c" 2>cc.err && ok "mpicc builds the probe" \
    || fail "mpicc" "$(head -c 300 cc.err)"
"${MPIRUN[@]}" --oversubscribe -n 4 ./mpi-hello 4 >h4.out 2>&1
[ $? -eq 0 ] && [ "$(grep -c 'of 4 on' h4.out)" -eq 4 ] && ok "mpirun -n 4 --oversubscribe: 4 ranks in a world of 4" \
    || fail "mpi-hello 4" "$(head -c 300 h4.out)"
./mpi-hello 2 >h1.out 2>&1
[ $? -ne 0 ] && grep -q 'world size 1, expected 2' h1.out && ok "the probe fails in a world of the wrong size" \
    || fail "probe size check" "$(head -c 300 h1.out)"

# dale checks the world size too
timeout 60 "$DALE" sweep spec.json --out wrong --mpi --mpi-size 3 >w.out 2>w.err
[ $? -eq 2 ] && grep -q -- '--mpi-size 3, but the MPI world has 1 rank' w.err && [ ! -e wrong/runs ] \
    && ok "--mpi-size 3 in a world of 1 fails before anything runs" || fail "--mpi-size" "$(head -c 300 w.err)"
OMPI_COMM_WORLD_SIZE=4 timeout 60 "$DALE" sweep spec.json --out wrong --mpi >w.out 2>w.err
[ $? -eq 2 ] && grep -q 'the launcher started 4 processes, but MPI says this world has 1 rank' w.err \
    && ok "a singleton whose launcher meant 4 ranks fails" || fail "singleton check" "$(head -c 300 w.err)"

# mpirun -n 2: rank 0 hands out, rank 1 runs everything
t0=$(now_ms)
"${MPIRUN[@]}" -n 2 "$DALE" sweep spec.json --out m2 --mpi --mpi-size 2 >m2.out 2>m2.err
rc=$?
[ $rc -eq 0 ] && grep -q 'MPI world of 2 ranks' m2.err && ok "mpirun -n 2: dale saw a world of 2 ($(($(now_ms) - t0)) ms)" \
    || fail "mpirun -n 2" "rc $rc $(head -c 400 m2.err)"
ran_once "mpirun -n 2" m2.err
all_ok "mpirun -n 2" m2
same_as_local "mpirun -n 2" m2

# mpirun -n 3: 2 workers; the training process of a slow run is SIGKILLed
# mid-run: its worker records it failed (killed by signal 9) and goes on;
# the same command again resumes it from its checkpoint
"${MPIRUN[@]}" --oversubscribe -n 3 "$DALE" sweep spec.json --out k3 --mpi --mpi-size 3 >k3.out 2>k3.err &
mp=$!
if wait_ckpt k3 "$slow1"; then kill -KILL "$(train_pid k3 "$slow1")"; killed=1; else killed=0; fi
wait $mp
rc=$?
[ "$killed" = 1 ] && ok "killed the training process of $slow1 after its first checkpoint" || fail "kill child" "no checkpoint/process seen"
[ $rc -eq 1 ] && grep -q 'MPI world of 3 ranks' k3.err && ok "mpirun -n 3: dale saw a world of 3; exit 1 (a run failed)" \
    || fail "mpirun -n 3" "rc $rc $(head -c 400 k3.err)"
grep -q "^\[[0-9]*/8\] $slow1 .*failed" k3.err && [ "$(json_get "k3/runs/$slow1/result.json" reason)" = "killed by signal 9" ] \
    && ok "the killed run is recorded failed: killed by signal 9" || fail "killed run" "$(grep "$slow1" k3.err | head -n 2)"
ran_once "mpirun -n 3 (first)" k3.err
mtimes k3 >k3.before
[ "$(wc -l <k3.before)" -eq 7 ] && ok "7 runs finished ok beside the killed one" || fail "finished" "$(wc -l <k3.before)"
"${MPIRUN[@]}" --oversubscribe -n 3 "$DALE" sweep spec.json --out k3 --mpi --mpi-size 3 >k3b.out 2>k3b.err
rc=$?
[ $rc -eq 0 ] && grep -q '7 finished, 0 invalid, 1 to run' k3b.err && ok "the same command again runs only the killed run" \
    || fail "mpirun -n 3 again" "rc $rc $(head -c 400 k3b.err)"
mtimes k3 | grep -v "/$slow1/" >k3.after
cmp -s k3.before k3.after && ok "nothing finished was run again (result.json untouched)" || fail "re-run touched finished runs" "$(diff k3.before k3.after | head -n 3)"
all_ok "mpirun -n 3 + killed run + re-run" k3
same_as_local "mpirun -n 3 + killed run + re-run" k3

# mpirun -n 4 (oversubscribed): 3 workers; the worker rank running a slow run
# is SIGKILLed once other runs have finished.  Open MPI ends the whole job
# then; the store and the run directories keep what finished, and the same
# command again finishes the rest
t0=$(now_ms)
"${MPIRUN[@]}" --oversubscribe -n 4 "$DALE" sweep spec.json --out m4 --mpi --mpi-size 4 >m4.out 2>m4.err &
mp=$!
rankpid=""
if wait_ckpt m4 "$slow1"; then
    # hold the slow run (SIGSTOP) so that it cannot finish while the others
    # do: on an idle machine its 800 updates take well under a second
    pid=$(train_pid m4 "$slow1")
    [ -n "$pid" ] && kill -STOP "$pid"
    for i in $(seq 1 200); do
        [ "$(grep -c '"status": "ok"' m4/runs/*/result.json 2>/dev/null | grep -c ':1$')" -ge 2 ] && break
        sleep 0.05
    done
    [ -n "$pid" ] && rankpid=$(ps -o ppid= -p "$pid" | tr -d ' ')
    [ -n "$rankpid" ] && kill -KILL "$rankpid"
    [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null # its parent's death signal (SIGTERM) then arrives
fi
wait $mp
rc=$?
grep -q 'MPI world of 4 ranks' m4.err && ok "mpirun -n 4 --oversubscribe: dale saw a world of 4" || fail "mpirun -n 4" "$(head -c 400 m4.err)"
[ -n "$rankpid" ] && [ $rc -ne 0 ] && ok "killed the worker rank running $slow1 (pid $rankpid): mpirun ends the job (exit $rc)" \
    || fail "kill rank" "pid '$rankpid' rc $rc $(tail -c 300 m4.err)"
ranks=$(grep '^\[' m4.err | grep -o 'rank [0-9]*' | sort -u | wc -l)
[ "$ranks" -ge 1 ] && ok "runs finished on $ranks worker(s) before the abort" || fail "workers" "$ranks"
sleep 0.3
mtimes m4 >m4.before
n_before=$(wc -l <m4.before)
rows=$(sqlite3 m4/results.sqlite "select count(*) from runs where status = 'ok';")
[ "$n_before" -ge 2 ] && [ "$n_before" -lt 8 ] && [ "$rows" -eq "$n_before" ] \
    && ok "after the abort: $n_before runs finished, each recorded in the store" \
    || fail "store after abort" "$rows ok rows for $n_before finished runs"
"${MPIRUN[@]}" --oversubscribe -n 4 "$DALE" sweep spec.json --out m4 --mpi --mpi-size 4 >m4b.out 2>m4b.err
rc=$?
[ $rc -eq 0 ] && grep -q "$n_before finished, 0 invalid, $((8 - n_before)) to run" m4b.err \
    && ok "the same command again runs only the $((8 - n_before)) unfinished runs ($(($(now_ms) - t0)) ms both)" \
    || fail "mpirun -n 4 again" "rc $rc $(head -c 400 m4b.err)"
ran_once "mpirun -n 4, abort and re-run" m4.err m4b.err
mtimes m4 | grep -F -f <(cut -d' ' -f1 m4.before) >m4.after
cmp -s m4.before m4.after && ok "nothing finished before the abort was run again" || fail "abort re-run" "$(diff m4.before m4.after | head -n 3)"
all_ok "mpirun -n 4 + killed rank + re-run" m4
same_as_local "mpirun -n 4 + killed rank + re-run" m4

# the same kill where the MPI keeps the job alive (Open MPI's
# orte_enable_recovery): rank 0 sees the run's lock free with no report for
# --mpi-lost seconds, takes the rank for dead and hands its run to the other
# worker, which resumes it; every run is recorded once and the job ends 0
"${MPIRUN[@]}" --mca orte_enable_recovery 1 --oversubscribe -n 3 "$DALE" sweep spec.json --out rq --mpi --mpi-size 3 \
    --mpi-lost 2 >rq.out 2>rq.err &
mp=$!
rankpid=""
if wait_ckpt rq "$slow1"; then
    pid=$(train_pid rq "$slow1")
    [ -n "$pid" ] && kill -STOP "$pid" # it cannot finish before its rank is killed
    [ -n "$pid" ] && rankpid=$(ps -o ppid= -p "$pid" | tr -d ' ')
    [ -n "$rankpid" ] && kill -KILL "$rankpid"
    [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null
fi
wait $mp
rc=$?
[ -n "$rankpid" ] && [ $rc -eq 0 ] && grep -q "rank [0-9] is lost (its run's lock free for 2 s, no report); $slow1 goes to another rank" rq.err \
    && ok "with recovery on, the killed rank is taken for lost and its run handed on (exit 0)" \
    || fail "lost rank" "pid '$rankpid' rc $rc $(grep -v '^\[' rq.err | tail -c 400)"
ran_once "recovery" rq.err
all_ok "recovery" rq
same_as_local "recovery" rq

echo "test_mpi.sh: $(($(now_ms) - t_start)) ms"
lib_finish
