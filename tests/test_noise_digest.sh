#!/usr/bin/env bash
# test_noise_digest.sh BUILD_DIR [--record] — the noise draws stay the same.
#
# Short noisy training runs (recurrent and input noise, both leaky forms, the
# discrete ReLU cell with noise, every model, noisy evaluations, a pdm run and
# an eval --trials of it) digested as test_invariance.sh does: CRC-32 of every
# member of final.npz and the SHA-256 of metrics.csv (and of the trials file).
# tests/ref/noise_digest.txt was recorded with the binary from before the
# noise draws were batched per step; any changed number fails here.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
REF=$(dirname "$0")/ref/noise_digest.txt
RECORD=0
[ "${2:-}" = "--record" ] && RECORD=1

A=(--task adding --adding-n 400 --adding-test 100 --epochs 2 --eval-every 4 --hidden 16)
P=(--task pdm --pdm-trials 256 --pdm-eval 64 --hidden 24 --max-updates 6 --eval-every 3 --eval-batch 32
   --dynamics leaky --optimizer adam --lr 1e-3)
RUNS=(
    "adding-rnn-leaky|${A[*]} --model rnn --dynamics leaky --tau 60 --noise-rec 0.1 --noise-in 0.05"
    "adding-colei-leaky|${A[*]} --model colei --dynamics leaky --tau 60 --tau-i 30 --noise-rec 0.1 --noise-in 0.1 --eval-noise on"
    "adding-dann-state|${A[*]} --model dann --dynamics leaky-state --tau 40 --noise-rec 0.2 --noise-in 0.1"
    "adding-rnn-relu-noise|${A[*]} --model rnn --noise-rec 0.05 --eval-noise on"
    "adding-colei-state-odd|${A[*]} --model colei --dynamics leaky-state --tau-e 80 --tau-i 40 --hidden 7 --batch 5 --noise-rec 0.3"
    "adding-rnn-in-only|${A[*]} --model rnn --dynamics leaky --noise-in 0.2 --hidden 9 --batch 3"
    "pdm-colei|${P[*]} --model colei --noise-rec 0.05 --noise-in 0.05 --eval-noise on"
    "pdm-dann|${P[*]} --model dann --noise-rec 0.1"
)

digest_run() { # NAME DIR -> lines "NAME file member digest"
    local name=$1 dir=$2
    NAMES=1 zip_bytes "$dir/final.npz" | while read -r member crc; do echo "$name final.npz $member $crc"; done
    echo "$name metrics.csv - $(sha256sum <"$dir/metrics.csv" | cut -c1-64)"
}

GOT=$T/got.txt
: >"$GOT"
train_digests "$GOT" digest_run "${RUNS[@]}"
# dale eval --trials of a noisy-evaluation run draws its fixed noise sample
dale eval "$T/runs/pdm-colei" --trials 40 --out "$T/trials.npz"
if [ "$RC" -ne 0 ]; then fail "eval --trials runs" "exit $RC: $(err1)"
else NAMES=1 zip_bytes "$T/trials.npz" | while read -r member crc; do echo "eval-trials trials.npz $member $crc"; done >>"$GOT"; fi

if [ "$RECORD" = 1 ]; then
    cp "$GOT" "$REF"
    ok "recorded $(wc -l <"$REF") digests into $REF"
    lib_finish
fi
if [ ! -f "$REF" ]; then fail "reference" "$REF missing (run with --record)"; lib_finish; fi
# shellcheck disable=SC2046
compare_digests "$REF" "$GOT" $(awk '{ print $1 }' "$REF" | uniq)
lib_finish
