#!/usr/bin/env bash
# One entry point that makes a machine ready: Debian packages, the pinned Python packages (in .venv),
# and the build. Idempotent: on a ready machine it only re-runs the (incremental) build.
# Env: NEGATRON_BUILD_DIR (default build), NEGATRON_BUILD_TYPE (Release), NEGATRON_JOBS (nproc).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${NEGATRON_BUILD_DIR:-$ROOT/build}"
BUILD_TYPE="${NEGATRON_BUILD_TYPE:-Release}"
JOBS="${NEGATRON_JOBS:-$(nproc)}"
PYTHON="${NEGATRON_BASE_PYTHON:-python3}"

APT_PACKAGES=(build-essential cmake ninja-build pkg-config git
  libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools libspdlog-dev libyaml-cpp-dev
  nlohmann-json3-dev libcli11-dev libutf8proc-dev libgtest-dev
  libgoogle-perftools-dev  # tcmalloc: the negatron executable's malloc (cmake/Dependencies.cmake)
  libprotobuf-dev protobuf-compiler  # TensorBoard event files (src/report)
  slurm-wlm munge  # slurm + munge: the single-node Slurm job test
  clang libclang-rt-dev  # libFuzzer + AddressSanitizer/UBSan runtimes: the fuzz targets (fuzz/, tests/fuzz)
  iproute2)  # ip netns: the two-node mpirun test (tests/python/test_two_nodes.py)

step() { echo "[setup] $*" >&2; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  step "apt-get install ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

VENV="$ROOT/.venv"
STAMP="$VENV/.requirements.sha256"
WANT="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/python" ]]; then
  step "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [[ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]]; then
  step "pip install -r requirements.txt (torch wheel is large; first run takes minutes)"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt"
  echo "$WANT" > "$STAMP"
fi

if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  step "configuring $BUILD_DIR ($BUILD_TYPE)"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
        -DNEGATRON_PYTHON="$VENV/bin/python" >/dev/null
fi
step "building with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS"
step "ready: $BUILD_DIR/src/negatron"
