#!/usr/bin/env bash
# test_sweep.sh — dale sweep / results / reproduce: expansion and stable ids,
# range axes, skip and resume, failures recorded, SIGKILL of the runner,
# the results store and its rebuild, statistics lines, Slurm script.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$T" || exit 1

cat >tiny.json <<'J'
{"name": "tiny", "base": {"task": "adding", "adding_n": 300, "adding_test": 100, "max_updates": 20, "eval_every": 10},
 "runs": [{"label": "RNN", "model": "rnn"}, {"label": "ColEI", "model": "colei"}],
 "axes": {"lr": [0.1, 0.05], "seed": [0, 1, 2]},
 "analysis": {"select": "val_loss", "test": "welch,mannwhitney", "vs": "label=ColEI", "corr": "nse0"}}
J

# --- expansion, stable ids -------------------------------------------------
dale sweep tiny.json --out s --dry-run
ids1=$(awk 'NR > 1 {print $1}' "$T/out" | sort)
n=$(echo "$ids1" | grep -c .)
[ "$RC" -eq 0 ] && [ "$n" -eq 12 ] && ok "dry run lists 12 runs" || fail "dry run" "rc $RC, $n runs"
[ ! -e s ] && ok "dry run writes nothing" || fail "dry run writes nothing" "s exists"
grep -q 'estimate' "$T/err" && ok "dry run prints a cost estimate" || fail "estimate" "$(err1)"
dale sweep tiny.json --out other --dry-run
ids2=$(awk 'NR > 1 {print $1}' "$T/out" | sort)
[ "$ids1" = "$ids2" ] && ok "ids do not depend on the sweep directory" || fail "ids stable" "differ"
# The id of adding/rnn/lr 0.1/seed 0 with this base, pinned: a change means
# every existing sweep would re-run.
echo "$ids1" | grep -q '^9c81d1694f823219$' && ok "pinned id unchanged" || fail "pinned id" "$(echo $ids1 | head -c 80)"
sed 's/"lr": \[0.1, 0.05\]/"lr": [0.05, 0.1]/' tiny.json >reordered.json
dale sweep reordered.json --out s --dry-run
[ "$(awk 'NR > 1 {print $1}' "$T/out" | sort)" = "$ids1" ] && ok "axis order does not change ids" || fail "axis order" "ids differ"

# --- range axes -------------------------------------------------------------
cat >range.json <<'J'
{"base": {"task": "adding", "adding_n": 200, "adding_test": 50, "max_updates": 0},
 "axes": {"lr": {"geomspace": [5e-2, 5e-4, 7]}, "rho": {"linspace": [1, 2, 3]}}}
J
dale sweep range.json --out r --jobs 2 --quiet
lrs=$(for f in r/runs/*/config.json; do json_get "$f" lr; done | sort -g | uniq | tr '\n' ' ')
[ "$lrs" = "0.0005 0.001077 0.002321 0.005 0.010772 0.023208 0.05 " ] && ok "geomspace = the reference eta grid (6 decimals)" \
    || fail "geomspace" "got $lrs"
[ "$(ls r/runs | wc -l)" -eq 21 ] && ok "7 x 3 range runs" || fail "range runs" "$(ls r/runs | wc -l)"

# --- a tiny sweep, re-run, a new seed ----------------------------------------
t0=$(now_ms)
dale sweep tiny.json --out s --jobs 2
[ "$RC" -eq 0 ] && ok "tiny sweep runs (--jobs 2, $(($(now_ms) - t0)) ms)" || fail "tiny sweep" "rc $RC $(err1)"
nres=$(ls s/runs/*/result.json 2>/dev/null | wc -l)
[ "$nres" -eq 12 ] && ok "12 run directories with result.json" || fail "run dirs" "$nres"
grep -q '\[12/12\]' "$T/err" && ok "progress lines done/total" || fail "progress" "$(tail -n 2 "$T/err")"
stat -c '%n %Y.%y' s/runs/*/result.json >mtimes1
sleep 1
dale sweep tiny.json --out s --jobs 2
grep -q '12 finished, 0 invalid, 0 to run' "$T/err" && ok "re-run skips every finished run" || fail "re-run" "$(err1)"
stat -c '%n %Y.%y' s/runs/*/result.json >mtimes2
cmp -s mtimes1 mtimes2 && ok "re-run touches no result.json" || fail "re-run mtimes" "changed"
sed 's/"seed": \[0, 1, 2\]/"seed": [0, 1, 2, 3]/' tiny.json >tiny4.json
dale sweep tiny4.json --out s --jobs 2
grep -q '12 finished, 0 invalid, 4 to run' "$T/err" && ok "a new seed runs only the 4 new runs" || fail "new seed" "$(err1)"
[ "$(ls s/runs/*/result.json | wc -l)" -eq 16 ] && ok "16 runs now" || fail "16 runs" "$(ls s/runs | wc -l)"

# --- a directory under a run's id that holds another run (ids are relative to
# the task defaults, so a changed default can make ids collide): moved aside
# and re-run, never taken as finished
cp -r s stale
victim=$(ls stale/runs | head -n 1)
sed -i 's/^\([[:space:]]*"lr":[[:space:]]*\)[0-9.e-]*/\10.123/' "stale/runs/$victim/config.json"
dale sweep tiny4.json --out stale --dry-run
grep -q "runs/$victim .*lr is 0.123 there" "$T/err" && grep -q '15 finished, 0 invalid, 1 to run' "$T/err" \
    && ok "dry run names a stale run directory and counts it as to run" || fail "stale dry run" "$(cat "$T/err")"
grep -q "^$victim .* stale " "$T/out" && ok "dry-run listing marks it stale" || fail "stale listing" "$(grep "$victim" "$T/out")"
dale sweep tiny4.json --out stale --jobs 2
if [ "$RC" -eq 0 ] && [ -d "stale/runs/$victim.stale-1" ] && [ "$(json_get "stale/runs/$victim/config.json" lr)" != 0.123 ] \
    && [ -f "stale/runs/$victim/result.json" ]; then ok "the stale directory is moved aside and the run re-run"
else fail "stale run" "rc $RC $(cat "$T/err")"; fi
# an option added to dale after a run was made is missing from its config.json:
# at its default that is the same run
other=$(ls stale/runs | grep -v stale | grep -v "^$victim$" | head -n 1)
sed -i '/"objrec_center":/d' "stale/runs/$other/config.json"
dale sweep tiny4.json --out stale --dry-run
grep -q '16 finished, 0 invalid, 0 to run' "$T/err" && ! grep -q "holds another run" "$T/err" \
    && ok "a config.json without a later option (at its default) is the same run" || fail "missing option" "$(cat "$T/err")"

# --- the store and dale results ----------------------------------------------
cnt=$(sqlite3 s/results.sqlite "select count(*) from runs where status = 'ok';" 2>/dev/null || echo skip)
if [ "$cnt" = skip ]; then skip "store count" "no sqlite3 shell"
elif [ "$cnt" -eq 16 ]; then ok "store has 16 ok runs"
else fail "store count" "$cnt"; fi
dale results s
[ "$RC" -eq 0 ] && ok "dale results" || fail "dale results" "rc $RC $(err1)"
grep -q 'welch' "$T/out" && grep -q 'mann-whitney' "$T/out" && ok "results print Welch and Mann-Whitney lines" \
    || fail "test lines" "$(head -c 400 "$T/out")"
grep -q '^note: selected per cell: the lr,clip values with the lowest mean test_loss over seeds (test split)' "$T/out" \
    && grep -q '^note: no validation split in these runs' "$T/out" \
    && ok "results say selection fell back to test (no validation split)" || fail "test fallback note" "$(grep note "$T/out")"
grep -q 'pearson r' "$T/out" && ok "results print the NSE correlation" || fail "corr" "missing"
grep -E '^(RNN|ColEI) ' "$T/out" | grep -q ' 4 ' && ok "cells have 4 seeds" || fail "cells" "$(cat "$T/out")"
cp "$T/out" table1.txt
dale results s --rebuild
sed 1d "$T/out" >table2.txt
sed 1d table1.txt >table1b.txt
cmp -s table1b.txt table2.txt && ok "--rebuild from the run directories gives the same table" \
    || fail "rebuild" "$(diff table1b.txt table2.txt | head -n 4)"
dale results s --csv --group label,lr --hp seed
[ "$RC" -eq 0 ] && [ "$(grep -c '^RNN,' "$T/out")" -eq 2 ] && ok "--csv --group label,lr" || fail "csv" "$(head -c 300 "$T/out")"
dale results s --where model=rnn --test ""
[ "$RC" -eq 0 ] && grep -q '^RNN ' "$T/out" && ! grep -q '^ColEI ' "$T/out" && ok "--where model=rnn keeps only RNN runs" \
    || fail "--where" "$(head -c 300 "$T/out")"
dale results s --json
[ "$RC" -eq 0 ] && grep -q '"cells"' "$T/out" && ok "--json" || fail "json" "$(head -c 200 "$T/out")"
expect_exit 2 "results: bad --select is a usage error" "--select" results s --select nope
# equal mean errors are broken by the loss: give every run val_err 50 and
# val_loss = +test loss (then -test loss, so that the other configuration
# wins); the val_err selection must pick what the val_loss selection picks
for sign in 1 -1; do
    rm -rf tie
    cp -r s tie
    for f in tie/runs/*/metrics.csv; do
        awk -F, -v k="$sign" 'BEGIN { OFS = "," } NR > 1 { $6 = k * $8; $7 = 50 } { print }' "$f" >"$f.new" &&
            mv "$f.new" "$f"
    done
    dale results tie --rebuild --select val_loss --hp lr --test "" --csv
    by_loss=$(grep '^RNN,' "$T/out" | cut -d, -f2)
    dale results tie --select val_err --hp lr --test "" --csv
    by_err=$(grep '^RNN,' "$T/out" | cut -d, -f2)
    by_err_sel=$(grep '^RNN,' "$T/out" | cut -d, -f5,6)
    [ -n "$by_loss" ] && [ "$by_err" = "$by_loss" ] && [ "$by_err_sel" = "val_err,50" ] \
        && ok "a tie in val_err is broken by val_loss (sign $sign: lr $by_err)" \
        || fail "tie-break (sign $sign)" "by err '$by_err' ($by_err_sel), by loss '$by_loss'"
done

# --- failures are recorded, the sweep goes on ---------------------------------
cat >bad.json <<'J'
{"name": "bad", "base": {"task": "adding", "adding_n": 300, "adding_test": 100, "max_updates": 20},
 "runs": [{"label": "good", "model": "rnn"}, {"label": "typo", "modle": "rnn"},
          {"label": "nodata", "task": "seqmnist", "data": "/nonexistent-dale-data"}],
 "axes": {"seed": [0, 1]}}
J
dale sweep bad.json --out b --jobs 2
[ "$RC" -eq 1 ] && ok "a sweep with failures exits 1" || fail "failure exit" "rc $RC"
[ "$(ls b/runs/*/final.npz 2>/dev/null | wc -l)" -eq 2 ] && ok "the good runs finished" || fail "good runs" "$(ls b/runs)"
grep -q "unknown option 'modle'" "$T/err" && ok "invalid run reported with its reason" || fail "invalid reason" "$(err1)"
if [ "$cnt" != skip ]; then
    st=$(sqlite3 b/results.sqlite "select status, count(*) from runs group by status order by status;" | tr '\n' ' ')
    [ "$st" = "failed|2 invalid|2 ok|2 " ] && ok "store: 2 ok, 2 failed, 2 invalid" || fail "store statuses" "$st"
    sqlite3 b/results.sqlite "select reason from runs where status = 'failed';" | grep -q 'exit status 1' \
        && ok "failed runs carry the exit status and message" || fail "failed reason" "$(sqlite3 b/results.sqlite 'select reason from runs')"
fi

# --- a diverged run: recorded, not a failure, no metrics in the table -------------------
cat >div.json <<'J'
{"name": "div", "base": {"task": "adding", "adding_n": 300, "adding_test": 100, "max_updates": 20, "eval_every": 5},
 "runs": [{"label": "A", "lr": 0.1}, {"label": "A", "lr": 1e8}], "axes": {"seed": [0, 1]},
 "analysis": {"select": "test_loss"}}
J
dale sweep div.json --out dv --jobs 2
[ "$RC" -eq 0 ] && ok "diverged runs do not fail the sweep" || fail "diverged exit" "rc $RC $(err1)"
dale results dv --group lr --hp lr
grep -E '^1e\+08 ' "$T/out" | grep -q ' 0  .*nan.* 2$' && ok "a diverged cell shows n 0, no mean, 2 diverged" \
    || fail "diverged cell" "$(cat "$T/out")"

# --- SIGKILL of the runner: nothing finished is lost or repeated -----------------
cat >long.json <<'J'
{"name": "long", "base": {"task": "adding", "adding_n": 2000, "adding_test": 200, "max_updates": 1500, "eval_every": 100},
 "runs": [{"model": "rnn"}, {"model": "dann"}], "axes": {"seed": [0, 1, 2, 3, 4]}}
J
"$DALE" sweep long.json --out k --jobs 2 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 300); do
    [ "$(ls k/runs/*/result.json 2>/dev/null | wc -l)" -ge 3 ] && break
    sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
# the runner's children get a signal when it dies and end on their own time
# (a run may still finish and write its result.json): count the finished runs
# only once no run lock is held any more (a loaded machine can take seconds),
# so the re-run below must report exactly that count and find no run busy
for _ in $(seq 1 200); do
    "$DALE" sweep status k --summary --no-squeue 2>/dev/null | grep -q ' 0 running' && break
    sleep 0.1
done
done_before=$(ls k/runs/*/result.json 2>/dev/null | wc -l)
stat -c '%n %Y.%y' k/runs/*/result.json >kt1 2>/dev/null
if [ "$done_before" -ge 1 ] && [ "$done_before" -lt 10 ]; then ok "runner killed with $done_before of 10 runs finished"
else skip "kill in the middle" "$done_before runs had finished at the kill"; fi
left=$("$DALE" sweep status k --summary --no-squeue 2>/dev/null | sed -n 's/.* \([0-9]*\) running.*/\1/p')
[ "$left" = 0 ] && ok "no orphaned dale train after the runner died (no run lock held)" || fail "orphans" "${left:-?} runs still running"
dale sweep long.json --out k --jobs 2
[ "$RC" -eq 0 ] && ok "re-run after SIGKILL completes" || fail "re-run after kill" "rc $RC $(err1)"
grep -q "$done_before finished" "$T/err" && ok "re-run starts from the $done_before finished runs" || fail "finished count" "$(err1)"
stat -c '%n %Y.%y' $(awk '{print $1}' kt1) >kt2 2>/dev/null
cmp -s kt1 kt2 && ok "no finished run was repeated (result.json mtimes)" || fail "repeated" "$(diff kt1 kt2 | head -n 2)"
[ "$(ls k/runs/*/result.json | wc -l)" -eq 10 ] && ok "all 10 runs finished" || fail "all finished" "$(ls k/runs/*/result.json | wc -l)"
if [ "$cnt" != skip ]; then
    nk=$(sqlite3 k/results.sqlite "select count(*) from runs where status = 'ok';")
    [ "$nk" -eq 10 ] && ok "store: 10 ok runs after the kill" || fail "store after kill" "$nk"
    dup=$(sqlite3 k/results.sqlite "select count(*) from (select id, \"update\" from curves group by id, \"update\" having count(*) > 1);")
    [ "$dup" -eq 0 ] && ok "no duplicated curve rows" || fail "curve rows" "$dup duplicated"
    nrows=$(sqlite3 k/results.sqlite "select count(*) from curves;")
    [ "$nrows" -eq 160 ] && ok "every run has its 16 metric rows" || fail "curve rows" "$nrows, want 160"
fi

# --- SIGINT: children stopped, exit 130, a re-run finishes ------------------------------
"$DALE" sweep long.json --out i --jobs 2 >/dev/null 2>i.err &
pid=$!
for _ in $(seq 1 300); do
    [ "$(ls i/runs/*/result.json 2>/dev/null | wc -l)" -ge 1 ] && break
    sleep 0.05
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] && grep -q 'a re-run resumes them' i.err && ok "SIGINT stops the sweep (exit 130)" || fail "SIGINT" "rc $rc $(head -c 200 i.err)"
left=$(ps -eo args | grep "[d]ale train.*i/runs" | grep -c "$T" || true)
[ "$left" -eq 0 ] && ok "no dale train left after SIGINT" || fail "SIGINT children" "$left running"
dale sweep long.json --out i --jobs 2
[ "$RC" -eq 0 ] && [ "$(ls i/runs/*/result.json | wc -l)" -eq 10 ] && ok "re-run after SIGINT completes" || fail "after SIGINT" "rc $RC"

# --- Slurm script, MPI share ----------------------------------------------------------
dale sweep tiny4.json --out sl --slurm
[ "$RC" -eq 0 ] && grep -q -- '--array=0-15' sl/slurm/sweep.sbatch && [ "$(wc -l <sl/slurm/pending.txt)" -eq 16 ] \
    && ok "--slurm writes an array script with one task per pending run" || fail "slurm" "rc $RC $(err1)"
dale sweep tiny4.json --out sl --rank 1 --size 3 --dry-run
grep -q '5 to run' "$T/err" && ok "--rank 1 --size 3 takes every third pending run" || fail "mpi share" "$(err1)"
expect_exit 2 "sweep: rank >= size refused" "rank" sweep tiny.json --rank 3 --size 3 --dry-run
echo '{"axis": {}}' >typo.json
expect_exit 2 "sweep: unknown key in the spec" "unknown key" sweep typo.json --dry-run

# --- spectrum transplant option (Table 1) ----------------------------------------------
dale train --task adding --hidden 100 --adding-n 200 --adding-test 50 --max-updates 0 \
    --transplant rnn-vectors+colei-values --out tp1 --quiet
row=$(sed -n 2p tp1/metrics.csv)
awk -F, '{exit !($11 > 8 && $12 > 1.3 && $12 < 2.5)}' <<<"$row" && ok "RNN vectors + ColEI values: sigma_max > 8, rho ~ 1.8" \
    || fail "transplant colei values" "$row"
dale train --task adding --hidden 100 --adding-n 200 --adding-test 50 --max-updates 0 \
    --transplant colei-vectors+rnn-values --out tp2 --quiet
row=$(sed -n 2p tp2/metrics.csv)
awk -F, '{exit !($11 > 0.9 && $11 < 1.4 && $12 < 0.9 && $10 > 0.94)}' <<<"$row" \
    && ok "ColEI vectors + RNN values: sigma_max ~ 1.1, rho < 0.9, NSE of an RNN" || fail "transplant rnn values" "$row"
expect_exit 2 "transplant needs a 1-layer rnn" "--transplant needs" train --model colei --transplant colei-vectors+rnn-values --out tp3

# --- reproduce --list ----------------------------------------------------------------
DALE_EXPERIMENTS=$here/experiments "$DALE" reproduce --list >list.txt 2>&1
grep -q '^table1 ' list.txt && grep -q '^fig2a ' list.txt && ok "reproduce --list shows the presets with costs" \
    || fail "reproduce --list" "$(head -c 300 list.txt)"

lib_finish
