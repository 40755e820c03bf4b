#!/usr/bin/env bash
# tests/pg/run.sh [--listen ADDR] [--hba LINE] COMMAND [ARGS...]: runs COMMAND
# against a PostgreSQL of its own. Starts Debian's PostgreSQL (initdb +
# pg_ctl of /usr/lib/postgresql/15, or PG_BIN) in a temporary directory,
# listening on 127.0.0.1 (and on ADDR too with --listen, which
# EASEL_DATABASE_URL then names) on a free ephemeral port with its unix
# socket in that directory, as an unprivileged
# user (easeltest, made with useradd when this runs as root; the current
# user otherwise); creates the database easel; runs COMMAND with
# EASEL_DATABASE_URL set to it; then stops the server and removes the
# directory, whatever COMMAND did. Exits with COMMAND's status, or 77
# (skipped) only when the PostgreSQL binaries are not installed; any other
# failure to start is a failure (1), never a skip. --hba LINE appends LINE
# to pg_hba.conf (initdb's trusts loopback only), for example
# "host all all 10.0.0.0/24 trust" for the other hosts of a test network.
set -u

listen=""
hba=""
while [ $# -gt 0 ]; do
  case "$1" in
    --listen) [ $# -ge 2 ] || { echo "tests/pg: --listen needs an address" >&2; exit 2; }
              listen="$2"; shift 2 ;;
    --hba)    [ $# -ge 2 ] || { echo "tests/pg: --hba needs a pg_hba.conf line" >&2; exit 2; }
              hba="$2"; shift 2 ;;
    *) break ;;
  esac
done

pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "$pg_bin/initdb" ] || [ ! -x "$pg_bin/pg_ctl" ] || [ ! -x "$pg_bin/postgres" ]; then
  echo "tests/pg: no PostgreSQL 15 in $pg_bin (Debian package postgresql): skipped" >&2
  exit 77
fi
if [ $# -lt 1 ]; then
  echo "usage: tests/pg/run.sh [--listen ADDR] [--hba LINE] COMMAND [ARGS...]" >&2
  exit 2
fi

as_user=()
db_user="$(id -un)"
if [ "$(id -u)" -eq 0 ]; then
  db_user=easeltest
  if ! id -u "$db_user" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$db_user" 2>/dev/null \
      || id -u "$db_user" >/dev/null 2>&1 \
      || { echo "tests/pg: cannot create the user $db_user" >&2; exit 1; }
  fi
  as_user=(runuser -u "$db_user" --)
fi

dir="$(mktemp -d /tmp/easel-pg-XXXXXX)" || { echo "tests/pg: mktemp failed" >&2; exit 1; }
[ ${#as_user[@]} -eq 0 ] || chown "$db_user" "$dir"
chmod 0700 "$dir"

s_stop () {
  if [ -f "$dir/data/postmaster.pid" ]; then
    "${as_user[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1
  fi
  rm -rf "$dir"
}
trap s_stop EXIT
trap 'exit 130' INT TERM

# a free port: bind port 0 and keep what the kernel chose (on the address
# the server is given, when there is one)
port="$(python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' \
        "${listen:-127.0.0.1}")" || { echo "tests/pg: cannot bind ${listen:-127.0.0.1}" >&2; exit 1; }

if ! "${as_user[@]}" "$pg_bin/initdb" -D "$dir/data" -U easel --auth=trust --encoding=UTF8 \
       --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
  echo "tests/pg: initdb failed:" >&2
  cat "$dir/initdb.log" >&2
  exit 1
fi
if [ -n "$hba" ]; then
  printf '%s\n' "$hba" >>"$dir/data/pg_hba.conf"
fi
# fsync off: a test server's durability is not under test, its speed is
if ! "${as_user[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
       -o "-h 127.0.0.1${listen:+,$listen} -p $port -k $dir -c fsync=off -c max_connections=60" start >/dev/null 2>&1; then
  echo "tests/pg: the server did not start:" >&2
  cat "$dir/server.log" >&2
  exit 1
fi
if ! PGHOST=127.0.0.1 PGPORT="$port" PGUSER=easel "$pg_bin/createdb" easel 2>"$dir/createdb.log"; then
  echo "tests/pg: createdb failed:" >&2
  cat "$dir/createdb.log" >&2
  exit 1
fi

export EASEL_DATABASE_URL="postgresql://easel@${listen:-127.0.0.1}:$port/easel"
"$@"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
  echo "tests/pg: $1 exited $rc; the server's log:" >&2
  tail -n 30 "$dir/server.log" >&2
fi
exit $rc
