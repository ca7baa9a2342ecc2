#!/usr/bin/env bash
# Sets the machine up (launch/setup.sh) and runs the whole test suite with ctest.
# Extra arguments go to ctest (e.g. -R tokenizer, -LE slow).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${NEGATRON_BUILD_DIR:-$ROOT/build}"
"$ROOT/launch/setup.sh"
cd "$BUILD_DIR"
echo "[tests] ctest -j ${NEGATRON_TEST_JOBS:-2} $*" >&2
exec ctest --output-on-failure --timeout 1200 -j "${NEGATRON_TEST_JOBS:-2}" "$@"
