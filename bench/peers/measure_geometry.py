#!/usr/bin/env python3
"""Writes geometry.sh (what the peer scripts draw) from Easel's own render of
the benchmark slide, so the peers follow Easel's layout when it changes.

The frame's box and colours are found in the pixels (anything that differs
from the background gradient at the same row, below the headline); the screen,
its corners and the island are placed with the iPhone proportions of
renderer/device_frame.h (screen inset 36/1000, radius 54/1000, island 260x76
at 28 from the screen's top); the headline size is the line pitch / 1.30
(text_layout.h's line height).

usage: measure_geometry.py EASEL.png > geometry.sh   (EASEL.png: bench_render --out)
Needs ImageMagick's convert (bench/setup.sh) to read the PNG as raw RGB."""
import subprocess
import sys

W, H = 1320, 2868
raw = subprocess.run(["/usr/bin/convert", sys.argv[1], "-depth", "8", "rgb:-"],
                     capture_output=True, check=True).stdout


def px(x, y):
    i = (y * W + x) * 3
    return tuple(raw[i:i + 3])


def differs(x, y, tol=24):
    return sum(abs(a - b) for a, b in zip(px(x, y), px(3, y))) > tol


white = [y for y in range(H // 4) if any(px(x, y) == (255, 255, 255) for x in range(0, W, 2))]
clusters = [[white[0]]]                 # runs of rows with white ink: the lines
for y in white[1:]:
    if y - clusters[-1][-1] > 8:
        clusters.append([])
    clusters[-1].append(y)
line1_top, line2_top, text_bottom = clusters[0][0], clusters[1][0], clusters[1][-1]
rows = [y for y in range(text_bottom + 1, H) if differs(W // 2, y)]
frame_y, frame_b = rows[0], rows[-1]
mid = (frame_y + frame_b) // 2
cols = [x for x in range(W) if differs(x, mid)]
frame_x, frame_r = cols[0], cols[-1]
frame_w, frame_h = frame_r - frame_x + 1, frame_b - frame_y + 1
rim_rgb = px(frame_x + 1, mid)
rim = next(i for i in range(1, 60) if px(frame_x + i, mid) != rim_rgb)
body_rgb = px(frame_x + rim + 1, mid)
s = frame_w / 1000.0
screen_x, screen_y = frame_x + round(36 * s), frame_y + round(36 * s)
screen_w, screen_h = round(928 * s), frame_h - 2 * round(36 * s)
shot_scale = min(screen_w / 1179, screen_h / 2556)
shot_w, shot_h = round(1179 * shot_scale), round(2556 * shot_scale)
pitch = line2_top - line1_top
size = round(pitch / 1.30)
island_w, island_h = round(260 * s), round(76 * s)


def hexrgb(c):
    return "#%02X%02X%02X" % c


print("# The benchmark slide's geometry, written by measure_geometry.py from Easel's")
print("# own render (bench_render --out), so the peers draw the same picture.")
print("# Sourced by the peer scripts. Canvas pixels.")
print("W=%d; H=%d" % (W, H))
print("BG_TOP='#1E3A8A'; BG_BOTTOM='#0F172A'")
print("LINE1='Track every habit'; LINE2='in one calm place'")
print("TEXT_PX=%d; LINE1_Y=%d; LINE2_Y=%d            # top of each line's ink"
      % (size, line1_top, line2_top))
print("FRAME_X=%d; FRAME_Y=%d; FRAME_W=%d; FRAME_H=%d; FRAME_R=%d"
      % (frame_x, frame_y, frame_w, frame_h, round(90 * s)))
print("RIM=%d; RIM_RGB='%s'; BODY_RGB='%s'" % (rim, hexrgb(rim_rgb), hexrgb(body_rgb)))
print("SCREEN_X=%d; SCREEN_Y=%d; SCREEN_W=%d; SCREEN_H=%d; SCREEN_R=%d"
      % (screen_x, screen_y, screen_w, screen_h, round(54 * s)))
print("SHOT_W=%d; SHOT_H=%d; SHOT_X=%d; SHOT_Y=%d  # screenshot 1179x2556, contain"
      % (shot_w, shot_h, screen_x + (screen_w - shot_w) // 2, screen_y + (screen_h - shot_h) // 2))
print("ISLAND_X=%d; ISLAND_Y=%d; ISLAND_W=%d; ISLAND_H=%d"
      % (frame_x + (frame_w - island_w) // 2, screen_y + round(28 * s), island_w, island_h))
print("FONT=${EASEL_FONT:-/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf}")
