#!/usr/bin/env bash
# test_numerics_cli.sh — the run option `numerics` from the command line:
# a bad value names the choices; numerics = dale gives the same bits with
# --threads 1 and 2 (final.npz members and metrics.csv) on the lm task
# (its 10000-word-style softmax: cross-entropy at every step), on
# seqMNIST with a dense layer (DANN) and on 1030-unit ColEI and DANN networks (arrays large
# enough for the elementwise passes to be split too); the default writes "blas" and keeps
# the run id of a config that does not mention it, and "dale" changes it.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
. "$(dirname "$0")/data.sh"
D=$T/data
make_test_data "$D" >/dev/null 2>&1 || fail "setup" "make_test_data"
cd "$T" || exit 1

expect_exit 2 "bad --numerics names the choices" "--numerics: expected blas or dale (got 'foo')" \
    train --task adding --numerics foo --out bad
expect_exit 2 "near miss gets a suggestion" "did you mean dale?" train --task adding --numerics dal --out bad

L=(--task lm --corpus "$D/lm" --vectors "$D/lm/vec.txt" --hidden 12 --dense 10 --batch 8 --window 10
   --max-updates 8 --eval-every 4 --model rnn)
M=(--task seqmnist --data "$D" --hidden 12 --batch 16 --max-updates 8 --eval-every 4 --eval-batch 32
   --model dann --dense 8)
# wide enough (W and its gradient over 2^19 entries, BPTT arrays too) that
# the update's elementwise passes, ColEI's sign maps and the ReLU passes are
# split between the threads as well as the products
C=(--task seqmnist --data "$D" --hidden 1030 --batch 40 --max-updates 3 --eval-every 3 --eval-batch 64
   --model colei --spectra off)
N=(--task seqmnist --data "$D" --hidden 1030 --batch 40 --max-updates 3 --eval-every 3 --eval-batch 64
   --model dann --spectra off)
for spec in "lm|${L[*]}" "mnist|${M[*]}" "wide|${C[*]}" "widedann|${N[*]}"; do
    name=${spec%%|*}
    # shellcheck disable=SC2206
    args=(${spec#*|})
    for th in 1 2; do
        dale train "${args[@]}" --numerics dale --threads "$th" --out "$name-t$th"
        [ "$RC" -eq 0 ] || fail "$name numerics dale, --threads $th" "exit $RC: $(err1)"
    done
    expect_npz_same "$name: numerics dale, final.npz with --threads 1 and 2" "$name-t1/final.npz" "$name-t2/final.npz"
    expect_same_file "$name: numerics dale, metrics.csv with --threads 1 and 2" "$name-t1/metrics.csv" \
        "$name-t2/metrics.csv"
    json_expect "$name: config.json records numerics dale" "$name-t1/config.json" numerics dale
done

# the default arithmetic: config.json says blas; the trained numbers differ
# from numerics dale by round-off only, so the runs differ (at all) here
dale train "${L[@]}" --out lm-blas
if [ "$RC" -eq 0 ]; then json_expect "default: config.json records numerics blas" lm-blas/config.json numerics blas
else fail "lm default" "exit $RC: $(err1)"; fi
if npz_same lm-blas/final.npz lm-t1/final.npz; then
    fail "numerics dale computes differently from blas" "identical final.npz"
else ok "numerics dale computes differently from blas (round-off)"; fi

# run ids: "numerics": "blas" is the default and does not enter the id
cat >ids.json <<'J'
{"name": "ids", "base": {"task": "adding", "adding_n": 300, "adding_test": 100, "max_updates": 20, "eval_every": 10},
 "runs": [{"label": "plain", "model": "rnn"}, {"label": "blas", "model": "rnn", "numerics": "blas"},
          {"label": "dale", "model": "rnn", "numerics": "dale"}]}
J
dale sweep ids.json --out s --dry-run
ids=$(awk 'NR > 1 {print $1}' "$T/out")
n=$(echo "$ids" | sort -u | grep -c .)
[ "$RC" -eq 0 ] && [ "$n" -eq 2 ] && ok "numerics blas keeps the run id, dale changes it" ||
    fail "run ids" "rc $RC, $n distinct ids: $(tr '\n' ' ' <"$T/out")"
lib_finish
