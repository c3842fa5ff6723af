#!/bin/sh
# build.sh — builds and runs the CPU ops self-test with the addon's compiler flags.
# Usage: tools/ops-selftest/build.sh [--bench-only]
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${OPS_SELFTEST_OUT:-/tmp/cudnet-ops-selftest}
mkdir -p "$out"
g++ -std=c++17 -O3 -mavx2 -mfma -mf16c -fno-math-errno -Wall -Wno-unused-parameter -pthread \
  -I"$root/native" \
  "$root/tools/ops-selftest/main.cpp" "$root/tools/ops-selftest/stubs.cpp" \
  "$root/native/cpu/thread_pool.cpp" \
  "$root/native/cpu/ops/pool.cpp" "$root/native/cpu/ops/lrn.cpp" "$root/native/cpu/ops/activation.cpp" \
  "$root/native/cpu/ops/softmax.cpp" "$root/native/cpu/ops/solver.cpp" \
  -o "$out/ops-selftest"
exec "$out/ops-selftest" "$@"
