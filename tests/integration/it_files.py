"""Uploaded files (POST /v1/files), whole stack:
- raw bytes answer 201 with the file object; the same bytes again (raw or
  multipart) answer 200 with the same id; GET /v1/files?sha256= finds it,
  404 for bytes never sent;
- GET /v1/files/file_... serves the bytes to the owner, 404 to another
  account, 401 without a key;
- a render with screenshot.file_id, one file per locale, succeeds; another
  account's file_id is refused 422 file_not_found naming the field; a null
  in a "<locale>/<preset>" map leaves that image out;
- background.image.file_id: an uploaded background is drawn under the
  frame (its pixels in the corners), per locale through a map; the same
  render again is served from the cache (cached, 0 credits), the same with
  only the background changed is drawn again; another account's background
  is refused 422 file_not_found naming background.image.file_id, a file_id
  that is not a string 422 parameter_invalid naming it;
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
from capture_pages import decode_png

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

# ---- a null in a "<locale>/<preset>" map: no image for that cell ----
body_skip = dict(body, slides=[{"headline": {"lines": ["Hello"]},
                                "screenshot": {"file_id": {"en-US": f["id"],
                                                           "de-DE/appstore.iphone_6_9": None}}}])
status, _, r = stack.json("POST", "/v1/renders", body_skip)
check(status == 200 and r["status"] == "succeeded" and len(r["images"]) == 1
      and r["images"][0]["locale"] == "en-US", "a null entry skips its image: %d %r" % (status, r))

# ---- background.image.file_id, on an account of its own (the quota is per account) ----
key_c = json.loads(stack.cli("keys", "create", "--name", "tenant-c", "--json"))["api_key"]
MAGENTA, TEAL = (220, 30, 190), (20, 150, 150)
bg_m = make_png(40, 80, MAGENTA)            # 10x onto 400x800: rows 0-159 and 640-799 solid
bg_t = make_png(40, 80, TEAL)
_, _, shot_c = stack.json("POST", "/v1/files", raw=en, auth=key_c, headers={"Content-Type": "image/png"})
_, _, fbg_m = stack.json("POST", "/v1/files", raw=bg_m, auth=key_c, headers={"Content-Type": "image/png"})
status, _, fbg_t = stack.json("POST", "/v1/files", raw=bg_t, auth=key_c, headers={"Content-Type": "image/png"})
check(status == 201 and fbg_m["id"] != fbg_t["id"], "two backgrounds uploaded: %r %r" % (fbg_m, fbg_t))


def bg_body(bg):
    return {"canvas": {"width": 400, "height": 800}, "background": {"image": {"file_id": bg}},
            "slides": [{"headline": {"lines": ["Hello"]}, "screenshot": {"file_id": shot_c["id"]}}]}


def bg_render(b, auth=key_c):
    status, _, r = stack.json("POST", "/v1/renders", b, auth=auth)
    check(status == 200 and r["status"] == "succeeded", "background render: %d %r" % (status, r))
    return r


def corners(image):
    status, _, data = stack.request("GET", image["url"].split("127.0.0.1:%d" % stack.http_port)[1], auth=False)
    check(status == 200, "the image is served: %d" % status)
    w, h, rows = decode_png(data)
    return rows[3][3], rows[h - 4][3]


def near(p, rgb, tol=8):
    return all(abs(a - b) <= tol for a, b in zip(p, rgb))


first = bg_render(bg_body(fbg_m["id"]))
im = first["images"][0]
check(not im["cached"] and first["credits_used"] == 1, "a first background render is drawn: %r" % first)
top, bottom = corners(im)
check(near(top, MAGENTA) and near(bottom, MAGENTA), "the corners come from the background: %r %r" % (top, bottom))
again = bg_render(bg_body(fbg_m["id"]))
check(again["images"][0]["cached"] and again["images"][0]["sha256"] == im["sha256"]
      and again["credits_used"] == 0, "nothing changed: served from the cache: %r" % again)
other_bg = bg_render(bg_body(fbg_t["id"]))
check(not other_bg["images"][0]["cached"] and other_bg["images"][0]["sha256"] != im["sha256"]
      and other_bg["credits_used"] == 1, "only the background changed: drawn again: %r" % other_bg)
top, bottom = corners(other_bg["images"][0])
check(near(top, TEAL) and near(bottom, TEAL), "the new background shows: %r %r" % (top, bottom))

per_locale = dict(bg_body({"en-US": fbg_m["id"], "default": fbg_t["id"]}),
                  matrix={"locales": ["en-US", "de-DE"]})
r = bg_render(per_locale)
got = {i["locale"]: corners(i)[0] for i in r["images"]}
check(near(got["en-US"], MAGENTA) and near(got["de-DE"], TEAL), "each locale its background: %r" % got)

status, _, r = stack.json("POST", "/v1/renders", dict(bg_body(fbg_m["id"]),
                          slides=[{"headline": {"lines": ["Hi"]}}]), auth=key_b)
check(status == 422 and err_code(r) == ("file_not_found", "background.image.file_id"),
      "another account's background: %d %r" % (status, r))
status, _, r = stack.json("POST", "/v1/renders", bg_body(7), auth=key_c)
check(status == 422 and err_code(r) == ("parameter_invalid", "background.image.file_id"),
      "a background file_id that is not a string: %d %r" % (status, r))

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
