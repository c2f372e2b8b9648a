#!/usr/bin/env bash
# test_invariance.sh BUILD_DIR [--record] — nothing a user computed changes.
#
# Runs a fixed set of short training runs that covers every model on every
# task and the main options (layers, dense layers, clip scopes, sign
# freezing, transplant, ColEI gamma and uniform families, DANN random W_IE,
# pixel and permuted seqMNIST, objrec, lm, paper split, lr decay, He input
# init, bias centring) and compares, for each run, the CRC-32 of every
# member of final.npz and the SHA-256 of metrics.csv with the digests in
# tests/ref/invariance.txt.  Those digests were recorded with the binary
# from before the core redesign; a change that moves any number of any of
# these runs fails here.  --record rewrites the file (only for a deliberate,
# documented change of numbers).  It also checks that every run of every
# sweep in experiments/ keeps its run id.
#
# Data are made here, deterministically: MNIST-shaped IDX files from an awk
# generator, a PTB-format corpus, objrec fixtures from test_objrec.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
REF=$(dirname "$0")/ref/invariance.txt
RECORD=0
[ "${2:-}" = "--record" ] && RECORD=1

# ---- data
. "$(dirname "$0")/data.sh"
D=$T/data
make_test_data "$D"
# ---- the runs: NAME ARGS...
A=(--task adding --adding-n 400 --adding-test 100 --epochs 2 --eval-every 4)
M=(--task seqmnist --data "$D" --hidden 12 --batch 16 --max-updates 12 --eval-every 4 --eval-batch 32)
L=(--task lm --corpus "$D/lm" --vectors "$D/lm/vec.txt" --hidden 12 --dense 10 --batch 8 --window 10
   --max-updates 12 --eval-every 6)
O=(--task objrec --data "$D" --hidden 12 --max-updates 6 --eval-every 3)
RUNS=(
    "adding-rnn|${A[*]} --model rnn"
    "adding-colei|${A[*]} --model colei"
    "adding-dann|${A[*]} --model dann"
    "adding-rnn-2l-dense|${A[*]} --model rnn --layers 2 --dense 8,6 --clip 1"
    "adding-colei-2l-dense|${A[*]} --model colei --layers 2 --dense 8"
    "adding-dann-2l-dense|${A[*]} --model dann --layers 2 --dense 8"
    "adding-colei-global|${A[*]} --model colei --clip-scope global"
    "adding-dann-tensor|${A[*]} --model dann --clip-scope tensor --inhib 0.2"
    "adding-rnn-layerclip|${A[*]} --model rnn --clip 0.5 --clip-scope layer"
    "adding-rnn-freeze|${A[*]} --model rnn --sign-freeze on --lr-decay 0.9 --lr-decay-every 3"
    "adding-dann-freeze|${A[*]} --model dann --sign-freeze on --inhib-grad-scale off"
    "adding-rnn-tx-rv|${A[*]} --model rnn --hidden 12 --transplant rnn-vectors+colei-values --lr 0.01 --clip 1"
    "adding-rnn-tx-diverges|${A[*]} --model rnn --hidden 12 --transplant rnn-vectors+colei-values"
    "adding-rnn-tx-cv|${A[*]} --model rnn --hidden 12 --transplant colei-vectors+rnn-values"
    "adding-colei-gamma|${A[*]} --model colei --colei-dist gamma --gamma-shape 3 --rho 1.2"
    "adding-colei-uniform|${A[*]} --model colei --colei-dist uniform --zero-diag off --project off"
    "adding-dann-wie-random|${A[*]} --model dann --dann-wie random --numerator 0.5"
    "adding-rnn-he-paper|${A[*]} --model rnn --rnn-input-init he --split paper --data-seed 5 --seed 3"
    "mnist-rnn|${M[*]} --model rnn"
    "mnist-colei|${M[*]} --model colei --bias-centering on"
    "mnist-dann|${M[*]} --model dann --split paper"
    "mnist-rnn-pixel|${M[*]} --model rnn --variant pixel --hidden 6 --max-updates 4 --eval-every 2"
    "mnist-dann-permuted|${M[*]} --model dann --variant permuted --perm-seed 4 --hidden 6 --max-updates 4 --eval-every 2"
    "lm-rnn|${L[*]} --model rnn"
    "lm-colei|${L[*]} --model colei"
    "lm-dann|${L[*]} --model dann --oov random"
    "objrec-rnn|${O[*]} --model rnn"
    "objrec-colei|${O[*]} --model colei --objrec-center on"
    "objrec-dann|${O[*]} --model dann --objrec-steps 3"
)

GOT=$T/got.txt
: >"$GOT"
train_digests "$GOT" run_digest "${RUNS[@]}"

# run ids: every experiment's runs keep their ids (a re-run sweep skips its
# finished runs), listed by a dry run
EXP=$(dirname "$0")/../experiments
for f in "$EXP"/*.json; do
    n=$(basename "$f" .json)
    "$DALE" sweep "$f" --dry-run --out "$T/sweeps/$n" 2>/dev/null |
        awk -v n="$n" 'length($1) == 16 && $1 ~ /^[0-9a-f]+$/ { print "ids " n " " $1 }' >>"$GOT"
done

if [ "$RECORD" = 1 ]; then
    cp "$GOT" "$REF"
    ok "recorded $(wc -l <"$REF") digests into $REF"
    d=$(diff <(grep "^ids " "$REF") <(grep "^ids " "$GOT"))
if [ -z "$d" ]; then ok "run ids of every experiment unchanged ($(grep -c "^ids " "$REF"))"
else fail "run ids changed" "$(echo "$d" | grep '^[<>]' | head -n 4 | tr '\n' ' ')"; fi
lib_finish
fi
if [ ! -f "$REF" ]; then fail "reference" "$REF missing (run with --record)"; lib_finish; fi
compare_digests "$REF" "$GOT" "${RUNS[@]}"
# Experiments added after the recording have no ids to keep: compare the
# recorded experiments only (a recorded one that vanished still fails).
recorded=$(awk '$1 == "ids" { print $2 }' "$REF" | sort -u)
d=$(diff <(grep "^ids " "$REF") <(grep "^ids " "$GOT" | awk -v r="$recorded" \
        'BEGIN { n = split(r, a, "\n"); for (i = 1; i <= n; i++) keep[a[i]] = 1 } keep[$2]'))
if [ -z "$d" ]; then ok "run ids of every recorded experiment unchanged ($(grep -c "^ids " "$REF"))"
else fail "run ids changed" "$(echo "$d" | grep '^[<>]' | head -n 4 | tr '\n' ' ')"; fi
lib_finish
