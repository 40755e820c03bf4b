"""Kept-alive connections last as long as the gateway says they do:
- every answer on a kept-alive connection carries `Keep-Alive: timeout=N`
  with N of several seconds (clients such as Node's fetch keep idle sockets
  about 4 s and need the hint);
- a client that pauses about 1 s between requests on one connection gets
  every answer on that same connection (no reset, no reconnect);
- an idle connection is closed by the gateway after about N seconds, not kept
  forever (checked with a generous bound)."""
import http.client
import json
import socket
import time
from harness import Stack, check

stack = Stack(renderers=0, webhooker=False)

conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=30)
timeout_s = None
first_sock = None
for i in range(6):
    conn.request("GET", "/v1/account", headers={"Authorization": "Bearer " + stack.key})
    resp = conn.getresponse()
    body = resp.read()
    check(resp.status == 200, "request %d answered %d: %r" % (i, resp.status, body[:200]))
    check(json.loads(body).get("object") == "account", "request %d: not an account: %r" % (i, body[:200]))
    ka = resp.getheader("Keep-Alive") or ""
    check(ka.startswith("timeout="), "request %d: no Keep-Alive: timeout= header (%r)" % (i, ka))
    timeout_s = int(ka.split("=", 1)[1].split(",")[0])
    check(timeout_s >= 3, "Keep-Alive timeout %d s is shorter than clients keep sockets" % timeout_s)
    check((resp.getheader("Connection") or "").lower() != "close", "request %d closed the connection" % i)
    if first_sock is None:
        first_sock = conn.sock
    check(conn.sock is first_sock, "request %d went over a new connection" % i)
    time.sleep(1.0)

# the same pauses with a POST that has a body, and an error answer
for i in range(2):
    conn.request("POST", "/v1/renders", body=b"{", headers={"Authorization": "Bearer " + stack.key,
                                                               "Content-Type": "application/json"})
    resp = conn.getresponse()
    body = resp.read()
    check(resp.status == 400, "bad JSON answered %d: %r" % (resp.status, body[:200]))
    check(json.loads(body)["error"]["code"], "no error code: %r" % body)
    check(conn.sock is first_sock, "POST %d went over a new connection" % i)
    time.sleep(1.0)
conn.close()

# an idle connection is closed by the gateway some time after the advertised timeout
s = socket.create_connection(("127.0.0.1", stack.http_port), timeout=5)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got or not got.endswith(b"}"):
    chunk = s.recv(4096)
    check(chunk, "connection closed before the /healthz answer")
    got += chunk
s.settimeout(timeout_s + 20)
start = time.time()
try:
    rest = s.recv(4096)
except socket.timeout:
    rest = None
check(rest == b"", "an idle kept-alive connection was not closed within %d s" % (timeout_s + 20))
check(time.time() - start >= 1, "the idle connection was closed at once, not kept alive")
s.close()

status, _, _ = stack.request("GET", "/healthz", auth=False)
check(status == 200, "gateway not healthy afterwards: %d" % status)
print("ok: %d requests over one connection with 1 s pauses, Keep-Alive timeout=%d" % (8, timeout_s))
