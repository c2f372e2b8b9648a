#!/usr/bin/env bash
# test_messages.sh BUILD_DIR — what users read: the version and where runs
# record it, error messages (no source locations unless DALE_DEBUG=1,
# did-you-mean suggestions, JSON line:column), help texts that agree with
# each other, and the labels of smoke-test scales of `dale reproduce`.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"

# expect_out WHAT PATTERN — the last command exited 0 and printed PATTERN
# (fixed string) on stdout.
expect_out() {
    if [ "$RC" -ne 0 ]; then fail "$1" "exit $RC (stderr: $(err1))"
    elif ! grep -q -F -e "$2" "$T/out"; then fail "$1" "stdout lacks '$2': $(head -c 300 "$T/out" | tr '\n' ' ')"
    else ok "$1"; fi
}

# ------------------------------------------------------------- version
dale --version
expect_out "dale --version names the version and commit" "(commit "
if grep -q -E '^dale [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{4,}(-dirty)?|unknown)\)$' "$T/out"; then
    ok "dale --version prints 'dale X.Y.Z (commit C)'"
else fail "dale --version format" "$(head -c 200 "$T/out")"; fi
ver=$(sed -n 's/^dale \([^ ]*\) (commit \(.*\))$/\1/p' "$T/out")
commit=$(sed -n 's/^dale \([^ ]*\) (commit \(.*\))$/\2/p' "$T/out")
cp "$T/out" "$T/version.txt"
dale version
if [ "$RC" -eq 0 ] && cmp -s "$T/out" "$T/version.txt"; then ok "dale version prints the same as --version"
else fail "dale version" "exit $RC: $(head -c 200 "$T/out")"; fi

dale train --task adding --model rnn --hidden 4 --adding-n 2000 --epochs 1 --max-updates 2 --quiet --out "$T/run"
if [ "$RC" -ne 0 ]; then
    fail "a tiny run for the provenance checks" "exit $RC: $(err1)"
else
    json_expect "result.json records dale_version" "$T/run/result.json" dale_version "$ver"
    json_expect "result.json records dale_commit" "$T/run/result.json" dale_commit "$commit"
    json_expect "config.json records dale_version" "$T/run/config.json" dale_version "$ver"
    json_expect "config.json records dale_commit" "$T/run/config.json" dale_commit "$commit"
    dale train --config "$T/run/config.json" --max-updates 0 --quiet --out "$T/run2"
    if [ "$RC" -eq 0 ]; then ok "a config.json carrying dale_version/dale_commit loads with --config"
    else fail "--config with provenance keys" "exit $RC: $(err1)"; fi
    sed -i 's/"dale_commit":.*/"dale_commit": "0000000"/' "$T/run/config.json"
    lift_max_updates "$T/run"
    dale train --resume --out "$T/run" --quiet
    if [ "$RC" -eq 0 ]; then ok "--resume of a run recorded by another commit is not refused for it"
    else fail "--resume across commits" "exit $RC: $(err1)"; fi
fi

# ------------------------------------------- source locations: debug only
dale train --task adding --adding-n 200 --quiet --out "$T/small"
if [ "$RC" -ne 0 ] && [ -s "$T/err" ] && ! grep -q -E '\([a-z_]+\.c:[0-9]+\)' "$T/err"; then
    ok "an error message names no source location by default"
else fail "no (file.c:N) by default" "exit $RC: $(err1)"; fi
DALE_DEBUG=1 "$DALE" train --task adding --adding-n 200 --quiet --out "$T/small" >"$T/out" 2>"$T/err"
if grep -q -E '\([a-z_]+\.c:[0-9]+\)' "$T/err"; then ok "DALE_DEBUG=1 adds the source location"
else fail "DALE_DEBUG=1 location" "$(err1)"; fi
DALE_DEBUG=0 "$DALE" train --task adding --adding-n 200 --quiet --out "$T/small" >"$T/out" 2>"$T/err"
if ! grep -q -E '\([a-z_]+\.c:[0-9]+\)' "$T/err"; then ok "DALE_DEBUG=0 is off"
else fail "DALE_DEBUG=0" "$(err1)"; fi

# ------------------------------------------------------ did you mean
expect_exit 2 "unknown option suggests the nearest (--hiden=10)" "(did you mean hidden?)" train --hiden=10 --dry-run
expect_exit 2 "unknown flag suggests the nearest (--hiden 10)" "did you mean --hidden?" train --hiden 10 --dry-run
expect_exit 2 "unknown model suggests the nearest (dan)" "did you mean dann?" train --model dan --dry-run
expect_exit 2 "unknown task suggests the nearest (seqmist)" "did you mean seqmnist?" train --task seqmist --dry-run
expect_exit 2 "a bad choice suggests the nearest (--colei-dist gama)" "did you mean gamma?" train --colei-dist gama --dry-run
expect_exit 2 "a bad task choice suggests the nearest (--variant pixl)" "did you mean pixel?" \
    train --task seqmnist --variant pixl --dry-run
expect_exit 2 "on/off prefers the completion (of: off)" "did you mean off?" train --spectra of --dry-run
expect_exit 2 "unknown command suggests the nearest (trian)" "did you mean train?" trian
dale train --model xyz --dry-run
if [ "$RC" -eq 2 ] && ! grep -q "did you mean" "$T/err"; then ok "nothing near: no suggestion (xyz)"
else fail "no suggestion for a far word" "exit $RC: $(err1)"; fi
printf '{"hiden": 5}\n' >"$T/hiden.json"
expect_exit 2 "an unknown key of a config file suggests the nearest" "did you mean hidden?" train --config "$T/hiden.json"

# ------------------------------------------------- broken JSON: line:col
printf '{\n  "hidden": 5,\n  "lr": 0.1\n  "seed": 3\n}\n' >"$T/broken.json"
expect_exit 2 "a broken config file names FILE:LINE:COL" "broken.json:4:3: not valid JSON (near '" \
    train --config "$T/broken.json"
printf '{\n  "name": "x",\n  "base": {"task": "adding" "hidden": 4}\n}\n' >"$T/spec.json"
expect_exit 2 "a broken sweep spec names FILE:LINE:COL" "spec.json:3:" sweep "$T/spec.json" --dry-run --out "$T/sw"
if grep -q -E 'spec\.json:3:[0-9]+: not valid JSON \(near' "$T/err"; then ok "the spec error shows the text near it"
else fail "spec error text" "$(err1)"; fi
printf '{"name": "x", "base": {"task": "adding"}, "scales": {"q": {"kind": "smok"}}}\n' >"$T/spec2.json"
expect_exit 2 "a scale kind other than smoke/reduced/paper/control is refused" '"kind" must be' sweep "$T/spec2.json" --dry-run --out "$T/sw"

# ------------------------------------------------- help texts agree
dale train --help
cp "$T/out" "$T/train-help.txt"
dale spectrum --help
cp "$T/out" "$T/spectrum-help.txt"
nu_train=$(sed -n 's/^  --numerator .*(default: \([^)]*\)).*/\1/p' "$T/train-help.txt")
nu_spec=$(sed -n 's/^  --numerator .*(default: \([^)]*\)).*/\1/p' "$T/spectrum-help.txt")
if [ -n "$nu_train" ] && [ "$nu_train" = "$nu_spec" ]; then ok "train and spectrum --help print the same nu default ($nu_train)"
else fail "nu default in help" "train '$nu_train', spectrum '$nu_spec'"; fi
twice=$(grep -c "(default:.*(default:" "$T/train-help.txt")
if [ "$twice" -eq 0 ]; then ok "no train --help line states its default twice"
else fail "train --help double defaults" "$(grep "(default:.*(default:" "$T/train-help.txt" | head -n 2)"; fi
dale sweep --help
if [ "$RC" -eq 0 ] && ! grep -q '%%' "$T/out" && grep -q 'k % size' "$T/out"; then ok "sweep --help shows % (not %%)"
else fail "sweep --help %%" "$(grep -n '%' "$T/out" | head -n 2)"; fi
for set in mnist fashion-mnist objrec kjv glove100; do
    dale help
    grep -q -e "$set" "$T/out" || { fail "dale help names data set $set" "missing"; continue; }
    dale data --help
    grep -q -e "^NAME:.*$set" "$T/out" || { fail "data --help NAME line names $set" "missing"; continue; }
    dale data get nosuchset
    if [ "$RC" -eq 2 ] && grep -q -e "$set" "$T/err"; then ok "help, data --help and data get's error name $set"
    else fail "data get error names $set" "exit $RC: $(err1)"; fi
done

# ------------------------------------- reproduce: scales and their kinds
EXP=$(cd "$(dirname "$0")/../experiments" && pwd)
DALE_EXPERIMENTS=$EXP "$DALE" reproduce --list >"$T/list.txt" 2>"$T/err"
RC=$?
# block PRESET — the --list lines of one preset
block() { awk -v p="$1" '$1 == p { on = 1; next } /^$/ { on = 0 } on' "$T/list.txt"; }
for want in "fig2a quick smoke" "fig2a paper paper" "fig2a grid paper" "fig2b quick smoke" \
            "fig2d select paper" "fig2d pixels-centred control" "fig2d grid paper" "fig5 quick smoke" \
            "fig5 reduced reduced" "fig6 reduced reduced" "table1 paper900 paper" "table1 reduced reduced" \
            "table3 quick reduced"; do
    set -- $want
    if [ "$RC" -eq 0 ] && block "$1" | grep -q -E "^  [ *] $2 +$3 "; then ok "reproduce --list shows $1 scale $2 as $3"
    else fail "reproduce --list $1 $2" "no line '$2 $3' (exit $RC): $(block "$1" | head -n 3 | tr '\n' '|')"; fi
done
nbad=0
for f in "$EXP"/*.json; do
    p=$(basename "$f" .json)
    nk=$(grep -c '"kind": "' "$f")
    nl=$(block "$p" | grep -c -E '^  [ *] [a-z0-9-]+ +(smoke|reduced|paper|control) ')
    star=$(block "$p" | grep -c -E '^  \* [a-z0-9-]+ +(reduced|paper) ')
    if [ "$nk" -lt 2 ] || [ "$nk" -ne "$nl" ] || [ "$star" -ne 1 ]; then
        nbad=$((nbad + 1))
        fail "reproduce --list $p" "$nk scales with a kind in the spec, $nl listed, $star marked"
    fi
done
[ "$nbad" -eq 0 ] && ok "reproduce --list shows every scale of every preset, one marked as the first to support the claim"

mkdir -p "$T/exp"
cat >"$T/exp/tiny.json" <<'JSON'
{
  "name": "tiny",
  "description": "a tiny adding sweep",
  "base": {"task": "adding", "hidden": 4, "adding_n": 2000, "epochs": 1},
  "runs": [{"label": "RNN", "model": "rnn"}],
  "axes": {"seed": [0, 1]},
  "scales": {
    "smoke": {"kind": "smoke", "note": "tests the pipeline only", "base": {"max_updates": 3}},
    "small": {"kind": "reduced", "note": "a smaller budget", "base": {"max_updates": 6}}
  },
  "analysis": {"select": "test_loss", "group": "label"}
}
JSON
DALE_EXPERIMENTS=$T/exp "$DALE" reproduce tiny --scale smoke --jobs 1 --quiet --out "$T/tiny-smoke" >"$T/out" 2>"$T/err"
RC=$?
if [ "$RC" -eq 0 ] && head -n 1 "$T/out" | grep -q "^SMOKE TEST: these numbers test the pipeline, not the paper's claim; use --scale small"; then
    ok "the table of a smoke scale starts with the SMOKE TEST line naming the scale to use"
else fail "smoke banner" "exit $RC, first line: $(head -n 1 "$T/out") ($(err1))"; fi
"$DALE" results "$T/tiny-smoke" >"$T/out" 2>"$T/err"
if head -n 1 "$T/out" | grep -q "^SMOKE TEST" && tail -n 1 "$T/out" | grep -q "^SMOKE TEST"; then
    ok "dale results alone labels a smoke sweep's table (the store records the scale's kind)"
else fail "results smoke label" "$(head -n 2 "$T/out")"; fi
"$DALE" results "$T/tiny-smoke" --csv >"$T/out" 2>"$T/err"
if ! grep -q "SMOKE" "$T/out" && grep -q "SMOKE TEST" "$T/err"; then ok "--csv: the smoke label goes to stderr"
else fail "csv smoke label" "$(head -n 2 "$T/out")"; fi
json_expect "the sweep directory records the scale" "$T/tiny-smoke/scale.json" scale smoke
json_expect "the sweep directory records the scale's kind" "$T/tiny-smoke/scale.json" kind smoke
DALE_EXPERIMENTS=$T/exp "$DALE" reproduce tiny --scale small --jobs 1 --quiet --out "$T/tiny-small" >"$T/out" 2>"$T/err"
RC=$?
if [ "$RC" -eq 0 ] && ! grep -q "SMOKE TEST" "$T/out" && grep -q "RNN" "$T/out"; then ok "a reduced scale prints its table without the banner"
else fail "no banner for reduced" "exit $RC: $(head -n 2 "$T/out" | tr '\n' '|') ($(err1))"; fi

DALE_EXPERIMENTS=$T/exp expect_exit 2 "an unknown scale of a preset suggests the nearest" "did you mean small?" \
    reproduce tiny --scale smal --dry-run
DALE_EXPERIMENTS=$T/exp expect_exit 2 "an unknown preset suggests the nearest" "did you mean tiny?" \
    reproduce tinyy --dry-run

lib_finish
