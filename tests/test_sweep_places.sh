#!/usr/bin/env bash
# test_sweep_places.sh BUILD_DIR — a finished sweep run stays finished when
# the same data directory is spelled another way: the lm task's default
# corpus and vectors resolve under --data ($DALE_DATA), so one sweep records
# "d/kjv" and the next "/abs/d/kjv" under the same run id; that is the same
# run (not moved aside as .stale-N and re-run).  A different directory with
# the same files is still another run.
set -u
. "$(dirname "$0")/lib.sh"
lib_init "${1:-}"
cd "$T" || exit 1

# a tiny PTB-format corpus as DATA/kjv and its vectors as DATA/glove100
mkdir -p d/kjv d/glove100
awk 'BEGIN { s = 7; for (i = 0; i < 120; i++) { n = 3 + (i % 9); line = "";
       for (k = 0; k < n; k++) { s = (s * 1103515245 + 12345) % 2147483648; w = int(s / 65536) % 30;
         line = line " w" w } print line } }' > d/kjv/ptb.train.txt
head -n 30 d/kjv/ptb.train.txt | tac > d/kjv/ptb.valid.txt
sed -n '60,90p' d/kjv/ptb.train.txt > d/kjv/ptb.test.txt
awk 'BEGIN { for (w = 0; w < 28; w++) { printf "w%d", w; for (k = 0; k < 6; k++) printf " %.3f", sin(w * 7 + k) / 2;
       printf "\n" } }' > d/glove100/vectors.txt
cat >lm.json <<'J'
{"name": "places", "base": {"task": "lm", "model": "rnn", "layers": 1, "hidden": 8, "dense": "", "batch": 4,
  "window": 6, "max_updates": 3, "eval_every": 3}, "axes": {"seed": [0]}}
J
ids() { DALE_DATA=$1 "$DALE" sweep lm.json --out s --dry-run 2>/dev/null | awk 'NR > 1 && length($1) == 16 {print $1}'; }
a=$(ids d)
[ -n "$a" ] && [ "$a" = "$(ids "$T/d")" ] && ok "one run id under d and $T/d ($a)" || fail "ids" "'$a' vs '$(ids "$T/d")'"

DALE_DATA=d dale sweep lm.json --out s --jobs 1 --quiet
[ "$RC" -eq 0 ] && [ -s "s/runs/$a/result.json" ] && grep -q '"corpus":[[:space:]]*"d/kjv"' "s/runs/$a/config.json" \
    && ok "the run finished with corpus d/kjv" || fail "first sweep" "rc $RC $(err1)"
sum=$(cksum <"s/runs/$a/metrics.csv")

again() { # again WHAT DATA: the sweep under DATA finds the run finished
    DALE_DATA=$2 dale sweep lm.json --out s --jobs 1
    if [ "$RC" -eq 0 ] && grep -q '1 finished' "$T/err" && ! grep -q 'holds another run' "$T/err" \
        && [ -z "$(ls s/runs | grep stale)" ] && [ "$(cksum <"s/runs/$a/metrics.csv")" = "$sum" ]; then ok "$1: finished, not re-run"
    else fail "$1" "rc $RC: $(grep -m2 -E 'finished|another' "$T/err" | tr '\n' '|') $(ls s/runs | tr '\n' ' ')"; fi
}
again "absolute spelling $T/d" "$T/d"
again "d/./ spelling" "d/."
ln -s d dlink
again "a symlink to d" dlink

# another directory with the same files is another corpus: moved aside
cp -r d e
DALE_DATA=e dale sweep lm.json --out s --jobs 1
[ "$RC" -eq 0 ] && grep -q 'holds another run (corpus is "d/kjv" there, "e/kjv" here' "$T/err" && [ -d "s/runs/$a.stale-1" ] \
    && ok "a copy of the corpus elsewhere is another run (moved aside)" || fail "copy" "rc $RC: $(grep -m1 another "$T/err")"

lib_finish
