#!/usr/bin/env bash
# Installs the peers the benchmarks measure Easel against, and the load tools:
# Debian packages with apt, and the npm peers into bench/peers/node_modules
# from bench/peers/package-lock.json: sharp (with its prebuilt libvips) and
# playwright-core (it drives Debian's chromium; no browser is downloaded).
# Bench-only: never run by CI or scripts/deps.sh. Idempotent: quick when all is there.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

s_npm() {
  [ -d "$here/peers/node_modules/sharp" ] && [ -d "$here/peers/node_modules/playwright-core" ] && return 0
  command -v npm >/dev/null || { echo "bench setup: npm is missing (Node 20 or later with npm, as scripts/deps.sh says): no sharp or playwright peer" >&2; return 0; }
  echo "bench setup: installing sharp and playwright-core into bench/peers/node_modules" >&2
  (cd "$here/peers" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >/dev/null)
}

packages=(
  imagemagick libvips-tools wrk hyperfine time sqlite3
  linux-perf valgrind python3 chromium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then s_npm; exit 0; fi

echo "bench setup: installing ${missing[*]}" >&2
sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo_cmd apt-get update -qq
$sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
s_npm
