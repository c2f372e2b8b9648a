#!/usr/bin/env bash
# test_plot.sh BUILD_DIR — dale plot, dale report and the report at the end of
# dale reproduce.
#
# Tiny adding runs (40 updates) in directories whose names hold spaces and
# quotes: the curve figure's files exist, the PNG is a PNG of the size the
# script asks, the SVG is complete, the data file holds exactly the metric it
# came from (one run: the values; two runs: their mean and sd); groups by the
# config key that differs; bad input (a metric that does not exist names the
# ones that do, no runs, a directory that is not a run); a title with quotes,
# a line break and a gnuplot command reaches the figure as text and runs
# nothing.  Scatter: Anscombe's first data set (x = lr, y = test_loss of
# eleven run directories) gives scipy.stats.pearsonr's r = 0.81642051634484,
# p = 0.0021696288730787927.  Report: a tiny sweep's page has its figures
# and table, names no URL, and in headless Chromium every image loads and no
# script error happens (skipped, saying so, where Chromium is not installed:
# scripts/install-deps.sh installs it).  Needs bash, coreutils, awk, od; gnuplot
# for the images (their checks are skipped without it).
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
cd "$T" || exit 1
HAVE_GP=0
command -v gnuplot >/dev/null 2>&1 && HAVE_GP=1

# png_size FILE — "W H" from the IHDR chunk
png_size() {
    local w h
    w=$(od -A n -t u1 -j 16 -N 4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
    h=$(od -A n -t u1 -j 20 -N 4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
    echo "$w $h"
}
is_png() { [ "$(od -A n -t x1 -N 8 "$1" | tr -d ' \n')" = 89504e470d0a1a0a ]; }
svg_ok() { head -c 300 "$1" | grep -q '<svg' && tail -c 100 "$1" | grep -q '</svg>'; }

# ---- help
dale plot --help
miss=""
for o in --metric --group --x --y --selected --logx --logy --out --name --title --no-render; do
    grep -q -e "$o" "$T/out" || miss="$miss $o"
done
if [ "$RC" -eq 0 ] && [ -z "$miss" ] && grep -q "default plots" "$T/out"; then ok "plot --help lists every option"
else fail "plot --help lists every option" "rc $RC, missing:$miss"; fi
dale report --help
if [ "$RC" -eq 0 ] && grep -q -e "--out" "$T/out" && grep -q "default DIR/report" "$T/out"; then ok "report --help"
else fail "report --help" "rc $RC"; fi

# ---- runs (names with spaces and quotes)
R="$T/runs dir/it's \"odd\""
mkdir -p "$R"
for m in rnn colei; do
    for s in 0 1; do
        "$DALE" train --task adding --model "$m" --hidden 10 --seed "$s" --max-updates 40 --eval-every 10 \
            --adding-n 200 --adding-test 100 --quiet --out "$R/$m s$s" >/dev/null 2>"$T/err" ||
            fail "train $m $s" "$(err1)"
    done
done

# ---- curves of one run: the data equal the metric
dale plot "$R/rnn s0" --metric test_loss --out "$T/fig one" --name one
if [ "$RC" -eq 0 ] && [ -f "$T/fig one/one.csv" ] && [ -f "$T/fig one/one.gp" ]; then ok "curves: data and script written"
else fail "curves: data and script written" "rc $RC $(err1)"; fi
if awk -F, 'NR==FNR { if (FNR == 1) { for (i = 1; i <= NF; i++) if ($i == "test_loss") c = i; next }
                      want[$1] = $c; next }
            FNR > 1 { n++; d = $3 - want[$2]; if (d < 0) d = -d; if (!($2 in want) || d > 1e-12 * (1 + want[$2]) || $4 != 0 || $5 != 1) bad++ }
            END { exit !(n > 0 && n == length(want) && !bad) }' "$R/rnn s0/metrics.csv" "$T/fig one/one.csv"; then
    ok "curves: one run's data file equals its metrics.csv column"
else fail "curves: one run's data file equals its metrics.csv column" "$(head -3 "$T/fig one/one.csv" | tr '\n' ' ')"; fi
if [ "$HAVE_GP" = 1 ]; then
    if is_png "$T/fig one/one.png" && [ "$(png_size "$T/fig one/one.png")" = "1100 650" ]; then ok "curves: PNG of 1100 x 650"
    else fail "curves: PNG of 1100 x 650" "$(png_size "$T/fig one/one.png" 2>/dev/null)"; fi
    if svg_ok "$T/fig one/one.svg"; then ok "curves: SVG complete"; else fail "curves: SVG complete" "no <svg>...</svg>"; fi
else
    echo "skip images: gnuplot not installed (scripts/install-deps.sh)"
fi

# ---- two seeds per group: mean and sd (ddof 1); groups by the key that differs
# by default: the config keys that differ (model first; seed aside)
dale plot "$R/rnn s0" "$R/rnn s1" "$R/colei s0" "$R/colei s1" --metric test_loss --out "$T/fig def"
f="$T/fig def/curves_test_loss.csv"
if [ "$RC" -eq 0 ] && [ "$(tail -n +2 "$f" | cut -d, -f1 | sort -u | tr -d '\n')" = 01 ] &&
   grep -q ',"model = rnn, ' "$f" && grep -q ',"model = colei, ' "$f"; then ok "curves: default groups by the keys that differ, seed aside"
else fail "curves: default groups by the keys that differ, seed aside" "rc $RC $(err1) $(cut -d, -f6- "$f" 2>/dev/null | sort -u | tr '\n' ' ')"; fi
dale plot "$R/rnn s0" "$R/rnn s1" "$R/colei s0" "$R/colei s1" --metric test_loss --group model --out "$T/fig two" --logx
f="$T/fig two/curves_test_loss.csv"
if [ "$RC" -eq 0 ] && grep -q ',model = rnn$' "$f" && grep -q ',model = colei$' "$f"; then ok "curves: --group model"
else fail "curves: --group model" "rc $RC $(err1) $(cut -d, -f6 "$f" 2>/dev/null | sort -u | tr '\n' ' ')"; fi
if awk -F, 'FILENAME ~ /s0\/metrics/ && FNR > 1 { a[$1] = $9; next }
            FILENAME ~ /s1\/metrics/ && FNR > 1 { b[$1] = $9; next }
            FILENAME ~ /curves/ && FNR > 1 && $6 == "model = rnn" { n++
                m = (a[$2] + b[$2]) / 2; s = sqrt(((a[$2] - m)^2 + (b[$2] - m)^2) / 1)
                if ($3 - m > 1e-12 || m - $3 > 1e-12 || $4 - s > 1e-12 || s - $4 > 1e-12 || $5 != 2) bad++ }
            END { exit !(n > 0 && !bad) }' "$R/rnn s0/metrics.csv" "$R/rnn s1/metrics.csv" "$f"; then
    ok "curves: mean and sd over two seeds"
else fail "curves: mean and sd over two seeds" "$(grep rnn "$f" | head -2 | tr '\n' ' ')"; fi
if grep -q '^set logscale x' "$T/fig two/curves_test_loss.gp"; then ok "curves: --logx"; else fail "curves: --logx" "no logscale"; fi
# a sweep directory gives its runs too
mkdir -p "$T/sw"
cp -r "$R/rnn s0" "$T/sw/a"
cp -r "$R/colei s0" "$T/sw/b"
dale plot "$T/sw" --out "$T/fig sw" --no-render
if [ "$RC" -eq 0 ] && [ -f "$T/fig sw/curves_test_loss.csv" ] && [ ! -e "$T/fig sw/curves_test_loss.png" ]; then
    ok "curves: a directory of runs, default metric test_loss (adding has no error), --no-render"
else fail "curves: a directory of runs, default metric, --no-render" "rc $RC $(err1) $(ls "$T/fig sw" | tr '\n' ' ')"; fi

# ---- bad input
expect_exit 2 "missing metric names the available ones" "train_loss" plot "$R/rnn s0" --metric bogus --out "$T/x"
expect_exit 2 "a metric without values says so" "has no value" plot "$R/rnn s0" --metric test_err --out "$T/x"
expect_exit 2 "no runs" "no runs given" plot --metric test_loss
mkdir -p "$T/empty dir"
expect_exit 2 "a directory that is not a run" "is not a run directory" plot "$T/empty dir"
expect_exit 2 "no such directory" "no such directory" plot "$T/nowhere"
expect_exit 2 "unknown option" "unknown option" plot "$R/rnn s0" --colour red
expect_exit 2 "--name must be a plain file name" "--name" plot "$R/rnn s0" --name "a/b"
expect_exit 0 "a group key set in no run is warned about" "splits nothing" plot "$T/sw" --group bogus --out "$T/x" --no-render
expect_exit 2 "--y without --x" "--y needs --x" plot "$T/sw" --y test_loss

# ---- quoting: what the user types is text in the figure, never a command
evil="it's \"x\"
'; system('touch PWNED'); print '"
dale plot "$R/rnn s0" --metric test_loss --out "$T/q 'dir' \"x\"" --title "$evil"
if [ "$RC" -eq 0 ] && [ ! -e PWNED ] && [ ! -e "$T/q 'dir' \"x\"/PWNED" ]; then ok "quoting: a title with quotes and a command runs nothing"
else fail "quoting: a title with quotes and a command runs nothing" "rc $RC $(err1)"; fi
# (a quote is written as the typographic apostrophe, a line break as a space)
if grep -q "^set title 'it’s \"x\" ’; system(’touch PWNED’); print ’'\$" "$T/q 'dir' \"x\"/curves_test_loss.gp"; then
    ok "quoting: the title is one quoted gnuplot string"
else fail "quoting: the title is one quoted gnuplot string" "$(grep '^set title' "$T/q 'dir' \"x\"/curves_test_loss.gp")"; fi
if [ "$HAVE_GP" = 1 ]; then
    if is_png "$T/q 'dir' \"x\"/curves_test_loss.png"; then ok "quoting: the figure is drawn in a directory with quotes"
    else fail "quoting: the figure is drawn in a directory with quotes" "no PNG"; fi
fi

# ---- scatter: Anscombe's first data set through eleven run directories
X=(10 8 13 9 11 14 6 4 12 7 5)
Y=(8.04 6.95 7.58 8.81 8.33 9.96 7.24 4.26 10.84 4.82 5.68)
A="$T/anscombe sweep"
mkdir -p "$A"
for i in "${!X[@]}"; do
    d="$A/run$i"
    cp -r "$R/rnn s0" "$d"
    rm -f "$d/sweep.json"
    sed -i "s/^\([[:space:]]*\"lr\":[[:space:]]*\)[^,]*,/\1${X[$i]},/" "$d/config.json"
    awk -F, -v OFS=, -v y="${Y[$i]}" 'FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "test_loss") c = i; print; next }
                                      { $c = y; print }' "$R/rnn s0/metrics.csv" >"$d/metrics.csv"
done
dale plot "$A" --x lr --y test_loss --group model --out "$T/fig sc"
st="$T/fig sc/scatter_test_loss_vs_lr_stats.txt"
r=$(sed -n 's/^pearson_r = //p' "$st" 2>/dev/null)
p=$(sed -n 's/^p = //p' "$st" 2>/dev/null)
if [ "$RC" -eq 0 ] && awk -v r="$r" -v p="$p" 'BEGIN { exit !(r - 0.81642051634484 < 1e-9 && 0.81642051634484 - r < 1e-9 &&
                                                             p - 0.0021696288730787927 < 1e-12 && 0.0021696288730787927 - p < 1e-12) }'; then
    ok "scatter: Pearson r and p of Anscombe I (scipy: 0.816421, 0.00216963)"
else fail "scatter: Pearson r and p of Anscombe I" "rc $RC r=$r p=$p $(err1)"; fi
if [ "$(tail -n +2 "$T/fig sc/scatter_test_loss_vs_lr.csv" | awk -F, '{ printf "%g,%g\n", $2, $3 }' | sort -n | tr '\n' ' ')" = \
     "$(for i in "${!X[@]}"; do echo "${X[$i]},${Y[$i]}"; done | sort -n | tr '\n' ' ')" ]; then
    ok "scatter: the data file holds the eleven (x, y) pairs"
else fail "scatter: the data file holds the eleven (x, y) pairs" "$(head -3 "$T/fig sc/scatter_test_loss_vs_lr.csv" | tr '\n' ' ')"; fi
if grep -q '^f(x) = slope \* x + intercept' "$T/fig sc/scatter_test_loss_vs_lr.gp"; then ok "scatter: regression line in the script"
else fail "scatter: regression line in the script" "no f(x)"; fi
expect_exit 2 "scatter: unknown x names what exists" "nse0" plot "$A" --x bogus --y test_loss

# ---- report of a sweep, checked in a browser
cat >"$T/tiny.json" <<'EOF'
{"name": "tiny", "description": "two models, two seeds",
 "base": {"task": "adding", "hidden": 10, "max_updates": 40, "eval_every": 10, "adding_n": 200, "adding_test": 100},
 "runs": [{"label": "RNN", "model": "rnn"}, {"label": "ColEI", "model": "colei"}],
 "axes": {"seed": [0, 1]},
 "scales": {"quick": {"kind": "smoke", "note": "tiny"}},
 "analysis": {"select": "val_loss", "group": "label", "hp": "lr,clip", "test": "welch", "corr": "nse0", "svals": 8,
              "paper": {"source": "Table 9", "what": "made-up numbers", "unit": "%", "decimals": 2, "cells": {"RNN": [1.5, 0.25]},
                        "notes": ["Fig. 99: what the paper's figure shows"]}}}
EOF
mkdir -p "$T/exp"
cp "$T/tiny.json" "$T/exp/tiny.json"
DALE_EXPERIMENTS="$T/exp" dale reproduce tiny --scale quick --jobs 2 --out "$T/rep sweep" --quiet
P="$T/rep sweep/report/index.html"
if [ "$RC" -eq 0 ] && [ -f "$P" ]; then ok "reproduce ends with the report"
else fail "reproduce ends with the report" "rc $RC $(err1)"; fi
if grep -q '<table class="grid"><caption>Results per cell' "$P" && grep -q '<td>RNN</td>' "$P"; then ok "report: the results table"
else fail "report: the results table" "missing"; fi
# significance marks: the other cell's bar carries the stars of its Welch p against the reference
# cell (the first, named in the tests), the reference none
RT="$T/rep sweep/report/results.txt"
rcell=$(sed -n "s/^tests of .*, each cell vs '\(.*\)':$/\1/p" "$RT")
ocell=$(awk -F, -v r="$rcell" 'NR > 1 && $5 != r { print $5 }' "$T/rep sweep/report/bars.csv")
pw=$(awk -v c="$ocell" '$1 == "welch" && $2 == c { for (i = 1; i < NF; i++) if ($i == "p") print $(i + 2) }' "$RT")
want=$(awk -v p="$pw" 'BEGIN { p += 0; print (p < 0.001 ? "***" : p < 0.01 ? "**" : p < 0.05 ? "*" : "none") }')
got=$(awk -F, -v c="$ocell" '$5 == c { gsub(/"/, "", $6); print ($6 == "" ? "none" : $6) }' "$T/rep sweep/report/bars.csv")
gref=$(awk -F, -v r="$rcell" '$5 == r { gsub(/"/, "", $6); print "[" $6 "]" }' "$T/rep sweep/report/bars.csv")
if [ -n "$rcell" ] && [ -n "$pw" ] && [ "$(head -n 1 "$T/rep sweep/report/bars.csv")" = "index,mean,sd,n,label,mark" ] &&
    [ "$got" = "$want" ] && [ "$gref" = "[]" ] && grep -q "with labels" "$T/rep sweep/report/bars.gp" &&
    grep -q "Welch&#39;s t-test of the cell against the reference cell &#39;$rcell&#39;" "$P" &&
    grep -q '\*\*\* p &lt; 0.001' "$P"; then
    ok "report: significance mark '$want' (Welch p = $pw vs $rcell) on $ocell's bar, none on the reference, rule in the caption"
else fail "report: significance marks" "ref '$rcell' cell '$ocell' p '$pw' want '$want' got '$got' ref '$gref'"; fi
# the paper's numbers (the analysis' "paper"): a marked last column with the cell's value, "-" for a
# cell the paper has no number for, the notes marked as the paper's; a spec without them has none
if grep -q '<th class="paper">paper (Table 9)</th></tr>' "$P" &&
    grep -q '<td>RNN</td>.*<td class="paper">1.50 ± 0.25%</td></tr>' "$P" &&
    grep -q '<td>ColEI</td>.*<td class="paper">-</td></tr>' "$P" &&
    grep -q '<li><span class="paper-mark">paper:</span> Fig. 99: what the paper&#39;s figure shows</li>' "$P" &&
    grep -q 'made-up numbers from Table 9' "$P"; then
    ok "report: the paper's numbers in a marked column and the paper's notes"
else fail "report: the paper's column" "$(grep -o '<th class="paper">[^<]*' "$P")"; fi
# the singular values at initialisation per cell with the [0, 8] inset (Figs. 5-6 D-F)
if [ "$(head -n 1 "$T/rep sweep/report/svals_0_inset.csv")" = "lo,hi,density" ] &&
    awk -F, 'NR > 1 { s += $3 * ($2 - $1); last = $2 } END { exit !(last == 8 && s > 0.999 && s < 1.001) }' \
        "$T/rep sweep/report/svals_0_inset.csv" &&
    grep -q "^set xrange \[0:8\]" "$T/rep sweep/report/svals_1.gp" && grep -q '<img src="svals_1.png"' "$P" &&
    grep -q 'Singular values of the recurrent W at initialisation, ColEI: 20 draws' "$P"; then
    ok "report: singular-value histograms per cell with the [0, 8] inset"
else fail "report: singular-value histograms" "$(ls "$T/rep sweep/report" | grep svals | tr '\n' ' ')"; fi
if [ "$HAVE_GP" = 1 ]; then
    if [ "$(png_size "$T/rep sweep/report/svals_0.png")" = "800 560" ] &&
        [ "$(grep -c 'in \[0, 8\]' "$T/rep sweep/report/svals_0.svg")" = 1 ] &&
        grep -q 'singular value' "$T/rep sweep/report/svals_0.svg"; then
        ok "report: the histogram's PNG, and its SVG with both panels"
    else fail "report: histogram images" "$(png_size "$T/rep sweep/report/svals_0.png")"; fi
fi
if grep -q -i -E '(src|href)="(https?:)?//' "$P"; then fail "report: no network URL" "$(grep -o -i -E '(src|href)="(https?:)?//[^"]*' "$P" | head -1)"
else ok "report: no network URL"; fi
missing=0
nimg=0
while read -r s; do
    nimg=$((nimg + 1))
    [ -f "$T/rep sweep/report/$s" ] || missing=$((missing + 1))
done < <(grep -o '<img src="[^"]*"' "$P" | sed 's/<img src="//; s/"$//')
if [ "$HAVE_GP" = 1 ]; then
    if [ "$nimg" -ge 6 ] && [ "$missing" = 0 ]; then ok "report: $nimg images, each file there"
    else fail "report: images" "$nimg images, $missing missing"; fi
    for s in curves_test_loss bars scatter_test_loss_vs_nse0 curves_nse_cell0; do
        [ -f "$T/rep sweep/report/$s.png" ] || fail "report: $s.png" "missing"
    done
fi
DALE_EXPERIMENTS="$T/exp" dale reproduce tiny --scale quick --jobs 2 --out "$T/rep2" --quiet --no-report
if [ "$RC" -eq 0 ] && [ ! -e "$T/rep2/report" ]; then ok "reproduce --no-report"; else fail "reproduce --no-report" "rc $RC"; fi

# Fig. 9 as lines: cells labelled "MODEL h=N" (one label key) and cells grouped by model,hidden
# (a categorical and a numeric key) draw the metric against the number, one line per model
cat >"$T/exp/lin.json" <<'EOF'
{"name": "lin", "description": "two models, two sizes",
 "base": {"task": "adding", "max_updates": 30, "eval_every": 10, "adding_n": 200, "adding_test": 100},
 "runs": [{"label": "RNN h=8", "model": "rnn", "hidden": 8}, {"label": "RNN h=12", "model": "rnn", "hidden": 12},
          {"label": "ColEI h=8", "model": "colei", "hidden": 8}, {"label": "ColEI h=12", "model": "colei", "hidden": 12}],
 "axes": {"seed": [0, 1]},
 "scales": {"quick": {"kind": "smoke", "note": "tiny"}},
 "analysis": {"select": "val_loss", "group": "label", "hp": "lr,clip"}}
EOF
DALE_EXPERIMENTS="$T/exp" dale reproduce lin --scale quick --jobs 2 --out "$T/lin" --quiet
L="$T/lin/report"
# the lines' points are the table's cells: mean of "ColEI h=12" at x = 12 in ColEI's line
want=$(awk -F, '$1 == "ColEI h=12" { print $9 }' "$L/results.csv")
got=$(awk -F, '$6 == "ColEI" && $2 == 12 { print $3 }' "$L/lines.csv")
if [ "$RC" -eq 0 ] && [ "$(head -n 1 "$L/lines.csv")" = "group_index,x,mean,sd,n,group" ] &&
    [ "$(awk -F, 'NR > 1 { print $1 ":" $2 ":" $6 }' "$L/lines.csv" | tr '\n' ' ')" = "0:8:ColEI 0:12:ColEI 1:8:RNN 1:12:RNN " ] &&
    [ -n "$want" ] && [ "$got" = "$want" ] && grep -q 'against h, one line per label' "$L/index.html" &&
    ! grep -q 'bars.gp' "$L/index.html"; then
    ok "report: error against the label's number as lines per model, in place of bars (Fig. 9)"
else fail "report: lines from labels" "rc $RC want '$want' got '$got' $(head -3 "$L/lines.csv" | tr '\n' ' ')"; fi
[ "$HAVE_GP" = 1 ] && { [ -s "$L/lines.png" ] || fail "report: lines.png" "missing"; }
if ! grep -q 'class="paper' "$L/index.html" && ! grep -q 'paper-numbers' "$L/index.html" &&
    ! ls "$L" | grep -q '^svals_' && ! grep -q 'Trial trajectories' "$L/index.html"; then
    ok "report: no paper column, no histograms and no trials without the analysis keys (adding task)"
else fail "report: paper column without a paper key" "$(grep -o 'class="paper[^>]*>' "$L/index.html" | head -2)"; fi
sed -i 's/"group": "label"/"group": "model,hidden"/' "$T/lin/spec.json"
dale report "$T/lin" --out "$T/lin/r2" --quiet
if [ "$RC" -eq 0 ] && [ "$(awk -F, 'NR > 1 { print $1 ":" $2 ":" $6 }' "$T/lin/r2/lines.csv" | tr '\n' ' ')" = "0:8:colei 0:12:colei 1:8:rnn 1:12:rnn " ] &&
    grep -q 'against hidden, one line per model' "$T/lin/r2/index.html"; then
    ok "report: grouped by a categorical and a numeric key: lines over the numeric one"
else fail "report: lines from two keys" "rc $RC $(err1)"; fi

# "logx": true in the analysis: the learning curves over a logarithmic update axis; the key is
# data for the report only: every run id stays what it was without it
sed 's/"hp": "lr,clip"}/"hp": "lr,clip", "logx": true}/' "$T/exp/lin.json" >"$T/exp/linlog.json"
"$DALE" sweep "$T/exp/lin.json" --scale quick --dry-run --out "$T/lin" >"$T/ids0" 2>&1
"$DALE" sweep "$T/exp/linlog.json" --scale quick --dry-run --out "$T/lin" >"$T/ids1" 2>&1
i0=$(grep -oE '^[0-9a-f]{16} ' "$T/ids0" | tr -d '\n')
i1=$(grep -oE '^[0-9a-f]{16} ' "$T/ids1" | tr -d '\n')
if grep -q '"logx": *true' "$T/exp/linlog.json" && [ "$(echo "$i0" | wc -w)" = 8 ] && [ "$i0" = "$i1" ]; then
    ok "analysis logx changes no run id"
else fail "analysis logx changes no run id" "'$i0' vs '$i1'"; fi
sed 's/"hp": "lr,clip"}/"hp": "lr,clip", "svals": 8, "paper": {"source": "x", "cells": {"RNN h=8": [1, 2]}, "notes": ["y"]}}/' \
    "$T/exp/lin.json" >"$T/exp/linpaper.json"
"$DALE" sweep "$T/exp/linpaper.json" --scale quick --dry-run --out "$T/lin" >"$T/ids2" 2>&1
i2=$(grep -oE '^[0-9a-f]{16} ' "$T/ids2" | tr -d '\n')
if grep -q '"paper": {' "$T/exp/linpaper.json" && [ "$i0" = "$i2" ]; then ok "analysis paper and svals change no run id"
else fail "analysis paper and svals change no run id" "'$i0' vs '$i2'"; fi
sed -i 's/"hp": *"lr,clip"/"hp": "lr,clip", "logx": true/' "$T/lin/spec.json"
dale report "$T/lin" --out "$T/lin/r3" --quiet
if [ "$RC" -eq 0 ] && grep -q '^set logscale x' "$T/lin/r3/curves_test_loss.gp" &&
    grep -q '^set logscale x' "$T/lin/r3/curves_nse_cell0.gp" && ! grep -q '^set logscale x' "$T/lin/r2/curves_test_loss.gp" &&
    grep -q "logarithmic update axis (the analysis&#39; logx)" "$T/lin/r3/index.html"; then
    ok "report: analysis logx draws the learning curves on a log update axis"
else fail "report: analysis logx" "rc $RC $(err1)"; fi

# trial trajectories of a cognitive-task sweep: per cell the first test trials' output probabilities
# (a distribution at every step) with one-hot targets, and trial 1's hidden rates, ColEI's E units
# red and I units blue, the RNN's grey
cat >"$T/exp/cog.json" <<'EOF'
{"name": "cog", "description": "pdm, two models",
 "base": {"task": "pdm", "hidden": 12, "dynamics": "leaky", "optimizer": "adam", "lr": 0.01, "max_updates": 20,
          "eval_every": 10, "pdm_trials": 100, "pdm_eval": 20},
 "axes": {"model": ["rnn", "colei"], "seed": [0]},
 "scales": {"quick": {"kind": "smoke", "note": "tiny"}},
 "analysis": {"select": "test_err", "group": "model", "hp": "lr"}}
EOF
DALE_EXPERIMENTS="$T/exp" dale reproduce cog --scale quick --jobs 2 --out "$T/cog" --quiet
C="$T/cog/report"
if [ "$RC" -eq 0 ] && [ "$(head -n 1 "$C/trials_0_out.csv")" = "trial,step,time_ms,p0,p1,p2,target0,target1,target2" ] &&
    awk -F, 'NR > 1 { n++; tr[$1] = 1; s = $4 + $5 + $6; if (s < 0.9999 || s > 1.0001) bad++
                      if ($7 + $8 + $9 != 1) bad++; if ($3 != 20 * ($2 + 1)) bad++ }
             END { exit !(n > 30 && length(tr) == 3 && !bad) }' "$C/trials_1_out.csv" &&
    grep -q '<h2>Trial trajectories</h2>' "$C/index.html" && grep -q '<img src="trials_1_out.png"' "$C/index.html" &&
    [ "$(head -n 1 "$C/trials_0_rates.csv" | awk -F, '{ print NF }')" = 14 ]; then
    ok "report: trial trajectories per cell of a pdm sweep (probabilities, one-hot targets, 3 trials)"
else fail "report: trial trajectories" "rc $RC $(err1) $(head -2 "$C/trials_0_out.csv" 2>&1 | tr '\n' ' ')"; fi
ei=$(grep -l "lc rgb '#0072B2'" "$C"/trials_*_rates.gp | wc -l)
grey=$(grep -l "lc rgb '#555555'" "$C"/trials_*_rates.gp | wc -l)
if [ "$ei" = 1 ] && [ "$grey" = 1 ] && grep -q "lc rgb '#D55E00'" "$(grep -l "lc rgb '#0072B2'" "$C"/trials_*_rates.gp)" &&
    grep -q 'excitatory units red' "$C/index.html"; then
    ok "report: hidden rates, ColEI's E units red and I units blue, the RNN's grey"
else fail "report: hidden rates colours" "ei $ei grey $grey"; fi
[ "$HAVE_GP" = 1 ] && { [ "$(png_size "$C/trials_0_out.png" 2>/dev/null)" = "1400 640" ] || fail "report: trials PNG" "$(png_size "$C/trials_0_out.png" 2>&1)"; }

CHROME=""
for c in chromium chromium-browser google-chrome; do command -v "$c" >/dev/null 2>&1 && { CHROME=$c; break; }; done
if [ -z "$CHROME" ]; then
    echo "skip browser check: Chromium is not installed (scripts/install-deps.sh installs Debian's chromium)"
elif [ "$HAVE_GP" = 0 ]; then
    echo "skip browser check: no images without gnuplot"
else
    chrome() {
        timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
            --disable-component-update --disable-sync --user-data-dir="$T/chrome-$1" "${@:2}" 2>"$T/chrome-$1.err"
    }
    chrome dom --virtual-time-budget=10000 --dump-dom "file://$P" >"$T/dom.html"
    tag=$(grep -o '<p id="dale-image-check"[^>]*>' "$T/dom.html")
    imgs=$(echo "$tag" | sed -n 's/.*data-images="\([0-9]*\)".*/\1/p')
    broken=$(echo "$tag" | sed -n 's/.*data-broken="\([0-9]*\)".*/\1/p')
    errs=$(echo "$tag" | sed -n 's/.*data-errors="\([0-9]*\)".*/\1/p')
    if [ -n "$imgs" ] && [ "$imgs" = "$nimg" ] && [ "$broken" = 0 ]; then ok "browser: all $imgs images loaded"
    else fail "browser: all images loaded" "check: '$tag' (want $nimg images) $(tail -c 300 "$T/chrome-dom.err")"; fi
    if [ "$errs" = 0 ]; then ok "browser: no script error"; else fail "browser: no script error" "errors '$errs'"; fi
    # the same check must see a broken image (the test can fail)
    cp -r "$T/rep sweep/report" "$T/broken"
    rm "$T/broken/bars.png"
    chrome dom2 --virtual-time-budget=10000 --dump-dom "file://$T/broken/index.html" >"$T/dom2.html"
    if grep -q 'data-broken="1"' "$T/dom2.html"; then ok "browser: a missing image is seen"
    else fail "browser: a missing image is seen" "$(grep -o '<p id="dale-image-check"[^>]*>' "$T/dom2.html")"; fi
    chrome domc --virtual-time-budget=10000 --dump-dom "file://$C/index.html" >"$T/domc.html"
    nic=$(grep -c '<img src=' "$C/index.html")
    if grep -q "data-images=\"$nic\" data-broken=\"0\" data-errors=\"0\"" "$T/domc.html"; then
        ok "browser: the trial trajectories page: all $nic images loaded, no script error"
    else fail "browser: trial trajectories page" "$(grep -o '<p id="dale-image-check"[^>]*>' "$T/domc.html") (want $nic)"; fi
    chrome shot --window-size=1280,2400 --screenshot="$T/shot.png" "file://$P" >/dev/null
    if [ -f "$T/shot.png" ] && is_png "$T/shot.png" && [ "$(png_size "$T/shot.png")" = "1280 2400" ]; then
        ok "browser: screenshot of the page"
        [ -n "${DALE_KEEP_SCREENSHOT:-}" ] && cp "$T/shot.png" "$DALE_KEEP_SCREENSHOT"
    else fail "browser: screenshot of the page" "$(tail -c 300 "$T/chrome-shot.err")"; fi
fi

# ---- report of one run; not a run
dale report "$R/rnn s0" --out "$T/run report" --quiet
if [ "$RC" -eq 0 ] && grep -q 'Resolved run options' "$T/run report/index.html" &&
   grep -q 'curves_test_loss.png' "$T/run report/index.html"; then ok "report of a run"
else fail "report of a run" "rc $RC $(err1)"; fi
expect_exit 2 "report: a directory that is not a run" "is not a run directory" report "$T/empty dir" --out "$T/r3"
expect_exit 2 "report: no such directory" "no such directory" report "$T/nowhere"

lib_finish
