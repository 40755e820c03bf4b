#!/usr/bin/env bash
# Installs the Debian packages Easel builds, runs and tests with, then the
# npm packages of its conformance checks, TypeScript client and browser tests
# (scripts/npm_deps.sh) when node is
# installed. Idempotent: silent and quick when everything is already there.
set -eu

packages=(
  build-essential cmake pkg-config git ca-certificates
  clang libclang-rt-14-dev
  libzmq3-dev libczmq-dev libmsgpack-dev libcivetweb-dev
  libcurl4-openssl-dev libpsl-dev publicsuffix libsodium-dev libssl-dev
  libgd-dev libpng-dev libdeflate-dev libfreetype-dev libraqm-dev
  libsqlite3-dev libjansson-dev libarchive-dev
  libpq-dev postgresql
  fonts-dejavu-core fonts-noto-core fonts-noto-cjk
  python3 curl procps openssl
  python3-yaml iproute2
  chromium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# the npm packages of the conformance checks, the TypeScript client and the
# review page browser test, as
# their package-lock.json files pin them. node (v20 or later, with npm) is
# not a Debian package here: without it those tests skip and say so. The
# image of compose/Dockerfile runs this script alone, without npm_deps.sh
# beside it (the services need no npm package).
npm_deps="$(dirname "$0")/npm_deps.sh"
if [ ! -f "$npm_deps" ]; then
  :
elif command -v node >/dev/null; then
  "$npm_deps"
else
  echo "deps: node not found; the conformance, TypeScript client and browser tests will skip" >&2
fi
