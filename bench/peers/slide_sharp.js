#!/usr/bin/env node
// The benchmark slide composed with sharp (libvips) in one Node process, the
// way a Node user would: the gradient, bezel, screen and headline as one SVG
// (librsvg), the screenshot decoded and resized (`kernel: linear`, the
// triangle filter Easel uses: sharp's cheapest smooth kernel) and masked to
// the screen's rounded corners, the island on top, PNG at level 6 with
// adaptive filters. Geometry from geometry.sh (written from Easel's render).
//
// Timed in process: the module is loaded and one slide is composed before
// the clock starts; then --iterations slides, each from the screenshot's PNG
// bytes in memory (as Easel's slide_render() gets them) to the PNG bytes.
// CPU is process.cpuUsage() (every thread: libvips' workers and libuv's pool
// too), wall is hrtime. Prints one JSON object: medians per slide.
// With --iterations 0 the process composes the one slide and exits: that is
// the whole-process figure (Node's start, sharp's load, one slide), measured
// from outside by bench/render.py like the other peers' processes.
//
// usage: slide_sharp.js SHOT.png [--iterations N] [--concurrency N|default] [--out OUT.png]
'use strict';
const fs = require('fs');
const path = require('path');

function geometry() {
  const g = {};
  const text = fs.readFileSync(path.join(__dirname, 'geometry.sh'), 'utf8');
  for (const m of text.matchAll(/([A-Z0-9_]+)=('([^']*)'|([0-9]+))/g))
    g[m[1]] = m[3] !== undefined ? m[3] : Number(m[4]);
  return g;
}

function median(v) {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function esc(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

async function slide(sharp, g, shot) {
  const font = 'DejaVu Sans';
  // text y in SVG is the baseline: the ink's top plus the cap height (~0.73 em)
  const base = (top) => Math.round(top + 0.73 * g.TEXT_PX);
  const bg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${g.W}" height="${g.H}">` +
    `<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">` +
    `<stop offset="0" stop-color="${g.BG_TOP}"/><stop offset="1" stop-color="${g.BG_BOTTOM}"/>` +
    `</linearGradient></defs>` +
    `<rect width="${g.W}" height="${g.H}" fill="url(#g)"/>` +
    `<rect x="${g.FRAME_X}" y="${g.FRAME_Y}" width="${g.FRAME_W}" height="${g.FRAME_H}" rx="${g.FRAME_R}" fill="${g.RIM_RGB}"/>` +
    `<rect x="${g.FRAME_X + g.RIM}" y="${g.FRAME_Y + g.RIM}" width="${g.FRAME_W - 2 * g.RIM}" ` +
    `height="${g.FRAME_H - 2 * g.RIM}" rx="${g.FRAME_R - g.RIM}" fill="${g.BODY_RGB}"/>` +
    `<rect x="${g.SCREEN_X}" y="${g.SCREEN_Y}" width="${g.SCREEN_W}" height="${g.SCREEN_H}" rx="${g.SCREEN_R}" fill="#000"/>` +
    `<g font-family="${font}" font-weight="bold" font-size="${g.TEXT_PX}" fill="#fff" text-anchor="middle">` +
    `<text x="${g.W / 2}" y="${base(g.LINE1_Y)}">${esc(g.LINE1)}</text>` +
    `<text x="${g.W / 2}" y="${base(g.LINE2_Y)}">${esc(g.LINE2)}</text></g></svg>`);
  const mask = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${g.SHOT_W}" height="${g.SHOT_H}">` +
    `<rect width="${g.SHOT_W}" height="${g.SHOT_H}" rx="${g.SCREEN_R}" fill="#fff"/></svg>`);
  const island = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${g.ISLAND_W}" height="${g.ISLAND_H}">` +
    `<rect width="${g.ISLAND_W}" height="${g.ISLAND_H}" rx="${g.ISLAND_H / 2}" fill="#000"/></svg>`);
  const screen = await sharp(shot)
    .resize(g.SHOT_W, g.SHOT_H, { fit: 'fill', kernel: 'linear' })
    .ensureAlpha()
    .composite([{ input: mask, blend: 'dest-in' }])
    .png({ compressionLevel: 0 })
    .toBuffer();
  return sharp(bg)
    .composite([
      { input: screen, left: g.SHOT_X, top: g.SHOT_Y },
      { input: island, left: g.ISLAND_X, top: g.ISLAND_Y },
    ])
    .removeAlpha()
    .png({ compressionLevel: 6, adaptiveFiltering: true })
    .toBuffer();
}

async function main() {
  const args = process.argv.slice(2);
  let shotPath = null, iterations = 5, conc = '1', out = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--iterations') iterations = Number(args[++i]);
    else if (args[i] === '--concurrency') conc = args[++i];
    else if (args[i] === '--out') out = args[++i];
    else shotPath = args[i];
  }
  if (!shotPath || !(Number.isInteger(iterations) && iterations >= 0 && iterations <= 1000) || !(conc === 'default' || Number(conc) >= 1)) {
    process.stderr.write('usage: slide_sharp.js SHOT.png [--iterations N] [--concurrency N|default] [--out OUT.png]\n');
    process.exit(2);
  }
  const t0 = process.cpuUsage();
  const sharp = require('sharp');
  if (conc !== 'default') sharp.concurrency(Number(conc));
  sharp.cache(false);                  // every slide does its work: no cached operations
  const g = geometry();
  const shot = fs.readFileSync(shotPath);
  const first = await slide(sharp, g, shot);   // warm-up: fonts, librsvg, code paths
  const load = process.cpuUsage(t0);
  if (out) fs.writeFileSync(out, first);
  if (iterations === 0) {
    process.stdout.write(JSON.stringify({
      peer: 'sharp', sharp: sharp.versions.sharp, vips: sharp.versions.vips,
      concurrency: sharp.concurrency(), iterations,
      load_and_first_cpu_ms: Math.round((load.user + load.system) / 100) / 10,
      png_bytes: first.length,
    }) + '\n');
    return;
  }
  const cpu = [], wall = [];
  let bytes = first.length;
  for (let i = 0; i < iterations; i++) {
    const c0 = process.cpuUsage(), w0 = process.hrtime.bigint();
    const png = await slide(sharp, g, shot);
    const c = process.cpuUsage(c0);
    wall.push(Number(process.hrtime.bigint() - w0) / 1e6);
    cpu.push((c.user + c.system) / 1e3);
    bytes = png.length;
  }
  process.stdout.write(JSON.stringify({
    peer: 'sharp', sharp: sharp.versions.sharp, vips: sharp.versions.vips,
    concurrency: sharp.concurrency(), iterations,
    cpu_ms: Math.round(median(cpu) * 10) / 10, wall_ms: Math.round(median(wall) * 10) / 10,
    load_and_first_cpu_ms: Math.round((load.user + load.system) / 100) / 10,
    png_bytes: bytes,
  }) + '\n');
}

main().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
