#!/usr/bin/env bash
# Runs every benchmark once after another (each 3 runs, medians) and keeps
# their JSON in bench-results/<UTC date-time>/ under the build dir.
# Bench-only; never run by CI. usage: bench/all.sh [build-dir]  (default build-bench)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build-bench}
export EASEL_BIN_DIR=${EASEL_BIN_DIR:-$(cd "$build" && pwd)/bin}
out="$build/bench-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
for b in render fleet api matrix rerender memory webhooks slowloris capture blobs; do
  echo "bench: $b" >&2
  python3 "$here/$b.py" > "$out/$b.json" 2> "$out/$b.log"
done
echo "bench: results in $out" >&2
