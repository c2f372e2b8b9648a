#!/usr/bin/env bash
# test_spectrum_cli.sh BUILD_DIR — CLI tests of dale spectrum, diagnose and transplant.
#
# Help and usage errors (exit 2); a small spectrum run and its files; the
# output does not depend on --threads (single runs and Table 3); a network
# reused for the next draw gives the draw of a fresh one; draw k of `dale spectrum --seed S` is
# the matrix `dale train --seed S --max-updates 0` writes (same NSE and
# sigma_max to the last digit); the tables on small sizes; figures with and
# without gnuplot; transplant; every bad input of `dale diagnose` (exit 1 and
# a message naming the file).  Needs only bash and coreutils.
set -u
build=${1:-}
if [ -z "$build" ]; then echo "usage: $0 BUILD_DIR" >&2; exit 2; fi
DALE=$build/dale
case $DALE in /*) ;; *) DALE=$PWD/$DALE ;; esac
PASS=0; FAILS=0
ok() { PASS=$((PASS + 1)); echo "ok $1"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL $1: $2"; }
if [ ! -x "$DALE" ]; then echo "FAIL setup: $DALE missing"; echo "0 passed, 1 failed"; exit 1; fi
T=$(mktemp -d "${TMPDIR:-/tmp}/dale-spec.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

run() { "$DALE" "$@" >"$T/out" 2>"$T/err"; RC=$?; }
err1() { head -c 300 "$T/err" | tr '\n' ' '; }
# expect WANT_RC WHAT PATTERN ARGS... — exit code and a stderr pattern (fixed string)
expect() {
    local want=$1 what=$2 pat=$3; shift 3
    run "$@"
    if [ "$RC" -ne "$want" ]; then fail "$what" "exit $RC, want $want (stderr: $(err1))"
    elif [ -n "$pat" ] && ! grep -q -F -e "$pat" "$T/err"; then fail "$what" "stderr lacks '$pat' (stderr: $(err1))"
    else ok "$what"; fi
}
# jnum FILE KEY — first number after "KEY": (cJSON prints one key per line)
jnum() { grep -A1 "\"$2\":" "$1" | grep -o -E -- '-?[0-9][0-9.e+-]*' | head -n 1; }

# ---- help and usage
for c in spectrum diagnose transplant; do
    run $c --help
    if [ "$RC" -eq 0 ] && grep -q -- "default" "$T/out"; then ok "$c --help"; else fail "$c --help" "rc $RC"; fi
done
run spectrum --help
for o in --model --hidden --inhib --ei-ratio --rho --zero-diag --colei-dist --gamma-shape --numerator \
         --dann-wie --dann-ni-rec --inits --seed --threads --out --bins --log-y --no-plot --json --table \
         --seeds --sizes --no-eig --eig-draws; do
    grep -q -- "$o" "$T/out" || fail "spectrum --help lists $o" "missing"
done
ok "spectrum --help lists every option"
expect 2 "unknown option" "unknown option" spectrum --bogus 1
expect 2 "bad --table" "--table" spectrum --table foo
expect 2 "bad --inits" "--inits" spectrum --inits 0
expect 2 "bad model" "model" spectrum --model lstm --inits 2
expect 2 "diagnose without file" "no FILE" diagnose
expect 2 "transplant missing args" "required" transplant --vectors x

# ---- a small run, its files, JSON
expect 0 "spectrum colei n=30" "" spectrum --model colei --hidden 30 --inhib 0.1 --inits 12 --threads 1 --out a1 --no-plot
for f in spectrum.npz summary.json svals_hist.csv eig.csv eig.gp svals_hist.gp; do
    [ -s "a1/$f" ] || fail "spectrum writes $f" "missing"
done
ok "spectrum writes npz, json, csv and scripts"
[ "$(jnum a1/summary.json nI)" = 3 ] && ok "summary: nI = 3" || fail "summary nI" "$(jnum a1/summary.json nI)"
[ "$(wc -l < a1/eig.csv)" -eq $((12 * 30 + 1)) ] && ok "eig.csv rows" || fail "eig.csv rows" "$(wc -l < a1/eig.csv)"
# the inset of the paper's Figs. 5-6: a histogram of the values in [0, HI]
[ ! -e a1/svals_hist_inset.csv ] && ok "no inset file without --inset" || fail "inset" "written without --inset"
expect 0 "spectrum --inset 8" "" spectrum --model colei --hidden 30 --inhib 0.1 --inits 12 --threads 1 --bins 40 --inset 8 --log-y --out ai --no-plot
if [ -s ai/svals_hist_inset.csv ] && [ "$(wc -l < ai/svals_hist_inset.csv)" -eq 41 ] &&
   awk -F, 'NR > 1 { s += $3 * ($2 - $1); last = $2 } END { exit !(last == 8 && s > 0.999 && s < 1.001) }' ai/svals_hist_inset.csv
then ok "inset: 40 bins over [0, 8], a density"; else fail "inset csv" "$(head -3 ai/svals_hist_inset.csv 2>&1)"; fi
grep -q multiplot ai/svals_hist.gp && grep -q svals_hist_inset.csv ai/svals_hist.gp &&
    ! grep -q multiplot a1/svals_hist.gp && ok "inset: drawn as a second panel of svals_hist" || fail "inset script" "no multiplot"
expect 2 "bad --inset" "--inset" spectrum --model colei --hidden 30 --inits 2 --inset -1 --no-plot --out ab
expect 2 "bad --inset text" "--inset" spectrum --model colei --hidden 30 --inits 2 --inset 8x --no-plot --out ab
expect 0 "same run on 3 threads" "" spectrum --model colei --hidden 30 --inhib 0.1 --inits 12 --threads 3 --out a3 --no-plot
if cmp -s a1/svals_hist.csv a3/svals_hist.csv && cmp -s a1/eig.csv a3/eig.csv &&
   diff <(grep -v seconds a1/summary.json) <(grep -v seconds a3/summary.json) >/dev/null; then
    ok "output independent of --threads"
else fail "thread independence" "files differ"; fi
run spectrum --model dann --hidden 20 --inits 4 --json --no-plot --out a4
if [ "$RC" -eq 0 ] && grep -q '"nse"' "$T/out" && grep -q '"sigma_max"' "$T/out"; then ok "--json summary on stdout"
else fail "--json" "rc $RC"; fi

# ---- draw k is the matrix dale train starts from
for m in colei dann rnn; do
    run train --model $m --hidden 20 --seed 5 --max-updates 0 --quiet --out tr-$m
    if [ "$RC" -ne 0 ]; then fail "train $m --max-updates 0" "$(err1)"; continue; fi
    "$DALE" diagnose --json tr-$m/final.npz >d.json 2>/dev/null
    "$DALE" spectrum --model $m --hidden 20 --seed 3 --inits 3 --no-plot --out sp-$m >/dev/null 2>&1
    "$DALE" spectrum --model $m --hidden 20 --seed 5 --inits 1 --no-plot --json --out sp1-$m >s.json 2>/dev/null
    a=$(jnum d.json nse); b=$(jnum s.json nse); c=$(jnum d.json sigma_max); d=$(jnum s.json sigma_max)
    if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$c" = "$d" ]; then ok "$m: spectrum --seed 5 = train --seed 5 init (NSE $a)"
    else fail "$m draw = train init" "diagnose nse $a smax $c, spectrum nse $b smax $d"; fi
done

# ---- a worker reuses its network for the next draw of a job: draw 2 of
# --seed 3 on one thread (the network already drew seeds 3 and 4) is draw 0
# of --seed 5 (a fresh network)
for m in colei dann rnn; do
    "$DALE" spectrum --model $m --hidden 24 --seed 3 --inits 3 --threads 1 --no-plot --out re3-$m >/dev/null 2>&1
    "$DALE" spectrum --model $m --hidden 24 --seed 5 --inits 1 --threads 1 --no-plot --out re5-$m >/dev/null 2>&1
    a=$(awk -F, '$1 == 2 {print $2, $3}' re3-$m/eig.csv 2>/dev/null); b=$(awk -F, '$1 == 0 {print $2, $3}' re5-$m/eig.csv 2>/dev/null)
    if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "$m: draw 2 of a reused network = the same seed on a fresh one"
    else fail "$m network reuse" "eigenvalues of draw 2 of --seed 3 differ from --seed 5"; fi
done

# ---- tables on small sizes
expect 0 "table nse (small)" "" spectrum --table nse --sizes 30,40 --seeds 3 --out t3
# The table does not depend on the thread count: each draw has its own seed
# and its own slot (the first line only differs in the seconds and threads).
for th in 1 2 3; do
    "$DALE" spectrum --table nse --sizes 24,30,40 --seeds 3 --threads $th --out t3-$th >t3-$th.txt 2>/dev/null
done
if [ -s t3-1.txt ] && diff <(tail -n +2 t3-1.txt | sed 's/t3-1/t3-N/') <(tail -n +2 t3-2.txt | sed 's/t3-2/t3-N/') >/dev/null &&
   diff <(tail -n +2 t3-1.txt | sed 's/t3-1/t3-N/') <(tail -n +2 t3-3.txt | sed 's/t3-3/t3-N/') >/dev/null &&
   cmp -s t3-1/table3.csv t3-2/table3.csv && cmp -s t3-1/table3.csv t3-3/table3.csv &&
   cmp -s t3-1/table3.json t3-2/table3.json; then
    ok "table nse: --threads 1, 2 and 3 print and write the same table"
else fail "table nse thread independence" "$(diff t3-1.txt t3-2.txt | head -5 | tr '\n' ' ')"; fi
[ "$(wc -l < t3/table3.csv)" -eq 15 ] && ok "table3.csv has 14 rows" || fail "table3.csv" "$(wc -l < t3/table3.csv) lines"
grep -q "ColEI 10 %" "$T/out" && ok "table printed" || fail "table printed" "no ColEI row"
expect 0 "table grid (small)" "" spectrum --table grid --sizes 40,60 --out g
[ "$(wc -l < g/grid.csv)" -eq 21 ] && ok "grid.csv has 20 cells" || fail "grid.csv" "$(wc -l < g/grid.csv)"

# ---- figures
if command -v gnuplot >/dev/null; then
    expect 0 "spectrum with figures" "" spectrum --model rnn --hidden 20 --inits 5 --log-y --out f1
    [ -s f1/eig.png ] && [ -s f1/eig.svg ] && [ -s f1/svals_hist.png ] && [ -s f1/svals_hist.svg ] &&
        ok "PNG and SVG written" || fail "figures" "$(ls f1)"
    [ -s g/nse_grid.png ] && ok "grid heat map" || fail "grid heat map" "missing"
fi
mkdir -p nobin
PATH="$T/nobin" "$DALE" spectrum --model rnn --hidden 20 --inits 3 --out f2 >"$T/out" 2>"$T/err"; RC=$?
if [ "$RC" -eq 0 ] && grep -q "gnuplot not found" "$T/err" && [ -s f2/eig.gp ] && [ ! -e f2/eig.png ]; then
    ok "no gnuplot: data and scripts, a note, exit 0"
else fail "no gnuplot" "rc $RC $(err1)"; fi

# ---- transplant
printf '1,2,3\n4,5,6\n' > a.csv; printf '0 1 0\n2 0 0\n' > b.csv
expect 0 "transplant rectangular CSV" "" transplant --vectors a.csv --values b.csv --out c.npy
[ -s c.npy ] && ok "transplant output" || fail "transplant output" "missing"
expect 0 "transplant model specs" "" transplant --vectors rnn:1 --values colei:2 --hidden 16 --out m.npy
expect 0 "diagnose a transplanted matrix" "" diagnose m.npy
expect 1 "transplant shape mismatch" "shapes differ" transplant --vectors a.csv --values m.npy --out x.npy

# ---- diagnose: good inputs
expect 0 "diagnose run file" "" diagnose tr-colei/final.npz
grep -q "cell0.W_eff" "$T/out" && ok "run file: cell0.W_eff" || fail "run file" "no cell0.W_eff"
expect 0 "diagnose npz:key" "" diagnose tr-dann/final.npz:cell0.W_eff
printf '# a comment\n1 0.5\n\n-0.25, 2\n' > good.csv
expect 0 "diagnose csv" "" diagnose good.csv

# ---- diagnose: bad inputs (exit 1, message names the file)
# npy HEADER_DICT DATA_BYTES FILE — write an NPY 1.0 file
npy() {
    local dict=$1 nbytes=$2 out=$3 hl
    hl=$(( (${#dict} + 11 + 63) / 64 * 64 - 10 ))
    { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((hl % 256)))\\x$(printf %02x $((hl / 256)))";
      printf '%-*s\n' $((hl - 1)) "$dict"; head -c "$nbytes" /dev/zero; } > "$out"
}
npy "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }" 48 nonsq.npy
npy "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }" 32 oned.npy
npy "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }" 16 int.npy
npy "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 3), }" 40 trunc.npy
npy "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }" 16 zero.npy
cp zero.npy inf.npy; printf '\x00\x00\x80\x7f' | dd of=inf.npy bs=1 seek=$(( $(wc -c < zero.npy) - 16 + 4 )) conv=notrunc 2>/dev/null
printf 'GARBAGE-not-npy-at-all-xxxxxxxxxxxxxx' > corrupt.npy
printf '1,2\n3,nan\n' > nan.csv
printf '1,2,3\n4,5\n6,7,8\n' > ragged.csv
printf '1,2,3\n4,5,6\n' > rect.csv
printf 'a,b\n1,2\n' > header.csv
expect 1 "diagnose non-square npy" "nonsq.npy: matrix is 2 x 3, not square" diagnose nonsq.npy
expect 1 "diagnose 1-D npy" "oned.npy: need a 2-D matrix" diagnose oned.npy
expect 1 "diagnose wrong dtype" "int.npy: wrong dtype '<i4'" diagnose int.npy
expect 1 "diagnose truncated npy" "trunc.npy" diagnose trunc.npy
grep -q -i "trunc\|needs\|holds" "$T/err" && ok "truncated: says so" || fail "truncated message" "$(err1)"
expect 1 "diagnose corrupt npy" "corrupt.npy: bad magic" diagnose corrupt.npy
expect 1 "diagnose Inf entry" "inf.npy: entry [0, 1] is infinite" diagnose inf.npy
expect 1 "diagnose NaN entry" "nan.csv: entry [1, 1] is NaN" diagnose nan.csv
expect 1 "diagnose ragged csv" "ragged.csv:2: ragged rows" diagnose ragged.csv
expect 1 "diagnose non-square csv" "rect.csv: matrix is 2 x 3, not square" diagnose rect.csv
expect 1 "diagnose csv header" "header.csv:1: 'a' is not a number" diagnose header.csv
expect 1 "diagnose missing file" "missing.npy: cannot open" diagnose missing.npy
expect 1 "diagnose missing npz member" "no member 'nope'" diagnose tr-rnn/final.npz:nope
printf 'PK\x03\x04junk' > bad.npz
expect 1 "diagnose corrupt npz" "bad.npz" diagnose bad.npz
expect 1 "diagnose all-zero matrix" "zero.npy: the matrix is all zeros" diagnose zero.npy
expect 1 "one bad file among good ones still exit 1" "nonsq.npy" diagnose good.csv nonsq.npy
grep -q "good.csv" "$T/out" && ok "good file still reported" || fail "good file reported" "missing"

# run files: a trained matrix is described, not forecast; DANN's mixed columns explained
"$DALE" train --quiet --model dann --hidden 20 --max-updates 30 --out dg-trained
"$DALE" train --quiet --model dann --hidden 20 --max-updates 0 --out dg-init
"$DALE" diagnose dg-trained/final.npz >dg1.txt 2>&1
grep -q "trained for 30 updates: NSE .* describes the trained matrix" dg1.txt && ok "diagnose: a trained matrix is described" ||
    fail "diagnose trained" "$(head -c 300 dg1.txt)"
grep -q "expect .*learning" dg1.txt && fail "diagnose trained" "still forecasts learning" || ok "diagnose: no learning forecast for a trained matrix"
grep -q "Dale's law holds on the factors" dg1.txt && ok "diagnose: DANN's mixed columns explained by its factors" ||
    fail "diagnose dann" "$(grep verdict dg1.txt | head -c 300)"
"$DALE" diagnose dg-init/final.npz >dg2.txt 2>&1
grep -q "trained for" dg2.txt && fail "diagnose init" "an initial matrix called trained" || ok "diagnose: update-0 matrix gets the forecast"
"$DALE" diagnose --json dg-trained/checkpoint.npz >dg3.txt 2>&1
grep -q '"model":[[:space:]]*"dann"' dg3.txt && grep -q '"updates":[[:space:]]*30' dg3.txt &&
    ok "diagnose --json: model and updates of a run file" || fail "diagnose --json" "$(head -c 300 dg3.txt)"

# progress of long samplings (forced here on a quick one)
"$DALE" spectrum --model colei --hidden 30 --inits 3 --no-plot --progress --threads 1 --out sp-progress >/dev/null 2>prog.txt
if grep -q "^dale spectrum: 3 draws, about" prog.txt && grep -q "^draw 3/3 done (n 30)" prog.txt; then
    ok "spectrum --progress: a start line and the draws"
else fail "spectrum progress" "$(head -c 300 prog.txt)"; fi
"$DALE" spectrum --model colei --hidden 30 --inits 3 --no-plot --threads 1 --out sp-quiet >/dev/null 2>prog2.txt
grep -q "draw" prog2.txt && fail "spectrum progress" "a quick sampling printed progress" || ok "spectrum: a quick sampling stays quiet"

echo "$PASS passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
