#!/usr/bin/env bash
# test_objrec_cli.sh — `dale data make-objrec`, `dale data verify/list` on the
# result and a tiny `dale train --task objrec` run.  The synthetic object and
# background folders come from `test_objrec --fixtures DIR` (C, stb), so this
# script needs no image tools.
. "$(dirname "$0")/lib.sh"
lib_init "$1"
FIX=$(dirname "$DALE")/tests/test_objrec
if [ ! -x "$FIX" ]; then fail "setup" "$FIX missing (make all)"; lib_finish; fi
"$FIX" --fixtures "$T/src" >/dev/null || fail "fixtures" "test_objrec --fixtures failed"

dale data make-objrec --help
if [ "$RC" -eq 0 ] && grep -q -- "--per-category N" "$T/out" && grep -q "(default: 512)" "$T/out"; then
    ok "make-objrec --help lists options with defaults"
else fail "make-objrec --help" "exit $RC"; fi
expect_exit 2 "make-objrec without --objects" "required" data make-objrec --backgrounds "$T/src/backgrounds" --out "$T/x"
expect_exit 2 "make-objrec bad --rotate" "expected on or off" data make-objrec --objects "$T/src/objects" \
    --backgrounds "$T/src/backgrounds" --out "$T/x" --rotate maybe
expect_exit 2 "make-objrec unknown option" "unknown option" data make-objrec --bogus 1
expect_exit 2 "make-objrec bad --variation" "expected low, medium or high" data make-objrec --objects "$T/src/objects" \
    --backgrounds "$T/src/backgrounds" --out "$T/x" --variation extreme
expect_exit 2 "make-objrec --shift out of range" "shift must be in" data make-objrec --objects "$T/src/objects" \
    --backgrounds "$T/src/backgrounds" --out "$T/x" --shift 2 --categories 3 --per-category 2
expect_exit 2 "data get objrec bad --variation" "expected low, medium or high" data get objrec --data "$T/nowhere" \
    --variation extreme
expect_exit 1 "make-objrec: too few categories" "categories with at least" data make-objrec --objects "$T/src/objects" \
    --backgrounds "$T/src/backgrounds" --out "$T/x" --quiet

OUT=$T/data/objrec
args=(data make-objrec --objects "$T/src/objects" --backgrounds "$T/src/backgrounds" --categories 3 --per-category 2
      --train 24 --val 6 --test 6 --seed 3)
dale "${args[@]}" --out "$OUT"
if [ "$RC" -eq 0 ] && grep -q "skipped 1 corrupt objects, 1 without alpha, 1 corrupt backgrounds" "$T/out"; then
    ok "make-objrec renders and counts the skipped files"
else fail "make-objrec" "exit $RC: $(cat "$T/out") $(err1)"; fi
grep -q "skipped object .*a_corrupt.png" "$T/err" && ok "corrupt object reported" || fail "corrupt object reported" "$(err1)"
grep -q "skipped background .*broken.jpg" "$T/err" && ok "corrupt background reported" || fail "corrupt background reported" "$(err1)"
n=$(($(wc -l <"$OUT/manifest.csv") - 1))
[ "$n" -eq 36 ] && ok "manifest has 36 rows" || fail "manifest rows" "$n"
size=$(wc -c <"$OUT/train-images-idx3-ubyte")
[ "$size" -eq $((16 + 24 * 85 * 85)) ] && ok "train images are 24 x 85 x 85" || fail "train image file size" "$size"
dale "${args[@]}" --out "$T/again" --quiet
ok_same=1
for f in train-images-idx3-ubyte train-labels-idx1-ubyte test-images-idx3-ubyte manifest.csv contact-sheet.png; do
    cmp -s "$OUT/$f" "$T/again/$f" || ok_same=0
done
[ $ok_same = 1 ] && ok "same seed, same bytes" || fail "determinism" "outputs differ"
dale "${args[@]}" --out "$T/low" --quiet --variation low
json_expect "--variation low recorded" "$T/low/objrec.json" variation low
json_expect "--variation low: centred" "$T/low/objrec.json" shift 0
dale "${args[@]}" --out "$T/custom" --quiet --variation low --max-angle 10
json_expect "a knob after a preset makes it custom" "$T/custom/objrec.json" variation custom
json_expect "the knob overrides the preset" "$T/custom/objrec.json" max_angle 10

expect_exit 0 "data verify objrec" "" data verify objrec --data "$T/data"
grep -q "manifest.csv *ok" "$T/out" && ok "verify lists files" || fail "verify output" "$(head -c 300 "$T/out")"
dale data list --data "$T/data"
grep -q "^objrec *present" "$T/out" && ok "data list shows objrec" || fail "data list" "$(cat "$T/out")"
printf 'x' >>"$OUT/categories.txt"
expect_exit 1 "verify notices a change" "checksum mismatch" data verify objrec --data "$T/data"
cp "$T/again/categories.txt" "$OUT/categories.txt"

dale train --task objrec --data "$T/data" --model colei --hidden 12 --max-updates 4 --eval-every 2 --out "$T/run"
if [ "$RC" -eq 0 ]; then ok "train --task objrec"; else fail "train --task objrec" "exit $RC: $(err1)"; fi
json_expect "run ok" "$T/run/result.json" status ok
json_expect "objrec_steps default 5" "$T/run/config.json" objrec_steps 5
json_expect "batch default 16" "$T/run/config.json" batch 16
json_expect "colei lr default 0.01" "$T/run/config.json" lr 0.01
json_expect "colei clip default 10" "$T/run/config.json" clip 10
dale train --task objrec --data "$OUT" --model dann --hidden 12 --objrec-steps 2 --max-updates 2 --out "$T/run2"
[ "$RC" -eq 0 ] && ok "train with the data set folder as --data" || fail "train --data DIR/objrec" "exit $RC: $(err1)"
json_expect "dann lr default 0.1" "$T/run2/config.json" lr 0.1
json_expect "dann clip default 1" "$T/run2/config.json" clip 1
expect_exit 1 "train without a data set" "dale data get objrec" train --task objrec --data "$T/nothing" --hidden 4 \
    --max-updates 1 --out "$T/run3"
expect_exit 2 "objrec-steps 0 refused" "objrec-steps" train --task objrec --data "$T/data" --objrec-steps 0 --out "$T/run4"
lib_finish
