#!/usr/bin/env python3
"""A screenshot URL shared by every image of a render is fetched about once
per renderer, not once per image and attempt.

A 40-locale render whose one screenshot URL has no {locale} is drawn by two
renderers; the test HTTP server counts GETs of that URL: at most one per
renderer (plus one more per renderer for a render whose last queued task was
leased early, never one per image). A second render fetches again (the bytes
are never shared across renders), and the render's images all succeed. A
URL that answers 404 is likewise asked about once per renderer, not per image.
"""
import http.server
import threading

import harness
from harness import Stack, check

LOCALES = ["l%02d-XX" % i for i in range(40)]


class CountingServer:
    def __init__(self):
        self.png = harness.make_png(393, 852)
        self.count = 0
        self.missing = 0
        self.lock = threading.Lock()
        server = self

        class Handler(harness._Quiet):
            def do_GET(self):
                if self.path.startswith("/missing"):
                    with server.lock:
                        server.missing += 1
                    self.send_response(404)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"no")
                    return
                with server.lock:
                    server.count += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(server.png)))
                self.end_headers()
                self.wfile.write(server.png)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/shot.png" % self.httpd.server_address[1]


def main():
    shots = CountingServer()
    stack = Stack(renderers=2, webhooker=False)
    body = {"async": True, "canvas": {"preset": "appstore.iphone_6_9"},
            "matrix": {"locales": LOCALES}, "slides": [harness.slide(shot_url=shots.url)]}
    status, _, r = stack.json("POST", "/v1/renders", body)
    check(status == 202, "accepted, got %d %r" % (status, r))
    done = stack.wait_render(r["id"], timeout=200)
    check(done["status"] == "succeeded" and len(done["images"]) == 40,
          "40 images succeeded: %r" % done.get("error"))
    first = shots.count
    print("40 images, 2 renderers: %d fetches of the shared URL" % first)
    check(1 <= first <= 4, "about one fetch per renderer for 40 images, got %d" % first)

    body["matrix"]["locales"] = LOCALES[:4]
    status, _, r2 = stack.json("POST", "/v1/renders", body)
    check(status == 202, "second render accepted, got %d" % status)
    done = stack.wait_render(r2["id"], timeout=120)
    check(done["status"] == "succeeded", "second render succeeded")
    check(shots.count - first >= 1, "another render fetches the URL for itself")

    # a failing URL is not asked once per image either
    body["matrix"]["locales"] = LOCALES
    body["slides"] = [harness.slide(shot_url=shots.url.replace("/shot.png", "/missing.png"))]
    status, _, r3 = stack.json("POST", "/v1/renders", body)
    check(status == 202, "third render accepted, got %d" % status)
    done = stack.wait_render(r3["id"], timeout=200)
    check(done["status"] == "failed", "a render of a 404 screenshot fails: %r" % done["status"])
    print("40 images of a 404 URL, 2 renderers: %d fetches" % shots.missing)
    check(1 <= shots.missing <= 4, "about one fetch per renderer of a failing URL, got %d" % shots.missing)
    status, _, _ = stack.request("GET", "/healthz", auth=False)
    check(status == 200, "gateway still up")
    stack.close()
    shots.httpd.shutdown()
    print("adv_fetch_once: ok")


if __name__ == "__main__":
    main()
