#!/usr/bin/env bash
# tests/pg/run.sh [--listen ADDR] [--hba LINE] COMMAND [ARGS...]: runs COMMAND
# against a PostgreSQL of its own (Debian's PostgreSQL 15 in a temporary
# directory, a free loopback port, an unprivileged user, fsync off), with
# EASEL_DATABASE_URL set to its database easel; stops the server after,
# whatever COMMAND did. --listen ADDR: it listens on ADDR too, and the URL
# names ADDR; --hba LINE: appended to pg_hba.conf (initdb's trusts loopback
# only), e.g. "host all all 10.0.0.0/24 trust" for a test network's hosts. Exits with
# COMMAND's status, or 77 (skipped) only when the PostgreSQL binaries are not
# installed. The server's start and stop are tests/pg/pgserver.py's, which
# the benchmarks in bench/ use too.
exec python3 "$(dirname "$0")/pgserver.py" run "$@"
