#!/usr/bin/env bash
# Installs the npm packages Easel's checks use, exactly as each directory's
# package-lock.json pins them (npm ci from the npm registry). A directory whose
# node_modules was installed from the same package.json + package-lock.json is
# skipped, so running this again is quick and silent. Anything else that goes
# wrong (no npm, a missing lock file, a failed install) stops with an error.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dirs=(
  tests/conformance
  clients/typescript
  tests/browser
  tests/s3
)

command -v node >/dev/null || { echo "npm_deps: node is not installed (expected /usr/bin/node, v20)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm_deps: npm is not installed (it comes with node)" >&2; exit 1; }
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

for d in "${dirs[@]}"; do
  dir="$root/$d"
  for f in package.json package-lock.json; do
    [ -f "$dir/$f" ] || { echo "npm_deps: $d/$f is missing" >&2; exit 1; }
  done
  stamp="$dir/node_modules/.easel-installed"
  want=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    continue
  fi
  echo "npm_deps: installing $d" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) \
    || { echo "npm_deps: npm ci failed in $d" >&2; exit 1; }
  printf '%s\n' "$want" > "$stamp"
done
