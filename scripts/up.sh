#!/usr/bin/env bash
# Installs what is missing, builds Easel, installs it under ./dist and runs the
# whole stack on the embedded default (SQLite and files under ./easel-data).
# Extra arguments go to `easel up` (e.g. --listen 127.0.0.1:9090 --renderers 4).
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
cmake --install build --prefix "$PWD/dist" >/dev/null
exec "$PWD/dist/bin/easel" up "$@"
