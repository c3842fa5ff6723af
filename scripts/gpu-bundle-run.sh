#!/bin/sh
# run.sh — runs cudnet's GPU check from this bundle with the Node inside it; nothing else is needed but a
# POSIX shell and xz (or python3) to unpack Node. The bundle folder may be read-only: the check runs from a
# copy in a scratch folder (TMPDIR, else the bundle's folder, HOME or the current folder: the first one
# that is writable and allows running programs).
#   sh run.sh [report-folder]             on a GPU machine (report-folder defaults to ./gpu-report)
#   sh run.sh --rehearse [report-folder]  anywhere: every step with the CPU standing in for the GPU
# This bundle's Node (@NODE@) and addon need an x86-64 Linux with glibc @GLIBC@ or newer.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
mode=""
report=""
for arg in "$@"; do
  case "$arg" in
    --rehearse) mode="--rehearse" ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
    *) report="$arg" ;;
  esac
done
# A relative report folder is the caller's, as any command would take it.
case "$report" in
  "") report="$PWD/gpu-report" ;;
  /*) ;;
  *) report="$PWD/$report" ;;
esac

say() { echo "run.sh: $*"; }
fail() { echo "run.sh: $*" >&2; exit 1; }

# 1. What this machine must have.
[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] || fail "this bundle is for x86-64 Linux; this is $(uname -s) $(uname -m)"
needed="@GLIBC@"
have="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
if [ -n "$have" ]; then
  older="$(printf '%s\n%s\n' "$have" "$needed" | awk -F. '
    NR == 1 { split($0, h, ".") } NR == 2 { split($0, n, ".") }
    END { for (i = 1; i <= 3; i++) { if ((h[i] + 0) < (n[i] + 0)) { print "yes"; exit } if ((h[i] + 0) > (n[i] + 0)) { print "no"; exit } } print "no" }')"
  [ "$older" = no ] || fail "this machine has glibc $have; the bundle's Node and addon need glibc $needed or newer (Ubuntu 22.04, Debian 12, RHEL 9 or newer)"
  say "glibc $have (needs $needed or newer)"
else
  say "could not read the glibc version (getconf GNU_LIBC_VERSION); the bundle needs glibc $needed or newer"
fi

unpack_node() {  # $1: destination file
  if command -v xz >/dev/null 2>&1; then
    xz -d -c "$here/node.xz" > "$1"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c "import lzma, sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())" "$here/node.xz" > "$1"
  else
    fail "neither xz nor python3 is here to unpack Node (node.xz)"
  fi
  chmod +x "$1"
}

# 2. A scratch folder where Node can be written and run (a noexec TMPDIR is skipped).
scratch=""
why=""
for base in "${TMPDIR:-/tmp}" "$here" "${HOME:-}" "$PWD"; do
  [ -n "$base" ] && [ -d "$base" ] && [ -w "$base" ] || continue
  candidate="$(mktemp -d "$base/cudnet-gpu-check.XXXXXX" 2>/dev/null)" || continue
  unpack_node "$candidate/node"
  if output="$("$candidate/node" --version 2>&1)"; then
    scratch="$candidate"
    break
  fi
  why="$why
  $base: $output"
  rm -rf "$candidate"
done
[ -n "$scratch" ] || fail "Node could not run from any writable folder (TMPDIR, the bundle's folder, HOME, the current folder):$why
(a 'version GLIBC_...' or 'GLIBCXX_...' message names a system library older than this bundle needs)"
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM
say "Node $("$scratch/node" --version) in $scratch"

# 3. The check runs from a copy, so the bundle itself is never written to.
mkdir -p "$scratch/bundle" "$scratch/tmp"
# Everything the check writes for itself (training runs, timings) goes into the scratch folder too.
export TMPDIR="$scratch/tmp"
for entry in build dist models native node_modules tools data package.json; do
  cp -R "$here/$entry" "$scratch/bundle/"
done
"$scratch/node" "$scratch/bundle/data/unpack-mnist.mjs"
mkdir -p "$report"
cd "$scratch/bundle"
status=0
"$scratch/node" dist/scripts/gpu-check.js $mode "$report" || status=$?
exit "$status"
