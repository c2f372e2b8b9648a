# shellcheck shell=bash
# data.sh — small deterministic data sets for the shell tests (sourced after
# lib.sh).  make_test_data DIR writes, without network or Python:
#   DIR/mnist    MNIST-shaped IDX files (300 train / 60 test images of 28 x 28
#                from an awk generator, labels 0..9)
#   DIR/lm       a PTB-format corpus of 30 words over 300 lines and 6-d vectors
#                (DIR/lm/vec.txt)
#   DIR/objrec   a 3-category objrec set (24 / 6 / 6 images) rendered from
#                test_objrec's fixtures (reports ok/fail "objrec fixture data set")
make_test_data() {
    local D=$1
    export LC_ALL=C
    mkdir -p "$D/mnist" "$D/lm"
    be32() { awk -v v="$1" 'BEGIN { printf "%c%c%c%c", int(v / 16777216) % 256, int(v / 65536) % 256, int(v / 256) % 256, v % 256 }'; }
    images() { # N FILE SEED
        { printf '\0\0\010\003'; be32 "$1"; be32 28; be32 28
          awk -v n="$1" -v s="$3" 'BEGIN { for (i = 0; i < n * 784; i++) { s = (s * 1103515245 + 12345) % 2147483648;
              v = int(s / 65536) % 256; if (v < 160) v = 0; printf "%c", v } }'; } > "$2"
    }
    labels() { # N FILE SEED
        { printf '\0\0\010\001'; be32 "$1"
          awk -v n="$1" -v s="$3" 'BEGIN { for (i = 0; i < n; i++) { s = (s * 69069 + 1) % 4294967296;
              printf "%c", int(s / 65536) % 10 } }'; } > "$2"
    }
    images 300 "$D/mnist/train-images-idx3-ubyte" 11; labels 300 "$D/mnist/train-labels-idx1-ubyte" 12
    images 60 "$D/mnist/t10k-images-idx3-ubyte" 13; labels 60 "$D/mnist/t10k-labels-idx1-ubyte" 14

    awk 'BEGIN { s = 7; for (i = 0; i < 300; i++) { n = 3 + (i % 9); line = "";
           for (k = 0; k < n; k++) { s = (s * 1103515245 + 12345) % 2147483648; w = int(s / 65536) % 30;
             line = line " w" w } print line } }' > "$D/lm/ptb.train.txt"
    head -n 40 "$D/lm/ptb.train.txt" | tac > "$D/lm/ptb.valid.txt"
    sed -n '100,140p' "$D/lm/ptb.train.txt" > "$D/lm/ptb.test.txt"
    awk 'BEGIN { for (w = 0; w < 28; w++) { printf "w%d", w; for (k = 0; k < 6; k++) printf " %.3f", sin(w * 7 + k) / 2;
           printf "\n" } }' > "$D/lm/vec.txt"

    local FIX
    FIX=$(dirname "$DALE")/tests/test_objrec
    if [ -x "$FIX" ] && "$FIX" --fixtures "$T/src" >/dev/null &&
       "$DALE" data make-objrec --objects "$T/src/objects" --backgrounds "$T/src/backgrounds" --categories 3 \
           --per-category 2 --train 24 --val 6 --test 6 --seed 3 --out "$D/objrec" --quiet >/dev/null 2>&1; then
        ok "objrec fixture data set"
    else
        fail "objrec fixture data set" "could not build it with $FIX"
    fi
}
