#!/usr/bin/env python3
"""A PostgreSQL 15 of its own, for the tests (tests/pg/run.sh) and the benchmarks (bench/).

Starts Debian's PostgreSQL (initdb + pg_ctl of /usr/lib/postgresql/15, or
PG_BIN) in a temporary directory, listening on 127.0.0.1 on a free ephemeral
port with its unix socket in that directory, as an unprivileged user
(easeltest, made with useradd when this runs as root; the current user
otherwise), with the database easel; stop() stops it (immediate) and removes
the directory. Tests run it with fsync off (a test server's durability is not
under test, its speed is); benchmarks with durable=True: PostgreSQL's own
defaults, fsync and synchronous_commit on, so a commit is on the disk.

As a library: PgServer(durable=..., settings={name: value}).start(); .url(db); .create_database(name);
.query(db, sql) -> rows; .stop(). PgServer.available() is False when the
binaries are not installed.

As a command: pgserver.py run [--listen ADDR] [--hba LINE] COMMAND [ARGS...]
(ADDR: another address to listen on, named by the URL; LINE: appended to
pg_hba.conf, which trusts loopback only) runs COMMAND with
EASEL_DATABASE_URL set to the server's database easel, then stops the server
whatever COMMAND did. Exits with COMMAND's status, or 77 (skipped) only when
the PostgreSQL binaries are not installed; any other failure to start is a
failure (1), never a skip.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
DB_USER_AS_ROOT = "easeltest"


class PgError(Exception):
    pass


def _free_port(addr="127.0.0.1"):
    s = socket.socket()
    try:
        s.bind((addr, 0))
        return s.getsockname()[1]
    finally:
        s.close()


class PgServer:
    def __init__(self, durable=False, max_connections=60, settings=None, listen=None, hba=None):
        self.durable = durable
        self.listen = listen            # another address to listen on, which url() then names
        self.hba = hba                  # a pg_hba.conf line to append
        self.settings = dict(settings or {})
        self.max_connections = max_connections
        self.dir = None
        self.port = None
        self.pid = None

    @staticmethod
    def available():
        return all(os.access(os.path.join(PG_BIN, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres"))

    def _as_user(self):
        """The argv prefix that runs a server binary as the unprivileged user."""
        if os.getuid() != 0:
            return []
        try:
            pwd.getpwnam(DB_USER_AS_ROOT)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                            DB_USER_AS_ROOT], stderr=subprocess.DEVNULL)
            try:
                pwd.getpwnam(DB_USER_AS_ROOT)
            except KeyError:
                raise PgError("cannot create the user " + DB_USER_AS_ROOT)
        return ["runuser", "-u", DB_USER_AS_ROOT, "--"]

    def _log(self, name, size=4000):
        try:
            with open(os.path.join(self.dir, name), errors="replace") as f:
                return f.read()[-size:]
        except OSError:
            return ""

    def start(self):
        """Starts the server and creates the database easel; raises PgError
        (with the failing step's log) and leaves nothing behind on failure."""
        if not self.available():
            raise PgError("no PostgreSQL 15 in %s (Debian package postgresql)" % PG_BIN)
        as_user = self._as_user()
        self.dir = tempfile.mkdtemp(prefix="easel-pg-")
        try:
            if as_user:
                shutil.chown(self.dir, DB_USER_AS_ROOT)
            os.chmod(self.dir, 0o700)
            data = os.path.join(self.dir, "data")
            with open(os.path.join(self.dir, "initdb.log"), "wb") as log:
                rc = subprocess.run(as_user + [os.path.join(PG_BIN, "initdb"), "-D", data, "-U", "easel",
                                               "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
                                    stdout=log, stderr=log).returncode
            if rc:
                raise PgError("initdb failed:\n" + self._log("initdb.log"))
            if self.hba:
                with open(os.path.join(data, "pg_hba.conf"), "a") as f:
                    f.write(self.hba + "\n")
            self.port = _free_port(self.listen or "127.0.0.1")
            hosts = "127.0.0.1" + ("," + self.listen if self.listen else "")
            opts = "-h %s -p %d -k %s -c max_connections=%d" % (hosts, self.port, self.dir, self.max_connections)
            if not self.durable:
                opts += " -c fsync=off"
            for k, v in self.settings.items():
                opts += " -c %s=%s" % (k, v)
            rc = subprocess.run(as_user + [os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-l",
                                           os.path.join(self.dir, "server.log"), "-w", "-t", "60",
                                           "-o", opts, "start"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
            if rc:
                raise PgError("the server did not start:\n" + self._log("server.log"))
            with open(os.path.join(data, "postmaster.pid")) as f:
                self.pid = int(f.readline())
            self.create_database("easel")
        except BaseException:
            self.stop()
            raise
        return self

    def _client_env(self):
        return dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(self.port), PGUSER="easel")

    def url(self, db="easel"):
        return "postgresql://easel@%s:%d/%s" % (self.listen or "127.0.0.1", self.port, db)

    def create_database(self, name):
        out = subprocess.run([os.path.join(PG_BIN, "createdb"), name], env=self._client_env(),
                             capture_output=True, timeout=60)
        if out.returncode:
            raise PgError("createdb %s failed: %s" % (name, out.stderr.decode(errors="replace")))

    def query(self, db, sql):
        """Rows of one SQL statement (psql, unaligned): a list of lists of strings."""
        out = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-F", "\t",
                              "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                             env=self._client_env(), capture_output=True, timeout=60)
        if out.returncode:
            raise PgError("psql failed: %s" % out.stderr.decode(errors="replace"))
        return [line.split("\t") for line in out.stdout.decode().splitlines() if line]

    def log_tail(self, lines=30):
        return "\n".join(self._log("server.log", 64 * 1024).splitlines()[-lines:])

    def stop(self):
        """Stops the server (if it runs) and removes its directory; safe twice."""
        if not self.dir:
            return
        data = os.path.join(self.dir, "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(self._as_user() + [os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-m", "immediate",
                                              "-w", "stop"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        self.pid = None


def _run(argv):
    if not PgServer.available():
        print("tests/pg: no PostgreSQL 15 in %s (Debian package postgresql): skipped" % PG_BIN, file=sys.stderr)
        return 77
    listen = hba = None
    while argv and argv[0] in ("--listen", "--hba"):
        if len(argv) < 2:
            print("tests/pg: %s needs a value" % argv[0], file=sys.stderr)
            return 2
        if argv[0] == "--listen":
            listen = argv[1]
        else:
            hba = argv[1]
        argv = argv[2:]
    if not argv:
        print("usage: tests/pg/run.sh [--listen ADDR] [--hba LINE] COMMAND [ARGS...]", file=sys.stderr)
        return 2
    server = PgServer(listen=listen, hba=hba)

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        try:
            server.start()
        except PgError as e:
            print("tests/pg: %s" % e, file=sys.stderr)
            return 1
        child = subprocess.Popen(argv, env=dict(os.environ, EASEL_DATABASE_URL=server.url()))
        try:
            rc = child.wait()
        finally:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
        if rc < 0:
            rc = 128 - rc
        if rc not in (0, 77):
            print("tests/pg: %s exited %d; the server's log:\n%s" % (argv[0], rc, server.log_tail()),
                  file=sys.stderr)
        return rc
    finally:
        server.stop()


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "run":
        sys.exit("usage: pgserver.py run COMMAND [ARGS...]")
    sys.exit(_run(sys.argv[2:]))
