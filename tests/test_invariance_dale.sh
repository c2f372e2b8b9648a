#!/usr/bin/env bash
# test_invariance_dale.sh BUILD_DIR [--record] — nothing a user computed
# with `--numerics dale` changes.
#
# test_invariance.sh pins the default arithmetic; this pins dale's own
# (every product in dale's kernels, dale's exp and log, the eight-lane
# gradient norm): short runs of every model on every task under the main
# options that reach different code in the update (clip scopes, Adam, sign
# constraints, dense layers, learned h0, leaky dynamics, the rate and
# weight penalties, DANN's factored objrec input), compared member by member
# (CRC-32 of final.npz, SHA-256 of metrics.csv) with
# tests/ref/invariance-dale.txt.  Those digests were recorded with the
# binary from before issue 17's second speed pass (the written-once
# gradients, the fused clip-and-step, the vectorised norm); a change that
# moves any number here fails.  --record rewrites the file, only for a
# deliberate, documented change of numbers.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
REF=$(dirname "$0")/ref/invariance-dale.txt
RECORD=0
[ "${2:-}" = "--record" ] && RECORD=1

. "$(dirname "$0")/data.sh"
D=$T/data
make_test_data "$D"
N=(--numerics dale)
A=(--task adding --adding-n 400 --adding-test 100 --epochs 2 --eval-every 4 "${N[@]}")
M=(--task seqmnist --data "$D" --hidden 12 --batch 16 --max-updates 12 --eval-every 4 --eval-batch 32 "${N[@]}")
L=(--task lm --corpus "$D/lm" --vectors "$D/lm/vec.txt" --hidden 12 --dense 10 --batch 8 --window 10
   --max-updates 12 --eval-every 6 "${N[@]}")
O=(--task objrec --data "$D" --hidden 12 --max-updates 6 --eval-every 3 "${N[@]}")
RUNS=(
    "adding-rnn|${A[*]} --model rnn"
    "adding-colei|${A[*]} --model colei"
    "adding-dann|${A[*]} --model dann"
    "adding-rnn-2l-dense-global|${A[*]} --model rnn --layers 2 --dense 8,6 --clip 1 --clip-scope global"
    "adding-colei-2l-dense|${A[*]} --model colei --layers 2 --dense 8 --clip 0.5"
    "adding-dann-tensor|${A[*]} --model dann --clip-scope tensor --clip 0.5 --inhib 0.2"
    "adding-rnn-layerclip|${A[*]} --model rnn --clip 0.5 --clip-scope layer"
    "adding-colei-adam|${A[*]} --model colei --optimizer adam --lr 0.001 --clip 0.5"
    "adding-dann-adam-global|${A[*]} --model dann --optimizer adam --lr 0.001 --clip 0.5 --clip-scope global"
    "adding-rnn-freeze|${A[*]} --model rnn --sign-freeze on --clip 0.5"
    "adding-rnn-h0-leaky|${A[*]} --model rnn --h0 learn --dynamics leaky --rate-l2 0.01"
    "adding-dann-h0-state|${A[*]} --model dann --h0 learn --dynamics leaky-state --weight-l2 0.001 --clip 0.5"
    "mnist-colei|${M[*]} --model colei"
    "mnist-dann|${M[*]} --model dann --clip 0.5"
    "lm-rnn|${L[*]} --model rnn --clip 0.5"
    "lm-dann|${L[*]} --model dann"
    "objrec-rnn|${O[*]} --model rnn"
    "objrec-colei|${O[*]} --model colei"
    "objrec-dann|${O[*]} --model dann"
    "objrec-dann-2l|${O[*]} --model dann --layers 2 --clip 0.5 --clip-scope tensor"
)

GOT=$T/got.txt
: >"$GOT"
train_digests "$GOT" run_digest "${RUNS[@]}"

if [ "$RECORD" = 1 ]; then
    cp "$GOT" "$REF"
    ok "recorded $(wc -l <"$REF") digests into $REF"
    lib_finish
fi
if [ ! -f "$REF" ]; then fail "reference" "$REF missing (run with --record)"; lib_finish; fi
compare_digests "$REF" "$GOT" "${RUNS[@]}"
lib_finish
