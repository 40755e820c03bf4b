"""Uploaded files (POST /v1/files), whole stack:
- raw bytes answer 201 with the file object; the same bytes again (raw or
  multipart) answer 200 with the same id; GET /v1/files?sha256= finds it,
  404 for bytes never sent;
- GET /v1/files/file_... serves the bytes to the owner, 404 to another
  account, 401 without a key;
- a render with screenshot.file_id, one file per locale, succeeds; another
  account's file_id is refused 422 file_not_found naming the field;
- bad inputs: text/plain 415, declared type unlike the bytes 422, over
  20 MiB 413 (before the body is read), too many pixels 422, not an image
  422, a form part not named file 422;
- the storage quota: an upload past it answers 403 storage_quota_exceeded."""
import hashlib
import http.client
import json
import os
import struct
import zlib
from harness import Stack, check, make_png

QUOTA = 400000
os.environ["EASEL_STORAGE_QUOTA_BYTES"] = str(QUOTA)
stack = Stack(renderers=1)
other = json.loads(stack.cli("keys", "create", "--name", "tenant-b", "--json"))
key_b = other["api_key"]


def upload(data, ctype="image/png", key=True):
    status, _, obj = stack.json("POST", "/v1/files", raw=data, auth=key,
                                headers={"Content-Type": ctype})
    return status, obj


def multipart(data, name="file"):
    boundary = "easelboundary42"
    body = (("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"a.png\"\r\n"
             "Content-Type: image/png\r\n\r\n" % (boundary, name)).encode() + data
            + ("\r\n--%s--\r\n" % boundary).encode())
    return upload(body, "multipart/form-data; boundary=" + boundary)


def err_code(obj):
    return obj["error"]["code"], obj["error"].get("param")


en = make_png(300, 600, (200, 40, 40))
de = make_png(300, 600, (40, 200, 40))

# ---- upload, repeat, lookup ----
status, f = upload(en)
check(status == 201, "raw upload answered %d: %r" % (status, f))
check(f["id"].startswith("file_") and f["object"] == "file", "file object: %r" % f)
check(f["sha256"] == hashlib.sha256(en).hexdigest(), "sha256 of the bytes: %r" % f)
check(f["bytes"] == len(en) and f["width"] == 300 and f["height"] == 600 and f["format"] == "png",
      "bytes and size from the header: %r" % f)
check(f["created_at"] < f["expires_at"], "expires after it was created: %r" % f)
status, again = upload(en, "application/octet-stream")
check(status == 200 and again["id"] == f["id"], "same bytes again: %d %r" % (status, again))
status, viaform = multipart(en)
check(status == 200 and viaform["id"] == f["id"], "same bytes as multipart: %d %r" % (status, viaform))
status, fde = multipart(de)
check(status == 201 and fde["id"] != f["id"], "new bytes as multipart: %d %r" % (status, fde))

status, _, found = stack.json("GET", "/v1/files?sha256=" + f["sha256"])
check(status == 200 and found["id"] == f["id"], "lookup by sha256: %d %r" % (status, found))
status, _, missing = stack.json("GET", "/v1/files?sha256=" + "0" * 64)
check(status == 404, "lookup of bytes never sent answered %d" % status)
status, _, missing = stack.json("GET", "/v1/files?sha256=" + f["sha256"], auth=key_b)
check(status == 404, "another account's lookup answered %d" % status)
status, _, bad = stack.json("GET", "/v1/files?sha256=xyz")
check(status == 422 and err_code(bad) == ("parameter_invalid", "sha256"), "bad sha256: %r" % bad)

# ---- GET the bytes: owner, other account, no key ----
status, headers, raw = stack.request("GET", "/v1/files/" + f["id"])
check(status == 200 and raw == en, "owner GET answered %d (%d bytes)" % (status, len(raw)))
check(headers.get("Content-Type") == "image/png", "content type: %r" % headers)
status, _, _ = stack.request("GET", "/v1/files/" + f["id"], auth=key_b)
check(status == 404, "another account's GET answered %d" % status)
status, _, _ = stack.request("GET", "/v1/files/" + f["id"], auth=False)
check(status == 401, "GET without a key answered %d" % status)

# ---- render with a per-locale file_id map ----
body = {"canvas": {"preset": "appstore.iphone_6_9"},
        "matrix": {"locales": ["en-US", "de-DE"]},
        "slides": [{"headline": {"lines": ["Hello"]},
                    "screenshot": {"file_id": {"en-US": f["id"], "de-DE": fde["id"]}}}]}
status, _, r = stack.json("POST", "/v1/renders", body)
check(status == 200 and r["status"] == "succeeded", "render with file_id: %d %r" % (status, r))
check(len(r["images"]) == 2 and all(i["bytes"] > 0 for i in r["images"]), "two images: %r" % r)
check(r["images"][0]["sha256"] != r["images"][1]["sha256"], "each locale drew its own file")

body_b = dict(body, matrix={"locales": ["en-US"]},
              slides=[{"headline": {"lines": ["Hi"]}, "screenshot": {"file_id": f["id"]}}])
status, _, r = stack.json("POST", "/v1/renders", body_b, auth=key_b)
check(status == 422 and err_code(r) == ("file_not_found", "slides[0].screenshot.file_id"),
      "another account's file_id: %d %r" % (status, r))
body_miss = dict(body, slides=[{"screenshot": {"file_id": {"en-US": f["id"]}}}])
status, _, r = stack.json("POST", "/v1/renders", body_miss)
check(status == 422 and r["error"]["code"] == "parameter_missing"
      and r["error"]["param"].startswith("slides[0].screenshot.file_id.de-DE"),
      "a locale without a file: %d %r" % (status, r))

# ---- bad inputs ----
status, r = upload(en, "text/plain")
check(status == 415, "text/plain answered %d" % status)
status, r = upload(en, "image/jpeg")
check(status == 422 and err_code(r) == ("file_type_mismatch", "file"), "mismatch: %d %r" % (status, r))
status, r = upload(b"GIF89a" + b"\0" * 100, "application/octet-stream")
check(status == 422 and err_code(r) == ("file_invalid", "file"), "not an image: %d %r" % (status, r))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


huge = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 10000, 5000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b""))
status, r = upload(huge)
check(status == 422 and err_code(r) == ("image_too_large", "file"), "too many pixels: %d %r" % (status, r))
status, r = multipart(en, name="picture")
check(status == 422 and err_code(r) == ("parameter_unknown", "file"), "other part: %d %r" % (status, r))

conn = http.client.HTTPConnection("127.0.0.1", stack.http_port, timeout=30)
conn.putrequest("POST", "/v1/files")
conn.putheader("Authorization", "Bearer " + stack.key)
conn.putheader("Content-Type", "image/png")
conn.putheader("Content-Length", str(21 * 1024 * 1024))
conn.endheaders()
resp = conn.getresponse()
r = json.loads(resp.read())
check(resp.status == 413 and r["error"]["code"] == "file_too_large", "over 20 MiB: %d %r" % (resp.status, r))
conn.close()

# ---- quota: noise does not compress, so this PNG is over what is left ----
rows = b"".join(b"\x00" + os.urandom(3 * 400) for _ in range(400))
noise = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 400, 400, 8, 2, 0, 0, 0))
         + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b""))
check(len(noise) > QUOTA, "the noise PNG is over the quota")
status, r = upload(noise)
check(status == 403 and r["error"]["code"] == "storage_quota_exceeded", "quota: %d %r" % (status, r))
print("ok")
