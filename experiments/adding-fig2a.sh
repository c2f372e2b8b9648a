#!/usr/bin/env bash
# adding-fig2a.sh [DALE] [OUT] — paper Fig. 2A with the reference protocol
# (docs/reference-behaviour.md), seeds 0-4, the three model types, two runs
# at a time; prints
# mean ± sd (ddof 1) of the final test MSE per model.  About 30 s on 2 cores.
set -euo pipefail
dale=${1:-build/dale}
out=${2:-runs/adding-fig2a}
for m in rnn colei dann; do
  for s in 0 1 2 3 4; do
    echo "$m $s"
  done
done | xargs -P 2 -n 2 sh -c "\"$dale\" train --task adding --model \$0 --seed \$1 --out \"$out/\$0-seed\$1\" --quiet"
printf '%-6s %-22s %s\n' model "test MSE mean ± sd" "per seed"
for m in rnn colei dann; do
  vals=$(for s in 0 1 2 3 4; do sed -n 's/.*"test_loss": \([^,]*\),.*/\1/p' "$out/$m-seed$s/result.json"; done)
  echo "$vals" | awk -v m="$m" '{x[NR]=$1; s+=$1} END {mu=s/NR; for(i=1;i<=NR;i++) v+=(x[i]-mu)^2; sd=sqrt(v/(NR-1));
    printf "%-6s %.5f ± %.5f       ", m, mu, sd; for(i=1;i<=NR;i++) printf "%.5f ", x[i]; printf "\n"}'
done
