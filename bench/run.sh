#!/usr/bin/env bash
# bench/run.sh BUILD — `make bench`: dale vs PyTorch on the same training step,
# in one run, with 1 and then 2 threads; prints a table with the ratios and
# writes it to BUILD/bench/results.md (copy the figures to docs/performance.md).
#
# PyTorch comes from Debian's python3-torch for /usr/bin/python3; it is
# installed here if missing, and the comparison is skipped with a message
# where that is impossible.  No test asserts any of these times.
set -uo pipefail
build=${1:-build}
out="$build/bench"
mkdir -p "$out"
H=${DALE_BENCH_H:-"100 300 1000"}
cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Iinclude bench/bench_step.c "$build/libdale.a" \
   -L/usr/lib/x86_64-linux-gnu/openblas-pthread -lopenblas -llapacke -lzip -lz -lcjson -lm -lpthread \
   -o "$out/bench_step" || exit 1

py=/usr/bin/python3
have_torch=0
if ! "$py" -c "import torch" 2>/dev/null; then
  echo "bench: installing python3-torch for the PyTorch side"
  (export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq python3-torch >/dev/null 2>&1) || true
fi
"$py" -c "import torch" 2>/dev/null && have_torch=1
[ $have_torch = 1 ] || echo "bench: PyTorch not available for $py; dale is timed alone (no ratios)"

csv="$out/results.csv"
: > "$csv"
for th in 1 2; do
  # OPENBLAS_NUM_THREADS fixes OpenBLAS's pool size at load time (no idle
  # spinning workers); torch gets the same count through set_num_threads.
  OPENBLAS_NUM_THREADS=$th "$out/bench_step" "$th" $H | tail -n +2 >> "$csv"
  if [ $have_torch = 1 ]; then
    OPENBLAS_NUM_THREADS=$th OMP_NUM_THREADS=$th "$py" bench/torch_step.py "$th" $H >> "$csv"
  fi
done

{
  echo "# make bench — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
       "$(free -g | awk '/Mem:/{print $2}') GiB; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
  echo
  echo "Training step: B 32, T 28, d 28, one ReLU layer of H, readout 10, CE at the last step, SGD + clip 10."
  echo "steps/s (median of 7 repeats); GFLOP/s counts 6TBH^2 + 4TBdH + 6BHm per step."
  echo
  echo "| threads | H | model | dale steps/s | dale GFLOP/s | sgemm roofline GFLOP/s | dale/roofline | torch steps/s | dale/torch |"
  echo "|---|---|---|---|---|---|---|---|---|"
  awk -F, '
    $1=="sgemm" {roof[$4","$3]=$7}
    $1=="dale"  {d[$4","$3","$2]=$6; g[$4","$3","$2]=$7; keys[++n]=$4","$3","$2}
    $1=="torch" {t[$4","$3","$2]=$6}
    END {
      for (i=1;i<=n;i++) { k=keys[i]; split(k,a,",");
        r=roof[a[1]","a[2]];
        tt = (k in t) ? sprintf("%.1f", t[k]) : "-";
        rat = (k in t) ? sprintf("%.2fx", d[k]/t[k]) : "-";
        printf "| %s | %s | %s | %.1f | %.1f | %.1f | %.0f%% | %s | %s |\n", a[1], a[2], a[3], d[k], g[k], r, 100*g[k]/r, tt, rat }
    }' "$csv"
} > "$out/results.md"
cat "$out/results.md"
echo
echo "bench: raw numbers in $csv; table in $out/results.md"
