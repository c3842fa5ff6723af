#!/usr/bin/env bash
# check.sh — compiles native/cuda/api/conformance/conformance_check.cc against NVIDIA's real headers and
# says, one line per header set, which headers it found (driver cuda.h, cuDNN, cuBLAS versions) and
# whether our declarations match them.
#
#   tools/conformance/check.sh FOLDER...                   one header set: the folders, in -I order
#   tools/conformance/check.sh FOLDER... -- FOLDER... ...  several sets, separated by --
#   tools/conformance/check.sh --pip SITE_PACKAGES         a set from a Python environment's NVIDIA wheels
#                                                          (nvidia/*/include), e.g. cudnn, cublas, cu13
#
# Output, per set:  PASS checked: driver CUDA 13.0, cuDNN 9.6.0, cuBLAS 13.0.0 (folders: ...)
#                   FAIL checked: ... followed by the compiler's first errors, indented.
# A library whose header the compiler does not find is reported "absent" and not compared; a set in which
# none is found fails.
# Exit status: 0 when every set passes, 1 when one fails, 2 on a usage error.
# Environment: CXX (default g++), CUDNET_NATIVE (default: the native/ folder beside tools/).
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
native="${CUDNET_NATIVE:-$here/../../native}"
source_file="$native/cuda/api/conformance/conformance_check.cc"
cxx="${CXX:-g++}"

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ -f "$source_file" ] || { echo "check.sh: $source_file not found (set CUDNET_NATIVE)" >&2; exit 2; }
command -v "$cxx" >/dev/null 2>&1 || { echo "check.sh: no C++ compiler '$cxx' (set CXX)" >&2; exit 2; }

# Split the arguments into sets, one per line, folders separated by a tab.
sets=()
current=()
flush() {
  if [ "${#current[@]}" -gt 0 ]; then
    local IFS=$'\t'
    sets+=("${current[*]}")
  fi
  current=()
}
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help) usage ;;
    --) flush ;;
    --pip)
      [ "$#" -ge 2 ] || usage
      flush
      for folder in "$2"/nvidia/*/include; do [ -d "$folder" ] && current+=("$folder"); done
      [ "${#current[@]}" -gt 0 ] || echo "check.sh: no nvidia/*/include under $2" >&2
      flush
      shift
      ;;
    *) current+=("$1") ;;
  esac
  shift
done
flush
[ "${#sets[@]}" -gt 0 ] || usage

status=0
for set in "${sets[@]}"; do
  IFS=$'\t' read -r -a folders <<<"$set"
  includes=()
  missing=()
  for folder in "${folders[@]}"; do
    if [ -d "$folder" ]; then includes+=("-I$folder"); else missing+=("$folder"); fi
  done
  output="$("$cxx" -std=c++17 -fsyntax-only -DCUDNET_CONFORMANCE_REPORT "-I$native" "${includes[@]}" \
    "$source_file" 2>&1)"
  result=$?

  # What the compiler found, from the check's own report lines.
  driver="$(sed -n 's/.*cudnet-conformance driver \([0-9]*\).*/\1/p' <<<"$output" | head -n 1)"
  cudnn="$(sed -n 's/.*cudnet-conformance cudnn \([0-9.]*\).*/\1/p' <<<"$output" | head -n 1)"
  cublas="$(sed -n 's/.*cudnet-conformance cublas \([0-9.]*\).*/\1/p' <<<"$output" | head -n 1)"
  if [ -n "$driver" ]; then
    driver="driver CUDA $((driver / 1000)).$(((driver % 1000) / 10))"
  else
    driver="driver cuda.h absent"
  fi
  if [ -n "$cudnn" ]; then cudnn="cuDNN $cudnn"; else cudnn="cuDNN absent"; fi
  if [ -n "$cublas" ]; then cublas="cuBLAS $cublas"; else cublas="cuBLAS absent"; fi
  where="folders: ${folders[*]}"
  [ "${#missing[@]}" -gt 0 ] && where="$where; not found: ${missing[*]}"

  if [ "$result" -eq 0 ] && [ "$driver$cudnn$cublas" = "driver cuda.h absentcuDNN absentcuBLAS absent" ]; then
    status=1
    echo "FAIL checked: nothing, no cuda.h, cuDNN or cuBLAS header found ($where)"
  elif [ "$result" -eq 0 ]; then
    echo "PASS checked: $driver, $cudnn, $cublas ($where)"
  else
    status=1
    echo "FAIL checked: $driver, $cudnn, $cublas ($where)"
    # The reasons: static assertions name the declaration that differs; other errors come from headers.
    grep -E 'error' <<<"$output" | grep -Ev 'cudnet-conformance (driver|cudnn|cublas) ' | head -n 12 | sed 's/^/    /'
  fi
done
exit "$status"
