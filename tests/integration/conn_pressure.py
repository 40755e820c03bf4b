"""Hostile connection patterns against the gateway, kept up from one thread:
idle TCP connections that send nothing, slowloris clients that send a header
byte every few seconds, and long polls (GET ...?wait=S) kept open. A
connection the gateway closes is opened again, so the pressure stays at the
asked numbers for as long as it runs. Used by tests/adversarial/adv_connections.py
and bench/slowloris.py. Python standard library only."""
import resource
import selectors
import socket
import threading
import time


def raise_nofile(need):
    """Raises RLIMIT_NOFILE (soft, up to hard) so `need` sockets fit; children
    started afterwards (the gateway) inherit it. Returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(max(soft, need), hard)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Pressure:
    """idle, slowloris and polls connections to 127.0.0.1:port. poll_path is the
    long poll's path (with ?wait=), poll_key its API key."""

    def __init__(self, port, idle=0, slowloris=0, polls=0, poll_path=None, poll_key=None,
                 drip_s=2.0):
        self.port = port
        self.want = {"idle": idle, "slow": slowloris, "poll": polls}
        self.poll_request = None
        if polls:
            self.poll_request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n"
                                 % (poll_path, poll_key)).encode()
        self.drip_s = drip_s
        self.sel = selectors.DefaultSelector()
        self.open = {"idle": 0, "slow": 0, "poll": 0}
        self.answered = {}          # status -> count of long-poll answers
        self.closed_by_server = 0
        self.connect_errors = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self, ramp_s=10.0):
        """Starts the thread and waits (up to ramp_s) until every connection is open."""
        self.thread.start()
        deadline = time.time() + ramp_s
        while time.time() < deadline:
            if all(self.open[k] >= self.want[k] for k in self.want):
                return True
            time.sleep(0.05)
        return False

    def close(self):
        self.stop.set()
        self.thread.join(timeout=10)
        for key in list(self.sel.get_map().values()):
            try:
                key.fileobj.close()
            except OSError:
                pass
        self.sel.close()

    def snapshot(self):
        with self.lock:
            return dict(open=dict(self.open), answered=dict(self.answered),
                        closed_by_server=self.closed_by_server, connect_errors=self.connect_errors)

    def _connect(self, kind):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect_ex(("127.0.0.1", self.port))
        except OSError:
            s.close()
            with self.lock:
                self.connect_errors += 1
            return
        state = {"kind": kind, "buf": b"", "sent": False, "next_drip": time.time() + 0.1,
                 "drip": b"GET /healthz HTTP/1.1\r\nX-a: "}
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, state)
        with self.lock:
            self.open[kind] += 1

    def _drop(self, s, state, by_server):
        try:
            self.sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()
        with self.lock:
            self.open[state["kind"]] -= 1
            if by_server:
                self.closed_by_server += 1

    def _run(self):
        while not self.stop.is_set():
            for kind, n in self.want.items():
                while self.open[kind] < n and not self.stop.is_set():
                    self._connect(kind)
            now = time.time()
            for key, mask in self.sel.select(timeout=0.2):
                s, state = key.fileobj, key.data
                if mask & selectors.EVENT_WRITE:
                    if state["kind"] == "poll" and not state["sent"]:
                        try:
                            s.sendall(self.poll_request)
                        except OSError:
                            self._drop(s, state, True)
                            continue
                        state["sent"] = True
                    self.sel.modify(s, selectors.EVENT_READ, state)
                if mask & selectors.EVENT_READ:
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        self._drop(s, state, True)
                        continue
                    state["buf"] += data
                    if state["kind"] == "poll" and b"\r\n\r\n" in state["buf"]:
                        line = state["buf"].split(b"\r\n", 1)[0].split()
                        status = int(line[1]) if len(line) > 1 and line[1].isdigit() else 0
                        with self.lock:
                            self.answered[status] = self.answered.get(status, 0) + 1
                        self._drop(s, state, False)      # a new long poll takes its place
            # slowloris: one byte of a header that never ends, every drip_s
            for key in list(self.sel.get_map().values()):
                state = key.data
                if state["kind"] == "slow" and now >= state["next_drip"]:
                    byte, state["drip"] = (state["drip"][:1] or b"a"), state["drip"][1:]
                    try:
                        key.fileobj.send(byte)
                    except OSError:
                        self._drop(key.fileobj, state, True)
                        continue
                    state["next_drip"] = now + self.drip_s
