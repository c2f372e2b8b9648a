#!/usr/bin/env bash
# test_cost.sh BUILD_DIR — the sweep cost estimate comes from each task's
# own shape: for one short run of every task, the update count that
# `dale sweep --dry-run` plans equals the updates the run then makes (the
# lm estimate used to cost an lm run as the adding problem), and the time
# estimate grows with what the task's shape says it should (lm: the
# vocabulary; seqmnist: pixel sequences).  No wall-clock time is asserted.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/data.sh"
lib_init "${1:-}"
D=$T/data
make_test_data "$D"

# est_field SPEC FIELD — dry run of a one-run spec: updates (column 4) or
# the estimate in seconds (column 5, "MmSSs")
plan() {
    "$DALE" sweep "$1" --dry-run --out "$T/plan" 2>/dev/null | awk 'NR == 2 { print $4, $5 }'
}
secs() { echo "$1" | awk '{ split($2, a, /[ms]/); print a[1] * 60 + a[2] }'; }

spec() { # NAME BASE-JSON-FIELDS -> $T/NAME.json
    printf '{"name": "%s", "base": {%s}, "runs": [{"label": "x"}]}\n' "$1" "$2" >"$T/$1.json"
}
spec adding '"task": "adding", "adding_n": 400, "adding_test": 100, "epochs": 2, "eval_every": 4'
spec adding_paper '"task": "adding", "adding_n": 400, "adding_test": 100, "epochs": 2, "split": "paper", "model": "dann"'
spec seqmnist '"task": "seqmnist", "data": "'"$D"'", "hidden": 8, "batch": 16, "epochs": 1, "eval_every": 5'
spec seqmnist_paper '"task": "seqmnist", "data": "'"$D"'", "hidden": 8, "batch": 16, "epochs": 1, "split": "paper"'
spec lm '"task": "lm", "corpus": "'"$D/lm"'", "vectors": "'"$D/lm/vec.txt"'", "hidden": 8, "dense": "6", "batch": 8, "window": 10, "epochs": 1, "eval_every": 20'
spec objrec '"task": "objrec", "data": "'"$D"'", "hidden": 8, "epochs": 3, "eval_every": 2, "model": "colei"'

for n in adding adding_paper seqmnist seqmnist_paper lm objrec; do
    p=$(plan "$T/$n.json")
    want=${p%% *}
    "$DALE" sweep "$T/$n.json" --out "$T/sw-$n" --jobs 1 --quiet >"$T/out" 2>"$T/err"
    rc=$?
    got=$(json_get "$(ls -d "$T/sw-$n"/runs/*/ | head -n 1)result.json" updates 2>/dev/null)
    if [ "$rc" -eq 0 ] && [ -n "$want" ] && [ "$want" = "$got" ]; then
        ok "$n: planned updates = run's updates ($got)"
    else
        fail "$n: planned updates" "planned '$want', ran '$got' (rc $rc: $(err1))"
    fi
done

# the estimate follows the shape: a bigger vocabulary costs more, pixel
# sequences (784 steps) cost more than rows (28)
awk 'BEGIN { for (i = 0; i < 3000; i++) { line = ""; for (k = 0; k < 8; k++) line = line " v" (i * 8 + k) % 5000; print line } }' \
    >"$T/big.txt"
mkdir -p "$T/biglm" && cp "$T/big.txt" "$T/biglm/ptb.train.txt" && head -n 200 "$T/big.txt" >"$T/biglm/ptb.valid.txt" &&
    head -n 200 "$T/big.txt" >"$T/biglm/ptb.test.txt"
spec lm_big '"task": "lm", "corpus": "'"$T/biglm"'", "vectors": "'"$D/lm/vec.txt"'", "hidden": 100, "dense": "100", "batch": 8, "window": 10, "epochs": 1, "max_updates": 300'
spec lm_small '"task": "lm", "corpus": "'"$D/lm"'", "vectors": "'"$D/lm/vec.txt"'", "hidden": 100, "dense": "100", "batch": 8, "window": 10, "epochs": 1, "max_updates": 300'
b=$(secs "$(plan "$T/lm_big.json")"); s=$(secs "$(plan "$T/lm_small.json")")
if awk -v b="$b" -v s="$s" 'BEGIN { exit !(b > s) }'; then ok "lm: 5000 words cost more than 30 ($b s > $s s)"
else fail "lm estimate follows the vocabulary" "$b s vs $s s"; fi
spec row '"task": "seqmnist", "data": "'"$D"'", "hidden": 100, "epochs": 100'
spec pixel '"task": "seqmnist", "data": "'"$D"'", "hidden": 100, "epochs": 100, "variant": "pixel"'
r=$(secs "$(plan "$T/row.json")"); p=$(secs "$(plan "$T/pixel.json")")
if awk -v r="$r" -v p="$p" 'BEGIN { exit !(p > 5 * r) }'; then ok "seqmnist: pixel sequences cost more than rows ($p s > $r s)"
else fail "pixel estimate" "$p s vs $r s"; fi
lib_finish
