#!/usr/bin/env bash
# Installs the npm packages of the JavaScript/TypeScript parts of Easel, each
# exactly as its package-lock.json pins them (npm ci, from the npm registry).
# Idempotent: a directory whose node_modules is newer than its lock is skipped.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
dirs=(
  clients/typescript
)

command -v npm >/dev/null || { echo "npm_deps: npm is not installed (node 20 and npm are needed)" >&2; exit 1; }
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
for d in "${dirs[@]}"; do
  dir="$root/$d"
  [ -f "$dir/package-lock.json" ] || { echo "npm_deps: $d has no package-lock.json" >&2; exit 1; }
  if [ -d "$dir/node_modules" ] && [ "$dir/node_modules" -nt "$dir/package-lock.json" ]; then
    continue
  fi
  echo "npm_deps: npm ci in $d" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$dir/node_modules"
done
