#!/usr/bin/env bash
# Installs the npm packages Easel's tests use, from the npm registry by name,
# exactly as each package-lock.json pins them. For every listed folder it runs
# `npm ci` when node_modules is missing or older than the lock file, so it is
# quick when nothing changed. No browser is ever downloaded: the tests drive
# Debian's chromium (/usr/bin/chromium, scripts/deps.sh).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
dirs=(
  tests/browser
)

command -v npm >/dev/null 2>&1 || { echo "npm_deps: npm is not installed (apt-get install npm)" >&2; exit 1; }
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for d in "${dirs[@]}"; do
  dir="$root/$d"
  [ -f "$dir/package-lock.json" ] || { echo "npm_deps: $d has no package-lock.json" >&2; exit 1; }
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "npm_deps: npm ci in $d" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$dir/node_modules"
  fi
done
