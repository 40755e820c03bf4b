"""format "pdf" end to end against a page the test serves on 127.0.0.1: the
job's result is a file (format pdf, application/pdf from GET /v1/files/...)
whose bytes start with %PDF- and hold the pages expected: three for a page
whose print style breaks after each of its three sections (media is print
by default), one with media "screen" (no print style, so no breaks), two
with page_ranges "2-3"; the paper and landscape show in each page's
MediaBox (Letter 612x792 pt by default, A4 landscape 842x595); the job's
width and height are the paper's in CSS px. The capture keeps the egress
rule: the renderer refuses private networks but 127.0.0.1/32, and an image
on 127.0.0.2 (another loopback address, a "secret" server on the page
server's port) is never connected to while the PDF is printed. Bad pdf
fields and options a printed page has no use for answer 422 naming the
field."""
import io
import re
import socket
import threading
import zipfile

from harness import Stack, check
from capture_pages import PageServer, need_chromium

SECRET_IP = "127.0.0.2"

need_chromium()
pages = PageServer()


class SecretServer:
    """Counts every connection to SECRET_IP:port."""

    def __init__(self, port):
        self.hits = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((SECRET_IP, port))
        self.sock.listen(16)
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()


secret = SecretServer(pages.port)
DOC = ("<!doctype html><html><head><meta charset=utf-8><style>"
       "body{margin:0;font:20px sans-serif}.p{height:200px;background:rgb(16,200,64)}"
       "@media print{.p{break-after:page}}</style></head><body>"
       "<div class=p>one <img src=\"http://%s:%d/secret.png\" width=10 height=10></div>"
       "<div class=p>two</div><div class=p style=\"break-after:auto\">three</div></body></html>"
       % (SECRET_IP, pages.port)).encode()
pages.extra["/doc"] = DOC

stack = Stack(renderers=1, renderer_env={"EASEL_ALLOW_PRIVATE_NETWORKS": "0",
                                         "EASEL_ALLOW_NETWORKS": "127.0.0.1/32"})


def page_boxes(data):
    """The MediaBox [x0 y0 x1 y1] of each page object of a PDF (Chromium writes
    its page objects uncompressed)."""
    boxes = []
    for m in re.finditer(rb"/Type\s*/Page(?![a-zA-Z])", data):
        start = data.rfind(b"obj", 0, m.start())
        end = data.find(b"endobj", m.end())
        box = re.search(rb"/MediaBox\s*\[\s*([-\d.\s]+)\]", data[start:end])
        boxes.append([float(x) for x in box.group(1).split()] if box else None)
    return boxes


def sized(boxes, w, h):
    """Every page is w x h pt (Chromium rounds the paper to whole CSS px: within 1.5 pt)."""
    return bool(boxes) and all(b and abs(b[2] - b[0] - w) <= 1.5 and abs(b[3] - b[1] - h) <= 1.5 for b in boxes)


def pdf(**opts):
    body = {"url": pages.url("/doc"), "format": "pdf"}
    body.update(opts)
    status, _, job = stack.json("POST", "/v1/capture", body)
    check(status == 200 and job["status"] == "completed", "pdf %r: %d %r" % (opts, status, job))
    res = job["result"]
    check(res["format"] == "pdf" and ".pdf?" in res["url"], "a pdf result: %r" % res)
    status, headers, data = stack.request("GET", res["url"][len(stack.base):], auth=False)
    check(status == 200, "GET of the pdf file: %d" % status)
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    check(ctype == "application/pdf", "Content-Type of a pdf file: %r" % ctype)
    check(data[:5] == b"%PDF-", "the file starts with %%PDF-: %r" % data[:16])
    check(res["bytes"] == len(data), "result.bytes %d, the file %d" % (res["bytes"], len(data)))
    return job, res, page_boxes(data)


first, res, boxes = pdf()
check(len(boxes) == 3, "print media by default: three pages, got %d" % len(boxes))
check(sized(boxes, 612, 792),
      "Letter portrait is 612x792 pt: %r" % boxes)
check((res["width"], res["height"]) == (816, 1056), "Letter in CSS px: %r" % res)
check(res["truncated"] is False and res["credits_used"] == 3, "a printed page: %r" % res)

_, _, boxes = pdf(media="screen")
check(len(boxes) == 1, "media screen: no print breaks, one page, got %d" % len(boxes))

_, res, boxes = pdf(pdf={"page_size": "A4", "landscape": True, "page_ranges": "2-3", "print_background": True,
                      "margin": {"top": 0.5, "right": 0.5, "bottom": 0.5, "left": 0.5}, "scale": 0.8})
check(len(boxes) == 2, "page_ranges 2-3: two pages, got %d" % len(boxes))
check(sized(boxes, 842, 595),
      "A4 landscape is 842x595 pt: %r" % boxes)
check((res["width"], res["height"]) == (1123, 794), "A4 landscape in CSS px: %r" % res)

_, res, boxes = pdf(pdf={"page_size": {"width": 4, "height": 6}})
check(sized(boxes, 288, 432),
      "a 4x6 in paper is 288x432 pt: %r" % boxes)

# ranges past the document's end: the job fails and says so
status, _, job = stack.json("POST", "/v1/capture", {"url": pages.url("/doc"), "format": "pdf",
                                                     "pdf": {"page_ranges": "9-12"}})
check(status == 200 and job["status"] == "failed" and "range" in (job["error"] or "").lower(),
      "page_ranges past the end: %d %r" % (status, job))

# the job's archive holds the PDF (unplaced: no store takes one)
status, _, data = stack.request("GET", "/v1/renders/%s/archive" % first["id"])
check(status == 200, "archive of a pdf job: %d" % status)
with zipfile.ZipFile(io.BytesIO(data)) as z:
    names = [n for n in z.namelist() if n.endswith(".pdf")]
    check(names == ["unplaced/custom/default/01_816x1056.pdf"], "the archive's pdf: %r" % z.namelist())
    check(names and z.read(names[0])[:5] == b"%PDF-", "the archived file is the PDF")

check(secret.hits == 0, "the browser connected %d time(s) to %s, a refused private address"
      % (secret.hits, SECRET_IP))
check("127.0.0.2" in stack.log_text("renderer0"), "the renderer logs the refused address")

# bad fields: 422 naming each, before any job
for body, param in (({"pdf": {"page_size": "B9"}}, "pdf.page_size"),
                    ({"pdf": {"scale": 3}}, "pdf.scale"),
                    ({"pdf": {"margin": {"top": 20}}}, "pdf.margin.top"),
                    ({"pdf": {"page_ranges": "3-1"}}, "pdf.page_ranges"),
                    ({"pdf": {"landscape": "yes"}}, "pdf.landscape"),
                    ({"pdf": {"colour": True}}, "pdf.colour"),
                    ({"device": "iphone"}, "device"),
                    ({"full_page": True}, "full_page"),
                    ({"format": "png", "pdf": {}}, "pdf")):
    req = {"url": pages.url("/doc"), "format": "pdf"}
    req.update(body)
    status, _, err = stack.json("POST", "/v1/capture", req)
    check(status == 422 and err["error"]["param"] == param, "%r: %d %r, expected 422 naming %s"
          % (body, status, err, param))

print("ok: pdf captures (pages, paper, ranges, media, file, egress, validation)")
