#!/usr/bin/env bash
# install-deps.sh — install dale's Debian dependencies (idempotent).
#
# Checks each package with dpkg-query first and calls apt-get only for the
# missing ones, so a second run takes well under a second.  Needs root (or
# sudo) on Debian/Ubuntu.  DALE_SKIP_DEPS=1 skips everything (for machines
# where the libraries come from elsewhere).
set -euo pipefail

[ "${DALE_SKIP_DEPS:-0}" = 1 ] && exit 0

# build and run: BLAS/LAPACK, zip/zlib, JSON, images (stb), SQLite, plots, MPI,
# Slurm; curl + CA certificates for `dale data get` downloads, procps (ps) for
# the sweep tests, NumPy for the Python package (python/dale); chromium
# (headless) for the test that opens `dale report`'s page in a real browser
PKGS=(
  build-essential pkg-config
  libopenblas-dev liblapacke-dev
  zlib1g-dev libzip-dev
  libcjson-dev
  libstb-dev
  libsqlite3-dev sqlite3
  gnuplot-nox
  openmpi-bin libopenmpi-dev
  slurm-wlm
  curl ca-certificates procps
  python3-numpy
  chromium
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
