#!/usr/bin/env python3
"""test_webhook_config.py: easel-webhooker refuses out-of-range settings
(EASEL_WEBHOOK_TIMEOUT_MS, _PER_HOST, _MIN_RETRY_MS, _SCHEDULE and their
flags) at start with exit 2 and a fatal log line naming the limit."""
import os, subprocess, sys

CASES = [
    ({"EASEL_WEBHOOK_TIMEOUT_MS": "abc"}, [], "100..120000"),
    ({"EASEL_WEBHOOK_TIMEOUT_MS": "99"}, [], "100..120000"),
    ({}, ["--timeout-ms", "120001"], "100..120000"),
    ({"EASEL_WEBHOOK_PER_HOST": "0"}, [], "1..256"),
    ({}, ["--per-host", "257"], "1..256"),
    ({"EASEL_WEBHOOK_MIN_RETRY_MS": "-5"}, [], "0..3600000"),
    ({}, ["--min-retry-ms", "3600001"], "0..3600000"),
    ({"EASEL_WEBHOOK_SCHEDULE": "5,,6"}, [], "retry schedule"),
]


def main(binary):
    failures = 0
    for env, args, needle in CASES:
        r = subprocess.run([binary] + args, env=dict(os.environ, **env), capture_output=True, timeout=20)
        if r.returncode != 2 or needle.encode() not in r.stderr or b'"level":"fatal"' not in r.stderr:
            print("FAIL %r %r: exit %d, stderr %r" % (env, args, r.returncode, r.stderr[-300:]))
            failures += 1
    if failures:
        print("%d check(s) failed" % failures)
        return 1
    print("webhook_config: %d bad settings refused" % len(CASES))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
