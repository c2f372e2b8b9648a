#!/usr/bin/env bash
# test_optim.sh BUILD_DIR — connectivity masks, Adam and the weight penalty
# through `dale train`, `dale eval` and `dale spectrum`.
#
#  * Adam runs (every model, with masks from files, generated sparsity, no
#    autapses and a weight penalty) stopped at an update and resumed end
#    exactly where the uninterrupted run ends (final.npz, metrics.csv);
#    their checkpoints hold state.adam_*, an SGD run's do not;
#  * the masks are in the run's files, masked entries of W_eff are 0, and a
#    mask file changed before --resume is refused naming the member;
#  * bad masks (shape, dtype, values, missing file) and bad option values
#    (sparsity, optimizer, betas, eps, penalty) are refused naming the
#    option or the file; --help lists every option with its default;
#  * dale spectrum rescales ColEI's masked W to rho.
# Mask files are written here byte by byte (NPY 1.0), so no Python is needed.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"

H=16
BASE=(--quiet --adding-n 2000 --epochs 3 --eval-every 10 --hidden $H)
TOTAL=48

# npy_write FILE DESCR SHAPE BYTES — an NPY 1.0 file; BYTES is printf's
# escaped data (e.g. '\x00\x00\x80\x3f' per float32 1.0).
npy_write() {
    local h="{'descr': '$2', 'fortran_order': False, 'shape': ($3), }"
    local pad=$(((64 - (10 + ${#h} + 1) % 64) % 64))
    h="$h$(printf '%*s' "$pad" '')"
    local hl=$((${#h} + 1))
    {
        printf '\x93NUMPY\x01\x00'
        printf "\\x$(printf %02x $((hl & 255)))\\x$(printf %02x $((hl >> 8)))"
        printf '%s\n' "$h"
        printf "$4"
    } >"$1"
}

# mask_bytes R C KIND SALT — a 0/1 pattern of R x C entries (about 1 in 4
# removed, the position depending on SALT) as float32 (f4), float64 (f8),
# bool (b1) or int64 (i8) bytes.
mask_bytes() {
    local r=$1 c=$2 kind=$3 salt=$4 i j v out=""
    local one zero
    case $kind in
    f4) one='\x00\x00\x80\x3f' zero='\x00\x00\x00\x00' ;;
    f8) one='\x00\x00\x00\x00\x00\x00\xf0\x3f' zero='\x00\x00\x00\x00\x00\x00\x00\x00' ;;
    b1) one='\x01' zero='\x00' ;;
    i8) one='\x01\x00\x00\x00\x00\x00\x00\x00' zero='\x00\x00\x00\x00\x00\x00\x00\x00' ;;
    esac
    for ((i = 0; i < r; i++)); do
        for ((j = 0; j < c; j++)); do
            v=$(((i * 7 + j * 3 + salt) % 4))
            if [ "$v" -eq 0 ]; then out="$out$zero"; else out="$out$one"; fi
        done
    done
    printf '%s' "$out"
}

# The adding task: 2 inputs, 1 output.
npy_write "$T/in.npy" '<f8' "$H, 2" "$(mask_bytes $H 2 f8 1)"
npy_write "$T/rec.npy" '|b1' "$H, $H" "$(mask_bytes $H $H b1 0)"
npy_write "$T/rec2.npy" '|b1' "$H, $H" "$(mask_bytes $H $H b1 2)"
npy_write "$T/out.npy" '<i8' "1, $H" "$(mask_bytes 1 $H i8 3)"
MASKS=(--mask-in "$T/in.npy" --mask-rec "$T/rec.npy" --mask-out "$T/out.npy")

# resume_case NAME K ARGS... — uninterrupted run A; run B stopped at K and resumed.
resume_case() {
    local name=$1 k=$2
    shift 2
    local a=$T/${name}_A b=$T/${name}_B
    dale train "${BASE[@]}" "$@" --out "$a"
    if [ "$RC" -ne 0 ]; then fail "$name uninterrupted run" "exit $RC: $(err1)"; return; fi
    dale train "${BASE[@]}" "$@" --max-updates "$k" --out "$b"
    if [ "$RC" -ne 0 ]; then fail "$name run stopped at $k" "exit $RC: $(err1)"; return; fi
    dale train --quiet --resume --max-updates -1 --out "$b"
    if [ "$RC" -ne 0 ]; then fail "$name resume from $k" "exit $RC: $(err1)"; return; fi
    json_expect "$name resume from $k: result.json updates $TOTAL" "$b/result.json" updates $TOTAL
    expect_npz_same "$name resume from $k: final.npz equals the uninterrupted run's" "$a/final.npz" "$b/final.npz"
    expect_same_file "$name resume from $k: metrics.csv equals the uninterrupted run's" "$a/metrics.csv" "$b/metrics.csv"
}

for m in rnn colei dann; do
    resume_case "adam-$m" 30 --model "$m" --optimizer adam --lr 1e-3 "${MASKS[@]}" --sparsity 0.2 --no-autapses \
        --weight-l2 1e-4 --seed 3
done
resume_case adam-betas 23 --model colei --optimizer adam --lr 2e-3 --beta1 0.8 --beta2 0.99 --adam-eps 1e-6 \
    --lr-decay 0.9 --lr-decay-every 4 --seed 5

members=$(npz_names "$T/adam-dann_B/checkpoint.npz" | tr '\n' ' ')
for want in state.adam_m state.adam_v state.adam_t cell0.U_mask cell0.W_mask out.W_mask; do
    case " $members " in
    *" $want "*) ok "adam dann checkpoint holds $want" ;;
    *) fail "adam dann checkpoint holds $want" "members: $members" ;;
    esac
done
members=$(npz_names "$T/adam-colei_A/final.npz" | tr '\n' ' ')
case " $members " in *" cell0.W_mask "*) ok "final.npz holds the masks" ;;
*) fail "final.npz holds the masks" "members: $members" ;; esac
dale train "${BASE[@]}" --max-updates 5 --out "$T/sgd"
members=$(npz_names "$T/sgd/checkpoint.npz" | tr '\n' ' ')
case " $members " in *adam*|*_mask*) fail "an SGD run without masks writes no new members" "members: $members" ;;
*) ok "an SGD run without masks writes no new members" ;; esac
for key in optimizer beta1 weight_l2 mask_rec sparsity autapses; do
    grep -q "\"$key\"" "$T/sgd/config.json" && ok "config.json records $key" ||
        fail "config.json records $key" "$(head -c 300 "$T/sgd/config.json")"
done
json_expect "config.json records the mask file" "$T/adam-rnn_A/config.json" mask_rec "$T/rec.npy"
json_expect "config.json records --no-autapses" "$T/adam-rnn_A/config.json" autapses off

# dale eval on a masked DANN run: the same network as training left it
dale eval "$T/adam-dann_A"
got=$(sed -n 's/.*test split.*loss \([0-9.e+-]*\).*/\1/p' "$T/out")
want=$(json_get "$T/adam-dann_A/result.json" test_loss)
if [ "$RC" -eq 0 ] && awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-5 * b) }'; then
    ok "dale eval of a masked DANN run gives its test loss ($got)"
else
    fail "dale eval of a masked DANN run gives its test loss" "exit $RC, eval '$got', result.json '$want': $(err1)"
fi

# A mask file changed before --resume is refused, naming the member.
dale train "${BASE[@]}" --model rnn --optimizer adam --mask-rec "$T/rec.npy" --max-updates 10 --out "$T/chg"
lift_max_updates "$T/chg"
cp "$T/rec2.npy" "$T/rec.npy"
expect_exit 1 "resume after the mask file changed is refused" "cell0.W_mask" train --quiet --resume --out "$T/chg"
npy_write "$T/rec.npy" '|b1' "$H, $H" "$(mask_bytes $H $H b1 0)"

# ------------------------------------------------------- refusals
# A bad mask is a usage error (exit 2): refused before --out is touched.
npy_write "$T/shape.npy" '<f4' "$H, 3" "$(mask_bytes $H 3 f4 0)"
expect_exit 2 "a mask of the wrong shape is refused naming file, shape and expected" \
    "--mask-in $T/shape.npy: the mask has shape ($H, 3), dtype <f4; expected shape ($H, 2)" \
    train "${BASE[@]}" --mask-in "$T/shape.npy" --out "$T/bad1"
npy_write "$T/vec.npy" '<f4' "$H," "$(mask_bytes 1 $H f4 0)"
expect_exit 2 "a 1-D mask is refused" "shape ($H)" train "${BASE[@]}" --mask-out "$T/vec.npy" --out "$T/bad2"
npy_write "$T/half.npy" '<f4' "1, $H" "$(mask_bytes 1 $((H - 1)) f4 0)\\x00\\x00\\x00\\x3f"
expect_exit 2 "a mask holding 0.5 is refused naming the value and place" "holds 0.5 at row 0, column $((H - 1))" \
    train "${BASE[@]}" --mask-out "$T/half.npy" --out "$T/bad3"
npy_write "$T/f2.npy" '<f2' "1, $H" "$(mask_bytes 1 $H b1 0)$(mask_bytes 1 $H b1 0)"
expect_exit 2 "a mask of an unsupported dtype is refused naming the file" "--mask-out $T/f2.npy: cannot read the mask" \
    train "${BASE[@]}" --mask-out "$T/f2.npy" --out "$T/bad4"
expect_exit 2 "a missing mask file is refused naming it" "--mask-rec $T/none.npy" \
    train "${BASE[@]}" --mask-rec "$T/none.npy" --out "$T/bad5"
left=""
for b in "$T/bad1" "$T/bad2" "$T/bad3" "$T/bad4" "$T/bad5"; do [ -e "$b" ] && left="$left $b"; done
if [ -z "$left" ]; then ok "a refused mask leaves no run directory"; else fail "a refused mask leaves no run directory" "$left"; fi
# with a dense layer the readout reads its width, not hidden
npy_write "$T/out5.npy" '<f4' "1, 5" "$(mask_bytes 1 5 f4 0)"
dale train "${BASE[@]}" --dense 5 --mask-out "$T/out5.npy" --max-updates 3 --out "$T/dense5"
if [ "$RC" -eq 0 ]; then ok "--mask-out of the last dense layer's width"; else fail "--mask-out with --dense 5" "exit $RC: $(err1)"; fi
expect_exit 2 "--mask-out of hidden's width with --dense 5 is refused" "expected shape (1, 5)" \
    train "${BASE[@]}" --dense 5 --mask-out "$T/out.npy" --out "$T/bad15"
expect_exit 2 "--sparsity 1 is refused" "--sparsity must lie in [0, 1)" train "${BASE[@]}" --sparsity 1 --out "$T/bad6"
expect_exit 2 "--sparsity -0.1 is refused" "--sparsity" train "${BASE[@]}" --sparsity -0.1 --out "$T/bad7"
expect_exit 2 "--optimizer adamw is refused" "--optimizer: expected sgd or adam (got 'adamw'" \
    train "${BASE[@]}" --optimizer adamw --out "$T/bad8"
expect_exit 2 "--beta1 1 is refused" "--beta1 must lie in [0, 1)" train "${BASE[@]}" --optimizer adam --beta1 1 --out "$T/bad9"
expect_exit 2 "--beta2 -0.5 is refused" "--beta2 must lie in [0, 1)" train "${BASE[@]}" --beta2 -0.5 --out "$T/bad10"
expect_exit 2 "--adam-eps 0 is refused" "--adam-eps must be > 0" train "${BASE[@]}" --adam-eps 0 --out "$T/bad11"
expect_exit 2 "--weight-l2 -1 is refused" "--weight-l2 must be >= 0" train "${BASE[@]}" --weight-l2 -1 --out "$T/bad12"
expect_exit 2 "--autapses maybe is refused" "--autapses" train "${BASE[@]}" --autapses maybe --out "$T/bad13"
expect_exit 2 "--transplant with a mask is refused" "--transplant" \
    train "${BASE[@]}" --transplant rnn-vectors+colei-values --sparsity 0.1 --out "$T/bad14"

dale train --help
for opt in "--mask-in" "--mask-rec" "--mask-out" "--sparsity" "--autapses" "--optimizer" "--beta1" "--beta2" \
    "--adam-eps" "--weight-l2"; do
    if grep -E -q -e "^  $opt .*\(default: " "$T/out"; then ok "dale train --help lists $opt with its default"
    else fail "dale train --help lists $opt with its default" "$(grep -e "$opt" "$T/out" | head -n 2)"; fi
done

# --------------------------------------------------- dale spectrum
# json_mean KEY FILE — "mean" of the object KEY in dale spectrum --json's summary
json_mean() { awk -v k="\"$1\":" '$1 == k { f = 1; next } f && $1 == "\"mean\":" { sub(/,$/, "", $2); print $2; exit }' "$2"; }
dale spectrum --model colei --hidden 60 --inits 3 --sparsity 0.5 --no-autapses --no-plot --json --out "$T/spec"
if [ "$RC" -eq 0 ]; then
    rho=$(json_mean rho "$T/out")
    if awk -v r="$rho" 'BEGIN { exit !(r > 1.4999 && r < 1.5001) }'; then ok "dale spectrum: masked ColEI W has rho 1.5 ($rho)"
    else fail "dale spectrum: masked ColEI W has rho 1.5" "rho_mean '$rho': $(head -c 300 "$T/out")"; fi
else
    fail "dale spectrum --sparsity" "exit $RC: $(err1)"
fi
dale spectrum --model rnn --hidden 60 --inits 2 --no-plot --json --out "$T/spec3"
cp "$T/out" "$T/out3"
dale spectrum --model rnn --hidden 60 --inits 2 --sparsity 0.9 --no-plot --json --out "$T/spec2"
s9=$(json_mean sigma_max "$T/out")
s0=$(json_mean sigma_max "$T/out3")
if [ -n "$s9" ] && [ -n "$s0" ] && awk -v a="$s9" -v b="$s0" 'BEGIN { exit !(a < 0.6 * b) }'; then
    ok "dale spectrum --sparsity 0.9: the masked RNN W is smaller (sigma_max $s9 against $s0)"
else
    fail "dale spectrum --sparsity 0.9 shrinks the RNN's W" "'$s9' against '$s0'"
fi

# --mask-rec: every draw is the masked effective W that training starts from
# diag_bytes N — float32 1 - I (no self-connections), the mask --no-autapses generates
diag_bytes() {
    local n=$1 i j out=""
    for ((i = 0; i < n; i++)); do
        for ((j = 0; j < n; j++)); do
            if [ "$i" -eq "$j" ]; then out="$out\x00\x00\x00\x00"; else out="$out\x00\x00\x80\x3f"; fi
        done
    done
    printf '%s' "$out"
}
npy_write "$T/nodiag.npy" '<f4' "$H, $H" "$(diag_bytes $H)"
for m in rnn dann "colei --zero-diag off"; do
    # shellcheck disable=SC2086
    dale spectrum --model $m --hidden $H --inits 4 --seed 3 --no-autapses --no-plot --out "$T/sa"
    # shellcheck disable=SC2086
    dale spectrum --model $m --hidden $H --inits 4 --seed 3 --mask-rec "$T/nodiag.npy" --no-plot --out "$T/sm"
    if [ "$RC" -ne 0 ]; then fail "dale spectrum --mask-rec ($m)" "exit $RC: $(err1)"; continue; fi
    if npz_same "$T/sa/spectrum.npz" "$T/sm/spectrum.npz"; then
        ok "dale spectrum --model $m: --mask-rec of 1 - I gives the spectra of --no-autapses"
    else fail "dale spectrum --model $m: --mask-rec of 1 - I gives the spectra of --no-autapses" "$NPZ_HOW"; fi
done
# the same NSE as training's metrics.csv at update 0 with that mask (and a generated one on top)
for m in rnn colei dann; do
    dale train "${BASE[@]}" --model $m --mask-rec "$T/rec.npy" --sparsity 0.2 --seed 5 --max-updates 0 --out "$T/m0-$m"
    if [ "$RC" -ne 0 ]; then fail "train --max-updates 0 with --mask-rec ($m)" "exit $RC: $(err1)"; continue; fi
    want=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "nse_cell0") c = i } NR == 2 { print $c }' \
        "$T/m0-$m/metrics.csv")
    dale spectrum --model $m --hidden $H --inits 1 --seed 5 --mask-rec "$T/rec.npy" --sparsity 0.2 --no-plot --json \
        --out "$T/s0-$m"
    got=$(json_mean nse "$T/out")
    if [ -n "$want" ] && [ -n "$got" ] && awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 1e-6 && d > -1e-6) }'
    then ok "dale spectrum --mask-rec ($m): the NSE of the W training starts from ($got)"
    else fail "dale spectrum --mask-rec ($m): the NSE of the W training starts from" "spectrum '$got', metrics.csv '$want'"; fi
    json_expect "summary.json records the mask file ($m)" "$T/s0-$m/summary.json" mask_rec "$T/rec.npy"
done
dale spectrum --model colei --hidden $H --inits 2 --mask-rec "$T/rec.npy" --zero-diag off --no-plot --json --out "$T/sc"
rho=$(json_mean rho "$T/out")
if awk -v r="$rho" 'BEGIN { exit !(r > 1.4999 && r < 1.5001) }'; then ok "dale spectrum --mask-rec: ColEI rescaled after masking (rho $rho)"
else fail "dale spectrum --mask-rec: ColEI rescaled after masking" "rho '$rho'"; fi
expect_exit 2 "dale spectrum: a --mask-rec of the wrong shape refused" "--mask-rec $T/in.npy: the mask has shape ($H, 2)" \
    spectrum --model rnn --hidden $H --inits 2 --mask-rec "$T/in.npy" --no-plot --out "$T/sx"
expect_exit 2 "dale spectrum: a --mask-rec with --table refused" "--mask-rec does not combine with --table" \
    spectrum --table nse --mask-rec "$T/rec.npy" --out "$T/sx"
expect_exit 2 "dale spectrum: a missing --mask-rec file refused" "--mask-rec $T/none.npy" \
    spectrum --model rnn --hidden $H --mask-rec "$T/none.npy" --no-plot --out "$T/sx"
dale spectrum --model rnn --hidden $H --inits 2 --no-plot --out "$T/spec4"
dale spectrum --model rnn --hidden $H --inits 2 --mask-in "$T/in.npy" --mask-out "$T/out.npy" --no-plot --out "$T/sio"
if [ "$RC" -ne 0 ]; then fail "dale spectrum accepts --mask-in and --mask-out" "exit $RC: $(err1)"
elif npz_same "$T/sio/spectrum.npz" "$T/spec4/spectrum.npz"; then
    ok "dale spectrum accepts --mask-in and --mask-out (they do not enter W)"
else fail "dale spectrum --mask-in and --mask-out change nothing" "$NPZ_HOW"; fi

lib_finish
