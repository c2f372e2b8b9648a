#!/usr/bin/env bash
# test_results.sh — dale results on what the user set: an inhib sweep grouped
# by inhib (config.json folds inhib into ei_ratio), group keys that split
# nothing, the selection note (absent when nothing was selected), plain
# `dale train` run directories, pure CSV, integer seeds in the store,
# numbers as JSON numbers, exit codes in --help.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
cd "$T" || exit 1

# 3 inhib x 2 rho x 2 seeds of tiny ColEI adding runs
cat >inhib.json <<'J'
{"name": "inhib", "base": {"task": "adding", "model": "colei", "hidden": 10, "adding_n": 200, "adding_test": 50,
  "max_updates": 5, "eval_every": 5},
 "axes": {"inhib": [0.1, 0.2, 0.5], "rho": [1, 1.5], "seed": [0, 1]}}
J
dale sweep inhib.json --out s --jobs 2 --quiet
[ "$RC" -eq 0 ] && [ "$(ls s/runs/*/result.json | wc -l)" -eq 12 ] && ok "inhib sweep: 12 runs" || fail "inhib sweep" "rc $RC $(err1)"

# cells: inhib,rho -> n (field 5 of the CSV: inhib,rho,lr,clip,n,...)
cells() { sed 1d "$T/out" | cut -d, -f1,2,5 | sort | tr '\n' ' '; }
# col NAME: the distinct values of a CSV column of $T/out, named by its header
col() { awk -F, -v c="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "$T/out" | sort -u; }
want="0.1,1,2 0.1,1.5,2 0.2,1,2 0.2,1.5,2 0.5,1,2 0.5,1.5,2 "
dale results s --group inhib,rho --csv
[ "$RC" -eq 0 ] && [ "$(cells)" = "$want" ] && ok "--group inhib,rho: 6 cells of n = 2 labelled by the inhib set" \
    || fail "inhib cells" "rc $RC: $(cells)"
# a sweep recorded before the given options were kept: inhib = 1/(1 + ei_ratio)
cp -r s old
for f in old/runs/*/sweep.json; do sed -i '/"given"/d; s/"label": \("[^"]*"\),/"label": \1/' "$f"; done
dale results old --rebuild --group inhib,rho --csv
[ "$RC" -eq 0 ] && [ "$(cells)" = "$want" ] && ok "without the given options (older sweep.json): inhib from ei_ratio" \
    || fail "derived inhib" "rc $RC: $(cells) $(err1)"
dale sweep inhib.json --out old --jobs 2
grep -q '12 finished, 0 invalid, 0 to run' "$T/err" && grep -q '"given"' old/runs/*/sweep.json \
    && ok "re-running an older sweep runs nothing and records the given options" || fail "upgrade" "$(err1)"

# group keys that split nothing are reported, not merged silently
dale results s --group inhib,model
grep -q "group key 'model' has one value (colei) in every run" "$T/err" && ok "a constant group key is reported" \
    || fail "constant key" "$(err1)"
dale results s --group rho,inhb
grep -q "group key 'inhb' is not set in any run" "$T/err" && ok "an unset group key is reported" || fail "unset key" "$(err1)"
dale results s --group inhib,rho
! grep -q 'warning' "$T/err" && ok "no warning for keys that split" || fail "spurious warning" "$(err1)"

# the selection note: nothing selected (one lr,clip per cell) -> no note
! grep -qi 'select' "$T/out" && ok "one configuration per cell: no selection note" || fail "note without selection" \
    "$(grep -i select "$T/out")"
dale results s --group inhib,rho --csv
[ "$(col selected_on)" = none ] && ok "CSV selected_on is none" || fail "selected_on none" "$(sed -n 2p "$T/out")"
# selecting the seed (two configurations per cell): adding has no error rate
# and no validation split, so test_loss on the test split, said once
dale results s --group inhib,rho --hp seed
grep -q '^note: selected per cell: the seed values with the lowest mean test_loss over seeds (test split; the task has no error rate)' \
    "$T/out" && ok "the note names the hp, the metric and the split used" || fail "selection note" "$(grep note "$T/out")"
grep -q '^note: no validation split in these runs' "$T/out" && ! grep -qi 'seqmnist\|sequential MNIST' "$T/out" \
    && ok "the test-split warning, without the seqMNIST remark for adding" || fail "test note" "$(grep note "$T/out")"
dale results s --group inhib,rho --hp seed --csv
[ "$(col selected_on)" = test_loss ] && ok "CSV selected_on names the metric used" \
    || fail "selected_on" "$(sed -n 2p "$T/out")"

# --csv is pure CSV: tests and correlations go to stderr
dale results s --group inhib --csv --test welch,mannwhitney --corr nse0
nf=$(awk -F, '{print NF}' "$T/out" | sort -u | tr '\n' ' ')
[ "$RC" -eq 0 ] && ! grep -q '^#' "$T/out" && [ "$nf" = "12 " ] && [ "$(wc -l <"$T/out")" -eq 4 ] \
    && ok "--csv: a header and 3 rows of 12 fields, no comment lines" || fail "pure csv" "$(head -c 400 "$T/out")"
grep -q 'welch' "$T/err" && grep -q 'pearson' "$T/err" && ok "--csv: tests and correlation on stderr" || fail "csv stats" "$(err1)"

# numbers as JSON numbers
dale results s --group inhib,rho --json
grep -q '"lr": 0.1, "clip": 7,' "$T/out" && grep -q '"inhib": 0.2, "rho": 1.5,' "$T/out" && ! grep -q '"lr": "' "$T/out" \
    && ok "--json: lr, clip and the group values are numbers" || fail "json numbers" "$(sed -n 2p "$T/out")"
grep -q '"configs": 1, "selected_on": "none", "select_mean": null' "$T/out" && ok "--json: nothing selected" \
    || fail "json selection" "$(sed -n 2p "$T/out")"

# integers stored as integers
if command -v sqlite3 >/dev/null; then
    ty=$(sqlite3 s/results.sqlite "select distinct typeof(seed) || ',' || typeof(hidden) || ',' || typeof(lr) from runs;")
    [ "$ty" = "integer,integer,real" ] && ok "store: seed and hidden INTEGER, lr REAL" || fail "store types" "$ty"
    g=$(sqlite3 s/results.sqlite "select count(*) from runs where json_extract(given, '$.inhib') = 0.2;")
    [ "$g" = 4 ] && ok "store: the given inhib is queryable" || fail "store given" "$g"
else skip "store types" "no sqlite3 shell (test_store checks them through the library)"; fi

# plain `dale train` runs: tabulated, with or without --rebuild
mkdir plain
for sd in 0 1; do
    "$DALE" train --task adding --hidden 10 --adding-n 200 --adding-test 50 --max-updates 5 --seed $sd \
        --out plain/r$sd --quiet >/dev/null 2>&1
done
dale results plain --rebuild
[ "$RC" -eq 0 ] && grep -q 'from 2 run directories' "$T/err" && grep -q '^r0 ' "$T/out" && grep -q '^r1 ' "$T/out" \
    && ok "--rebuild tabulates plain train run directories (labelled by name)" || fail "plain rebuild" "rc $RC $(err1)"
dale results plain --group model --hp seed --csv
[ "$RC" -eq 0 ] && [ "$(sed -n 2p "$T/out" | cut -d, -f1)" = rnn ] && ok "plain runs group by a config key" \
    || fail "plain group" "$(cat "$T/out")"
mkdir plain2
cp -r plain/r0 plain2/
dale results plain2
[ "$RC" -eq 0 ] && grep -q '^r0 ' "$T/out" && ok "no store yet: built from the run directories" || fail "auto build" "rc $RC $(err1)"
mkdir empty
expect_exit 1 "no run directories: exit 1 with a message" "no run directories" results empty
[ ! -e empty/results.sqlite ] && ok "no empty store left behind" || fail "empty store" "$(ls empty)"
expect_exit 1 "a missing directory: exit 1" "no such directory" results nonexistent

# --report nse0 (an init-only sweep's metric, read by name, not from
# metrics.csv): the tests and the correlation use the same values as the
# table.  Every RNN NSE at init (about 0.94) is above every ColEI one (about
# 0.73), so U = 4 x 4 = 16, exact p = 2/C(8,4) = 0.0286; NSE against itself r = 1.
cat >init.json <<'J'
{"name": "initmw", "base": {"task": "adding", "adding_n": 200, "adding_test": 50, "hidden": 30, "max_updates": 0},
 "runs": [{"label": "ColEI", "model": "colei"}, {"label": "RNN", "model": "rnn"}],
 "axes": {"seed": [0, 1, 2, 3]}}
J
dale sweep init.json --out si --jobs 1 --quiet
dale results si --report nse0 --test welch,mannwhitney --vs label=ColEI --corr nse0
grep -q 'mann-whitney RNN  *U =   16.0  p = 0.0286 (exact)' "$T/out" && ok "init-only runs: Mann-Whitney on nse0 U = 16, p = 0.0286" \
    || fail "nse0 Mann-Whitney" "$(grep -A3 '^tests' "$T/out" | tr '\n' '|')"
grep -E -q 'welch  *RNN  *t = +[0-9.]+ ' "$T/out" && ok "init-only runs: Welch on nse0 runs (RNN above ColEI)" \
    || fail "nse0 Welch" "$(grep welch "$T/out")"
grep -q 'pearson r = 1.0000' "$T/out" && ok "nse0 against the reported nse0: r = 1" \
    || fail "nse0 corr" "$(grep -A1 '^correlation' "$T/out" | tr '\n' '|')"

dale results --help
grep -q 'Exit status: 0' "$T/out" && grep -q '2 usage error' "$T/out" && ok "results --help lists exit codes" \
    || fail "help exit codes" "$(tail -n 3 "$T/out")"

lib_finish
