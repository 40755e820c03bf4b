"""`easel render --layout fastlane`, `easel export` and GET
/v1/renders/{id}/archive write one tree, and it is the tree fastlane's
tools read: deliver takes every language folder of screenshots/ (only App
Store Connect language names are allowed there) and files each image in a
display class by its pixel size (2048x2732 / 2064x2752 are the 12.9-inch
2nd generation class unless the name carries IPAD_PRO_3GEN_129); supply
reads metadata/android/<language>/images/<phoneScreenshots|...>/ and
images/featureGraphic.png. The checks below restate those rules from
fastlane's deliver (AppScreenshot.calculate_screen_size, Loader) and supply
(SCREENSHOT_TYPES, IMAGES_TYPES) documentation."""
import io
import json
import os
import shutil
import subprocess
import tempfile
import zipfile

from harness import BIN, Stack, ShotServer, check, png_header, slide

# deliver: size -> display class; the iPad Pro conflict resolved by name
DELIVER = {
    "APP_IPHONE_67": [(1290, 2796), (1260, 2736), (1320, 2868)],
    "APP_IPHONE_65": [(1242, 2688), (1284, 2778)],
    "APP_IPHONE_61": [(1179, 2556), (1206, 2622)],
    "APP_IPHONE_58": [(1125, 2436), (1170, 2532)],
    "APP_IPHONE_55": [(1242, 2208)],
    "APP_IPHONE_47": [(750, 1334)],
    "APP_IPAD_PRO_3GEN_11": [(1668, 2388), (1668, 2420)],
    "APP_IPAD_PRO_129": [(2048, 2732), (2064, 2752)],
    "APP_DESKTOP": [(1280, 800), (1440, 900), (2560, 1600), (2880, 1800)],
    "APP_APPLE_TV": [(1920, 1080), (3840, 2160)],
}
ASC_LANGUAGES = {"ca", "cs", "da", "de-DE", "el", "en-AU", "en-CA", "en-GB", "en-US", "es-ES", "es-MX",
                 "fi", "fr-CA", "fr-FR", "hi", "hr", "hu", "id", "it", "ja", "ko", "ms", "nl-NL", "no",
                 "pl", "pt-BR", "pt-PT", "ro", "ru", "sk", "sv", "th", "tr", "uk", "vi", "zh-Hans",
                 "zh-Hant"}
SUPPLY_SCREENSHOT_TYPES = {"phoneScreenshots", "sevenInchScreenshots", "tenInchScreenshots",
                           "tvScreenshots", "wearScreenshots"}
SUPPLY_IMAGE_TYPES = {"featureGraphic", "icon", "promoGraphic", "tvBanner"}


def deliver_class(name, w, h):
    for cls, sizes in DELIVER.items():
        if (w, h) in sizes or (h, w) in sizes:
            if cls == "APP_IPAD_PRO_129" and "IPAD_PRO_3GEN_129" in name:
                return "APP_IPAD_PRO_3GEN_129"
            return cls
    return None


def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


EXPECTED_CLASS = {"appstore.iphone_6_9": "APP_IPHONE_67", "appstore.ipad_13": "APP_IPAD_PRO_3GEN_129"}
PLAY_FOLDER = {"play.phone": "phoneScreenshots", "play.tablet_10": "tenInchScreenshots"}

shots = ShotServer()
stack = Stack(renderers=0)
env = dict(stack.env, EASEL_URL=stack.base, EASEL_API_KEY=stack.key)
spec = {"async": True, "canvas": {"preset": "appstore.iphone_6_9"},
        "matrix": {"locales": ["en-US", "ja-JP"],
                   "presets": ["appstore.iphone_6_9", "appstore.ipad_13", "play.phone",
                               "play.feature_graphic"]},
        "slides": [slide(shots.url("/shot.png?1"), lines=["One"]), slide(shots.url("/shot.png?2"), lines=["Two"])]}

# a render that is still processing has no archive yet (no renderer is up)
status, _, pending = stack.json("POST", "/v1/renders", spec)
check(status == 202, "create answered %d: %r" % (status, pending))
status, _, err = stack.json("GET", "/v1/renders/%s/archive" % pending["id"])
check(status == 409 and err["error"]["code"] == "render_processing" and err["error"]["param"] == "id",
      "archive of a processing render: %d %r" % (status, err))
status, _, err = stack.json("GET", "/v1/renders/rnd_01KNS1WNPW9FCHZSK4XNTHMB0H/archive")
check(status == 404 and err["error"]["code"] == "resource_missing", "unknown archive: %d %r" % (status, err))
status, _, err = stack.json("GET", "/v1/renders/%s/archive" % pending["id"], auth=False)
check(status == 401, "archive without a key: %d" % status)
status, headers, err = stack.json("POST", "/v1/renders/%s/archive" % pending["id"], {})
check(status == 405 and headers.get("Allow") == "GET", "POST archive: %d" % status)
stack.start_renderer(0)
stack.wait_ready(1)
stack.wait_render(pending["id"], timeout=120)

work = tempfile.mkdtemp(prefix="easel-fastlane-")
spec_path = os.path.join(work, "spec.json")
with open(spec_path, "w") as f:
    json.dump(spec, f)           # async, with --wait: 16 images are over the sync limit

# bad usage
out = subprocess.run([os.path.join(BIN, "easel"), "render", spec_path, "--out", work + "/x", "--layout", "gradle"],
                     env=env, capture_output=True, timeout=60)
check(out.returncode == 2 and b"--layout" in out.stderr, "bad --layout: %d %r" % (out.returncode, out.stderr))
out = subprocess.run([os.path.join(BIN, "easel"), "export", "rnd_x/../../y", "--out", work + "/x"],
                     env=env, capture_output=True, timeout=60)
check(out.returncode == 2, "export of a malformed id exited %d" % out.returncode)

# 1. easel render spec.json --wait --out DIR --layout fastlane
dir1 = os.path.join(work, "a", "fastlane")
out = subprocess.run([os.path.join(BIN, "easel"), "render", spec_path, "--wait", "--out", dir1,
                      "--layout", "fastlane"], env=env, capture_output=True, timeout=170)
check(out.returncode in (0, 1), "easel render exited %d: %s" % (out.returncode, out.stderr.decode()))
t1 = tree(dir1)
report = json.loads(t1["easel-report.json"])
check(report["object"] == "fastlane_export" and report["status"] == "succeeded", "report: %r" % report)
render_id = report["render"]
check(len(report["files"]) == 16, "report lists %d files, expected 16" % len(report["files"]))
check("lint" in report and "passed" in report["lint"], "report carries no lint: %r" % report.get("lint"))

# every file of the report is in the tree, and nothing else is
check(set(t1) == {f["path"] for f in report["files"]} | {"easel-report.json"},
      "tree and report differ: %r" % sorted(set(t1) ^ {f["path"] for f in report["files"]}))

# deliver: screenshots/ holds App Store Connect language folders only, each image
# filed in the display class of its preset, slides in name order
check(set(p.split("/")[1] for p in t1 if p.startswith("screenshots/")) == {"en-US", "ja"},
      "deliver language folders: %r" % sorted(set(p.split("/")[1] for p in t1 if p.startswith("screenshots/"))))
for f in report["files"]:
    path, preset = f["path"], f["preset"]
    data = t1[path]
    w, h = png_header(data)[:2]
    if preset in EXPECTED_CLASS:
        check(f["placed"] and path.startswith("screenshots/"), "%s not placed for deliver: %r" % (preset, f))
        parts = path.split("/")
        check(len(parts) == 3 and parts[1] in ASC_LANGUAGES, "deliver path %s" % path)
        check(deliver_class(parts[2], w, h) == EXPECTED_CLASS[preset],
              "%s (%dx%d) lands in %s, expected %s" % (path, w, h, deliver_class(parts[2], w, h),
                                                      EXPECTED_CLASS[preset]))
        check(parts[2].startswith("%02d_" % (f["slide"] + 1)), "file name does not sort by slide: %s" % path)
    elif preset == "play.phone":
        parts = path.split("/")
        check(f["placed"] and parts[:2] == ["metadata", "android"] and parts[3] == "images"
              and parts[4] in SUPPLY_SCREENSHOT_TYPES and parts[4] == "phoneScreenshots",
              "supply path %s" % path)
        check(parts[2] in ("en-US", "ja-JP"), "supply language %s" % parts[2])
    elif preset == "play.feature_graphic":
        if f["slide"] == 0:
            check(f["placed"] and path.split("/")[-1] == "featureGraphic.png"
                  and path.split("/")[-2] == "images", "feature graphic path %s" % path)
            check(os.path.splitext(path.split("/")[-1])[0] in SUPPLY_IMAGE_TYPES, "image type %s" % path)
            check((w, h) == (1024, 500), "feature graphic is %dx%d" % (w, h))
        else:
            check(not f["placed"] and path.startswith("unplaced/") and f["reason"],
                  "second feature graphic: %r" % f)
# supply: every metadata/android/<lang>/images/<type> is a type supply knows
for p in t1:
    if p.startswith("metadata/android/"):
        parts = p.split("/")
        check(parts[3] == "images" and (parts[4] in SUPPLY_SCREENSHOT_TYPES
                                        or os.path.splitext(parts[4])[0] in SUPPLY_IMAGE_TYPES),
              "supply cannot read %s" % p)
check(any(p.endswith("IPAD_PRO_3GEN_129_2064x2752.png") for p in t1), "no 13-inch iPad file")

# 2. easel export of the same render writes the same tree
dir2 = os.path.join(work, "b")
out = subprocess.run([os.path.join(BIN, "easel"), "export", render_id, "--out", dir2, "--layout", "fastlane",
                      "--json"], env=env, capture_output=True, timeout=170)
check(out.returncode in (0, 1), "easel export exited %d: %s" % (out.returncode, out.stderr.decode()))
check(json.loads(out.stdout)["render"] == render_id, "export --json printed %r" % out.stdout[:200])
t2 = tree(dir2)
check(t1 == t2, "export and render --layout wrote different trees: %r" % sorted(set(t1) ^ set(t2)))
lint_errors = report["lint"]["errors"]
out = subprocess.run([os.path.join(BIN, "easel"), "export", render_id, "--out", os.path.join(work, "c"),
                      "--fail-on-lint"], env=env, capture_output=True, timeout=170)
check(out.returncode == (1 if lint_errors else 0),
      "--fail-on-lint with %d lint errors exited %d" % (lint_errors, out.returncode))

# 3. the archive streams the same tree
status, headers, raw = stack.request("GET", "/v1/renders/%s/archive" % render_id)
check(status == 200 and headers.get("Content-Type") == "application/zip", "archive: %d %r" % (status, headers))
check("X-Request-Id" in headers, "archive without X-Request-Id")
z = zipfile.ZipFile(io.BytesIO(raw))
check(z.testzip() is None, "archive CRC error")
zt = {i.filename: z.read(i) for i in z.infolist()}
check(set(zt) == set(t1), "archive and tree differ: %r" % sorted(set(zt) ^ set(t1)))
for name, data in zt.items():
    if name != "easel-report.json":
        check(data == t1[name], "archive entry %s differs" % name)
check(json.loads(zt["easel-report.json"])["files"] == report["files"], "archive report differs")
shutil.rmtree(work, ignore_errors=True)
stack.close()
print("it_fastlane: 1 passed, 0 failed")
