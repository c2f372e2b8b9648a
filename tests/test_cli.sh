#!/usr/bin/env bash
# test_cli.sh BUILD_DIR — `dale` usage, bad input and the files of a run.
#
# Covers: exit codes of the top-level tool; `dale train --help` listing every
# option with its default; every kind of bad option value (exit 2, stderr
# naming the option); --config files; run directories that cannot be
# created; --max-updates 0 output files; the resolved config.json (no auto
# values left, each model's reference defaults); determinism under a seed.
# Runs are tiny (adding, 2000 sequences, a few dozen updates).
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"

SMALL=(--quiet --adding-n 2000 --epochs 1)

# ------------------------------------------------------------ top level
expect_exit 2 "dale without arguments exits 2 with usage" "usage" 
dale help
if [ "$RC" -eq 0 ] && grep -q "usage" "$T/out"; then ok "dale help exits 0 with usage on stdout"
else fail "dale help" "exit $RC, stdout: $(head -c 200 "$T/out")"; fi
expect_exit 2 "unknown command exits 2 naming it" "frobnicate" frobnicate
dale train --help
if [ "$RC" -eq 0 ] && grep -q "(default:" "$T/out"; then ok "dale train --help exits 0"
else fail "dale train --help" "exit $RC"; fi
cp "$T/out" "$T/help.txt"

# Every key of a resolved config.json is a documented option with a default.
dale train "${SMALL[@]}" --max-updates 0 --out "$T/cfg0"
if [ "$RC" -ne 0 ]; then
    fail "reference run for --help cross-check" "exit $RC: $(err1)"
else
    # every key but the provenance ones (dale_version, dale_commit)
    keys=$(sed -n 's/^[[:space:]]*"\([a-z0-9_]*\)":.*/\1/p' "$T/cfg0/config.json" | grep -v -x -e dale_version -e dale_commit)
    nkeys=$(echo "$keys" | wc -l)
    missing=""
    for k in $keys; do
        flag="--${k//_/-}"
        grep -q -e "^  $flag  *.*(default:" "$T/help.txt" || missing="$missing $flag"
    done
    if [ -z "$missing" ] && [ "$nkeys" -ge 30 ]; then
        ok "--help lists all $nkeys config.json keys as --flags with (default: ...)"
    else
        fail "--help lists every option" "missing or without default:${missing:- none} ($nkeys keys)"
    fi
    nhelp=$(grep -c "^  --[a-z0-9-]* .*(default:" "$T/help.txt")
    if [ "$nhelp" -eq "$nkeys" ]; then ok "--help has one defaulted line per config key ($nhelp)"
    else fail "--help option count" "$nhelp defaulted option lines, $nkeys config.json keys"; fi
fi
for extra in --config --resume --quiet; do
    if grep -q -e "^  $extra" "$T/help.txt"; then ok "--help documents $extra"
    else fail "--help documents $extra" "not listed"; fi
done

# ----------------------------------------------------------- bad values
bad() { # bad WHAT NAMED ARGS...: exit 2, stderr names NAMED
    local what=$1 named=$2
    shift 2
    expect_exit 2 "$what -> exit 2 naming $named" "$named" train "${SMALL[@]}" --out "$T/bad" "$@"
}
bad "unknown option" "--bogus" --bogus 1
bad "unknown option (--key=value)" "bogus" --bogus=1
bad "option missing its value" "--lr" --lr
bad "option followed by another option" "--hidden" --hidden --epochs
bad "non-numeric --hidden" "--hidden" --hidden abc
bad "trailing junk --hidden=5x" "--hidden" --hidden=5x
bad "non-numeric --lr" "--lr" --lr fast
bad "non-finite --lr" "--lr" --lr nan
bad "negative --seed" "--seed" --seed -1
bad "--hidden -3" "--hidden" --hidden -3
bad "--hidden 0" "--hidden" --hidden 0
bad "--layers 0" "--layers" --layers 0
bad "--ei-ratio 0" "--ei-ratio" --ei-ratio 0
bad "--ei-ratio -1" "--ei-ratio" --ei-ratio -1
bad "--inhib 1.5" "--inhib" --inhib 1.5
bad "--inhib 0" "--inhib" --inhib 0
bad "--model foo" "--model" --model foo
bad "--task foo" "--task" --task foo
bad "--clip-scope bogus" "--clip-scope" --clip-scope bogus
bad "--zero-diag maybe" "--zero-diag" --zero-diag maybe
bad "--project maybe" "--project" --project maybe
bad "--batch 0" "--batch" --batch 0
bad "--lr 0" "--lr" --lr 0
bad "--clip -2" "--clip" --clip -2
bad "--eval-every 0" "--eval-every" --eval-every 0
bad "--dense 5,x" "--dense" --dense 5,x
bad "--dense 0" "--dense" --dense 0
bad "stray positional argument" "extra" extra
if [ -e "$T/bad" ]; then fail "usage errors create no run directory" "$T/bad exists"
else ok "usage errors create no run directory"; fi

# --------------------------------------------------------------- --config
printf '{\n  "model": "colei",\n  "hidden": 7,\n  "seed": 3,\n  "sign_freeze": "on"\n}\n' >"$T/good.json"
dale train "${SMALL[@]}" --max-updates 0 --config "$T/good.json" --out "$T/c1"
if [ "$RC" -ne 0 ]; then
    fail "--config applies keys" "exit $RC: $(err1)"
else
    json_expect "--config applies string key (model)" "$T/c1/config.json" model colei
    json_expect "--config applies integer key (hidden)" "$T/c1/config.json" hidden 7
    json_expect "--config applies u64 key (seed)" "$T/c1/config.json" seed 3
    json_expect "--config applies on/off key (sign_freeze)" "$T/c1/config.json" sign_freeze on
fi
dale train "${SMALL[@]}" --max-updates 0 --hidden 5 --config "$T/good.json" --model dann --out "$T/c2"
if [ "$RC" -ne 0 ]; then
    fail "flags override --config" "exit $RC: $(err1)"
else
    json_expect "flag before --config overrides the file (hidden)" "$T/c2/config.json" hidden 5
    json_expect "flag after --config overrides the file (model)" "$T/c2/config.json" model dann
    json_expect "keys not overridden still come from the file (seed)" "$T/c2/config.json" seed 3
fi
printf '{"model": "colei", "bogus_key": 1}\n' >"$T/unknown.json"
expect_exit 2 "--config unknown key -> exit 2 naming the file" "unknown.json" train "${SMALL[@]}" --config "$T/unknown.json" --out "$T/bad"
if grep -q "bogus_key" "$T/err"; then ok "--config unknown key: message names the key"
else fail "--config unknown key: message names the key" "$(err1)"; fi
printf '{"model": "colei",\n "hidden": 7,,\n}\n' >"$T/malformed.json"
expect_exit 2 "--config malformed JSON -> exit 2 naming the file" "malformed.json" train "${SMALL[@]}" --config "$T/malformed.json" --out "$T/bad"
printf '[1, 2]\n' >"$T/array.json"
expect_exit 2 "--config JSON that is not an object -> exit 2" "array.json" train "${SMALL[@]}" --config "$T/array.json" --out "$T/bad"
printf '{"hidden": "ten"}\n' >"$T/badval.json"
expect_exit 2 "--config bad value -> exit 2 naming the key" "hidden" train "${SMALL[@]}" --config "$T/badval.json" --out "$T/bad"
printf '{"hidden": 7.5}\n' >"$T/frac.json"
expect_exit 2 "--config fractional integer -> exit 2 naming the key" "hidden" train "${SMALL[@]}" --config "$T/frac.json" --out "$T/bad"
expect_exit 2 "--config missing file -> exit 2 naming it" "nonexistent.json" train "${SMALL[@]}" --config "$T/nonexistent.json" --out "$T/bad"
expect_exit 2 "--config without a file -> exit 2" "--config" train --config

# -------------------------------------------------- run directory errors
: >"$T/plainfile"
expect_exit 1 "--out under a regular file -> exit 1 naming the path" "$T/plainfile/sub" train "${SMALL[@]}" --out "$T/plainfile/sub"
expect_exit 1 "--out is a regular file -> exit 1 naming it" "$T/plainfile" train "${SMALL[@]}" --out "$T/plainfile"
if [ "$(id -u)" = 0 ]; then
    skip "--out in a read-only directory" "running as root, which ignores directory permissions"
else
    mkdir "$T/ro" && chmod 555 "$T/ro"
    expect_exit 1 "--out in a read-only directory -> exit 1 naming the path" "$T/ro/sub" train "${SMALL[@]}" --out "$T/ro/sub"
    chmod 755 "$T/ro"
fi
dale train "${SMALL[@]}" --batch 1001 --out "$T/bigbatch"
if { [ "$RC" -eq 1 ] || [ "$RC" -eq 2 ]; } && grep -q -e "--batch" "$T/err" && grep -q -i "training set" "$T/err"; then
    ok "--batch larger than the training set -> exit $RC with a clear message"
else
    fail "--batch larger than the training set" "exit $RC, stderr: $(err1)"
fi
dale train "${SMALL[@]}" --batch 1000 --max-updates 2 --out "$T/fullbatch"
if [ "$RC" -eq 0 ]; then ok "--batch equal to the training set runs"
else fail "--batch equal to the training set runs" "exit $RC: $(err1)"; fi

# ------------------------------------------------------- --max-updates 0
check_init_run() { # check_init_run MODEL DIR EXPECTED_PARAMS...
    local model=$1 dir=$2
    shift 2
    local f missing=""
    for f in config.json final.npz checkpoint.npz result.json metrics.csv; do
        [ -s "$dir/$f" ] || missing="$missing $f"
    done
    if [ -n "$missing" ]; then fail "$model --max-updates 0 writes all run files" "missing:$missing"; return; fi
    ok "$model --max-updates 0 writes config.json final.npz checkpoint.npz result.json metrics.csv"
    json_expect "$model --max-updates 0: result.json status ok" "$dir/result.json" status ok
    json_expect "$model --max-updates 0: result.json updates 0" "$dir/result.json" updates 0
    local nl first
    nl=$(wc -l <"$dir/metrics.csv")
    first=$(sed -n '2s/,.*//p' "$dir/metrics.csv")
    if [ "$nl" -eq 2 ] && head -n 1 "$dir/metrics.csv" | grep -q "^update,epoch,lr,.*test_loss" && [ "$first" = 0 ]; then
        ok "$model --max-updates 0: metrics.csv has a header and one row (update 0)"
    else
        fail "$model --max-updates 0: metrics.csv" "$nl lines, first row update '$first': $(head -c 300 "$dir/metrics.csv" | tr '\n' '|')"
    fi
    local names want p
    names=$(npz_names "$dir/final.npz") || { fail "$model final.npz is a readable zip" "cannot parse $dir/final.npz"; return; }
    missing=""
    for p in "$@" cell0.W_eff cell0.U_eff; do
        echo "$names" | grep -qx -F "$p" || missing="$missing $p"
    done
    if [ -z "$missing" ]; then ok "$model final.npz holds every parameter and cell0.W_eff/U_eff"
    else fail "$model final.npz members" "missing:$missing (has: $(echo "$names" | tr "\n" " "))"; fi
    # The checkpoint holds the same parameters plus trainer state.
    want=$(npz_names "$dir/checkpoint.npz" | grep -v '^state\.')
    if [ "$want" = "$names" ]; then ok "$model checkpoint.npz holds the same parameters as final.npz"
    else fail "$model checkpoint.npz parameters" "checkpoint: $(echo "$want" | tr "\n" " "); final: $(echo "$names" | tr "\n" " ")"; fi
    if echo "$names" | grep -q '^state\.'; then fail "$model final.npz has no trainer state" "$(echo "$names" | tr "\n" " ")"
    else ok "$model final.npz has no trainer state"; fi
}
dale train "${SMALL[@]}" --model rnn --max-updates 0 --out "$T/z_rnn"
check_init_run rnn "$T/z_rnn" cell0.U cell0.W cell0.b out.W out.b
dale train "${SMALL[@]}" --model colei --max-updates 0 --out "$T/z_colei"
check_init_run colei "$T/z_colei" cell0.U_pos cell0.W_pos cell0.b out.W_pos out.b
dale train "${SMALL[@]}" --model dann --max-updates 0 --out "$T/z_dann"
check_init_run dann "$T/z_dann" cell0.U_EE cell0.U_IE cell0.U_EI cell0.W_EE cell0.W_IE cell0.W_EI cell0.b \
    out.W_EE out.W_IE out.W_EI out.b
dale train "${SMALL[@]}" --model dann --layers 2 --dense 6 --max-updates 0 --out "$T/z_deep"
if [ "$RC" -eq 0 ]; then
    names=$(npz_names "$T/z_deep/final.npz")
    if echo "$names" | grep -qx cell1.W_eff && echo "$names" | grep -qx cell1.U_eff && echo "$names" | grep -qx cell1.W_EE; then
        ok "2-layer final.npz holds cell1 parameters and cell1.W_eff/U_eff"
    else fail "2-layer final.npz members" "$(echo "$names" | tr "\n" " ")"; fi
else
    fail "2-layer dann with a dense layer runs" "exit $RC: $(err1)"
fi

# Values, where numpy is at hand (optional: CI needs no Python).
if have_numpy; then
    if out=$(/usr/bin/python3 - "$T" 2>&1 <<'EOF'
import sys, numpy as np
T = sys.argv[1]
bad = []
def load(m):
    z = np.load(f"{T}/z_{m}/final.npz")
    return {k: z[k] for k in z.files}
r = load("rnn")
if not (np.array_equal(r["cell0.W"], r["cell0.W_eff"]) and np.array_equal(r["cell0.U"], r["cell0.U_eff"])):
    bad.append("rnn: W_eff/U_eff differ from W/U")
if r["cell0.W_eff"].shape != (10, 10) or r["cell0.U_eff"].shape != (10, 2) or r["cell0.b"].shape != (10,):
    bad.append(f"rnn shapes {r['cell0.W_eff'].shape} {r['cell0.U_eff'].shape} {r['cell0.b'].shape}")
c = load("colei")
W = c["cell0.W_eff"]
if not np.array_equal(np.abs(W), c["cell0.W_pos"]): bad.append("colei: |W_eff| != W_pos")
for j in range(W.shape[1]):
    col = W[:, j]
    if (col > 0).any() and (col < 0).any(): bad.append(f"colei: column {j} of W_eff mixes signs")
if (np.diag(W) != 0).any(): bad.append("colei: W_eff diagonal not zero (zero_diag on)")
if (c["cell0.U_eff"] < 0).any(): bad.append("colei: U_eff has negative (input is excitatory)")
d = load("dann")
for k in ("W", "U"):
    eff = d[f"cell0.{k}_EE"] - d[f"cell0.{k}_EI"] @ d[f"cell0.{k}_IE"]
    if np.abs(eff - d[f"cell0.{k}_eff"]).max() > 1e-6: bad.append(f"dann: {k}_eff != {k}_EE - {k}_EI {k}_IE")
    for p in ("EE", "IE", "EI"):
        if (d[f"cell0.{k}_{p}"] < 0).any(): bad.append(f"dann: {k}_{p} has negative entries")
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
    ); then ok "final.npz values (numpy): effective matrices match the parameters and Dale's signs"
    else fail "final.npz values (numpy)" "$out"; fi
else
    skip "final.npz values" "/usr/bin/python3 with numpy not available"
fi

# ------------------------------------------------- resolved config.json
check_resolved() { # check_resolved MODEL DIR
    local model=$1 cfg=$2/config.json k v bad=""
    if grep -q '"auto"' "$cfg"; then bad="$bad auto:$(grep '"auto"' "$cfg" | tr -d ' \t\n')"; fi
    for k in hidden lr clip lr_decay lr_decay_every batch epochs eval_every checkpoint_every; do
        v=$(json_get "$cfg" "$k")
        if [ -z "$v" ] || [ "$v" = -1 ]; then bad="$bad $k=$v"; fi
    done
    if [ -z "$bad" ]; then ok "$model config.json holds no auto value and no -1 for auto fields"
    else fail "$model config.json resolved" "unresolved:$bad"; fi
}
for m in rnn colei dann; do
    dale train --quiet --model "$m" --max-updates 0 --out "$T/def_$m"
    if [ "$RC" -ne 0 ]; then fail "$m default run" "exit $RC: $(err1)"; continue; fi
    check_resolved "$m" "$T/def_$m"
    c=$T/def_$m/config.json
    json_expect "$m default hidden 10" "$c" hidden 10
    json_expect "$m default lr 0.1" "$c" lr 0.1
    json_expect "$m default batch 64" "$c" batch 64
    json_expect "$m default epochs 100" "$c" epochs 100
    json_expect "$m default eval_every 20" "$c" eval_every 20
    json_expect "$m default checkpoint_every = eval_every" "$c" checkpoint_every 20
    json_expect "$m default lr_decay 0.99" "$c" lr_decay 0.99
    json_expect "$m default lr_decay_every 20" "$c" lr_decay_every 20
done
c=$T/def_rnn/config.json
json_expect "rnn reference clip 0" "$c" clip 0
json_expect "rnn clip_scope layer" "$c" clip_scope layer
json_expect "rnn project off" "$c" project off
json_expect "rnn inhib_grad_scale off" "$c" inhib_grad_scale off
c=$T/def_colei/config.json
json_expect "colei reference clip 7" "$c" clip 7
json_expect "colei clip_scope tensor" "$c" clip_scope tensor
json_expect "colei project on" "$c" project on
json_expect "colei inhib_grad_scale off" "$c" inhib_grad_scale off
c=$T/def_dann/config.json
json_expect "dann reference clip 3" "$c" clip 3
json_expect "dann clip_scope layer" "$c" clip_scope layer
json_expect "dann project on" "$c" project on
json_expect "dann inhib_grad_scale on" "$c" inhib_grad_scale on
dale train "${SMALL[@]}" --max-updates 0 --eval-every 7 --out "$T/ev7"
json_expect "checkpoint_every follows --eval-every" "$T/ev7/config.json" checkpoint_every 7
dale train "${SMALL[@]}" --max-updates 0 --inhib 0.5 --out "$T/inhib"
if [ "$RC" -eq 0 ]; then
    json_expect "--inhib 0.5 gives ei_ratio 1" "$T/inhib/config.json" ei_ratio 1
else fail "--inhib 0.5 runs" "exit $RC: $(err1)"; fi
dale train "${SMALL[@]}" --max-updates 0 --inhib 0.2 --out "$T/inhib2"
json_expect "--inhib 0.2 gives ei_ratio 4" "$T/inhib2/config.json" ei_ratio 4
# The resolved config.json is itself a valid --config.
dale train --quiet --max-updates 0 --config "$T/def_colei/config.json" --out "$T/roundtrip"
if [ "$RC" -eq 0 ] && diff <(grep -v '"out"' "$T/def_colei/config.json") <(grep -v '"out"' "$T/roundtrip/config.json") >/dev/null; then
    ok "config.json read back with --config resolves to the same config"
else fail "config.json round trip" "exit $RC $(err1) $(diff "$T/def_colei/config.json" "$T/roundtrip/config.json" | head -n 4 | tr '\n' ' ')"; fi
dale train --quiet --model rnn --max-updates 0 --out "$T/default-out-check"
json_expect "--out is recorded in config.json" "$T/default-out-check/config.json" out "$T/default-out-check"

# ---------------------------------------------------------- determinism
DET=(--quiet --adding-n 2000 --epochs 2 --eval-every 5)
for m in rnn dann; do
    dale train "${DET[@]}" --model "$m" --seed 5 --out "$T/det1_$m"; r1=$RC
    dale train "${DET[@]}" --model "$m" --seed 5 --out "$T/det2_$m"; r2=$RC
    dale train "${DET[@]}" --model "$m" --seed 6 --out "$T/det3_$m"; r3=$RC
    if [ "$r1$r2$r3" != 000 ]; then fail "$m determinism runs" "exit codes $r1 $r2 $r3"; continue; fi
    expect_npz_same "$m same seed twice: final.npz equal" "$T/det1_$m/final.npz" "$T/det2_$m/final.npz"
    expect_same_file "$m same seed twice: metrics.csv byte-identical" "$T/det1_$m/metrics.csv" "$T/det2_$m/metrics.csv"
    if npz_same "$T/det1_$m/final.npz" "$T/det3_$m/final.npz"; then
        fail "$m different seed: final.npz differs" "seeds 5 and 6 give the same parameters"
    else ok "$m different seed: final.npz differs ($NPZ_HOW)"; fi
    if cmp -s "$T/det1_$m/metrics.csv" "$T/det3_$m/metrics.csv"; then
        fail "$m different seed: metrics.csv differs" "identical"
    else ok "$m different seed: metrics.csv differs"; fi
done
# Byte-for-byte: the zip member times must not depend on the clock.  DOS
# times have 2 s resolution, so wait that long before the second run.
dale train "${DET[@]}" --model rnn --seed 5 --max-updates 3 --out "$T/byte1"
sleep 2.2
dale train "${DET[@]}" --model rnn --seed 5 --max-updates 3 --out "$T/byte2"
if cmp -s "$T/byte1/final.npz" "$T/byte2/final.npz"; then
    ok "same seed 2 s apart: final.npz byte-identical (cmp)"
else
    how=$(npz_same "$T/byte1/final.npz" "$T/byte2/final.npz"; echo "$NPZ_HOW")
    fail "same seed 2 s apart: final.npz byte-identical (cmp)" "$(cmp "$T/byte1/final.npz" "$T/byte2/final.npz" | head -n 1) ($how: the npz writer stores the wall-clock time in each zip member)"
fi

lib_finish
