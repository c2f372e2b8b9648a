#!/usr/bin/env bash
# bench/run.sh BUILD — `make bench`: dale vs PyTorch on the same training step
# (1 and 2 threads), BLAS and kernel choices, spectral workloads vs NumPy,
# sweep throughput (1 vs 2 processes) and peak memory of training runs.
# Prints everything and writes BUILD/bench/results.md (copy the figures to
# docs/performance.md).  No test asserts any of these times.
#
# PyTorch comes from Debian's python3-torch for /usr/bin/python3; it is
# installed here if missing, and the comparison is skipped with a message
# where that is impossible.  NumPy likewise (python3-numpy).
#
# Shared machines: every 1-thread row also reports median process CPU time,
# which excludes time spent waiting for a core; ratios of 1-thread rows use
# CPU time, ratios of 2-thread rows wall time.  `uptime` is recorded before
# and after each part.
#
# Knobs (environment): DALE_BENCH_H ("100 300 1000"), DALE_BENCH_SEEDS (Table 3
# seeds, default 5; docs/spectral.md uses 20), DALE_BENCH_SWEEP_N (runs per
# sweep, default 4), DALE_BENCH_SWEEP_UPDATES (updates per run, default 2000),
# DALE_BENCH_PARTS ("step kernels spectral sweep memory").
set -uo pipefail
build=${1:-build}
out="$build/bench"
mkdir -p "$out"
H=${DALE_BENCH_H:-"100 300 1000"}
SEEDS=${DALE_BENCH_SEEDS:-5}
SWEEP_N=${DALE_BENCH_SWEEP_N:-4}
SWEEP_U=${DALE_BENCH_SWEEP_UPDATES:-2000}
PARTS=${DALE_BENCH_PARTS:-"step kernels spectral sweep memory"}
dale="$build/dale"
LIBS="-L/usr/lib/x86_64-linux-gnu/openblas-pthread -lopenblas -llapacke -lzip -lz -lcjson -lm -lpthread"
for b in bench_step bench_svals; do
  cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Iinclude bench/$b.c "$build/libdale.a" $LIBS \
     -o "$out/$b" || exit 1
done
has() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }
load() { uptime | sed 's/.*load average: /load /'; }

py=/usr/bin/python3
have_torch=0 have_numpy=0
if has step && ! "$py" -c "import torch" 2>/dev/null; then
  echo "bench: installing python3-torch for the PyTorch side"
  (export DEBIAN_FRONTEND=noninteractive; apt-get install -y -qq python3-torch >/dev/null 2>&1) || true
fi
"$py" -c "import torch" 2>/dev/null && have_torch=1
"$py" -c "import numpy" 2>/dev/null && have_numpy=1
[ $have_torch = 1 ] || echo "bench: PyTorch not available for $py; dale is timed alone (no ratios)"

md="$out/results.md"
{
  echo "# make bench — $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"\
       "$(free -g | awk '/Mem:/{print $2}') GiB; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset};"\
       "dale per-step kernel: ${DALE_SMM:-auto}; $(load) at start"
} > "$md"

# ---------------------------------------------------------------- step
csv="$out/results.csv"
if has step; then
  : > "$csv"
  echo "bench: training step ($(load))"
  for th in 1 2; do
    # OPENBLAS_NUM_THREADS fixes OpenBLAS's pool size at load time; torch
    # gets the same count through set_num_threads.
    OPENBLAS_NUM_THREADS=$th "$out/bench_step" "$th" $H | tail -n +2 >> "$csv"
    if [ $have_torch = 1 ]; then
      OPENBLAS_NUM_THREADS=$th OMP_NUM_THREADS=$th "$py" bench/torch_step.py "$th" $H >> "$csv"
    fi
  done
  {
    echo
    echo "## Training step"
    echo
    echo "B 32, T 28, d 28, one ReLU layer of H, readout 10, CE at the last step, SGD + clip 10."
    echo "Median of 7 repeats.  GFLOP/s counts 6TBH^2 + 4TBdH + 6BHm per step.  \"cpu\" columns:"
    echo "steps per CPU-second (1 thread only; immune to waiting for a core).  The dale/torch ratio"
    echo "and dale/roofline use CPU time for 1 thread and wall time for 2 threads.  $(load) after."
    echo
    echo "| threads | H | model | dale steps/s | dale cpu steps/s | dale GFLOP/s | sgemm roofline GFLOP/s | dale/roofline | torch steps/s | torch cpu steps/s | dale/torch |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F, '
      $1=="sgemm" {roof[$4","$3]=$5; roofc[$4","$3]=$8}
      $1=="dale"  {d[$4","$3","$2]=$5; dc[$4","$3","$2]=$8; keys[++n]=$4","$3","$2}
      $1=="torch" {t[$4","$3","$2]=$5; tc[$4","$3","$2]=$8}
      END {
        for (i=1;i<=n;i++) { k=keys[i]; split(k,a,",");
          rk=a[1]","a[2]; one = a[1]==1;
          ds = one ? dc[k] : d[k]; rs = one ? roofc[rk] : roof[rk];
          cpu = one ? sprintf("%.1f", 1/dc[k]) : "-";
          tt = (k in t) ? sprintf("%.1f", 1/t[k]) : "-";
          ttc = (k in t) && one ? sprintf("%.1f", 1/tc[k]) : "-";
          ts = one ? tc[k] : t[k];
          rat = (k in t) ? sprintf("%.2fx", ts/ds) : "-";
          fl = 6*28*32*a[2]*a[2] + 4*28*32*28*a[2] + 6*32*a[2]*10;
          printf "| %s | %s | %s | %.1f | %s | %.1f | %.1f | %.0f%% | %s | %s | %s |\n", a[1], a[2], a[3], 1/d[k], cpu, fl/ds*1e-9, fl/rs*1e-9, 100*rs/ds, tt, ttc, rat }
      }' "$csv"
  } >> "$md"
fi

# ------------------------------------------------------------- kernels
# The same step (rnn, 1 thread) under the other BLAS kernel set and with
# dale's per-step kernel forced to narrower instruction sets.
if has kernels; then
  echo "bench: kernel choices ($(load))"
  kc="$out/kernels.csv"
  : > "$kc"
  OPENBLAS_NUM_THREADS=1 DALE_BENCH_MODELS=rnn DALE_BENCH_TAG=":${OPENBLAS_CORETYPE:-auto}/auto" \
    "$out/bench_step" 1 $H | tail -n +2 >> "$kc"
  (unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX DALE_BENCH_MODELS=rnn DALE_BENCH_TAG=":SkylakeX/auto" \
     "$out/bench_step" 1 $H | tail -n +2 >> "$kc")
  for p in avx2 portable blas; do
    OPENBLAS_NUM_THREADS=1 DALE_SMM=$p DALE_BENCH_MODELS=rnn DALE_BENCH_TAG=":${OPENBLAS_CORETYPE:-auto}/$p" \
      "$out/bench_step" 1 $H | grep '^dale' >> "$kc"
  done
  {
    echo
    echo "## BLAS kernel set and dale's per-step kernel (rnn, 1 thread, CPU time)"
    echo
    echo "OPENBLAS_CORETYPE picks OpenBLAS's kernels (Haswell: AVX2; SkylakeX: AVX-512);"
    echo "DALE_SMM forces the path of dale's kernels (auto: widest the CPU has; blas: no kernels,"
    echo "every product through OpenBLAS as before).  $(load) after."
    echo
    echo "| H | what (coretype / dale path) | cpu steps/s | GFLOP/s |"
    echo "|---|---|---|---|"
    awk -F, '{ split($1,a,":"); what = a[1]=="sgemm" ? "plain sgemm roofline, " a[2] : "dale, " a[2];
               sub("/auto$", "", what) ; if (a[1]=="sgemm") sub("/.*$", "", what);
               fl = 6*28*32*$3*$3 + 4*28*32*28*$3 + 6*32*$3*10;
               printf "| %s | %s | %.1f | %.1f |\n", $3, what, 1/$8, fl/$8*1e-9 }' "$kc" | sort -t'|' -k2,2n -s
  } >> "$md"
fi

# ------------------------------------------------------------ spectral
if has spectral; then
  echo "bench: spectral workloads ($(load))"
  sizes=100,300,1000
  t1=$( { /usr/bin/time -f "%e %U %S" "$dale" spectrum --table nse --seeds "$SEEDS" --sizes $sizes \
          --threads 1 --out "$out/spec1" >/dev/null; } 2>&1 | tail -1)
  t2=$( { /usr/bin/time -f "%e %U %S" "$dale" spectrum --table nse --seeds "$SEEDS" --sizes $sizes \
          --threads 2 --out "$out/spec2" >/dev/null; } 2>&1 | tail -1)
  sv=$(OPENBLAS_NUM_THREADS=1 "$out/bench_svals" 1000 5 | cut -d, -f4)
  if [ $have_numpy = 1 ]; then
    nt=$(OPENBLAS_NUM_THREADS=1 "$py" bench/numpy_spectrum.py table "$SEEDS" $sizes 2>/dev/null)
    nsv=$(OPENBLAS_NUM_THREADS=1 "$py" bench/numpy_spectrum.py svals 1000 5 | cut -d, -f4)
  else
    echo "bench: NumPy not available for $py; spectral rows without NumPy"
    nt="" nsv=""
  fi
  {
    echo
    echo "## Spectral workloads vs NumPy"
    echo
    echo "Table 3 end to end: 3 sizes ($sizes) x 7 networks x $SEEDS seeds, one SVD (values)"
    echo "and one eigen-solve per draw.  NumPy: bench/numpy_spectrum.py, same recipe, 1 BLAS thread."
    echo "Wall and CPU (user+sys) seconds; the ratio uses CPU seconds.  $(load) after."
    echo
    echo "| workload | dale wall s | dale CPU s | NumPy wall s | NumPy CPU s | NumPy/dale (CPU) |"
    echo "|---|---|---|---|---|---|"
    read -r w1 u1 s1 <<< "$t1"; read -r w2 u2 s2 <<< "$t2"
    c1=$(awk -v u="$u1" -v s="$s1" 'BEGIN{printf "%.1f", u+s}')
    c2=$(awk -v u="$u2" -v s="$s2" 'BEGIN{printf "%.1f", u+s}')
    if [ -n "$nt" ]; then
      nw=$(echo "$nt" | cut -d, -f5); nc=$(echo "$nt" | cut -d, -f6)
      echo "| Table 3, 1 thread | $w1 | $c1 | $nw | $nc | $(awk -v a="$nc" -v b="$c1" 'BEGIN{printf "%.2fx", a/b}') |"
    else
      echo "| Table 3, 1 thread | $w1 | $c1 | - | - | - |"
    fi
    echo "| Table 3, 2 threads | $w2 | $c2 | - | - | - |"
    echo
    echo "| workload | dale median s | NumPy median s | NumPy/dale |"
    echo "|---|---|---|---|"
    echo "| singular values 1000x1000 (dgesdd, values only) | $sv | ${nsv:--} | $( [ -n "$nsv" ] && awk -v a="$nsv" -v b="$sv" 'BEGIN{printf "%.2fx", a/b}' || echo -) |"
  } >> "$md"
fi

# ---------------------------------------------------------------- data
# seqMNIST-shaped data: the real MNIST when `dale data list` finds it,
# otherwise synthetic IDX files (random pixels, labels i % 10).
datadir=""
need_data=0; has sweep && need_data=1; has memory && need_data=1
if [ $need_data = 1 ]; then
  if "$dale" data list 2>/dev/null | grep -q '^mnist  *ok'; then
    datadir=${DALE_DATA:-./data}; datakind="real MNIST ($datadir)"
  else
    datadir="$out/synth"; datakind="synthetic MNIST-shaped IDX files (6000 train / 1000 test)"
    mkdir -p "$datadir/mnist"
    "$py" - "$datadir/mnist" <<'EOF'
import os, struct, sys, random
d = sys.argv[1]
rnd = random.Random(0)
for name, n in (("train", 6000), ("t10k", 1000)):
    with open(os.path.join(d, f"{name}-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28)); f.write(rnd.randbytes(n * 784))
    with open(os.path.join(d, f"{name}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n)); f.write(bytes(i % 10 for i in range(n)))
EOF
  fi
fi
train_args() { echo "--task seqmnist --data $datadir --hidden 100 --batch 32 --eval-every 500 --eval-batch 1000 --quiet"; }

# --------------------------------------------------------------- sweep
if has sweep; then
  echo "bench: sweep throughput ($(load))"
  rm -rf "$out/sweep"; mkdir -p "$out/sweep"
  one() { "$dale" train $(train_args) --max-updates "$SWEEP_U" --seed "$1" --out "$out/sweep/$2-$1" >/dev/null 2>&1; }
  export -f one train_args; export dale out datadir SWEEP_U SWEEP_N
  # Each phase under /usr/bin/time: wall seconds and the CPU seconds of all
  # its runs.  CPU seconds per run in the 2-process phase close to the
  # 1-process figure mean the runs do not slow each other down (cache,
  # memory bandwidth), so on two free cores 2 processes give
  # 2 x cpu1/cpu2 the throughput; on a loaded machine the wall clock
  # cannot show that, so both are reported.
  p1=$( { /usr/bin/time -f "%e %U %S" bash -c 'for i in $(seq 1 "$SWEEP_N"); do one "$i" p1; done'; } 2>&1 | tail -1)
  p2=$( { /usr/bin/time -f "%e %U %S" bash -c 'seq 1 "$SWEEP_N" | xargs -P 2 -I{} bash -c "one {} p2"'; } 2>&1 | tail -1)
  okruns=$(ls "$out"/sweep/*/result.json 2>/dev/null | wc -l)
  {
    echo
    echo "## Sweep throughput"
    echo
    echo "$SWEEP_N independent seqMNIST runs (rnn, hidden 100, batch 32, $SWEEP_U updates, evaluation"
    echo "every 500) on $datakind; 1 process after another vs 2 at a time (xargs -P 2)."
    echo "$okruns of $((2 * SWEEP_N)) runs wrote result.json.  $(load) after."
    echo
    read -r w1 u1 s1 <<< "$p1"; read -r w2 u2 s2 <<< "$p2"
    awk -v w1="$w1" -v c1="$(awk -v u="$u1" -v s="$s1" 'BEGIN{print u+s}')" \
        -v w2="$w2" -v c2="$(awk -v u="$u2" -v s="$s2" 'BEGIN{print u+s}')" -v n="$SWEEP_N" 'BEGIN{
      r1 = n / w1 * 3600; r2 = n / w2 * 3600;
      print "| processes | wall s | runs/hour (wall) | CPU s per run |"; print "|---|---|---|---|";
      printf "| 1 | %.1f | %.0f | %.2f |\n| 2 | %.1f | %.0f | %.2f |\n\n", w1, r1, c1 / n, w2, r2, c2 / n;
      printf "2 processes / 1 process: **%.2fx** by the wall clock; %.2fx projected for two free cores (2 x CPU s per run, 1 process / 2 processes).\n", r2 / r1, 2 * c1 / c2 }'
  } >> "$md"
fi

# -------------------------------------------------------------- memory
if has memory; then
  echo "bench: peak memory ($(load))"
  {
    echo
    echo "## Peak memory of a training run"
    echo
    echo "dale train on $datakind, 5 updates (rnn, 1 layer, --eval-batch B so that evaluation"
    echo "needs no larger plan than training), maximum resident set size from /usr/bin/time -v."
    echo "BPTT activations: H and dH, (2T+1) B H floats; the rest is the program, the data set"
    echo "as float32 and the evaluation's own (T+1) B H activations."
    echo
    echo "| T | B | H | B*T*H | activations MB | parameters MB | peak RSS MB |"
    echo "|---|---|---|---|---|---|---|"
  } >> "$md"
  for spec in "row 32 100" "row 128 100" "row 512 100" "row 32 1000" "row 128 1000" "pixel 32 100" "pixel 128 100"; do
    read -r var B Hm <<< "$spec"
    T=28 d=28; [ "$var" = pixel ] && T=784 d=1
    rss=$( { /usr/bin/time -v "$dale" train $(train_args | sed "s/--hidden 100 --batch 32/--hidden $Hm --batch $B/; s/--eval-batch 1000/--eval-batch $B/") \
             --variant "$var" --max-updates 5 --spectra off --out "$out/mem-$var-$B-$Hm" >/dev/null; } 2>&1 \
           | awk -F: '/Maximum resident/{gsub(/ /,"",$2); print $2}')
    awk -v T="$T" -v B="$B" -v H="$Hm" -v d="$d" -v rss="$rss" 'BEGIN{
      act = (2*T+1)*B*H*4/1e6; par = (H*d + H*H + H + 10*H + 10)*4/1e6;
      printf "| %d | %d | %d | %d | %.1f | %.2f | %.1f |\n", T, B, H, B*T*H, act, par, rss/1024 }' >> "$md"
  done
fi

echo >> "$md"
echo "Finished $(date -u '+%H:%M UTC'), $(load)." >> "$md"
cat "$md"
echo
echo "bench: raw numbers in $out/*.csv; report in $md"
