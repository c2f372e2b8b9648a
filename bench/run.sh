#!/usr/bin/env bash
# bench/run.sh BUILD — `make bench`: dale vs PyTorch on the same training step
# (1 and 2 threads), BLAS and kernel choices, spectral workloads vs NumPy,
# sweep throughput (1 vs 2 processes), peak memory of training runs, and the
# paper's large shapes (lm 3 x 500 with a 10 000-word readout, objrec 1 x 1000,
# the seqMNIST protocol end to end, one run on 1 vs 2 threads).
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
# DALE_BENCH_PARTS (default "step kernels spectral sweep memory objrec
# protocol"; all parts: step kernels spectral sweep memory lm objrec protocol
# threads -- lm and threads take ~10 min each at full size, so they are
# opt-in).  Large-shape parts: DALE_BENCH_LM_HIDDEN (500), DALE_BENCH_LM_DENSE
# (500,500), DALE_BENCH_LM_UPDATES ("2 5": N1 N2), DALE_BENCH_LM_MODELS ("rnn
# colei dann"), DALE_BENCH_LM_EVAL (1: time one evaluation too),
# DALE_BENCH_LM_TORCH_REPS (3), DALE_BENCH_OBJREC_HIDDEN (1000),
# DALE_BENCH_OBJREC_UPDATES ("50 250"), DALE_BENCH_OBJREC_TORCH_REPS (7),
# DALE_BENCH_PROTOCOL_UPDATES ("1000 5000"), DALE_BENCH_THREADS_LM_UPDATES
# ("1 3"), DALE_BENCH_THREADS_SEQMNIST_UPDATES ("20 100"),
# DALE_BENCH_THREADS_OBJREC_UPDATES ("50 150"), DALE_BENCH_THREADS_SHAPES ("lm
# seqmnist objrec"), DALE_BENCH_REPEATS (1: pairs
# of runs per difference; the median is kept).  Those parts use the data in
# ./data ($DALE_DATA) and skip with a message when a set is missing.
set -uo pipefail
build=${1:-build}
out="$build/bench"
mkdir -p "$out"
H=${DALE_BENCH_H:-"100 300 1000"}
SEEDS=${DALE_BENCH_SEEDS:-5}
SWEEP_N=${DALE_BENCH_SWEEP_N:-4}
SWEEP_U=${DALE_BENCH_SWEEP_UPDATES:-2000}
PARTS=${DALE_BENCH_PARTS:-"step kernels spectral sweep memory objrec protocol"}
dale="$build/dale"
LIBS="-L/usr/lib/x86_64-linux-gnu/openblas-pthread -lopenblas -llapacke -lzip -lz -lcjson -lm -lpthread"
for b in bench_step bench_svals bench_update bench_stream; do
  cc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Iinclude -Isrc bench/$b.c "$build/libdale.a" $LIBS \
     -o "$out/$b" || exit 1
done
has() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }
load() { uptime | sed 's/.*load average: /load /'; }

py=/usr/bin/python3
have_torch=0 have_numpy=0
need_torch=0
for p_ in step lm objrec protocol; do has $p_ && need_torch=1; done
if [ $need_torch = 1 ] && ! "$py" -c "import torch" 2>/dev/null; then
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

# ------------------------------------------------ large shapes (issue 17)
# objrec, protocol: whole `dale train` processes at the paper's large
# shapes.  A process's CPU (user + sys) and wall seconds come from
# /usr/bin/time; one update costs the difference of an N1- and an N2-update
# run divided by N2 - N1 (data loading, the init, the evaluations at update
# 0 and at the end cancel).  lm and threads time updates in process
# (bench_update): an lm run's two evaluations cost 10-20 s each and move
# with the training state, so they do not cancel.  dale's `--numerics dale` rows are added when
# `dale train --help` lists that option.
tm() { # tm CMD... -> "wall_s cpu_s rc" of one run (its output in $out/last.log)
  /usr/bin/time -f "%e %U %S" -o "$out/.time" "$@" >"$out/last.log" 2>&1
  local rc=$?
  tail -1 "$out/.time" | awk -v rc=$rc '{printf "%s %.3f %d\n", $1, $2 + $3, rc}'
}
# per WALL1 CPU1 WALL2 CPU2 N -> "wall cpu" per unit
per() { awk -v w1="$1" -v c1="$2" -v w2="$3" -v c2="$4" -v n="$5" 'BEGIN{printf "%.6g %.6g", (w2-w1)/n, (c2-c1)/n}'; }
REPS=${DALE_BENCH_REPEATS:-1}
# diffrun N1 N2 TAG ARGS... -> "wall cpu rc" per update: median over $REPS
# pairs of an N1- and an N2-update run of `dale train ARGS` (their run
# directories $tmpd/TAG-1 and $tmpd/TAG-2 are kept for the caller)
diffrun() {
  local n1=$1 n2=$2 tag=$3 i r1 r2 w1 c1 rc1 w2 c2 rc2 vals=""
  shift 3
  for i in $(seq 1 "$REPS"); do
    rm -rf "$tmpd/$tag-1" "$tmpd/$tag-2"
    r1=$(tm "$dale" train "$@" --max-updates "$n1" --out "$tmpd/$tag-1")
    r2=$(tm "$dale" train "$@" --max-updates "$n2" --out "$tmpd/$tag-2")
    read -r w1 c1 rc1 <<< "$r1"; read -r w2 c2 rc2 <<< "$r2"
    if [ "$rc1" != 0 ] || [ "$rc2" != 0 ]; then echo "0 0 1"; return; fi
    vals="$vals$(per "$w1" "$c1" "$w2" "$c2" $((n2 - n1)))"$'\n'
  done
  # median of each column separately
  med() { printf '%s' "$vals" | awk -v k="$1" '{print $k}' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  echo "$(med 1) $(med 2) 0"
}
have_set() { "$dale" data list 2>/dev/null | grep -Eq "^$1 +(present|ok)"; }
numerics=blas
"$dale" train --help 2>&1 | grep -q -- '--numerics' && numerics="blas dale"
numflag() { [ "$1" = blas ] || echo "--numerics $1"; }
big=100000000 # --eval-every: no evaluation between update 0 and the end
tmpd=$(mktemp -d "${TMPDIR:-/tmp}/dale-bench.XXXXXX")
trap 'rm -rf "$tmpd"' EXIT

# ------------------------------------------------------------------- lm
LM_H=${DALE_BENCH_LM_HIDDEN:-500}
LM_DENSE=${DALE_BENCH_LM_DENSE:-500,500}
LM_U=${DALE_BENCH_LM_UPDATES:-"2 5"}
LM_MODELS=${DALE_BENCH_LM_MODELS:-"rnn colei dann"}
LM_EVAL=${DALE_BENCH_LM_EVAL:-1}
lm_args() { echo "--task lm --hidden $LM_H --dense $LM_DENSE --spectra off --quiet"; }
# lm_shape -> "T d V rows_per_eval" from dale's dry run
lm_shape() {
  "$dale" train $(lm_args) --dry-run 2>/dev/null | awk '
    /^task lm/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^steps/) T = $i; if ($i == "input") d = $(i+1)+0; if ($i == "output") V = $(i+1)+0 } }
    /^samples:/ { for (i = 1; i <= NF; i++) if ($(i+1) == "per") e = $i }
    END { if (T && d && V && e) print T, d, V, e }'
}
if has lm; then
  echo "bench: lm ($(load))"
  if ! have_set kjv || ! have_set glove100; then
    echo "bench: lm skipped: the kjv corpus or the glove100 vectors are missing (dale data get kjv glove100)"
    printf '\n## lm\n\nSkipped: kjv or glove100 missing.\n' >> "$md"
  else
    read -r n1 n2 <<< "$LM_U"
    read -r T d V erows <<< "$(lm_shape)"
    B=64 L=3
    # Flops of one update (forward 2 per multiply-add, backward twice that;
    # the first layer's input gradient is not computed):
    #   6 T B (d H + (L-1) H^2 + L H^2 + sum of dense in*out + last*V) - 2 T B d H
    # At 3 x 500, dense 500,500, V 10000, T 50, B 64: 130.2 GFLOP.  One
    # evaluation token costs a forward: 2 (same sum) flops.
    wsum=$(awk -v d="$d" -v H="$LM_H" -v L="$L" -v dense="$LM_DENSE" -v V="$V" 'BEGIN{
      s = d*H + (L-1)*H*H + L*H*H; w = H; n = split(dense, k, ",");
      for (i = 1; i <= n; i++) { s += w*k[i]; w = k[i] } s += w*V; print s }')
    fl=$(awk -v s="$wsum" -v T="$T" -v B="$B" -v d="$d" -v H="$LM_H" 'BEGIN{printf "%.0f", 6*T*B*s - 2*T*B*d*H}')
    lmcsv="$out/lm.csv"; : > "$lmcsv"
    for m in $LM_MODELS; do
      for nu in $numerics; do
        # In process (bench_update): a warm-up update, then n2 - n1 timed
        # updates and, for the first model, one evaluation (valid + test).
        # Differencing whole runs does not work here: the two evaluations
        # of a run cost 10-20 s each and move with the training state.
        ne=0; [ "$LM_EVAL" = 1 ] && [ "$m" = "${LM_MODELS%% *}" ] && ne=1
        if ! r=$("$out/bench_update" $((n2 - n1)) $ne task=lm model=$m numerics=$nu hidden=$LM_H \
                   dense=$LM_DENSE spectra=off 2>"$out/last.log"); then
          echo "bench: lm $m $nu failed: $(tail -2 "$out/last.log")"; continue
        fi
        read -r cu wu ce we <<< "$r"
        echo "dale,$m,$nu,update,$wu,$cu" >> "$lmcsv"
        [ $ne = 1 ] && echo "dale,$m,$nu,eval,$we,$ce" >> "$lmcsv"
      done
    done
    if [ $have_torch = 1 ]; then
      et=0; [ "$LM_EVAL" = 1 ] && et=$((erows * T))
      OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$py" bench/torch_large.py lm "$LM_H" "$LM_DENSE" "$V" "$T" "$B" "$d" \
        "${DALE_BENCH_LM_TORCH_REPS:-3}" "$et" 64 | sed 's/^torch,lm,/torch,rnn,torch,/' >> "$lmcsv"
    fi
    {
      echo
      echo "## lm: one update at 3 x $LM_H (dense $LM_DENSE, readout $V words, $B streams x $T steps)"
      echo
      echo "dale: bench_update (the config of dale train --task lm, --spectra off), CPU time of $((n2 - n1)) updates"
      echo "after a warm-up update, in one process, 1 thread; PyTorch: torch.nn.RNN(${d}, $LM_H, num_layers=3, relu) + the same dense layers and"
      echo "readout, SGD + clip 1 per layer, random data, median of ${DALE_BENCH_LM_TORCH_REPS:-3} updates."
      echo "GFLOP/s counts 6TB(dH + 2H^2 + 3H^2 + dense + H·V) - 2TBdH = $(awk -v f="$fl" 'BEGIN{printf "%.1f", f*1e-9}') GFLOP per update (CPU time)."
      echo "dale/torch: torch CPU s / dale CPU s (above 1: dale is faster).  $(load) after."
      echo
      echo "| model | numerics | dale wall s/update | dale CPU s/update | dale GFLOP/s | torch (nn.RNN) CPU s/update | dale/torch |"
      echo "|---|---|---|---|---|---|---|"
      tc=$(awk -F, '$1=="torch" && $4=="update" {print $6}' "$lmcsv")
      awk -F, -v fl="$fl" -v tc="$tc" '$1=="dale" && $4=="update" {
        printf "| %s | %s | %.3f | %.3f | %.1f | %s | %s |\n", $2, $3, $5, $6, fl/$6*1e-9,
               tc == "" ? "-" : sprintf("%.3f", tc), tc == "" ? "-" : sprintf("%.2fx", tc/$6) }' "$lmcsv"
      if grep -q ',eval,' "$lmcsv"; then
        echo
        echo "Evaluation (validation + test, $erows rows of $T predicted tokens = $((erows * T)) tokens): dale's"
        echo "dale_trainer_evaluate of both splits after the updates above, in process; PyTorch: forward (no"
        echo "grad) over chunks of 64 rows, timed on chunks (median of ${DALE_BENCH_LM_TORCH_REPS:-3}) and scaled to the token count."
        echo
        echo "| model | numerics | dale wall s/eval | dale CPU s/eval | dale GFLOP/s | torch CPU s/eval | dale/torch |"
        echo "|---|---|---|---|---|---|---|"
        te=$(awk -F, '$1=="torch" && $4=="eval" {print $6}' "$lmcsv")
        awk -F, -v s="$wsum" -v tok="$((erows * T))" -v te="$te" '$1=="dale" && $4=="eval" {
          printf "| %s | %s | %.2f | %.2f | %.1f | %s | %s |\n", $2, $3, $5, $6, 2*s*tok/$6*1e-9,
                 te == "" ? "-" : sprintf("%.2f", te), te == "" ? "-" : sprintf("%.2fx", te/$6) }' "$lmcsv"
      fi
    } >> "$md"
  fi
fi

# --------------------------------------------------------------- objrec
OBJ_H=${DALE_BENCH_OBJREC_HIDDEN:-1000}
OBJ_U=${DALE_BENCH_OBJREC_UPDATES:-"50 250"}
if has objrec; then
  echo "bench: objrec ($(load))"
  if ! have_set objrec; then
    echo "bench: objrec skipped: the objrec set is missing (dale data get objrec)"
    printf '\n## objrec\n\nSkipped: the objrec set is missing.\n' >> "$md"
  else
    read -r n1 n2 <<< "$OBJ_U"
    ocsv="$out/objrec.csv"; : > "$ocsv"
    oargs="--task objrec --hidden $OBJ_H --spectra off --quiet --eval-every $big"
    for m in rnn colei dann; do
      for nu in $numerics; do
        read -r w c rc <<< "$(diffrun $n1 $n2 ob $oargs --model $m $(numflag $nu))"
        rm -rf "$tmpd"/ob-*
        if [ "$rc" != 0 ]; then echo "bench: objrec $m $nu failed: $(tail -2 "$out/last.log")"; continue; fi
        echo "dale,$m,$nu,update,$w,$c" >> "$ocsv"
      done
    done
    [ $have_torch = 1 ] && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$py" bench/torch_large.py objrec "$OBJ_H" 7225 5 16 8 \
      "${DALE_BENCH_OBJREC_TORCH_REPS:-7}" >> "$ocsv"
    {
      echo
      echo "## objrec: one update at 1 x $OBJ_H (7225 inputs: 85x85 image at step 1 of 5, batch 16, 8 classes)"
      echo
      echo "dale train --task objrec, difference of a $n1- and a $n2-update run (--spectra off, no evaluation"
      echo "between), 1 thread.  PyTorch: torch.nn.RNN(7225, $OBJ_H, relu) + Linear, random image at step 1,"
      echo "zeros after, median of ${DALE_BENCH_OBJREC_TORCH_REPS:-7} updates.  nn.RNN runs the full input product over all"
      echo "5 steps (it cannot skip the zero inputs); dale skips the trailing all-zero steps, so the two do"
      echo "different work on purpose.  dale/torch uses CPU time.  $(load) after."
      echo
      echo "| model | numerics | dale wall s/update | dale CPU s/update | torch CPU s/update | dale/torch |"
      echo "|---|---|---|---|---|---|"
      tc=$(awk -F, '$1=="torch" {print $5}' "$ocsv")
      awk -F, -v tc="$tc" '$1=="dale" { printf "| %s | %s | %.4f | %.4f | %s | %s |\n", $2, $3, $5, $6,
        tc == "" ? "-" : sprintf("%.4f", tc), tc == "" ? "-" : sprintf("%.2fx", tc/$6) }' "$ocsv"
    } >> "$md"
  fi
fi

# ------------------------------------------------------------- protocol
PR_U=${DALE_BENCH_PROTOCOL_UPDATES:-"1000 5000"}
if has protocol; then
  echo "bench: seqMNIST protocol ($(load))"
  if ! have_set mnist; then
    echo "bench: protocol skipped: MNIST is missing (dale data get mnist)"
    printf '\n## seqMNIST protocol\n\nSkipped: MNIST missing.\n' >> "$md"
  else
    read -r n1 n2 <<< "$PR_U"
    pcsv="$out/protocol.csv"; : > "$pcsv"
    pargs="--task seqmnist --hidden 100 --batch 32 --eval-batch 1000 --spectra off --quiet"
    nev=$(( n2 / 100 - n1 / 100 ))
    for m in rnn colei dann; do
      read -r we ce r1 <<< "$(diffrun $n1 $n2 pr $pargs --model $m --eval-every 100)"
      read -r wl cl r2 <<< "$(diffrun $n1 $n2 pr $pargs --model $m --eval-every $big)"
      rm -rf "$tmpd"/pr-*
      if [ "$r1$r2" != 00 ]; then echo "bench: protocol $m failed: $(tail -2 "$out/last.log")"; continue; fi
      echo "dale,$m,update,$we,$ce" >> "$pcsv"
      echo "dale,$m,loop,$wl,$cl" >> "$pcsv"
      # per evaluation: (incl. - loop) x (n2 - n1) updates / the evaluations between
      echo "dale,$m,eval,$(awk -v a="$we" -v b="$wl" -v c="$ce" -v d="$cl" -v u=$((n2 - n1)) -v n="$nev" \
        'BEGIN{printf "%.6g,%.6g", (a-b)*u/n, (c-d)*u/n}')" >> "$pcsv"
    done
    [ $have_torch = 1 ] && OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$py" bench/torch_large.py protocol 100 28 28 32 10 \
      $((n2 - n1)) 100 10000 1000 | sed 's/^torch,protocol,/torch,torch,/' >> "$pcsv"
    {
      echo
      echo "## seqMNIST paper protocol (1 x 100, batch 32, evaluation every 100 updates on 10 000 test sequences)"
      echo
      echo "dale train --task seqmnist (real MNIST, --spectra off, the default checkpoint at every evaluation):"
      echo "per update including the evaluations = difference of a $n1- and a $n2-update run / $((n2 - n1));"
      echo "loop = the same with --eval-every $big; per evaluation = the difference of the two / $nev."
      echo "PyTorch: nn.RNN(28, 100, relu) + Linear, SGD + clip, the same schedule on random data ($((n2 - n1))"
      echo "updates, evaluation in chunks of 1000).  1 thread; dale/torch uses CPU time.  $(load) after."
      echo
      echo "| model | dale s/update incl. eval (CPU) | dale updates/CPU-s, no eval | dale CPU s/eval | torch s/update incl. eval (CPU) | torch CPU s/eval | dale/torch |"
      echo "|---|---|---|---|---|---|---|"
      awk -F, '$1=="torch" {t[$3]=$5} $1=="dale" {d[$2","$3]=$5; if (!($2 in seen)) {seen[$2]=1; ms[++n]=$2}}
        END { for (i = 1; i <= n; i++) { m = ms[i];
          printf "| %s | %.5f | %.0f | %.4f | %s | %s | %s |\n", m, d[m",update"], 1/d[m",loop"], d[m",eval"],
            ("update" in t) ? sprintf("%.5f", t["update"]) : "-", ("eval" in t) ? sprintf("%.4f", t["eval"]) : "-",
            ("update" in t) ? sprintf("%.2fx", t["update"]/d[m",update"]) : "-" } }' "$pcsv"
    } >> "$md"
  fi
fi

# -------------------------------------------------------------- threads
THR_LM_U=${DALE_BENCH_THREADS_LM_UPDATES:-"1 4"}
THR_SQ_U=${DALE_BENCH_THREADS_SEQMNIST_UPDATES:-"20 100"}
THR_OB_U=${DALE_BENCH_THREADS_OBJREC_UPDATES:-"50 150"}
if has threads; then
  echo "bench: --threads 1 vs 2 ($(load))"
  tcsv="$out/threads.csv"; : > "$tcsv"
  shapes=""
  want() { case " ${DALE_BENCH_THREADS_SHAPES:-lm seqmnist objrec} " in *" $1 "*) return 0;; esac; return 1; }
  if ! want lm; then :; elif have_set kjv && have_set glove100; then shapes="$shapes lm"; else echo "bench: threads: lm skipped (kjv/glove100 missing)"; fi
  if ! want seqmnist; then :; elif have_set mnist; then shapes="$shapes seqmnist"; else echo "bench: threads: seqmnist skipped (MNIST missing)"; fi
  if ! want objrec; then :; elif have_set objrec; then shapes="$shapes objrec"; else echo "bench: threads: objrec skipped (objrec missing)"; fi
  for s in $shapes; do
    case $s in
      lm) a="$(lm_args) --model rnn"; u=$THR_LM_U;;
      seqmnist) a="--task seqmnist --hidden 1000 --batch 32 --spectra off --quiet"; u=$THR_SQ_U;;
      objrec) a="--task objrec --hidden $OBJ_H --spectra off --quiet"; u=$THR_OB_U;;
    esac
    read -r n1 n2 <<< "$u"
    case $s in
      lm) kv="task=lm model=rnn hidden=$LM_H dense=$LM_DENSE";;
      seqmnist) kv="task=seqmnist hidden=1000 batch=32";;
      objrec) kv="task=objrec hidden=$OBJ_H";;
    esac
    for nu in $numerics; do
      for th in 1 2; do
        # per update: in process (bench_update), n2 - n1 updates after a warm-up
        if ! r=$(OPENBLAS_NUM_THREADS=$th "$out/bench_update" $((n2 - n1)) 0 $kv spectra=off numerics=$nu \
                   threads=$th 2>"$out/last.log"); then
          echo "bench: threads $s $nu $th failed: $(tail -2 "$out/last.log")"; continue
        fi
        read -r cu wu ce we <<< "$r"
        echo "$s,$nu,$th,$wu,$cu,$((n2 - n1))" >> "$tcsv"
        # the bits: a short whole run (n1 updates, its evaluations at 0 and the end)
        tm "$dale" train $a $(numflag $nu) --threads $th --eval-every $big --max-updates $n1 \
           --out "$tmpd/th-$th" >/dev/null
      done
      same=differ
      cmp -s "$tmpd/th-1/final.npz" "$tmpd/th-2/final.npz" && same=identical
      [ -s "$tmpd/th-1/final.npz" ] || same="-"
      echo "$s,$nu,cmp,$same" >> "$tcsv"
      rm -rf "$tmpd"/th-*
    done
  done
  # how much the second core adds to a pass bound by memory (objrec's update)
  scsv="$out/stream.csv"
  "$out/bench_stream" > "$scsv" || : > "$scsv"
  {
    echo
    echo "## One run on both cores: --threads 1 vs 2"
    echo
    echo "Per update: bench_update (the config of dale train, --spectra off), wall and CPU time of N2 - N1"
    echo "updates after a warm-up, in one process, on:$shapes (lm: 3 x $LM_H rnn, $THR_LM_U; seqmnist: 1 x 1000"
    echo "batch 32, $THR_SQ_U; objrec: 1 x $OBJ_H, $THR_OB_U).  Bits: final.npz of two N1-update dale train"
    echo "runs (1 and 2 threads) compared with cmp.  The wall-clock speed-up only means something when both"
    echo "cores are free: $(load) after."
    echo
    echo "| shape | numerics | wall s/update 1 thr | 2 thr | speed-up (wall) | CPU s/update 1 thr | 2 thr | final.npz 1 vs 2 threads |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F, '$3=="cmp" {cmp[$1","$2]=$4; next}
      {k=$1","$2; if (!(k in seen)) {seen[k]=1; ks[++n]=k} w[k","$3]=$4; c[k","$3]=$5}
      END { for (i = 1; i <= n; i++) { k = ks[i]; split(k, a, ",");
        printf "| %s | %s | %.4f | %.4f | %s | %.4f | %.4f | %s |\n", a[1], a[2], w[k",1"], w[k",2"],
          (w[k",2"] > 0) ? sprintf("%.2fx", w[k",1"]/w[k",2"]) : "-", c[k",1"], c[k",2"], cmp[k] } }' "$tcsv"
    if [ -s "$scsv" ]; then
      echo
      echo "Memory-bound passes over 8.2 M floats (objrec's parameter count; 33 MB per array) through the"
      echo "update's range split, best of 9, wall clock (bench_stream): a speed-up well under 2 means the"
      echo "two cores share one memory bandwidth, which bounds the objrec rows above."
      echo
      echo "| pass | 1 thread ms | GB/s | 2 threads ms | GB/s | speed-up |"
      echo "|---|---|---|---|---|---|"
      awk -F, '$2=="1" {m1[$1]=$3; b1[$1]=$4; ks[++n]=$1} $2=="2" {m2[$1]=$3; b2[$1]=$4}
        END { for (i = 1; i <= n; i++) { k = ks[i];
          printf "| %s | %.2f | %.1f | %.2f | %.1f | %.2fx |\n", k, m1[k], b1[k], m2[k], b2[k], m1[k]/m2[k] } }' "$scsv"
    fi
  } >> "$md"
fi

echo >> "$md"
echo "Finished $(date -u '+%H:%M UTC'), $(load)." >> "$md"
cat "$md"
echo
echo "bench: raw numbers in $out/*.csv; report in $md"
