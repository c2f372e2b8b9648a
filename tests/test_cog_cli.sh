#!/usr/bin/env bash
# test_cog_cli.sh — the cognitive tasks from the command line: short pdm,
# cdm and dms runs; `dale eval` reports performance per condition;
# `dale eval --trials N --out FILE` writes the NPZ members with the right
# names, dtypes and shapes (and is the same for the same seed); `dale
# psychometric` writes its CSVs and figure script; bad task options and bad
# flags are refused with a message naming them, a grace period (--pdm-grace)
# among them.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
cd "$T" || exit 1

# npz_shapes FILE — "name descr shape" per member, in archive order (the
# members are stored, so each NPY header is readable in place).
npz_shapes() {
    paste -d' ' <(npz_names "$1") \
        <(grep -a -o "{'descr': '[^']*', 'fortran_order': False, 'shape': ([0-9, ]*)" "$1" |
            sed "s/{'descr': '\([^']*\)', 'fortran_order': False, 'shape': (\([0-9, ]*\))/\1 (\2)/; s/, *)/)/")
}

# 100 updates teach this small network to hold fixation (psychometric needs choices)
P=(--task pdm --model rnn --hidden 16 --batch 8 --max-updates 100 --eval-every 50 --pdm-trials 640 --pdm-eval 40
   --pdm-stimulus 400 --lr 0.05)
dale train "${P[@]}" --out pdm
if [ "$RC" -eq 0 ] && [ -f pdm/final.npz ]; then ok "pdm trains"; else fail "pdm trains" "exit $RC: $(err1)"; fi
json_expect "config.json records dt" pdm/config.json dt 20
json_expect "config.json records pdm_coh" pdm/config.json pdm_coh "0,6.4,12.8,25.6,51.2"
if head -n 1 pdm/metrics.csv | grep -q '^update,epoch,lr,train_loss,train_err,val_loss,val_err,test_loss,test_err,'; then
    ok "metrics.csv keeps its columns"
else
    fail "metrics.csv keeps its columns" "$(head -n 1 pdm/metrics.csv)"
fi

dale eval pdm
if [ "$RC" -eq 0 ] && grep -q "performance .* correct, fixation broken in" "$T/out" &&
    [ "$(grep -c '^  coh ' "$T/out")" -eq 5 ]; then
    ok "dale eval: performance per coherence"
else
    fail "dale eval: performance per coherence" "exit $RC: $(head -c 400 "$T/out") $(err1)"
fi
dale eval pdm --json
if [ "$RC" -eq 0 ] && grep -q '"conditions": \[{"condition": "coh 0", "trials": 8' "$T/out"; then
    ok "dale eval --json: conditions"
else
    fail "dale eval --json: conditions" "$(head -c 300 "$T/out")"
fi
# the test error of metrics.csv is 100 - performance of the final network
perf=$(sed -n 's/.*"correct": \([0-9.e-]*\), "broken".*/\1/p' "$T/out")
err=$(tail -n 1 pdm/metrics.csv | cut -d, -f9)
if awk -v p="$perf" -v e="$err" 'BEGIN { d = 100 * (1 - p) - e; exit !(d < 1e-6 && d > -1e-6) }'; then
    ok "test_err = 100 (1 - performance) ($err)"
else
    fail "test_err = 100 (1 - performance)" "performance $perf, test_err $err"
fi

dale eval pdm --trials 30 --out tr.npz
if [ "$RC" -eq 0 ] && [ -f tr.npz ]; then ok "eval --trials writes the NPZ"; else fail "eval --trials" "exit $RC: $(err1)"; fi
want="inputs <f4 (30, 30, 3)
targets <i4 (30, 30)
weights <f4 (30, 30)
hidden0 <f4 (30, 30, 16)
outputs <f4 (30, 30, 3)
truth <i4 (30)
choice <i4 (30)
outcome <i4 (30)
condition <i4 (30)
context <i4 (30)
direction <i4 (30, 2)
stimulus <i4 (30, 2)
periods <i4 (30, 4)
coherence <f8 (30, 2)
period_names |u1 (26)"
got=$(npz_shapes tr.npz)
if [ "$got" = "$want" ]; then ok "pdm trials.npz: members, dtypes, shapes"; else fail "pdm trials.npz" "$(echo "$got" | tr '\n' ';')"; fi
if grep -a -q "fixation,stimulus,decision" tr.npz; then ok "period_names"; else fail "period_names" "not found"; fi
dale eval pdm --trials 30 --out tr2.npz
expect_npz_same "eval --trials twice: the same file" tr.npz tr2.npz
dale eval pdm --trials 30 --seed 5 --out tr3.npz
if [ "$RC" -eq 0 ] && [ "$(npz_shapes tr3.npz | head -n 1)" = "inputs <f4 (30, 30, 3)" ] &&
    ! npz_same tr.npz tr3.npz; then
    ok "eval --trials --seed: other trials, same shapes"
else
    fail "eval --trials --seed" "exit $RC: $(err1)"
fi
dale eval pdm --trials 10
if [ "$RC" -eq 0 ] && [ -f pdm/trials.npz ]; then ok "eval --trials: default RUN/trials.npz"; else fail "default out" "$(err1)"; fi

# cdm: two layers, padded trials, context labels
C=(--task cdm --model colei --layers 2 --hidden 12 --batch 8 --max-updates 4 --eval-every 2 --cdm-trials 64
   --cdm-eval 72 --dt 50 --cdm-delay-max 900)
dale train "${C[@]}" --out cdm
if [ "$RC" -eq 0 ]; then ok "cdm trains (colei, 2 layers)"; else fail "cdm trains" "exit $RC: $(err1)"; fi
dale eval cdm --trials 20 --out c.npz
got=$(npz_shapes c.npz | grep -E '^(inputs|hidden0|hidden1|outputs|periods|targets) ' | tr '\n' ';')
want="inputs <f4 (20, 41, 7);targets <i4 (20, 41);hidden0 <f4 (20, 41, 12);hidden1 <f4 (20, 41, 12);outputs <f4 (20, 41, 3);periods <i4 (20, 5);"
if [ "$got" = "$want" ]; then ok "cdm trials.npz: one hidden member per layer, T = the longest trial"; else fail "cdm trials.npz" "$got"; fi
dale eval cdm
if [ "$RC" -eq 0 ] && grep -q "context 2, coh 50" "$T/out"; then ok "cdm: performance per context"; else fail "cdm per context" "$(head -c 300 "$T/out")"; fi

dale train --task dms --model dann --hidden 12 --batch 8 --max-updates 2 --eval-every 2 --dms-trials 16 --dms-eval 8 \
    --dms-stimuli 3 --out dms
if [ "$RC" -eq 0 ]; then ok "dms trains (dann, 3 stimuli)"; else fail "dms trains" "exit $RC: $(err1)"; fi
dale eval dms
if [ "$RC" -eq 0 ] && grep -q "non-match" "$T/out"; then ok "dms: match / non-match"; else fail "dms conditions" "$(err1)"; fi

# --trials on a task without trials: the common members only
dale train --task adding --adding-n 200 --adding-test 20 --max-updates 3 --eval-every 3 --out add
dale eval add --trials 7 --out add.npz
got=$(npz_shapes add.npz | tr '\n' ';')
if [ "$got" = "inputs <f4 (7, 20, 2);targets <f4 (7, 1);weights <f4 (7, 20);hidden0 <f4 (7, 20, 10);outputs <f4 (7, 20, 1);" ]; then
    ok "adding trials.npz: inputs, targets (last step), weights, hidden0, outputs"
else
    fail "adding trials.npz" "$got"
fi

# psychometric
dale psychometric pdm --out psy
if [ "$RC" -eq 0 ] && [ -f psy/psychometric.csv ] && [ -f psy/psychometric_fit.csv ] && [ -f psy/psychometric.gp ] &&
    [ "$(head -n 1 psy/psychometric.csv)" = "curve,context,modality,cued,coherence,trials,chose2,p_chose2" ]; then
    ok "psychometric: CSVs and figure script"
else
    fail "psychometric" "exit $RC: $(err1)"
fi
# 40 test trials, 9 signed coherence levels (0 once), all in one curve
n=$(awk -F, 'NR > 1 { n += $6 } END { print n }' psy/psychometric.csv)
lv=$(($(wc -l <psy/psychometric.csv) - 1))
if [ "$n" -eq "$(grep -o '[0-9]* with fixation broken' "$T/out" | awk '{ print 40 - $1 }')" ] && [ "$lv" -le 9 ]; then
    ok "psychometric: trials with a choice at $lv levels"
else
    fail "psychometric points" "$n trials at $lv levels: $(head -c 300 "$T/out")"
fi
if command -v gnuplot >/dev/null; then
    if [ -s psy/psychometric.png ] && [ -s psy/psychometric.svg ]; then ok "psychometric PNG and SVG"; else fail "images" "missing"; fi
else
    skip "psychometric images" "no gnuplot"
fi
dale train --task cdm --model rnn --hidden 12 --batch 8 --max-updates 100 --eval-every 50 --cdm-trials 640 \
    --cdm-eval 72 --dt 50 --cdm-delay-max 900 --lr 0.05 --out cdmr
[ "$RC" -eq 0 ] || fail "cdm rnn trains" "exit $RC: $(err1)"
dale psychometric cdmr --out psyc
if [ "$RC" -eq 0 ] && [ "$(awk -F, 'NR > 1 { print $1 }' psyc/psychometric_fit.csv | tr '\n' ' ')" = "0 1 2 3 " ] &&
    grep -q "context 2: modality 2 (cued)" psyc/psychometric_fit.csv; then
    ok "psychometric cdm: four curves, per context and modality"
else
    fail "psychometric cdm" "exit $RC: $(err1)"
fi
# dale report of a pdm / cdm run: the psychometric figure (the same files as dale psychometric)
dale report pdm --out rep --quiet
if [ "$RC" -eq 0 ] && grep -q 'src="psychometric/psychometric.png"\|psychometric/psychometric.svg' rep/index.html &&
    cmp -s rep/psychometric/psychometric.csv psy/psychometric.csv; then
    ok "report of a pdm run: the psychometric figure, the points of dale psychometric"
else
    fail "report of a pdm run: psychometric" "exit $RC: $(err1)"
fi
dale report cdmr --out repc --quiet
if [ "$RC" -eq 0 ] && [ "$(awk -F, 'NR > 1 { print $1 }' repc/psychometric/psychometric_fit.csv | tr '\n' ' ')" = "0 1 2 3 " ] &&
    grep -q 'one per context and modality' repc/index.html; then
    ok "report of a cdm run: four psychometric curves"
else
    fail "report of a cdm run: psychometric" "exit $RC: $(err1)"
fi
# one update: fixation breaks in every trial; psychometric refuses, the report says so and succeeds
dale train --task pdm --model rnn --hidden 16 --batch 8 --max-updates 1 --eval-every 1 --pdm-trials 64 --pdm-eval 40 \
    --pdm-stimulus 400 --out pdm1
expect_exit 1 "psychometric: fixation broken in every trial" "fixation broke in every one of the 40 trials" psychometric pdm1 --out psy1
dale report pdm1 --out rep1 --quiet
if [ "$RC" -eq 0 ] && grep -q 'fixation broke in every trial' rep1/index.html && ! grep -q 'psychometric.png' rep1/index.html; then
    ok "report: fixation broken in every trial is said, not a failure"
else
    fail "report: fixation broken in every trial" "exit $RC: $(err1)"
fi
# the report of a sweep of pdm runs: a figure for the run that learned, a note for the broken one
cat >psw.json <<'EOF'
{"name": "psw", "description": "pdm",
 "base": {"task": "pdm", "model": "rnn", "hidden": 16, "batch": 8, "max_updates": 100, "eval_every": 50,
          "pdm_trials": 640, "pdm_eval": 40, "pdm_stimulus": 400, "lr": 0.05},
 "runs": [{"label": "learned"}, {"label": "broken", "max_updates": 1, "eval_every": 1}],
 "analysis": {"select": "val_err", "group": "label"}}
EOF
dale sweep psw.json --out psw --jobs 1 --quiet
dale report psw --out psw/rep --quiet
if [ "$RC" -eq 0 ] && [ "$(grep -o 'href="psychometric-[0-9a-f]*/psychometric.gp"' psw/rep/index.html | wc -l)" = 1 ] &&
    [ "$(grep -c 'fixation broke in every trial' psw/rep/index.html)" = 1 ] &&
    [ "$(ls -d psw/rep/psychometric-* | wc -l)" = 1 ]; then
    ok "report of a pdm sweep: one psychometric figure, one note"
else
    fail "report of a pdm sweep" "exit $RC: $(err1)"
fi
dale report add --out repa --quiet
if [ "$RC" -eq 0 ] && ! grep -q 'psychometric' repa/index.html; then ok "report of an adding run: no psychometric"
else fail "report of an adding run" "exit $RC"; fi
expect_exit 1 "psychometric refuses dms" "psychometric curves are for pdm and cdm" psychometric dms

# bad input
expect_exit 2 "bad --pdm-coh named" "--pdm-coh" train --task pdm --pdm-coh 5,abc --out bad
expect_exit 2 "bad --pdm-stimulus named" "--pdm-stimulus" train --task pdm --pdm-stimulus 0 --out bad
expect_exit 2 "bad --dt named" "--dt" train --task cdm --dt -1 --out bad
expect_exit 2 "unknown task option named" "pdm-bogus" train --task pdm --pdm-bogus 3 --out bad
expect_exit 2 "--pdm-grace as long as the decision period refused" "shorter than the decision period" \
    train --task pdm --pdm-grace 100 --out bad
expect_exit 2 "negative --dms-grace named" "--dms-grace" train --task dms --dms-grace -20 --out bad
expect_exit 2 "--cdm-grace abc named" "--cdm-grace" train --task cdm --cdm-grace abc --out bad
dale train --task pdm --hidden 8 --pdm-trials 64 --pdm-eval 8 --pdm-grace 40 --max-updates 0 --out grace
if [ "$RC" -eq 0 ]; then json_expect "config.json records pdm_grace" grace/config.json pdm_grace 40
else fail "pdm with a grace of 40 ms trains" "exit $RC: $(err1)"; fi
json_expect "pdm_grace is 0 by default" pdm/config.json pdm_grace 0
expect_exit 2 "--trials 0" "--trials" eval pdm --trials 0
expect_exit 2 "--trials abc" "--trials" eval pdm --trials abc
expect_exit 2 "--seed without --trials" "--seed goes with --trials" eval pdm --seed 3
expect_exit 2 "--out without --trials" "--out goes with --trials" eval pdm --out x.npz
expect_exit 1 "--trials beyond the test split" "has 40 samples" eval pdm --trials 41
expect_exit 1 "--trials to an unwritable place" "" eval pdm --trials 3 --out /nonexistent/dir/x.npz
dale train --task pdm --hidden 8 --pdm-trials 100000000 --max-updates 0 --out big
expect_exit 1 "--trials beyond the machine's memory refused" "ask for fewer trials" eval big --trials 90000000 --seed 1
expect_exit 2 "psychometric --split train" "--split" psychometric pdm --split train
expect_exit 2 "psychometric --seed without --trials" "--seed" psychometric pdm --seed 2

lib_finish
