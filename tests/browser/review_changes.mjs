// Opens a review link minted with a reviewer's name and an earlier render
// (POST /v1/renders/{id}/review_links) in Debian's chromium and prints what
// the page shows as one JSON object; tests/integration/it_review_page.py
// checks it. Never downloads a browser.
//   node review_changes.mjs REVIEW_URL PNG
import { chromium } from "playwright-core";

const [reviewUrl, png] = process.argv.slice(2);
const args = ["--disable-gpu", "--disable-dev-shm-usage"];
if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  const res = await page.goto(reviewUrl, { waitUntil: "load" });
  await page.waitForSelector("body[data-ready]");
  const seen = await page.evaluate(() => ({
    summary: document.getElementById("changes-summary").textContent,
    sectionShown: !document.getElementById("changes-section").hidden,
    marks: [...document.querySelectorAll("figure.shot")].map((f) => ({
      image: f.getAttribute("data-image"), change: f.getAttribute("data-change"),
      badge: (f.querySelector(".badge-change") || {}).textContent || null })),
    byFixed: document.getElementById("by-fixed").hidden ? null : document.getElementById("by-fixed").textContent,
    byInputShown: !document.getElementById("by").hidden,
  }));
  await page.screenshot({ path: png, fullPage: true });
  await page.fill("#comment", "Second round looks right");
  await page.click("#approve");
  await page.waitForFunction(() => document.getElementById("decision").getAttribute("data-status") === "approved");
  seen.decision = await page.textContent("#decision");
  seen.status = res.status();
  seen.consoleErrors = consoleErrors;
  process.stdout.write(JSON.stringify(seen) + "\n");
} finally {
  await browser.close();
}
