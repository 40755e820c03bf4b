#!/usr/bin/env bash
# Installs what is missing, builds Easel and runs every test twice: a plain
# build, then one under AddressSanitizer + UndefinedBehaviorSanitizer. With
# clang present the protocol fuzzers, the source-image (PNG) fuzzer and the
# gateway request fuzzer are built and smoke-run as well.
# Warnings are errors in every build.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
jobs=$(nproc)

# run_suite DIR CTEST_FILTER CMAKE_ARGS...
run_suite () {
    local dir=$1 filter=$2; shift 2
    echo "== $dir: configure and build" >&2
    cmake -S . -B "$dir" -DEASEL_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
    echo "== $dir: ctest" >&2
    (cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout 300 ${filter:+-R "$filter"})
}

run_suite build '' -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEASEL_SANITIZE=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan '' -DCMAKE_BUILD_TYPE=Debug -DEASEL_SANITIZE=ON
if command -v clang >/dev/null 2>&1; then
    CC=clang run_suite build-fuzz '^fuzz' -DCMAKE_BUILD_TYPE=Debug -DEASEL_FUZZ=ON -DEASEL_SANITIZE=OFF
fi
