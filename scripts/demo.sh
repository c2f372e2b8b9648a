#!/usr/bin/env bash
# demo.sh DALE — the main job: the adding problem with the reference protocol
# (paper Fig. 2A; docs/reference-behaviour.md): 1 x 10 hidden, batch 64, 100
# epochs, lr 0.1 decayed 0.99 every 20 batches; ColEI clip 7 per tensor, DANN
# clip 3 per layer, RNN no clip,
# for the three model types, then their final test MSE side by side; then
# real MNIST (dale data get mnist) and a short sequential-MNIST run of each.
set -euo pipefail
dale=${1:-build/dale}
out=${DALE_DEMO_OUT:-runs/demo}
# train DIR ARGS...: a run the demo made before is kept and continued (a
# finished one has nothing left to do), never overwritten; anything else in
# the way is moved aside by --force (DIR.old-N), not deleted.
train() {
  local dir=$1; shift
  if [ -f "$dir/config.json" ] && [ -f "$dir/checkpoint.npz" ] &&
     "$dale" train --resume --out "$dir" --quiet 2>/dev/null; then
    return 0
  fi
  "$dale" train "$@" --out "$dir" --quiet --force
}
echo "dale demo: adding problem (T = 20), 1 x 10 hidden, 100 epochs, seed 0"
for m in rnn colei dann; do
  train "$out/adding-$m" --task adding --model "$m" --seed 0
done
printf '\n%-8s %-14s %-10s %s\n' model "test MSE" updates "run directory"
for m in rnn colei dann; do
  r="$out/adding-$m/result.json"
  mse=$(sed -n 's/.*"test_loss": \([^,]*\),.*/\1/p' "$r")
  upd=$(sed -n 's/.*"updates": \([^,]*\),.*/\1/p' "$r")
  printf '%-8s %-14s %-10s %s\n' "$m" "$mse" "$upd" "$out/adding-$m"
done
echo
echo "A network that predicts the mean scores about 0.167 (the target's variance)."
echo "Curves: metrics.csv in each run directory; weights: final.npz (numpy.load)."

# Sequential MNIST (paper Sec. 6.2.2) on the real data: a short run of each model,
# 1 x 100 hidden, the Fig. 2B settings (lr 0.01, batch 32, ColEI clip 10 per
# tensor, DANN and RNN no clip) but only DALE_DEMO_MNIST_UPDATES updates
# (default 3750, two epochs), evaluated once on the 10000 test images.
data=${DALE_DATA:-data}
upd=${DALE_DEMO_MNIST_UPDATES:-3750}
echo
echo "dale demo: sequential MNIST (28 steps x 28 pixels), 1 x 100 hidden, $upd updates, seed 0"
if ! "$dale" data get mnist --data "$data" --connect-timeout 5 2>"$out/data-get.log"; then
  cat "$out/data-get.log" >&2
  echo "dale demo: could not get MNIST (see above); the seqMNIST part needs it" >&2
  exit 1
fi
for m in rnn colei dann; do
  train "$out/seqmnist-$m" --task seqmnist --data "$data" --model "$m" --layers 1 --hidden 100 --seed 0 \
    --max-updates "$upd" --eval-every "$upd"
done
printf '\n%-8s %-14s %-10s %s\n' model "test error %" updates "run directory"
for m in rnn colei dann; do
  r="$out/seqmnist-$m/result.json"
  err=$(sed -n 's/.*"test_err": \([^,]*\),.*/\1/p' "$r")
  upd_done=$(sed -n 's/.*"updates": \([^,]*\),.*/\1/p' "$r")
  printf '%-8s %-14s %-10s %s\n' "$m" "$err" "$upd_done" "$out/seqmnist-$m"
done
echo
echo "Chance is 90 % error.  The full Fig. 2B protocol (3 x 100, 30 epochs) reaches about"
echo "1.5-2 % for RNN and DANN and is worse for ColEI; see docs/reproduction.md."
echo "Evaluate a saved run again with: $dale eval $out/seqmnist-dann"
