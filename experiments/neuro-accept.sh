#!/usr/bin/env bash
# neuro-accept.sh [DALE] [OUT] [SCALE] — the measurements of docs/neuro.md,
# "Measured: leaky E/I networks with Adam": runs experiments/neuro-tasks.json
# (pdm, cdm, dms x rnn, colei, dann x 5 seeds) and neuro-inhib.json (leaky
# ColEI on pdm at 1, 10 and 50 % inhibitory units x 5 seeds), records 1000
# test trials of every run (dale eval --trials), draws the psychometric
# curves and prints the tables (tools/neuro_summary.py, NumPy).  SCALE paper
# (default) is the protocol, about 35 min on 2 cores; quick tests the pipeline;
# weight1 and dms are neuro-tasks' controls (neuro-inhib is skipped for a
# scale it does not have).  JOBS (default 2) runs at a time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dale=${1:-$here/build/dale}
out=${2:-sweeps}
scale=${3:-paper}
export DALE_EXPERIMENTS="$here/experiments"
py=python3
"$py" -c 'import numpy' 2>/dev/null || py=/usr/bin/python3
jobs=${JOBS:-2}
done_dirs=()
for x in neuro-tasks neuro-inhib; do
  grep -q "\"$scale\": *{" "$here/experiments/$x.json" || continue
  done_dirs+=("$out/$x-$scale")
  "$dale" reproduce "$x" --scale "$scale" --jobs "$jobs" --out "$out/$x-$scale"
  for run in "$out/$x-$scale"/runs/*/; do
    run=${run%/}
    [ -f "$run/final.npz" ] || continue
    "$dale" eval "$run" --trials 1000 --out "$run/trials.npz" > "$run/trials.txt"
    case $(sed -n 's/^[[:space:]]*"task":[[:space:]]*"\([a-z]*\)".*/\1/p' "$run/config.json") in
      pdm|cdm) "$dale" psychometric "$run" > "$run/psychometric.txt" 2>&1 ||
                 echo "$run: no psychometric curve ($(tail -n 1 "$run/psychometric.txt"))" ;;
    esac
  done
done
"$py" "$here/tools/neuro_summary.py" "${done_dirs[@]}"
