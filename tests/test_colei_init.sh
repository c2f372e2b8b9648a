#!/usr/bin/env bash
# test_colei_init.sh BUILD_DIR — the ColEI inits beyond the paper from the
# CLI (docs/beyond.md): dale spectrum takes --colei-init and its options and
# says so in summary.json; the spectral init at n = 60, 1 % inhibitory has an
# NSE far above the standard one; dale train's update-0 NSE is dale
# spectrum's for the same seed (the same W); bad values exit 2 with a
# message; --colei-init standard is the default (same config, same W).
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
cd "$T" || exit 1

json_num() { # FILE KEY -> the "mean" of a summary.json statistic
    tr -d ' \t\n' <"$1" | sed -n "s/.*\"$2\":{\"mean\":\([-0-9.eE+]*\).*/\1/p"
}
spec() { "$DALE" spectrum --model colei --hidden 60 --inhib 0.01 --inits 2 --seed 3 --no-plot "$@" >/dev/null 2>err; }

if spec --out s-std && spec --colei-init spectral --out s-spec && spec --colei-init balanced --out s-bal; then
    ok "dale spectrum --colei-init standard|spectral|balanced"
else
    fail "dale spectrum --colei-init" "$(head -c 300 err)"
fi
n_std=$(json_num s-std/summary.json nse); n_spec=$(json_num s-spec/summary.json nse)
if awk -v a="$n_std" -v b="$n_spec" 'BEGIN { exit !(a < 0.7 && b > 0.93) }'; then
    ok "spectral NSE $n_spec, standard $n_std (n 60, 1 % inhibitory)"
else
    fail "spectral NSE" "standard '$n_std', spectral '$n_spec' (want < 0.7 and > 0.93)"
fi
grep -q '"colei_init":[[:space:]]*"spectral"' s-spec/summary.json && ! grep -q colei_init s-std/summary.json &&
    ok "summary.json names a non-standard init only" || fail "summary.json colei_init" "$(grep -c colei_init s-spec/summary.json)"

# train's W at update 0 is spectrum's draw 0 for the same seed
if "$DALE" train --quiet --model colei --hidden 60 --inhib 0.01 --colei-init spectral --seed 3 --max-updates 0 \
    --out tr >/dev/null 2>err; then
    nse_tr=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "nse_cell0") c = i } NR == 2 { print $c }' tr/metrics.csv)
    "$DALE" spectrum --model colei --hidden 60 --inhib 0.01 --colei-init spectral --inits 1 --seed 3 --no-plot \
        --out s1 >/dev/null 2>&1
    nse_sp=$(json_num s1/summary.json nse)
    if awk -v a="$nse_tr" -v b="$nse_sp" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0.9 && d < 1e-6) }'; then
        ok "train --max-updates 0 has spectrum's W (NSE $nse_tr)"
    else
        fail "train vs spectrum" "train NSE '$nse_tr', spectrum '$nse_sp'"
    fi
    grep -q '"colei_init":[[:space:]]*"spectral"' tr/config.json && ok "config.json records colei_init" ||
        fail "config.json colei_init" "$(grep -o '"colei_init[^,]*' tr/config.json)"
else
    fail "train --colei-init spectral" "$(head -c 300 err)"
fi

# standard is the default: the same config and the same W as without the option
"$DALE" train --quiet --model colei --hidden 20 --seed 1 --max-updates 0 --out d0 >/dev/null 2>&1
"$DALE" train --quiet --model colei --hidden 20 --seed 1 --max-updates 0 --colei-init standard --out d1 >/dev/null 2>&1
if cmp -s d0/final.npz d1/final.npz && diff <(grep -v '"out"' d0/config.json) <(grep -v '"out"' d1/config.json) >/dev/null; then
    ok "--colei-init standard is the default (same final.npz and config.json)"
else
    fail "--colei-init standard" "final.npz or config.json differ"
fi

# bad values
expect_bad() { # WHAT PATTERN ARGS...
    local what=$1 pat=$2; shift 2
    "$DALE" train --dry-run "$@" >/dev/null 2>err; local rc=$?
    if [ "$rc" -eq 2 ] && grep -qF -- "$pat" err; then ok "$what"; else fail "$what" "exit $rc: $(head -c 300 err)"; fi
}
expect_bad "unknown init with a hint" "did you mean spectral?" --model colei --colei-init spectal
expect_bad "iters 0 refused" "--colei-init-iters must be >= 1" --model colei --colei-init spectral --colei-init-iters 0
expect_bad "floor -0.5 refused" "--colei-init-floor must lie in [0, 1)" --model colei --colei-init-floor -0.5
expect_bad "floor 1 refused" "--colei-init-floor must lie in [0, 1)" --model colei --colei-init spectral --colei-init-floor 1
expect_bad "rnn refuses a ColEI init" "needs --model colei" --model rnn --colei-init spectral
expect_bad "dann refuses a ColEI init" "needs --model colei" --model dann --colei-init balanced
"$DALE" spectrum --model rnn --colei-init balanced --inits 1 --no-plot --out sb >/dev/null 2>err
[ $? -eq 2 ] && grep -qF "needs --model colei" err && ok "spectrum refuses a ColEI init for rnn" ||
    fail "spectrum rnn --colei-init" "$(head -c 300 err)"
lib_finish
