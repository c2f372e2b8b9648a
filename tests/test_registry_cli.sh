#!/usr/bin/env bash
# test_registry_cli.sh BUILD_DIR — what the registries give the command line:
# `dale train --help` is generated from the task descriptors (each task's own
# options under "task NAME", each run option's per-task defaults), the model
# list from the model registry; aliases resolve to the model's name; unknown
# names list the registered ones; --dry-run reports the task's shape.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"

dale train --help
help=$T/out
[ "$RC" -eq 0 ] && ok "train --help" || fail "train --help" "exit $RC"
for t in adding seqmnist lm objrec; do
    grep -q "^  task $t: " "$help" && ok "help has a section for task $t" || fail "section $t" "missing"
done
has_line() { # WHAT FIXED-STRING
    if grep -q -F -- "$2" "$help"; then ok "$1"; else fail "$1" "no '$2' in train --help"; fi
}
has_line "hidden: every task's default" "(-1: the task's: adding 10; seqmnist 100; lm 500; objrec 1000; pdm 100; cdm 100; dms 100)"
has_line "lr: per-model task defaults" "lm 0.805, colei 1.554; objrec 0.1, colei 0.01"
has_line "clip: per-model task defaults" "adding 0, colei 7, dann 3"
has_line "task list from the registry" "task: adding | seqmnist | lm | objrec"
has_line "model list from the registry" "model: rnn | colei | dann"
# each task's options sit in its own section
awk '/^  task lm: /{ s = 1; next } /^  task /{ s = 0 } s && /--vocab-limit/{ f = 1 } END { exit !f }' "$help" &&
    ok "--vocab-limit listed under task lm" || fail "--vocab-limit under lm" "not in the lm section"
awk '/^  task adding: /{ s = 1; next } /^  task /{ s = 0 } s && /--adding-n .*default: 10000/{ f = 1 } END { exit !f }' "$help" &&
    ok "--adding-n under task adding with its default" || fail "--adding-n under adding" "missing"

expect_exit 2 "unknown task lists the registered ones" "expected adding, seqmnist, lm, objrec, pdm, cdm or dms" train --task foo --dry-run
expect_exit 2 "unknown model lists the registered ones" "expected rnn, colei or dann" train --model foo --dry-run
dale train --model song --max-updates 0 --quiet --out "$T/song"
json_expect "alias song is written as colei" "$T/song/config.json" model colei
json_expect "colei's auto clip scope from its traits" "$T/song/config.json" clip_scope tensor
json_expect "colei's auto projection from its traits" "$T/song/config.json" project on
dale train --model dann --max-updates 0 --quiet --out "$T/dann"
json_expect "dann's auto inhibitory scaling from its traits" "$T/dann/config.json" inhib_grad_scale on
json_expect "dann's clip from the adding task's defaults" "$T/dann/config.json" clip 3

dale train --task seqmnist --variant pixel --dry-run --data "$T/nodata"
if [ "$RC" -eq 0 ] && grep -q "^task seqmnist, model rnn: 784 steps (input on 784), input 1, output 10" "$T/out" &&
   grep -q "^updates: 56250" "$T/out"; then
    ok "--dry-run: seqmnist pixel shape and updates (MNIST assumed when absent)"
else fail "--dry-run seqmnist" "exit $RC: $(head -c 300 "$T/out")"; fi
dale train --task objrec --dry-run --data "$T/nodata"
grep -q "^task objrec, model rnn: 5 steps (input on 1), input 7225, output 8" "$T/out" &&
    ok "--dry-run: objrec shape (the default build when absent)" || fail "--dry-run objrec" "$(head -c 300 "$T/out")"
[ ! -e runs ] && [ ! -e "$T/nodata" ] && ok "--dry-run writes nothing" || fail "--dry-run writes nothing" "files appeared"
expect_exit 2 "bad --window" "--window must be >= 1" train --task lm --window 0 --dry-run
expect_exit 2 "bad --variant lists the choices" "expected row, pixel or permuted" train --variant diagonal --dry-run
lib_finish
