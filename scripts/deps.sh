#!/usr/bin/env bash
# Installs the Debian packages Easel builds, runs and tests with, then the
# npm packages of the browser tests (scripts/npm_deps.sh).
# Idempotent: silent and quick when everything is already there.
set -eu

packages=(
  build-essential cmake pkg-config git ca-certificates
  clang libclang-rt-14-dev
  libzmq3-dev libczmq-dev libmsgpack-dev libcivetweb-dev
  libcurl4-openssl-dev libsodium-dev libssl-dev
  libgd-dev libpng-dev libdeflate-dev libfreetype-dev libraqm-dev
  libsqlite3-dev libjansson-dev libarchive-dev
  fonts-dejavu-core fonts-noto-core fonts-noto-cjk
  python3 curl procps openssl
  python3-yaml iproute2
  chromium nodejs
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
"$(dirname "$0")/npm_deps.sh"
