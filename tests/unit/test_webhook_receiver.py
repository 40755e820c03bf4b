#!/usr/bin/env python3
"""test_webhook_receiver.py: a webhook endpoint for test_webhook_deliver.c.
    test_webhook_receiver.py PORT_FILE SECRET STATUSES
Listens on an ephemeral loopback port (written to PORT_FILE), verifies both
signatures of every POST with the independent verifiers of
test_webhook_vectors.py, prints one JSON line per request to stdout and answers
with the next status of STATUSES (comma list; the last one repeats)."""
import http.server, json, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_webhook_vectors import verify_asa, verify_std

port_file, secret, statuses = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")]
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        now = int(time.time())
        h = self.headers
        line = {
            "n": count, "body": body.decode("utf-8", "replace"),
            "user_agent": h.get("User-Agent"), "content_type": h.get("Content-Type"),
            "webhook_id": h.get("webhook-id"),
            "asa_ok": verify_asa(secret, h.get("X-ASA-Signature", ""), body, now, 300),
            "std_ok": verify_std(secret, h.get("webhook-id", ""), h.get("webhook-timestamp", ""),
                                 h.get("webhook-signature", ""), body, now, 300),
        }
        status = statuses[min(count, len(statuses) - 1)]
        count += 1
        print(json.dumps(line), flush=True)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(f"answered {status}".encode())

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
