// Drives Debian's chromium through a render's review page (Easel's gateway
// serves it) and prints what it saw as one JSON object; the checks are made
// by tests/integration/it_review_page.py. Never downloads a browser.
//   node review_page.mjs REVIEW_URL EXPIRED_URL TAMPERED_URL DESKTOP_PNG PHONE_PNG
import { chromium } from "playwright-core";

const [reviewUrl, expiredUrl, tamperedUrl, desktopPng, phonePng] = process.argv.slice(2);
const args = ["--disable-gpu", "--disable-dev-shm-usage"];
if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");   // root: no user namespace sandbox

// WCAG 2 contrast of each text element against the first opaque background
// behind it; the page's text, badges, buttons and links, in the page.
const contrasts = () => {
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const bgOf = (e) => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.99)) return c;
    }
    return [255, 255, 255];
  };
  const sel = ["body", ".meta", "h1", "h2", "#decision", "label", ".badge-error", ".badge-warning", ".badge-info",
               ".badge-ok", "#approve", "#request-changes", "#archive", ".grid-head", ".shot figcaption", "#set-findings li"];
  const out = [];
  for (const s of sel)
    for (const e of [...document.querySelectorAll(s)].slice(0, 3)) {
      if (getComputedStyle(e).display === "none") continue;
      const a = lum(rgb(getComputedStyle(e).color)), b = lum(bgOf(e));
      out.push({ sel: s, ratio: Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 10) / 10 });
    }
  return out;
};

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args });
const out = { consoleErrors: [] };
try {
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await desktop.newPage();
  page.on("console", (m) => { if (m.type() === "error") out.consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => out.consoleErrors.push(String(e)));
  const res = await page.goto(reviewUrl, { waitUntil: "load" });
  out.status = res.status();
  out.csp = (await res.allHeaders())["content-security-policy"] || "";
  // live status: the render is still processing when the page opens; the
  // caller starts a renderer once told, and the page follows by itself
  await page.waitForSelector("body[data-ready]");
  out.live = { before: await page.textContent("#status"),
               formBefore: await page.evaluate(() => getComputedStyle(document.querySelector("#decide-form")).display) };
  process.stderr.write("LIVE-WAITING\n");
  await page.waitForSelector('body[data-ready="succeeded"]', { timeout: 120000 });
  out.live.after = await page.textContent("#status");
  // every thumbnail decoded (lazy ones come into range on a scroll)
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.waitForFunction(() => [...document.querySelectorAll(".thumb img")]
    .every((i) => i.complete && i.naturalWidth > 0));
  await page.evaluate(() => window.scrollTo(0, 0));
  out.formShownBefore = await page.evaluate(() => getComputedStyle(document.querySelector("#decide-form")).display !== "none");
  out.grid = await page.evaluate(() => ({
    figures: document.querySelectorAll("#grid figure.shot").length,
    thumbs: document.querySelectorAll("#grid .thumb img").length,
    lazy: [...document.querySelectorAll("#grid .thumb img")].every((i) => i.loading === "lazy"),
    rows: [...document.querySelectorAll("#grid .grid-row[data-locale]")].map((r) => r.dataset.locale),
    columns: [...document.querySelectorAll("#grid .grid-row.head .grid-head")].slice(1).map((h) => h.textContent),
    errorBadges: document.querySelectorAll("#grid .badge-error").length,
    warningBadges: document.querySelectorAll("#grid .badge-warning").length,
    errorImages: [...document.querySelectorAll("#grid figure.shot")].filter((f) => f.querySelector(".badge-error")).map((f) => f.dataset.image),
    warningImages: [...document.querySelectorAll("#grid figure.shot")].filter((f) => f.querySelector(".badge-warning")).map((f) => f.dataset.image),
    errorColors: [...document.querySelectorAll("#grid .badge-error, #grid .badge-warning")].slice(0, 50)
      .map((b) => b.className + "|" + getComputedStyle(b).backgroundColor),
    setFindings: [...document.querySelectorAll("#set-findings li")].map((li) => li.textContent),
    archive: document.querySelector("#archive").getAttribute("href"),
    title: document.title,
    metadataText: document.querySelector("#metadata").textContent,
    injected: document.querySelectorAll("#metadata script, #grid b, #decision i").length,
  }));
  out.contrastLight = await page.evaluate(contrasts);
  await page.screenshot({ path: desktopPng, fullPage: true });

  // the viewer: open, arrows, Escape
  await page.click("#grid .thumb");
  await page.waitForFunction(() => document.querySelector("#viewer").open
    && document.querySelector("#viewer-img").complete && document.querySelector("#viewer-img").naturalWidth > 0);
  const caption1 = await page.textContent("#viewer-caption");
  await page.keyboard.press("ArrowRight");
  const caption2 = await page.textContent("#viewer-caption");
  await page.keyboard.press("ArrowLeft");
  const caption3 = await page.textContent("#viewer-caption");
  // every image once round: the outlines drawn over it for its findings
  const nimages = await page.evaluate(() => document.querySelectorAll("#grid .thumb").length);
  const regions = [];
  for (let i = 0; i < nimages; i++) {
    regions.push(await page.evaluate(() => ({
      src: document.querySelector("#viewer-img").getAttribute("src"),
      boxes: Array.prototype.map.call(document.querySelectorAll("#viewer-frame .region"), (b) => {
        const f = b.parentNode.getBoundingClientRect(), r = b.getBoundingClientRect();
        return { rule: b.getAttribute("data-rule"), cls: b.className,
                 inside: r.width > 0 && r.height > 0 && r.left >= f.left - 1 && r.top >= f.top - 1
                         && r.right <= f.right + 1 && r.bottom <= f.bottom + 1 };
      }),
    })));
    await page.keyboard.press("ArrowRight");
  }
  out.regions = regions;
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.querySelector("#viewer").open);
  out.viewer = { caption1, caption2, caption3 };

  // the archive link answers a zip without a key
  const zip = await page.request.get(out.grid.archive);
  out.archive = { status: zip.status(), type: zip.headers()["content-type"] || "", magic: (await zip.body()).subarray(0, 2).toString("latin1") };

  // approve with a name and a comment
  await page.fill("#by", "Pat <Reviewer>");
  await page.fill("#comment", "Ship it <b>now</b>");
  await page.click("#approve");
  await page.waitForSelector('#decision[data-status="approved"]');
  out.decision = await page.textContent("#decision");
  const formShown = () => getComputedStyle(document.querySelector("#decide-form")).display !== "none";
  out.formHidden = !(await page.evaluate(formShown));
  // reload: the decision is there, the form is not
  await page.reload();
  await page.waitForSelector("body[data-ready]");
  out.afterReload = await page.textContent("#decision");
  out.formHiddenAfterReload = !(await page.evaluate(formShown));

  // the phone width
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const p2 = await phone.newPage();
  await p2.goto(reviewUrl);
  await p2.waitForSelector("body[data-ready]");
  await p2.waitForFunction(() => [...document.querySelectorAll(".thumb img")].slice(0, 2)
    .every((i) => i.complete && i.naturalWidth > 0));
  out.phoneOverflow = await p2.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await p2.screenshot({ path: phonePng });

  // dark mode: the colours change
  const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "dark" });
  const p3 = await dark.newPage();
  await p3.goto(reviewUrl);
  await p3.waitForSelector("body[data-ready]");
  out.darkBackground = await p3.evaluate(() => getComputedStyle(document.body).backgroundColor);
  out.contrastDark = await p3.evaluate(contrasts);
  out.lightBackground = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);

  // expired and tampered links: an error page, not data
  out.errors = [];
  for (const url of [expiredUrl, tamperedUrl]) {
    const p = await desktop.newPage();
    const r = await p.goto(url);
    out.errors.push({ status: r.status(), title: await p.textContent("#error-title"),
                      hasData: (await p.content()).includes("img_") || (await p.$("#grid")) !== null });
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + "\n");
