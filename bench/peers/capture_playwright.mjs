// The capture peer of bench/capture.py: playwright-core driving Debian's
// chromium (never a downloaded browser) takes N PNG screenshots of one page
// and prints one JSON line {"mode", "ms": [...], "bytes": [...]} on stdout.
//   node capture_playwright.mjs MODE URL N WIDTH HEIGHT
// MODE cold: a fresh browser launch per capture (launch, page, goto, shot,
// close: what a script that starts Playwright does); warm: one browser
// launched once (not timed) and a new context per capture (newContext, page,
// goto, shot, context close: the shape of a warm capture service).
// Flags as the renderer's own browser (renderer/cdp.c) where they bear on speed.
import { chromium } from "playwright-core";

const [mode, url, n, width, height] = process.argv.slice(2);
const count = Number(n), viewport = { width: Number(width), height: Number(height) };
if (!["cold", "warm"].includes(mode) || !url || !(count > 0) || !(viewport.width > 0) || !(viewport.height > 0)) {
  console.error("usage: node capture_playwright.mjs cold|warm URL N WIDTH HEIGHT");
  process.exit(2);
}
const args = ["--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--mute-audio", "--hide-scrollbars"];
if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");   // root: no user namespace sandbox
const launch = () => chromium.launch({ executablePath: process.env.EASEL_CHROMIUM || "/usr/bin/chromium",
                                       headless: true, args });

const shoot = async (browser) => {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: "load" });
    return await page.screenshot({ type: "png" });
  } finally {
    await context.close();
  }
};

const out = { mode, ms: [], bytes: [] };
const warm = mode === "warm" ? await launch() : null;
try {
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    let png;
    if (warm)
      png = await shoot(warm);
    else {
      const browser = await launch();
      try {
        png = await shoot(browser);
      } finally {
        await browser.close();
      }
    }
    out.ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (png.subarray(0, 8).toString("latin1") !== "\x89PNG\r\n\x1a\n")
      throw new Error("the screenshot is not a PNG");
    out.bytes.push(png.length);
  }
} finally {
  if (warm)
    await warm.close();
}
console.log(JSON.stringify(out));
