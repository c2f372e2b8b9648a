#!/usr/bin/env bash
# test_lm_cli.sh BUILD_DIR — `dale train --task lm`, `dale eval` and resume
# on a tiny synthetic PTB-format corpus written here.
#
# Corpus: 30 words over 300 training lines; 8 streams give R training rows
# and R-1 windows per epoch; window 10, so evaluation rows are 11 tokens.
# Checks: a 30-update run for each model writes perplexities in
# result.json; the epoch length is R-1 updates; dale eval prints loss,
# perplexity and error, equal to result.json's test loss; a run stopped at
# 13 updates and resumed equals the uninterrupted 30-update run bit for bit;
# bad corpora and vectors give exit 1 with file:line; bad options exit 2.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"

C=$T/corpus
mkdir -p "$C"
# deterministic pseudo-text (awk: no Python needed)
awk 'BEGIN { s = 7; for (i = 0; i < 300; i++) { n = 3 + (i % 9); line = "";
       for (k = 0; k < n; k++) { s = (s * 1103515245 + 12345) % 2147483648; w = int(s / 65536) % 30;
         line = line " w" w } print line } }' > "$C/ptb.train.txt"
head -n 40 "$C/ptb.train.txt" | tac > "$C/ptb.valid.txt"
sed -n '100,140p' "$C/ptb.train.txt" > "$C/ptb.test.txt"
awk 'BEGIN { for (w = 0; w < 28; w++) { printf "w%d", w; for (k = 0; k < 6; k++) printf " %.3f", sin(w * 7 + k) / 2;
       printf "\n" } }' > "$C/vec.txt"

LM=(--quiet --task lm --corpus "$C" --vectors "$C/vec.txt" --hidden 12 --dense 10 --batch 8 --window 10
    --eval-every 10)

ntok=$(awk '{ n += NF + 1 } END { print n }' "$C/ptb.train.txt")
rows=$((ntok / 8))
for m in rnn colei dann; do
    dale train "${LM[@]}" --model "$m" --max-updates 30 --out "$T/$m"
    if [ "$RC" -ne 0 ]; then fail "$m: 30 updates" "exit $RC: $(err1)"; continue; fi
    json_expect "$m: 30 updates" "$T/$m/result.json" updates 30
    json_expect "$m: status ok" "$T/$m/result.json" status ok
    ppl=$(json_get "$T/$m/result.json" test_ppl)
    loss=$(json_get "$T/$m/result.json" test_loss)
    if awk -v p="$ppl" -v l="$loss" 'BEGIN { exit !(p > 1 && (p - exp(l)) ^ 2 < 1e-6 * p * p) }'; then
        ok "$m: test_ppl = exp(test_loss) ($ppl)"
    else fail "$m: test_ppl = exp(test_loss)" "ppl $ppl loss $loss"; fi
    if [ "$(wc -l < "$T/$m/metrics.csv")" -eq 5 ]; then ok "$m: metrics rows at 0, 10, 20, 30"
    else fail "$m: metrics rows" "$(wc -l < "$T/$m/metrics.csv") lines"; fi
done
# the reference defaults resolved for lm
for kv in "layers 3" "sign_freeze on" "lr_decay_every 50" "lr 0.805" "clip 1" "eval_batch 64" "window 10"; do
    set -- $kv
    json_expect "rnn config: $1 = $2" "$T/rnn/config.json" "$1" "$2"
done
json_expect "colei config: lr 1.554" "$T/colei/config.json" lr 1.554
json_expect "dann config: dann_wie random" "$T/dann/config.json" dann_wie random
if grep -q '"dense":[[:space:]]*"10"' "$T/rnn/config.json"; then ok "explicit --dense kept"; else fail "explicit --dense kept" "$(grep dense "$T/rnn/config.json")"; fi

# an epoch is every start row once: R - 1 updates
dale train "${LM[@]}" --model rnn --layers 1 --epochs 1 --eval-every 1000 --out "$T/epoch"
json_expect "one epoch = rows - 1 = $((rows - 1)) windows" "$T/epoch/result.json" updates $((rows - 1))

# dale eval: text and JSON, equal to the run's final test loss
dale eval "$T/dann"
if [ "$RC" -eq 0 ] && grep -q "perplexity" "$T/out"; then ok "dale eval prints perplexity"
else fail "dale eval prints perplexity" "exit $RC: $(cat "$T/out") $(err1)"; fi
dale eval "$T/dann" --json
got=$(sed 's/.*"loss": \([^,]*\),.*/\1/' "$T/out")
want=$(json_get "$T/dann/result.json" test_loss)
if [ "$got" = "$want" ]; then ok "dale eval loss equals result.json ($got)"; else fail "dale eval loss" "$got vs $want"; fi
if grep -q '"perplexity": ' "$T/out"; then ok "dale eval --json has perplexity"; else fail "eval json perplexity" "$(cat "$T/out")"; fi
dale eval "$T/dann" --split val
if [ "$RC" -eq 0 ]; then ok "dale eval --split val"; else fail "dale eval --split val" "$(err1)"; fi

# resume: stop at 13, lift the budget to 30, resume; equal to the 30-update run
for m in rnn dann; do
    b=$T/${m}_B
    dale train "${LM[@]}" --model "$m" --max-updates 13 --out "$b"
    if [ "$RC" -ne 0 ]; then fail "$m: stop at 13" "exit $RC: $(err1)"; continue; fi
    sed -i 's/"max_updates":\([[:space:]]*\)13/"max_updates":\130/' "$b/config.json"
    dale train --quiet --resume --out "$b"
    if [ "$RC" -ne 0 ]; then fail "$m: resume" "exit $RC: $(err1)"; continue; fi
    expect_npz_same "$m: resumed final.npz equals the uninterrupted run's" "$T/$m/final.npz" "$b/final.npz"
    expect_same_file "$m: resumed metrics.csv equals the uninterrupted run's" "$T/$m/metrics.csv" "$b/metrics.csv"
done

# bad inputs: exit 1 with the file (and line) named
mkdir -p "$T/bad"
cp "$C/ptb.train.txt" "$C/ptb.test.txt" "$T/bad/"
expect_exit 1 "missing valid file" "ptb.valid.txt: missing" train "${LM[@]}" --corpus "$T/bad" --out "$T/x1"
printf 'w1 w2\nw3 \377\n' > "$T/bad/ptb.valid.txt"
expect_exit 1 "invalid UTF-8" "ptb.valid.txt:2:4: invalid UTF-8" train "${LM[@]}" --corpus "$T/bad" --out "$T/x2"
expect_exit 1 "vocabulary over the limit" "exceeds the limit of 5" train "${LM[@]}" --vocab-limit 5 --out "$T/x3"
printf 'w1 1 2\nw2 1\n' > "$T/vec_bad.txt"
expect_exit 1 "ragged vectors" "vec_bad.txt:2: 1 numbers, want 2" train "${LM[@]}" --vectors "$T/vec_bad.txt" --out "$T/x4"
expect_exit 1 "missing vectors" "nope.txt" train "${LM[@]}" --vectors "$T/nope.txt" --out "$T/x5"
expect_exit 2 "bad --oov" "--oov" train "${LM[@]}" --oov maybe --out "$T/x6"
expect_exit 2 "bad --window" "--window" train "${LM[@]}" --window 0 --out "$T/x7"
# random OOV vectors train too
dale train "${LM[@]}" --oov random --max-updates 5 --out "$T/oov"
if [ "$RC" -eq 0 ]; then ok "--oov random runs"; else fail "--oov random" "$(err1)"; fi
dale train --help
if grep -q -- "--corpus" "$T/out" && grep -q -- "--vocab-limit" "$T/out" && grep -q -- "--oov" "$T/out"; then
    ok "train --help lists the lm options"
else fail "train --help lists the lm options" "missing"; fi
dale data --help
if grep -q "glove100" "$T/out" && grep -q -- "--corpus" "$T/out"; then ok "data --help lists kjv/glove100"
else fail "data --help" "missing"; fi
expect_exit 1 "verify kjv without data" "manifest.txt: missing" data verify kjv --data "$T/nodata"
expect_exit 1 "glove100 without a vocabulary" "run \`dale data get kjv\` first" data get glove100 --data "$T/nodata"
lib_finish
