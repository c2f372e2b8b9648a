#!/usr/bin/env bash
# test_presets.sh — every paper figure and table has a preset: listed by
# `dale reproduce --list` with its quick / reduced / paper scales and a cost,
# each scale expands (dry run, no invalid run), fig4 is Table 1's runs, and
# the report of an init-only sweep with "init_spectra" draws the spectra of
# each cell from the same W the runs started from.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
EXP=$(cd "$(dirname "$0")/../experiments" && pwd)
cd "$T" || exit 1
export DALE_EXPERIMENTS=$EXP

"$DALE" reproduce --list >list.txt 2>err.txt
RC=$?
block() { awk -v p="$1" '$1 == p { on = 1; next } /^$/ { on = 0 } on' list.txt; }
# The paper's figures and tables (Figs. 2A-D, 3-7, 9-15, Tables 1-3; Fig. 8
# is a diagram of the models): none without a preset.
# A preset's scale expands to runs, none of them invalid.
expands() {
    local p=$1 s=$2 RC2 n
    "$DALE" sweep "$EXP/$p.json" --scale "$s" --out "d-$p-$s" --dry-run >out.txt 2>err.txt
    RC2=$?
    n=$(awk 'NR > 1 && length($1) == 16 && $1 ~ /^[0-9a-f]+$/' out.txt | grep -c .)
    if [ "$RC2" -eq 0 ] && [ "$n" -gt 0 ] && grep -q " 0 invalid" err.txt && ! grep -q invalid out.txt; then ok "$p --scale $s expands to $n runs"
    else fail "$p --scale $s dry run" "exit $RC2, $n runs: $(grep -m1 invalid out.txt) $(head -c 200 err.txt)"; fi
}
for p in fig2a fig2b fig2c fig2d fig3 fig4 fig5 fig6 fig7 fig9 fig10 fig11 fig12 fig13 fig14 fig15 \
         table1 table2 table3; do
    if [ "$RC" -eq 0 ] && grep -q "^$p " list.txt; then ok "reproduce --list has $p"
    else fail "reproduce --list $p" "missing (exit $RC)"; fi
done
# The presets of the rest of the paper: quick, reduced and paper scales,
# each with a cost estimate, and each expands without an invalid run.
for p in fig2c fig3 fig4 fig7 fig9 fig10 fig11 fig12 fig13 fig14 fig15 table2; do
    for s in quick reduced paper; do
        line=$(block "$p" | grep -E "^  [ *] $s +(smoke|reduced|paper) ")
        if echo "$line" | grep -q -E ' [0-9]+h[0-9]+m | [0-9]+m[0-9]+s '; then ok "$p scale $s is listed with a cost"
        else fail "$p scale $s listed" "'$line'"; fi
        expands "$p" "$s"
    done
done
# fig4 is the Table 1 experiment: the same runs, the same ids, at every scale.
for s in quick reduced paper paper900; do
    "$DALE" sweep "$EXP/table1.json" --scale $s --out a --dry-run 2>/dev/null | awk 'NR > 1 {print $1}' | sort >a.txt
    "$DALE" sweep "$EXP/fig4.json" --scale $s --out b --dry-run 2>/dev/null | awk 'NR > 1 {print $1}' | sort >b.txt
    if [ -s a.txt ] && cmp -s a.txt b.txt; then ok "fig4 --scale $s has table1's run ids"
    else fail "fig4 = table1 at $s" "$(diff a.txt b.txt | head -n 3 | tr '\n' '|')"; fi
done
# The beyond-the-paper presets (docs/beyond.md): every scale expands without an
# invalid run, and the baselines they compare against are the runs of the paper's
# presets (same run ids), so finished baseline runs can be copied, not re-run.
for ps in "beyond-long quick paper" "beyond-objrec quick reduced paper" "beyond-cog quick paper grace cdm"; do
    set -- $ps; p=$1; shift
    for s in "$@"; do
        expands "$p" "$s"
    done
done
ids() { "$DALE" sweep "$EXP/$1.json" --scale "$2" --out "i-$1-$2" --dry-run 2>/dev/null | awk -v a="$3" -v b="$4" 'NR > 1 && ($2 " " $3 == a || $2 " " $3 == b || $2 == a || $2 == b) {print $1}' | sort; }
shared() {  # preset scale labels... / preset scale labels...: the first set equals the second
    if [ -s "$1" ] && [ "$(wc -l <"$1")" -eq "$3" ] && cmp -s "$1" "$2"; then ok "$4"
    else fail "$4" "$(wc -l <"$1") ids, $(diff "$1" "$2" | head -n 3 | tr '\n' '|')"; fi
}
ids beyond-long paper "RNN" "ColEI 10%" >a.txt; ids table1 paper900 "1 RNN" "8 ColEI" >b.txt
shared a.txt b.txt 10 "beyond-long's RNN and ColEI 10% are table1 paper900's runs"
ids beyond-objrec reduced "RNN" "ColEI" >a.txt; ids table2 reduced "1 RNN" "8 ColEI" >b.txt
shared a.txt b.txt 10 "beyond-objrec's RNN and ColEI are table2 reduced's runs"
"$DALE" sweep "$EXP/neuro-tasks.json" --scale paper --out n1 --dry-run 2>/dev/null | awk 'NR > 1 {print $1}' | sort >b.txt
for s in paper cdm; do
    ids beyond-cog $s "ColEI" "-" >a.txt
    n=$(comm -12 a.txt b.txt | grep -c .)
    [ -s a.txt ] && [ "$n" -eq "$(wc -l <a.txt)" ] && ok "beyond-cog $s: its $n standard ColEI runs are neuro-tasks' paper runs" \
        || fail "beyond-cog $s ColEI ids" "$n of $(wc -l <a.txt) in neuro-tasks paper"
done
"$DALE" sweep "$EXP/neuro-tasks.json" --scale grace --out n2 --dry-run 2>/dev/null | awk 'NR > 1 {print $1}' | sort >b.txt
ids beyond-cog grace "ColEI" "-" >a.txt
n=$(comm -12 a.txt b.txt | grep -c .)
[ "$n" -eq 5 ] && ok "beyond-cog grace: its 5 standard ColEI runs are neuro-tasks' grace runs" || fail "beyond-cog grace ids" "$n of 5"
# fig2c and fig13 read a PTB copy on their ptb scale; the default corpus is kjv
# (no corpus key, so the ids are those of every lm run at the default).
grep -q '"ptb": {"kind": "paper"' "$EXP/fig2c.json" && grep -q '"corpus": "data/ptb"' "$EXP/fig2c.json" \
    && ! grep -q '"corpus"' <(sed -n '/"base"/p' "$EXP/fig2c.json" | head -n 1) \
    && ok "fig2c: kjv by default, a PTB copy on scale ptb" || fail "fig2c corpus" "$(grep -n corpus "$EXP/fig2c.json")"

# --- the spectra at initialisation in the report ----------------------------
cat >spec.json <<'J'
{"name": "initspec", "base": {"task": "adding", "adding_n": 200, "adding_test": 50, "hidden": 30, "max_updates": 0},
 "runs": [{"label": "ColEI", "model": "colei"}, {"label": "RNN", "model": "rnn"}],
 "axes": {"seed": [0, 1, 2, 3]},
 "analysis": {"select": "test_loss", "report": "nse0", "group": "label", "hp": "lr", "init_spectra": "log"}}
J
"$DALE" sweep spec.json --out s --jobs 1 --quiet >out.txt 2>err.txt || fail "init-only sweep" "$(head -c 300 err.txt)"
"$DALE" report s --out rep --no-render --quiet >out.txt 2>err.txt
RC=$?
if [ "$RC" -eq 0 ] && grep -q "Spectra at initialisation per cell" rep/index.html; then ok "the report has the spectra at initialisation"
else fail "init_spectra report" "exit $RC: $(head -c 300 err.txt)"; fi
for k in 0 1; do
    for w in eig svals; do
        if [ -s "rep/initspec_${k}_$w.csv" ] && [ -s "rep/initspec_${k}_$w.gp" ]; then ok "cell $k: initspec_${k}_$w.csv and .gp"
        else fail "cell $k $w files" "$(ls rep | tr '\n' ' ')"; fi
    done
done
# 4 draws x 30 eigenvalues per cell; the histogram integrates to 1
n=$(awk 'NR > 1' rep/initspec_0_eig.csv | grep -c .)
[ "$n" -eq 120 ] && ok "eigenvalues of 4 draws of n 30" || fail "eigenvalue rows" "$n"
awk -F, 'NR > 1 {s += ($2 - $1) * $3} END {exit !(s > 0.999999 && s < 1.000001)}' rep/initspec_1_svals.csv \
    && ok "the singular-value histogram is a density" || fail "density" "$(head -n 3 rep/initspec_1_svals.csv)"
# The table's NSE is the runs' own NSE at init (metrics.csv row 0): the draws are the runs' W.
"$DALE" results s --csv >res.csv 2>/dev/null
for lab in ColEI RNN; do
    a=$(awk -F, -v l=$lab 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "nse0_mean") c = i} $1 == l {printf "%.4f", $c}' res.csv)
    b=$(grep -o "<tr><td>$lab</td><td>4</td><td>30</td><td>[0-9.]*" rep/index.html | sed 's/.*<td>//')
    if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "$lab: the spectra's NSE is the runs' NSE at init ($a)"
    else fail "$lab NSE" "results $a, report $b"; fi
done
# a sweep without the key has no such section
sed 's/, "init_spectra": "log"//' spec.json >spec2.json
"$DALE" sweep spec2.json --out s2 --jobs 1 --quiet >/dev/null 2>&1
"$DALE" report s2 --out rep2 --no-render --quiet >/dev/null 2>&1
[ -s rep2/index.html ] && ! grep -q "Spectra at initialisation" rep2/index.html && ! ls rep2 | grep -q initspec \
    && ok "no init_spectra key, no spectra section" || fail "no key" "$(ls rep2 | head)"

lib_finish
