#!/usr/bin/env bash
# Installs the peers the benchmarks measure Easel against, and the load tools.
# Bench-only: never run by CI or scripts/deps.sh. Idempotent: quick when all is there.
set -eu

packages=(
  imagemagick libvips-tools wrk hyperfine time sqlite3
  linux-perf valgrind python3
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

echo "bench setup: installing ${missing[*]}" >&2
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
