#!/usr/bin/env bash
# test_sweep_limits.sh — the size of a sweep grid: a grid over the run limit
# (runs x zip groups x axes, counted before it is expanded) is refused at
# once with a message naming each factor; a large grid within the limit
# expands (duplicate ids merged by a hash set, not by comparing each run with
# all earlier ones) with the same ids and the same merging as before.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
cd "$T" || exit 1

# 2 runs x 100000 seeds x 50000 rates = 10^10 runs: refused, not expanded.
cat >huge.json <<'J'
{"name": "huge", "base": {"task": "adding", "max_updates": 0},
 "runs": [{"model": "rnn"}, {"model": "colei"}],
 "axes": {"seed": {"linspace": [0, 99999, 100000]}, "lr": {"geomspace": [1e-4, 1e-1, 50000]}}}
J
t0=$(now_ms)
"$DALE" sweep huge.json --out h --dry-run >"$T/out" 2>"$T/err" &
pid=$!
( sleep 20; kill -9 "$pid" 2>/dev/null ) &
guard=$!
wait "$pid"
RC=$?
kill "$guard" 2>/dev/null
wait "$guard" 2>/dev/null
t1=$(now_ms)
[ "$RC" -eq 2 ] && ok "a 10^10-run grid is refused (exit 2, in $((t1 - t0)) ms)" || fail "huge grid" "exit $RC $(err1)"
grep -q 'the grid has 10000000000 runs, more than the 100000' "$T/err" && grep -q '2 runs x seed: 100000 x lr: 50000' "$T/err" \
    && ok "the message gives the size, the limit and each factor" || fail "huge grid message" "$(err1)"
[ ! -e h ] && ok "nothing written for it" || fail "huge grid" "h exists"

# One over the limit, through a zip group: refused; the limit itself: fine.
cat >over.json <<'J'
{"base": {"task": "adding", "max_updates": 0},
 "zip": [{"adding_n": [100, 200]}],
 "axes": {"seed": {"linspace": [0, 50000, 50001]}}}
J
expect_exit 2 "100002 runs (a zip group of 2 x 50001) are refused" "zip group 0 (adding_n): 2 x seed: 50001" \
    sweep over.json --out o --dry-run

# 20000 runs (the limit is far above): expands and lists every run.
cat >mid.json <<'J'
{"name": "mid", "base": {"task": "adding", "max_updates": 0},
 "axes": {"seed": {"linspace": [0, 9999, 10000]}, "lr": [0.01, 0.02]}}
J
timeout 120 "$DALE" sweep mid.json --out m --dry-run >mid.out 2>"$T/err"
RC=$?
n=$(awk 'NR > 1' mid.out | wc -l)
nu=$(awk 'NR > 1 {print $1}' mid.out | sort -u | wc -l)
[ "$RC" -eq 0 ] && [ "$n" -eq 20000 ] && [ "$nu" -eq 20000 ] && ok "a 20000-run dry run lists 20000 distinct runs" \
    || fail "20000-run dry run" "rc $RC, $n runs, $nu distinct $(err1)"

# Every run given twice (two identical run objects): merged to one each,
# first come first kept, with the same ids in the same order.
cat >dup.json <<'J'
{"name": "dup", "base": {"task": "adding", "max_updates": 0},
 "runs": [{"label": "first", "model": "rnn"}, {"label": "second", "model": "rnn"}],
 "axes": {"seed": {"linspace": [0, 4999, 5000]}, "lr": [0.01, 0.02]}}
J
timeout 120 "$DALE" sweep dup.json --out d --dry-run >dup.out 2>"$T/err"
RC=$?
[ "$RC" -eq 0 ] && [ "$(awk 'NR > 1' dup.out | wc -l)" -eq 10000 ] && ! grep -q ' second ' dup.out \
    && ok "20000 runs with every id twice merge to 10000, the first label kept" || fail "duplicates" "rc $RC $(err1)"
# (mid's first 10000 runs are seeds 0..4999 x both rates, the same grid)
[ "$(awk 'NR > 1 {print $1}' dup.out)" = "$(awk 'NR > 1 {print $1}' mid.out | head -n 10000)" ] \
    && ok "merged ids equal the unduplicated grid's, in order" || fail "merged ids" "differ"

lib_finish
