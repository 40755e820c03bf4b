"""Helpers of the capture tests: a page server of known colours, a PNG
decoder (stdlib only, so the check is independent of Easel's C), and the
chromium skip rule."""
import os
import shutil
import struct
import sys
import threading
import time
import zlib
import http.server

from harness import check, make_png

RED = (224, 16, 16)
BLUE = (16, 48, 224)

GREEN = (16, 200, 64)

TALL = (b"<!doctype html><html><head><style>html,body{margin:0;padding:0}"
        b"#a{height:1500px;background:rgb(224,16,16)}#b{height:500px;background:rgb(16,200,64)}"
        b"</style></head><body><div id=a></div><div id=b></div></body></html>")

PAGE = (b"<!doctype html><html><head><style>html,body{margin:0;padding:0}"
        b"#a{height:50vh;background:rgb(224,16,16)}#b{height:50vh;background:rgb(16,48,224)}"
        b"</style></head><body><div id=a></div><div id=b></div></body></html>")


_HEAD = b"<!doctype html><html><head><meta charset=utf-8><style>html,body{margin:0;padding:0;background:#fff}"

# a cookie banner (red, fixed at the bottom) and an ad slot (blue) over green content
CLEAN = (_HEAD + b"#c{height:600px;background:rgb(16,200,64)}"
         b".ad-slot{position:absolute;top:20px;left:20px;width:300px;height:100px;background:rgb(16,48,224)}"
         b"#cookie-banner{position:fixed;left:0;right:0;bottom:0;height:120px;background:rgb(224,16,16)}"
         b"</style></head><body><div id=c></div><div class=ad-slot></div>"
         b"<div id=cookie-banner>We use cookies <button id=accept onclick=\"this.parentNode.remove()\">OK</button></div></body></html>")

# a 3000 px feed whose last item turns green only once it is scrolled into view
LAZY = (_HEAD + b".i{height:500px;background:rgb(224,16,16)}#last{height:500px;background:#fff}"
        b"</style></head><body><div class=i></div><div class=i></div><div class=i></div><div class=i></div>"
        b"<div class=i></div><div id=last></div><script>new IntersectionObserver(function(es){es.forEach("
        b"function(e){if(e.isIntersecting)e.target.style.background='rgb(16,200,64)';});})"
        b".observe(document.getElementById('last'));</script></body></html>")

# a 200x120 green box at (50, 100)
BOXES = (_HEAD + b"#box{position:absolute;left:50px;top:100px;width:200px;height:120px;background:rgb(16,200,64)}"
         b"</style></head><body><div id=box></div></body></html>")

# red in light mode, blue in dark mode
DARK = (_HEAD + b"body{height:100vh;background:rgb(224,16,16)}"
        b"@media (prefers-color-scheme: dark){body{background:rgb(16,48,224)}}</style></head><body></body></html>")

# red; a green #late element appears after 1.5 s
LATE = (_HEAD + b"body{height:100vh;background:rgb(224,16,16)}#late{height:100vh;background:rgb(16,200,64)}"
        b"</style></head><body><script>setTimeout(function(){var d=document.createElement('div');d.id='late';"
        b"document.body.appendChild(d);},1500);</script></body></html>")

# white: css and js injection paint it
PLAIN = _HEAD + b"body{height:100vh}</style></head><body><div id=x></div></body></html>"

# green when the page sees Asia/Tokyo, fr-FR and the seeded local storage before its own script, else red
ENV = (_HEAD + b"body{height:100vh;background:rgb(224,16,16)}</style><script>"
       b"var ok=Intl.DateTimeFormat().resolvedOptions().timeZone==='Asia/Tokyo'&&navigator.language==='fr-FR'"
       b"&&localStorage.getItem('token')==='tok-42';"
       b"document.documentElement.style.setProperty('--c',ok?'rgb(16,200,64)':'rgb(224,16,16)');</script>"
       b"<style>body{background:var(--c)}</style></head><body></body></html>")

# a script and an image from this host each paint a block: blue (script), red (image)
FETCHED = (_HEAD + b"body{height:100vh}</style></head><body><div id=s></div>"
           b"<img src=/red.png width=200 height=100><script src=/paint.js></script></body></html>")
PAINT_JS = (b"var d=document.getElementById('s');d.style.height='100px';d.style.width='200px';"
            b"d.style.background='rgb(16,48,224)';")

# 40,000 px: past the full-page cap
HUGE = _HEAD + b"#h{height:40000px;background:rgb(16,200,64)}</style></head><body><div id=h></div></body></html>"

# 30,000 px (past Chromium's 16,384 px texture, so tiled): 29,000 green, then 1,000 blue
TALL30K = (_HEAD + b"#g{height:29000px;background:rgb(16,200,64)}#b{height:1000px;background:rgb(16,48,224)}"
           b"</style></head><body><div id=g></div><div id=b></div></body></html>")


# what a page stores: green when it finds no local storage of an earlier job, red when it does;
# then it sets a cookie and local storage and loads /iso.png, which carries the cookie back
ISOLATE = (_HEAD + b"body{height:100vh;background:rgb(16,200,64)}</style></head><body><script>"
           b"if(localStorage.getItem('iso')){document.body.style.background='rgb(224,16,16)';}"
           b"document.cookie='iso=job; max-age=3600; path=/';localStorage.setItem('iso','job');"
           b"document.write('<img src=/iso.png width=1 height=1>');</script></body></html>")


def need_chromium():
    """Browser tests skip (exit 77, ctest SKIP_RETURN_CODE) only when no chromium is installed."""
    path = os.environ.get("EASEL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        print("SKIP: chromium is not installed (scripts/deps.sh installs the Debian package)")
        sys.exit(77)
    return path


class PageServer:
    """/page (red over blue), /tall (1500 px red over 500 px green), /shot.png (an image), /hang (headers, then never
    finishes), /slow (answers after `slow_s`), /held (answers once `hold()` returns), /auth (needs X-Token: sesame),
    /login (the green box with Cookie sid=open-sesame, else red over blue), and the option pages
    above (/clean, /lazy, /boxes, /dark, /late, /plain, /env, /huge, /tall30k, /fetched
    with /paint.js and /red.png, /isolate with /iso.png).
    Records (path, user agent, X-Token, Cookie, Accept-Language) of each request in `seen`."""

    def __init__(self, slow_s=4):
        self.seen = []
        self.png = make_png(300, 200, rgb=(20, 200, 60))
        self.slow_s = slow_s
        self.hold = None           # /held (the browser's request) calls it before answering /page's body
        self.extra = {"/clean": CLEAN, "/lazy": LAZY, "/boxes": BOXES, "/dark": DARK, "/late": LATE,
                      "/plain": PLAIN, "/env": ENV, "/huge": HUGE, "/tall30k": TALL30K, "/fetched": FETCHED,
                      "/isolate": ISOLATE}
        self.red_png = make_png(200, 100, rgb=RED)
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with server.lock:
                    server.seen.append((self.path, self.headers.get("User-Agent", ""),
                                        self.headers.get("X-Token"), self.headers.get("Cookie"),
                                        self.headers.get("Accept-Language")))
                try:
                    self._answer()
                except OSError:
                    pass

            def _answer(self):
                path = self.path.split("?")[0]
                if path == "/hang":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b"<html><body>loading")
                    self.wfile.flush()
                    time.sleep(60)
                    return
                if path == "/slow" and "Chrome" in self.headers.get("User-Agent", ""):
                    time.sleep(server.slow_s)
                if path == "/held" and server.hold and "Chrome" in self.headers.get("User-Agent", ""):
                    server.hold()
                if path == "/shot.png":
                    body, ctype, code = server.png, "image/png", 200
                elif path == "/tall":
                    body, ctype, code = TALL, "text/html", 200
                elif path in ("/page", "/slow", "/held"):
                    body, ctype, code = PAGE, "text/html", 200
                elif path == "/paint.js":
                    body, ctype, code = PAINT_JS, "text/javascript", 200
                elif path in ("/red.png", "/iso.png"):
                    body, ctype, code = server.red_png, "image/png", 200
                elif path in server.extra:
                    body, ctype, code = server.extra[path], "text/html", 200
                elif path == "/login":
                    ok = "sid=open-sesame" in (self.headers.get("Cookie") or "")
                    body, ctype, code = (BOXES if ok else PAGE), "text/html", 200
                elif path == "/auth":
                    ok = self.headers.get("X-Token") == "sesame"
                    body, ctype, code = (PAGE, "text/html", 200) if ok else (b"no", "text/plain", 401)
                else:
                    body, ctype, code = b"not found", "text/plain", 404
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def browser_hits(self, path):
        with self.lock:
            return [s for s in self.seen if s[0].startswith(path) and "Chrome" in s[1]]


def decode_png(data):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB or RGBA PNG."""
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            check(depth == 8 and ctype in (2, 6), "PNG is not 8-bit RGB(A): depth %d type %d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def bbox(rows, rgb, tol=12):
    """Bounding box (x0, y0, x1, y1) inclusive of pixels within tol of rgb, or None."""
    x0 = y0 = 10 ** 9
    x1 = y1 = -1
    for y, row in enumerate(rows):
        for x, p in enumerate(row):
            if abs(p[0] - rgb[0]) <= tol and abs(p[1] - rgb[1]) <= tol and abs(p[2] - rgb[2]) <= tol:
                x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
    return None if x1 < 0 else (x0, y0, x1, y1)


def share_with_browser(dirname, marker):
    """A root renderer runs the browser as nobody (--browser-user): it must be
    able to run a stand-in script in dirname and append to marker."""
    os.chmod(dirname, 0o755)
    with open(marker, "a"):
        pass
    os.chmod(marker, 0o666)


def chromium_wrapper(dirname, marker):
    """A chromium stand-in script that records each launch in `marker`, then
    runs the real browser: tells whether a capture started a browser (the
    renderer's start-up check of the browser's sandbox is one launch more,
    kept as the first slot's warm browser)."""
    real = need_chromium()
    share_with_browser(dirname, marker)
    path = os.path.join(dirname, "chromium-counting")
    with open(path, "w") as f:
        f.write("#!/bin/sh\necho launch >> '%s'\nexec '%s' \"$@\"\n" % (marker, real))
    os.chmod(path, 0o755)
    return path
