#!/bin/sh
# smoke.sh SECONDS SEEDER FUZZER...: seeds a corpus per fuzzer with SEEDER, then runs
# each libFuzzer binary for SECONDS; fails if any finds a crash, leak or abort.
secs=$1; seeder=$2; shift 2
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
"$seeder" "$work" || { echo "seeding failed"; exit 1; }
pass=0; fail=0
for bin in "$@"; do
    name=$(basename "$bin")
    mkdir -p "$work/$name"
    if "$bin" -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 \
              -artifact_prefix="$work/$name-" "$work/$name" >"$work/$name.log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name:"; tail -30 "$work/$name.log"
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
