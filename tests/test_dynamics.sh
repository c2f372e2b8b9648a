#!/usr/bin/env bash
# test_dynamics.sh BUILD_DIR — the dynamics options of `dale train`
# (docs/neuro.md, Dynamics and noise): bad values refused naming the option,
# noise determinism for a seed, its own stream (the initialisation and the
# batch order do not move), resume bit for bit with noise on, the learned
# h0 in final.npz only when asked for, and `dale spectrum` taking the options.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"

BASE=(--quiet --adding-n 1400 --adding-test 200 --hidden 12 --batch 64 --eval-every 8)

# ------------------------------------------------------------ bad values
expect_exit 2 "tau 0 refused" "--tau must be" train "${BASE[@]}" --dynamics leaky --tau 0 --out "$T/x"
expect_exit 2 "negative tau refused" "--tau must be" train "${BASE[@]}" --dynamics leaky --tau -5 --out "$T/x"
expect_exit 2 "dt 0 refused" "--dt must be" train "${BASE[@]}" --dynamics leaky --dt 0 --out "$T/x"
expect_exit 2 "alpha = dt/tau > 1 refused (tau)" "--tau 10 with --dt 20 gives alpha" \
    train "${BASE[@]}" --dynamics leaky --tau 10 --out "$T/x"
expect_exit 2 "alpha > 1 refused (tau-e)" "--tau-e 5 with --dt 20 gives alpha" \
    train "${BASE[@]}" --model colei --dynamics leaky-state --tau-e 5 --out "$T/x"
expect_exit 2 "alpha > 1 refused (tau-i)" "--tau-i 19 with --dt 20 gives alpha" \
    train "${BASE[@]}" --model colei --dynamics leaky --tau-i 19 --out "$T/x"
expect_exit 2 "tau-i 0 refused" "--tau-i: expected tau (or auto) or a time constant" \
    train "${BASE[@]}" --model colei --dynamics leaky --tau-i 0 --out "$T/x"
expect_exit 2 "tau-e text refused" "--tau-e: expected tau (or auto) or a time constant" \
    train "${BASE[@]}" --model colei --dynamics leaky --tau-e fast --out "$T/x"
expect_exit 2 "tau-e on rnn refused" "--tau-e: model rnn has no E/I populations" \
    train "${BASE[@]}" --model rnn --dynamics leaky --tau-e 50 --out "$T/x"
expect_exit 2 "tau-i on rnn refused" "--tau-i: model rnn has no E/I populations" \
    train "${BASE[@]}" --model rnn --dynamics leaky --tau-i 50 --out "$T/x"
expect_exit 2 "tau-i on dann refused" "--tau-i: DANN's inhibition is instantaneous" \
    train "${BASE[@]}" --model dann --dynamics leaky --tau-i 50 --out "$T/x"
expect_exit 2 "tau-e with relu dynamics refused" "--tau-e has no effect with --dynamics relu" \
    train "${BASE[@]}" --model colei --tau-e 50 --out "$T/x"
expect_exit 2 "negative noise-rec refused" "--noise-rec must be >= 0" train "${BASE[@]}" --noise-rec -0.1 --out "$T/x"
expect_exit 2 "negative noise-in refused" "--noise-in must be >= 0" train "${BASE[@]}" --noise-in -1 --out "$T/x"
expect_exit 2 "negative rate-l2 refused" "--rate-l2 must be >= 0" train "${BASE[@]}" --rate-l2 -1 --out "$T/x"
expect_exit 2 "unknown dynamics refused" "--dynamics: expected relu, leaky or leaky-state" \
    train "${BASE[@]}" --dynamics lekay --out "$T/x"
expect_exit 2 "unknown h0 refused" "--h0: expected zero or learn" train "${BASE[@]}" --h0 random --out "$T/x"
expect_exit 2 "unknown eval-noise refused" "--eval-noise: expected on or off" \
    train "${BASE[@]}" --eval-noise yes --out "$T/x"
# the same checks on a config.json
printf '{"task": "adding", "dynamics": "leaky", "tau": -1}\n' >"$T/bad.json"
expect_exit 2 "config.json tau -1 refused" "--tau must be" train --quiet --config "$T/bad.json" --out "$T/x"

# auto is read as tau, and config.json stores the default spelling
dale train "${BASE[@]}" --model colei --dynamics leaky --tau-e auto --tau-i 50 --max-updates 1 --out "$T/auto"
json_expect "--tau-e auto is stored as tau" "$T/auto/config.json" tau_e tau
json_expect "--tau-i 50 is stored as given" "$T/auto/config.json" tau_i 50
dale train "${BASE[@]}" --max-updates 1 --out "$T/defaults"
if grep -q '"auto"' "$T/defaults/config.json"; then fail "config.json of a default run holds no auto" "$(grep '"auto"' "$T/defaults/config.json")"
else ok "config.json of a default run holds no auto"; fi

# ------------------------------------------------------------ determinism
NOISY=(--model colei --dynamics leaky --tau 60 --tau-i 30 --noise-rec 0.1 --noise-in 0.1 --epochs 2)
dale train "${BASE[@]}" "${NOISY[@]}" --out "$T/n1"
if [ "$RC" -ne 0 ]; then fail "noisy run" "exit $RC: $(err1)"; fi
dale train "${BASE[@]}" "${NOISY[@]}" --out "$T/n2"
expect_npz_same "noisy run twice, same seed: same final.npz" "$T/n1/final.npz" "$T/n2/final.npz"
expect_same_file "noisy run twice, same seed: same metrics.csv" "$T/n1/metrics.csv" "$T/n2/metrics.csv"
dale train "${BASE[@]}" "${NOISY[@]}" --seed 1 --out "$T/n3"
if npz_same "$T/n1/final.npz" "$T/n3/final.npz"; then fail "another seed trains another network" "$NPZ_HOW"
else ok "another seed trains another network"; fi
dale train "${BASE[@]}" "${NOISY[@]}" --noise-rec 0 --noise-in 0 --out "$T/n0"
if npz_same "$T/n1/final.npz" "$T/n0/final.npz"; then fail "the noise changes training" "$NPZ_HOW"
else ok "the noise changes training"; fi
# the noise has its own stream: the initialisation is the same with and without it
dale train "${BASE[@]}" "${NOISY[@]}" --max-updates 0 --out "$T/i1"
dale train "${BASE[@]}" "${NOISY[@]}" --noise-rec 0 --noise-in 0 --max-updates 0 --out "$T/i0"
expect_npz_same "noise leaves the initialisation as it is" "$T/i1/final.npz" "$T/i0/final.npz"
# evaluation noise changes the evaluation only
dale train "${BASE[@]}" "${NOISY[@]}" --eval-noise on --out "$T/ne"
if cmp -s <(cut -d, -f1-4 "$T/n1/metrics.csv") <(cut -d, -f1-4 "$T/ne/metrics.csv") &&
   ! cmp -s "$T/n1/metrics.csv" "$T/ne/metrics.csv"; then
    ok "eval-noise on: the same training, other evaluation losses"
else
    fail "eval-noise on: the same training, other evaluation losses" "$(diff "$T/n1/metrics.csv" "$T/ne/metrics.csv" | head -n 4 | tr '\n' ' ')"
fi

# ---------------------------------------------------------------- h0
dale train "${BASE[@]}" --max-updates 4 --out "$T/h_zero"
if npz_names "$T/h_zero/final.npz" | grep -q 'h0'; then fail "no h0 member at the default" "$(npz_names "$T/h_zero/final.npz" | tr '\n' ' ')"
else ok "no h0 member at the default"; fi
dale train "${BASE[@]}" --model dann --layers 2 --dynamics leaky-state --h0 learn --max-updates 4 --out "$T/h_learn"
if [ "$(npz_names "$T/h_learn/final.npz" | grep -c '^cell[01]\.h0$')" = 2 ]; then ok "h0 learn: cell0.h0 and cell1.h0 in final.npz"
else fail "h0 learn: cell0.h0 and cell1.h0 in final.npz" "$(npz_names "$T/h_learn/final.npz" | tr '\n' ' ')"; fi
dale eval "$T/h_learn"
if [ "$RC" -eq 0 ]; then ok "dale eval reads a run with a learned h0"; else fail "dale eval reads a run with a learned h0" "$(err1)"; fi

# -------------------------------------------------------------- resume
for m in rnn colei dann; do
    for dyn in leaky leaky-state; do
        ARGS=(--model "$m" --dynamics "$dyn" --tau 50 --noise-rec 0.05 --noise-in 0.05 --h0 learn --rate-l2 0.01
              --eval-noise on --epochs 2)
        a=$T/r_${m}_${dyn}_A b=$T/r_${m}_${dyn}_B
        dale train "${BASE[@]}" "${ARGS[@]}" --out "$a"
        if [ "$RC" -ne 0 ]; then fail "$m $dyn noisy run" "exit $RC: $(err1)"; continue; fi
        dale train "${BASE[@]}" "${ARGS[@]}" --max-updates 13 --out "$b"
        dale train --quiet --resume --max-updates -1 --out "$b"
        if [ "$RC" -ne 0 ]; then fail "$m $dyn resume" "exit $RC: $(err1)"; continue; fi
        expect_npz_same "$m $dyn with noise, h0, rate-l2: resumed final.npz equals the uninterrupted run's" "$a/final.npz" "$b/final.npz"
        expect_same_file "$m $dyn with noise, h0, rate-l2: resumed metrics.csv equals the uninterrupted run's" "$a/metrics.csv" "$b/metrics.csv"
    done
done

# ------------------------------------------------------------ spectrum
dale spectrum --model colei --hidden 50 --inits 2 --no-plot --dynamics leaky --dt 20 --tau-e 100 --tau-i 50 --out "$T/sp"
if [ "$RC" -eq 0 ] && grep -q "(1-a)I + a W" "$T/out"; then ok "dale spectrum takes the dynamics options and prints rho of (1-a)I + a W"
else fail "dale spectrum takes the dynamics options and prints rho of (1-a)I + a W" "exit $RC: $(err1) $(head -c 300 "$T/out")"; fi
expect_exit 2 "dale spectrum: alpha > 1 refused" "with --dt 20 gives alpha" \
    spectrum --model colei --hidden 50 --inits 2 --no-plot --dynamics leaky --tau-i 10 --out "$T/sp2"

lib_finish
