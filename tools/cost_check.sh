#!/usr/bin/env bash
# cost_check.sh [BUILD_DIR] — the sweep cost estimate against the measured
# CPU time of one short run of every task (the estimate `dale sweep` and
# `dale train --dry-run` print), on small data made here (tests/data.sh).
# Prints task, estimated and measured CPU seconds and their ratio; the
# estimate is meant to be within 2x.  Measures, asserts nothing.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
. "$here/tests/lib.sh"
. "$here/tests/data.sh"
lib_init "$build" >/dev/null
make_test_data "$T/data" >/dev/null
D=$T/data
# a corpus with a 5000-word vocabulary (softmax-heavy, like PTB's 10000)
mkdir -p "$D/biglm"
awk 'BEGIN { s = 3; for (i = 0; i < 6000; i++) { line = ""; for (k = 0; k < 10; k++) {
       s = (s * 1103515245 + 12345) % 2147483648; line = line " v" int(s / 65536) % 5000 } print line } }' \
    >"$D/biglm/ptb.train.txt"
head -n 300 "$D/biglm/ptb.train.txt" >"$D/biglm/ptb.valid.txt"
tail -n 300 "$D/biglm/ptb.train.txt" >"$D/biglm/ptb.test.txt"
export OPENBLAS_NUM_THREADS=1
runs=(
  "adding|--task adding --hidden 100 --adding-len 50 --max-updates 1000"
  "seqmnist row|--task seqmnist --data $D --hidden 100 --epochs 40"
  "seqmnist pixel|--task seqmnist --data $D --hidden 64 --variant pixel --max-updates 150"
  "lm|--task lm --corpus $D/lm --vectors $D/lm/vec.txt --hidden 100 --dense 100 --layers 2 --batch 16 --window 20 --max-updates 1500"
  "lm 5000 words|--task lm --corpus $D/biglm --vectors $D/lm/vec.txt --hidden 200 --dense 200 --layers 2 --batch 16 --window 20 --max-updates 60"
  "objrec|--task objrec --data $D --hidden 300 --epochs 60"
)
printf '%-16s %10s %10s %7s\n' task est_s cpu_s ratio
for r in "${runs[@]}"; do
  name=${r%%|*}
  # shellcheck disable=SC2206
  args=(${r#*|})
  est=$("$DALE" train "${args[@]}" --dry-run | sed -n 's/^estimated CPU seconds: \([0-9.]*\).*/\1/p')
  /usr/bin/time -f '%U %S' -o "$T/time" "$DALE" train --quiet "${args[@]}" --out "$T/run" >/dev/null 2>&1
  cpu=$(awk '{ print $1 + $2 }' "$T/time")
  rm -rf "$T/run"
  printf '%-16s %10.2f %10.2f %7.2f\n' "$name" "$est" "$cpu" "$(awk -v a="$est" -v b="$cpu" 'BEGIN { print a / b }')"
done
