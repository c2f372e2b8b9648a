#!/usr/bin/env bash
# test_slurm.sh — dale sweep on a real one-node Slurm (tests/cluster/local-slurm.sh):
# a sweep submitted as a job array with --submit, --runs-per-task and
# --array-max gives the same final.npz per run id as a local dale sweep and
# one store row per run; an array task cancelled with scancel while its run
# holds the run lock leaves that run resumable (not done, no store row, no
# failure recorded) and a re-submission covers only what is not finished,
# after which every run is finished exactly once.  Also dale sweep status on
# a local sweep: pending -> done, a failed run, a held lock shows running,
# a live and a stale claim.
#
# Needs root and Slurm's daemons (scripts/install-deps.sh installs them): when
# the cluster cannot start the test FAILS, unless DALE_SKIP_CLUSTER=1.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$T" || exit 1
t_start=$(now_ms)

cat >tiny.json <<'J'
{"name": "tiny", "base": {"task": "adding", "adding_n": 300, "adding_test": 100, "max_updates": 20, "eval_every": 10},
 "runs": [{"label": "RNN", "model": "rnn"}, {"label": "ColEI", "model": "colei"}],
 "axes": {"seed": [0, 1, 2]}}
J

# --- dale sweep status on a local sweep (no Slurm needed) -------------------
dale sweep status nosuch
[ "$RC" -eq 1 ] && ok "status of a directory that is no sweep: exit 1" || fail "status nosuch" "rc $RC"
dale sweep status --help
for o in --json --summary --no-squeue --timeout; do
    grep -q -- "$o" "$T/out" || fail "status --help lists $o" "$(head -c 200 "$T/out")"
done
grep -q "default 30" "$T/out" && ok "status --help lists its options with defaults" || fail "status --help" "no default"
dale sweep tiny.json --out st --slurm
dale sweep status st
grep -q '^sweep st: 6 runs: 0 done, 0 diverged, 0 failed, 0 invalid, 0 running, 6 pending$' "$T/out" \
    && ok "status: 6 pending before anything ran" || fail "status pending" "$(head -n 1 "$T/out")"
dale sweep tiny.json --out st --jobs 2 --quiet
dale sweep status st --no-squeue
grep -q ' 6 done, 0 diverged, 0 failed, 0 invalid, 0 running, 0 pending$' "$T/out" && grep -q '^store: 6 rows' "$T/out" \
    && ok "status: 6 done and 6 store rows after the sweep" || fail "status done" "$(head -n 2 "$T/out" | tr '\n' '|')"
ids=($(awk 'NR > 1 {print $1}' st/slurm/pending.txt; head -n 1 st/slurm/pending.txt))
a=${ids[0]} b=${ids[1]} c=${ids[2]}
# a failed run (the result a crashed run leaves), a held lock, claims
printf '{\n  "status": "failed",\n  "reason": "killed by signal 9"\n}\n' >"st/runs/$a/result.json"
for r in "$b" "$c"; do printf '{\n  "status": "failed",\n  "reason": "x"\n}\n' >"st/runs/$r/result.json"; done
if [ -x /usr/bin/python3 ]; then # hold an fcntl lock on the run's lock file, as a running run does
    /usr/bin/python3 -c 'import fcntl,sys,time; f=open(sys.argv[1],"r+"); fcntl.lockf(f, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(60)' \
        "st/runs/$b/lock" >holder.out &
    hp=$!
    for _ in $(seq 50); do grep -q locked holder.out 2>/dev/null && break; sleep 0.1; done
fi
sleep 600 &
live=$!
printf 'host=%s pid=%s time=%s\n' "$(hostname)" "$live" "$(date +%s)" >"st/runs/$c/claim"
gone=$(bash -c 'echo $$')
d=${ids[3]}
printf 'host=%s pid=%s time=%s\n' "$(hostname)" "$gone" "$(date +%s)" >"st/runs/$d/claim"
dale sweep status st
grep -q "^$a .* failed .*killed by signal 9" "$T/out" && ok "status: a failed run with its reason" \
    || fail "status failed" "$(grep "^$a" "$T/out")"
if [ -n "${hp:-}" ]; then
    grep -q "^$b .* running .*lock held by pid $hp" "$T/out" && ok "status: a run whose lock is held is running, with the holder's pid" \
        || fail "status lock" "$(grep "^$b" "$T/out")"
    grep -q locked holder.out && kill -0 "$hp" && ok "status leaves the holder's lock alone" || fail "holder" "gone"
    kill "$hp"; wait "$hp" 2>/dev/null
fi
grep -q "^$c .* running .*claimed by $(hostname) pid $live" "$T/out" && ok "status: a live claim shows running with host and pid" \
    || fail "status claim" "$(grep "^$c" "$T/out")"
grep -q "^$d .* done .*stale claim of $(hostname) pid $gone" "$T/out" && ok "status: a claim of a dead process is stale" \
    || fail "status stale claim" "$(grep "^$d" "$T/out")"
rm "st/runs/$d/result.json"
dale sweep status st --json
grep -q "\"pending\":[[:space:]]*1" "$T/out" && grep -q '"stale":[[:space:]]*true' "$T/out" \
    && ok "status --json: the stale claim's run counts as pending" || fail "status json" "$(head -c 300 "$T/out")"
kill "$live"; wait "$live" 2>/dev/null

# --- the values the new Slurm options write are checked too ------------------
expect_exit 2 "a partition with a space is refused" "--partition" sweep tiny.json --out h1 --slurm --partition 'a b'
expect_exit 2 "a partition with \$(...) is refused" "--partition" sweep tiny.json --out h1 --slurm --partition '$(touch PWNED)'
expect_exit 2 "an account with a quote is refused" "--account" sweep tiny.json --out h1 --slurm --account "x'y"
expect_exit 2 "an account with a newline is refused" "control character" sweep tiny.json --out h1 --slurm --account $'a\nb'
expect_exit 2 "a time that is no time is refused" "--time" sweep tiny.json --out h1 --slurm --time '1:00;id'
expect_exit 2 "a memory size that is none is refused" "--mem" sweep tiny.json --out h1 --slurm --mem '4G $(id)'
expect_exit 2 "an #SBATCH line with a newline is refused" "control character" sweep tiny.json --out h1 --slurm \
    --sbatch-line $'--qos=x\necho PWNED'
expect_exit 2 "an #SBATCH line that is no option is refused" "not an sbatch option" sweep tiny.json --out h1 --slurm \
    --sbatch-line 'echo hi'
expect_exit 2 "a Slurm option without --slurm is refused" "needs --slurm" sweep tiny.json --out h1 --partition cpu
[ ! -e h1/slurm/sweep.sbatch ] && [ -z "$(find . -name 'PWNED*')" ] && ok "no script written for any of them, nothing ran" \
    || fail "refusals" "a script was written"
dale sweep tiny.json --out h2 --slurm --partition 'cpu,gpu-a' --account 'lab@x' --time 1-02:03:04 --mem 3G \
    --sbatch-line '#SBATCH --qos="long run"' --sbatch-line '--comment=a$(b)`c`' --cpus-per-task 2 --array-max 4 \
    --runs-per-task 4 --requeue
s=h2/slurm/sweep.sbatch
if [ "$RC" -eq 0 ] && grep -qx '#SBATCH --partition=cpu,gpu-a' $s && grep -qx '#SBATCH --account=lab@x' $s \
    && grep -qx '#SBATCH --time=1-02:03:04' $s && grep -qx '#SBATCH --mem=3G' $s && grep -qx '#SBATCH --qos="long run"' $s \
    && grep -qx '#SBATCH --comment=a$(b)`c`' $s && grep -qx '#SBATCH --cpus-per-task=2' $s \
    && grep -qx '#SBATCH --array=0-1%4' $s && grep -qx '#SBATCH --requeue' $s && bash -n $s; then
    ok "every Slurm option reaches its #SBATCH line (2 tasks of 4 runs, %4 throttle)"
else fail "Slurm options" "rc $RC $(err1) $(grep '^#SBATCH' $s 2>/dev/null | tr '\n' '|')"; fi
dale sweep tiny.json --out h3 --slurm --time 90 --mem auto
grep -qx '#SBATCH --time=90' h3/slurm/sweep.sbatch && grep -qx '#SBATCH --mem=[0-9]*M' h3/slurm/sweep.sbatch \
    && ok "--time in minutes as given, --mem auto in MiB" || fail "time/mem" "$(grep -E 'time|mem' h3/slurm/sweep.sbatch)"

# --- the real cluster --------------------------------------------------------
if [ "${DALE_SKIP_CLUSTER:-0}" = 1 ]; then
    skip "Slurm cluster tests" "DALE_SKIP_CLUSTER=1"
    lib_finish
fi
export DALE_SLURM_DIR=/tmp/dale-slurm-test.$$
export DALE_SLURM_PORT=$((20000 + (RANDOM % 10000) * 2))
export DALE_SLURM_CPUS=6 # several array tasks at once on a small machine
LS=$here/tests/cluster/local-slurm.sh
trap 'timeout 60 bash "$LS" stop >/dev/null 2>&1; rm -rf "$DALE_SLURM_DIR" "$T"' EXIT
if ! timeout 60 bash "$LS" start >slurm-start.out 2>&1; then
    fail "a one-node Slurm starts" "$(tail -n 3 slurm-start.out | tr '\n' ' ') (DALE_SKIP_CLUSTER=1 skips this)"
    lib_finish
fi
ok "a one-node Slurm starts ($(($(now_ms) - t_start)) ms into the test)"
export SLURM_CONF=$DALE_SLURM_DIR/etc/slurm.conf

# job_done ID — squeue no longer lists the job (every task ended)
job_done() { [ -z "$(timeout 10 squeue -h -j "$1" -o %i 2>/dev/null)" ]; }
# wait_job ID SECONDS
wait_job() {
    local end=$((SECONDS + $2))
    while ! job_done "$1"; do
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.3
    done
}
jobid() { sed -n 's/^submitted job \([0-9]*\) .*/\1/p' "$T/out"; }
rows() { sqlite3 "$1/results.sqlite" "SELECT COUNT(*) || ' ' || COUNT(DISTINCT id) FROM runs WHERE status = 'ok'"; }

# 1. six short runs, two per task, at most three tasks at once
dale sweep tiny.json --out sl --slurm --submit --runs-per-task 2 --array-max 3
j1=$(jobid)
[ "$RC" -eq 0 ] && [ -n "$j1" ] && grep -q "^$j1 [0-9]* 3 " sl/slurm/jobs.txt && ok "--submit: job $j1 of 3 tasks recorded in jobs.txt" \
    || fail "submit" "rc $RC $(cat "$T/out") $(err1)"
grep -qx '#SBATCH --array=0-2%3' sl/slurm/sweep.sbatch && ok "array 0-2 with the %3 throttle" || fail "array line" "$(grep array sl/slurm/sweep.sbatch)"
cp sl/slurm/sweep.sbatch "$T/first.sbatch"
if wait_job "$j1" 60; then ok "the array ran to its end"; else fail "array ended" "$(timeout 10 squeue 2>&1 | tail -n 3)"; fi
[ "$(rows sl)" = "6 6" ] && ok "the store has each of the 6 runs once, ok" || fail "store rows" "$(rows sl)"
dale sweep tiny.json --out local --jobs 2 --quiet
same=0
for id in $(ls local/runs); do cmp -s "local/runs/$id/final.npz" "sl/runs/$id/final.npz" && same=$((same + 1)); done
[ "$same" -eq 6 ] && ok "final.npz of every run equals the local sweep's, byte for byte" || fail "npz equal" "$same of 6"
dale sweep status sl
grep -q ' 6 done, ' "$T/out" && grep -q "^slurm: 1 submission" "$T/out" && ok "status: 6 done; the submission is listed" \
    || fail "status slurm" "$(head -n 3 "$T/out" | tr '\n' '|')"
dale sweep tiny.json --out sl --slurm --submit
grep -q "nothing to submit" "$T/out" && [ "$(wc -l <sl/slurm/jobs.txt)" -eq 1 ] && ok "nothing pending: nothing submitted" \
    || fail "resubmit when done" "$(cat "$T/out")"

# 2. scancel one array task while its run holds the lock, then re-submit
cat >slow.json <<'J'
{"name": "slow", "base": {"task": "adding", "adding_n": 300, "adding_test": 100, "max_updates": 16000, "epochs": 4000,
 "eval_every": 1000, "checkpoint_every": 100}, "runs": [{"label": "RNN", "model": "rnn"}], "axes": {"seed": [0, 1, 2, 3]}}
J
dale sweep slow.json --out sw --slurm --submit --runs-per-task 2 --array-max 2
j2=$(jobid)
[ -n "$j2" ] && ok "slow sweep submitted (job $j2)" || fail "slow submit" "$(cat "$T/out") $(err1)"
mapfile -t pend <sw/slurm/pending.txt
victim="" task=""
end=$((SECONDS + 40))
while [ -z "$victim" ] && [ "$SECONDS" -lt "$end" ]; do
    for k in "${!pend[@]}"; do
        r=sw/runs/${pend[$k]}
        # its lock is held and it has a checkpoint: cancel the task mid-run
        if [ -f "$r/checkpoint.npz" ] && [ ! -f "$r/result.json" ] && \
            timeout 10 "$DALE" sweep status sw --no-squeue | grep -q "^${pend[$k]} .* running .*lock held"; then
            victim=${pend[$k]} task=$((k / 2)); break
        fi
    done
    sleep 0.2
done
if [ -n "$victim" ]; then
    timeout 20 scancel "${j2}_$task"
    ok "scancel ${j2}_$task while run $victim holds its lock"
    tend=$((SECONDS + 30))
    while [ -n "$(timeout 10 squeue -h -j "${j2}_$task" -o %i 2>/dev/null)" ] && [ "$SECONDS" -lt "$tend" ]; do sleep 0.3; done
    dale sweep status sw --no-squeue
    if grep -q "^$victim .* pending .*resumes from its checkpoint" "$T/out" && [ ! -f "sw/runs/$victim/result.json" ] \
        && [ "$(sqlite3 sw/results.sqlite "SELECT COUNT(*) FROM runs WHERE id = '$victim'")" = 0 ]; then
        ok "the cancelled run is pending with its checkpoint: no result.json, no store row"
    else fail "cancelled run" "$(grep "^$victim" "$T/out") result: $(cat "sw/runs/$victim/result.json" 2>/dev/null)"; fi
else
    fail "a run of the slow sweep held its lock within 40 s" "$(timeout 10 squeue 2>&1 | tail -n 3)"
fi
wait_job "$j2" 90 || fail "the slow array ended" "$(timeout 10 squeue 2>&1 | tail -n 3)"
dale sweep slow.json --out sw --slurm --submit --runs-per-task 2
j3=$(jobid)
npend=$(wc -l <sw/slurm/pending.txt)
[ -n "$j3" ] && [ "$npend" -ge 1 ] && [ "$npend" -lt 4 ] && grep -qx "$victim" sw/slurm/pending.txt \
    && ok "re-submission (job $j3) covers only the $npend unfinished run(s), the cancelled one among them" \
    || fail "re-submit" "$npend pending, job '$j3' $(err1)"
wait_job "$j3" 90 || fail "the re-submitted array ended" "$(timeout 10 squeue 2>&1 | tail -n 3)"
[ "$(rows sw)" = "4 4" ] && [ "$(sqlite3 sw/results.sqlite 'SELECT COUNT(*) FROM runs')" = 4 ] \
    && ok "every run finished exactly once: 4 store rows, 4 distinct ids, all ok" || fail "exactly once" "$(rows sw)"
dale sweep status sw --json
grep -q '"done":[[:space:]]*4' "$T/out" && grep -q '"submissions":[[:space:]]*2' "$T/out" \
    && ok "status --json: 4 done, 2 submissions" || fail "status json" "$(head -c 400 "$T/out")"
if [ -n "$victim" ]; then
    dale sweep slow.json --out ref --jobs 1 --quiet --only "$victim"
    cmp -s "ref/runs/$victim/final.npz" "sw/runs/$victim/final.npz" \
        && ok "the cancelled and resumed run's final.npz equals an uninterrupted local run's" || fail "resumed npz" "differs"
fi
echo "sbatch script of the test sweep:"; sed 's/^/    /' "$T/first.sbatch"
ok "test_slurm.sh took $(($(now_ms) - t_start)) ms"
lib_finish
