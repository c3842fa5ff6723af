#!/bin/sh
# build.sh — builds the standalone GEMM/convolution self-test (not part of the addon).
# Usage: tools/gemm-selftest/build.sh [extra g++ flags]   → build/gemm-selftest
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/build"
flags="-O3 -std=c++17 -mavx2 -mfma -mf16c -fno-math-errno -Wall -Wno-unused-parameter -I$root/native $*"
avx512="-mavx512f -mavx512bw -mavx512dq -mavx512vl"
objects=""
for source in "$root"/native/cpu/gemm/*.cpp "$root"/native/cpu/thread_pool.cpp "$root"/native/cpu/im2col.cpp "$root"/native/cpu/im2col_avx512.cpp "$root"/tools/gemm-selftest/*.cpp; do
  object="$root/build/selftest-$(basename "$source" .cpp).o"
  case "$source" in *_avx512.cpp) extra="$avx512" ;; *) extra="" ;; esac
  g++ $flags $extra -c "$source" -o "$object" &
  objects="$objects $object"
done
wait
g++ -o "$root/build/gemm-selftest" $objects -lpthread -ldl
