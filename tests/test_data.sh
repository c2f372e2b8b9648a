#!/usr/bin/env bash
# test_data.sh BUILD — `dale data` (verify, get through a local HTTP server:
# good files, wrong checksum, truncated transfer, truncated gzip, 404),
# `dale eval` on tiny runs over synthetic IDX data, and `dale train --task
# seqmnist` without data.  Needs no network: the server runs on 127.0.0.1.
set -u
build=${1:-build}
dale=$build/dale
T=$(mktemp -d /tmp/dale-test-data-XXXXXX)
srv_pid=
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok $*"; }
bad() { fail=$((fail+1)); echo "FAIL $*"; }
# expect RC DESCRIPTION CMD... : run, capture output in $T/out, check the exit code
expect() {
  local want=$1 what=$2; shift 2
  "$@" >"$T/out" 2>&1; local rc=$?
  if [ "$rc" = "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, want $want"; sed 's/^/    /' "$T/out"; fi
}
has() { if grep -q -- "$1" "$T/out"; then ok "$2"; else bad "$2: output lacks '$1'"; sed 's/^/    /' "$T/out"; fi; }

# ---- synthetic MNIST-shaped data: 200 train / 50 test images, labels i % 10
byte() { printf "\\$(printf %03o "$1")"; }
be32() { byte $(($1 >> 24 & 255)); byte $(($1 >> 16 & 255)); byte $(($1 >> 8 & 255)); byte $(($1 & 255)); }
images() { { printf '\0\0\010\003'; be32 "$1"; be32 28; be32 28; head -c $(($1 * 784)) /dev/urandom; } > "$2"; }
labels() { { printf '\0\0\010\001'; be32 "$1"; for ((i = 0; i < $1; i++)); do byte $((i % 10)); done; } > "$2"; }
syn=$T/data/mnist
mkdir -p "$syn"
images 200 "$syn/train-images-idx3-ubyte"; labels 200 "$syn/train-labels-idx1-ubyte"
images 50 "$syn/t10k-images-idx3-ubyte"; labels 50 "$syn/t10k-labels-idx1-ubyte"
(cd "$syn" && sha256sum train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte) > "$T/manifest"

# ---- usage
expect 0 "data --help" "$dale" data --help
has "--mirror URL" "help lists --mirror"; has "default: auto" "help gives defaults"
expect 2 "data without subcommand" "$dale" data
expect 2 "data get without a name" "$dale" data get
expect 2 "data get of an unknown set" "$dale" data get cifar
expect 2 "unknown data subcommand" "$dale" data frob
expect 2 "data get --source bogus" "$dale" data get mnist --source bogus --data "$T/x"
expect 0 "data list" "$dale" data list --data "$T/data"
has "mnist *present" "list sees the synthetic set"

# ---- verify: our SHA-256 equals sha256sum's, for plain and gzip files
f=$syn/train-labels-idx1-ubyte
want=$(sha256sum "$f" | cut -c1-64)
expect 1 "verify of an unknown file" "$dale" data verify "$f"
has "$want" "verify prints sha256sum's hash (plain)"; has "matches no known data file" "unknown file named"
gzip -c "$f" > "$T/labels.gz"
expect 1 "verify of an unknown .gz file" "$dale" data verify "$T/labels.gz"
has "$want" "verify hashes the uncompressed bytes of a .gz"
big=$syn/train-images-idx3-ubyte
expect 1 "verify of the image file" "$dale" data verify "$big"
has "$(sha256sum "$big" | cut -c1-64)" "sha256 of a 156 kB file equals sha256sum's"
expect 1 "verify mnist with synthetic files" "$dale" data verify mnist --data "$T/data"
has "checksum mismatch" "mismatch reported"; has "hint: run \`dale data get mnist" "verify hints at get"
expect 1 "verify with no data" "$dale" data verify --data "$T/nothing"
has "no data sets" "empty data dir reported"
expect 1 "verify of a missing file" "$dale" data verify "$T/nope"
has "$T/nope" "missing file named"

# ---- get through a local HTTP server
cc -std=c11 -O1 -o "$T/http_server" "$(dirname "$0")/http_server.c" || { bad "build http_server"; exit 1; }
www=$T/www
mkdir -p "$www/good" "$www/bad" "$www/cut" "$www/empty"
for n in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  gzip -c "$syn/$n" > "$www/good/$n.gz"
  cp "$www/good/$n.gz" "$www/bad/$n.gz"
  head -c $(($(stat -c %s "$www/good/$n.gz") / 2)) "$www/good/$n.gz" > "$www/cut/$n.gz"
done
{ head -c 8 "$syn/t10k-labels-idx1-ubyte"; head -c 50 /dev/zero; } | gzip -c > "$www/bad/t10k-labels-idx1-ubyte.gz"
"$T/http_server" "$www" "$T/port" & srv_pid=$!
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port")
url=http://127.0.0.1:$port
get() { "$dale" data get mnist --source url --manifest "$T/manifest" --connect-timeout 5 "$@"; }
leftovers() { find "$1" -name '.*' -type f | grep -q . && echo yes || echo no; }

expect 0 "get from a mirror" get --data "$T/d1" --mirror "$url/good/"
for n in train-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if cmp -s "$T/d1/mnist/$n.gz" "$www/good/$n.gz"; then ok "$n.gz in place"; else bad "$n.gz not in place"; fi
done
[ "$(leftovers "$T/d1")" = no ] && ok "no temporary files left" || bad "temporary files left in $T/d1"
expect 0 "second get: nothing to do" get --data "$T/d1" --mirror "$url/good/"
has "already in place and verified" "second get says so"
# the mirror may also come from the environment
expect 0 "get with DALE_MNIST_MIRROR" env DALE_MNIST_MIRROR="$url/good" "$dale" data get mnist --source url \
  --manifest "$T/manifest" --data "$T/d2"
# a damaged local file is replaced
printf 'junk' > "$T/d2/mnist/train-labels-idx1-ubyte.gz"
expect 0 "get repairs a damaged file" get --data "$T/d2" --mirror "$url/good/"
cmp -s "$T/d2/mnist/train-labels-idx1-ubyte.gz" "$www/good/train-labels-idx1-ubyte.gz" && ok "damaged file replaced" || bad "damaged file not replaced"

expect 1 "get with a wrong checksum" get --data "$T/d3" --mirror "$url/bad/"
has "checksum mismatch" "mismatch named"; has "t10k-labels-idx1-ubyte" "bad file named"
[ ! -e "$T/d3/mnist/t10k-labels-idx1-ubyte.gz" ] && ok "bad file not installed" || bad "bad file installed"
[ -e "$T/d3/mnist/train-images-idx3-ubyte.gz" ] && ok "good files of that mirror installed" || bad "good files missing"
[ "$(leftovers "$T/d3")" = no ] && ok "no partial files after a mismatch" || bad "partial files left in $T/d3"

expect 1 "get with transfers cut short" get --data "$T/d4" --mirror "$url/short/good/"
has "truncated" "cut transfer reported"; has "curl exit 18" "curl's code given"
[ -z "$(ls -A "$T/d4/mnist")" ] && ok "nothing left after cut transfers" || { bad "files left:"; ls -la "$T/d4/mnist"; }

expect 1 "get of truncated gzip files" get --data "$T/d5" --mirror "$url/cut/"
has "truncated gzip" "truncated gzip reported"
[ -z "$(ls -A "$T/d5/mnist")" ] && ok "nothing left after truncated gzips" || { bad "files left:"; ls -la "$T/d5/mnist"; }

expect 1 "get from a 404 mirror" get --data "$T/d6" --mirror "$url/empty/"
has "404" "404 reported"; has "HTTP error" "HTTP error named"
[ -z "$(ls -A "$T/d6/mnist")" ] && ok "nothing left after 404" || bad "files left after 404"

expect 1 "get from a closed port" get --data "$T/d7" --mirror "http://127.0.0.1:1/"
has "cannot connect" "connection failure reported"
mkdir -p "$T/ro" && touch "$T/ro/mnist"
expect 1 "get into a path that is a file" get --data "$T/ro" --mirror "$url/good/"
has "$T/ro/mnist" "blocked directory named"

# ---- training without data: exit 1 with the hint
expect 1 "train seqmnist without data" "$dale" train --task seqmnist --data "$T/none" --out "$T/r0" --quiet
has "train-images-idx3-ubyte: missing" "missing file named"; has "hint: run \`dale data get mnist --data $T/none\`" "hint given"
expect 1 "train fashion-mnist without data" "$dale" train --task seqmnist --dataset fashion-mnist --data "$T/none" --out "$T/r0" --quiet
has "dale data get fashion-mnist" "fashion hint"
mkdir -p "$T/bad/mnist" && cp "$syn"/* "$T/bad/mnist/" && head -c 1000 "$syn/train-images-idx3-ubyte" > "$T/bad/mnist/train-images-idx3-ubyte"
expect 1 "train on a truncated file" "$dale" train --task seqmnist --data "$T/bad" --out "$T/r0" --quiet
has "truncated" "truncation reported"

# ---- train on the synthetic set (the gzipped copy), then dale eval
train() { "$dale" train --task seqmnist --hidden 8 --batch 16 --max-updates 25 --eval-every 10 --eval-batch 16 --quiet "$@"; }
field() { sed -n "s/.*\"$1\": \\([^,}]*\\).*/\\1/p" "$2" | head -n 1; }
for m in rnn colei dann; do
  expect 0 "train $m on synthetic seqmnist" train --model $m --data "$T/d1" --layers 2 --out "$T/run-$m"
  expect 0 "eval $m" "$dale" eval "$T/run-$m" --json
  for k in loss error; do
    r=$(field "test_${k/error/err}" "$T/run-$m/result.json"); e=$(field "$k" "$T/out")
    [ -n "$r" ] && [ "$r" = "$e" ] && ok "$m: eval $k $e = result.json" || bad "$m: eval $k '$e' vs result.json '$r'"
  done
done
expect 0 "eval text output" "$dale" eval "$T/run-dann"
has "test split, 50 samples" "text output"
expect 0 "eval the checkpoint" "$dale" eval "$T/run-dann" --checkpoint checkpoint --json
e1=$(field loss "$T/out"); "$dale" eval "$T/run-dann" --json > "$T/out2"
[ "$e1" = "$(field loss "$T/out2")" ] && ok "checkpoint at the end = final" || bad "checkpoint $e1 vs final"
expect 0 "eval on the training split" "$dale" eval "$T/run-dann" --split train --json
has '"samples": 200' "train split size"
expect 1 "eval val on a reference-split run" "$dale" eval "$T/run-dann" --split val
has "no val split" "missing split explained"
expect 0 "train with the paper split" train --model rnn --data "$T/data" --split paper --variant pixel --out "$T/run-paper"
expect 0 "eval val" "$dale" eval "$T/run-paper" --split val --json
has '"samples": 33' "validation holds 200/6 images"
[ "$(field val_loss "$T/run-paper/result.json")" = "$(field loss "$T/out")" ] && ok "val loss = result.json" || bad "val loss differs"
expect 1 "eval with the data gone" "$dale" eval "$T/run-paper" --data "$T/none"
has "dale data get mnist" "eval hints at data get"
expect 1 "eval of a missing run" "$dale" eval "$T/nope"
has "hint: is $T/nope a run directory" "missing run hint"
expect 2 "eval without a run" "$dale" eval
expect 2 "eval --split bogus" "$dale" eval "$T/run-rnn" --split bogus
expect 2 "eval --checkpoint bogus" "$dale" eval "$T/run-rnn" --checkpoint bogus
expect 0 "eval --help" "$dale" eval --help
has "default: final" "eval help gives defaults"

echo "test_data.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
