#!/usr/bin/env bash
# test_roundtrip.sh BUILD_DIR — whatever dale accepts it stores exactly and
# it means what it says: integers beyond 2^53 - 1 (what a JSON number holds
# exactly) are refused, the largest one round-trips through config.json
# (a run trained from its own config.json is the same run), doubles are
# written with the digits that read back exactly, a learning rate outside
# float32's normal range is refused, and a sweep range cannot ask for
# more decimals than a double has.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
cd "$T" || exit 1
A=(--quiet --adding-n 300 --adding-test 100 --max-updates 6 --eval-every 3)

expect_exit 2 "seed beyond 2^53-1 refused" "largest integer config.json stores exactly" train --seed 12345678901234567 --dry-run
expect_exit 2 "seed 2^53+1 refused" "9007199254740991" train --seed 9007199254740993 --dry-run
expect_exit 2 "epochs 2^63-1 refused" "--epochs" train --epochs 9223372036854775807 --dry-run
expect_exit 2 "a task option beyond 2^53-1 refused" "--adding-n" train --adding-n 99999999999999999 --dry-run
expect_exit 2 "lr below float32's normal range refused" "normal range" train --lr 1e-46 --dry-run
expect_exit 2 "lr above float32's range refused" "normal range" train --lr 1e39 --dry-run

dale train "${A[@]}" --seed 9007199254740991 --inhib 0.3 --out big
[ "$RC" -eq 0 ] && ok "seed 2^53-1 trains" || fail "seed 2^53-1" "exit $RC: $(err1)"
grep -q '"seed":[[:space:]]*9007199254740991,' big/config.json && ok "config.json holds the seed's digits" ||
    fail "seed digits" "$(grep '"seed"' big/config.json)"
grep -q '"ei_ratio":[[:space:]]*2.3333333333333335,' big/config.json && ok "a computed double is written exactly" ||
    fail "double digits" "$(grep '"ei_ratio"' big/config.json)"
dale train --quiet --config big/config.json --out again
[ "$RC" -eq 0 ] && ok "a run from its own config.json trains" || fail "run from config.json" "exit $RC: $(err1)"
expect_npz_same "the run from config.json is the same run" big/final.npz again/final.npz
expect_same_file "and has the same metrics" big/metrics.csv again/metrics.csv
dale train --quiet --resume --out big --max-updates 9
[ "$RC" -eq 0 ] && ok "--resume with the largest seed" || fail "resume big seed" "exit $RC: $(err1)"

cat >dec.json <<'J'
{"name": "dec", "base": {"task": "adding", "max_updates": 0}, "axes": {"lr": {"geomspace": [0.1, 0.001, 3], "decimals": 1000}}}
J
expect_exit 2 "a range with 1000 decimals refused" "decimals" sweep dec.json --dry-run --out decs
lib_finish
