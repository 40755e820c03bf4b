#!/usr/bin/env bash
# The benchmark slide drawn with the vips command-line tool (libvips): a
# gradient from vips xyz + linear, the headline from vips text, the bezel and
# the screen's rounded mask rendered from SVG, the screenshot resized with
# vips resize (lanczos3), one vips composite, PNG at level 6. Intermediates are
# uncompressed .v files (blend mode 2 is "over") in a temporary directory (removed at exit).
# usage: slide_vips.sh SHOT.png OUT.png
set -eu
. "$(dirname "$0")/geometry.sh"
shot=$1; out=$2
t=$(mktemp -d "${TMPDIR:-/tmp}/easel-bench-vips.XXXXXX")
trap 'rm -rf "$t"' EXIT
export VIPS_CONCURRENCY=${VIPS_CONCURRENCY:-1}

# background: y ramp 0..H-1 mapped to the two stops per band
vips xyz "$t/xyz.v" 1 $H
vips extract_band "$t/xyz.v" "$t/y.v" 1
# (the leading space keeps a negative first number from reading as an option)
slopes=$(awk -v h=$H 'BEGIN { printf " %.9f %.9f %.9f", (15-30)/(h-1), (23-58)/(h-1), (42-138)/(h-1) }')
vips linear "$t/y.v" "$t/col.v" "$slopes" "30 58 138" --uchar
vips copy "$t/col.v" "$t/cols.v" --interpretation srgb
vips replicate "$t/cols.v" "$t/bg.v" $W 1

# headline: two centred lines, white, alpha from the text mask
vips text "$t/mask.v" "$LINE1
$LINE2" --fontfile "$FONT" --font "DejaVu Sans Bold ${TEXT_PX}px" --align centre --dpi 72
vips linear "$t/mask.v" "$t/white.v" 0 255 --uchar
vips bandjoin "$t/white.v $t/white.v $t/white.v $t/mask.v" "$t/textm.v"
vips copy "$t/textm.v" "$t/text.v" --interpretation srgb
tw=$(vipsheader -f width "$t/text.v")

# bezel (rim, body, black screen) and the island, from SVG
cat > "$t/bezel.svg" <<SVG
<svg xmlns="http://www.w3.org/2000/svg" width="$FRAME_W" height="$FRAME_H">
<rect width="$FRAME_W" height="$FRAME_H" rx="$FRAME_R" fill="$RIM_RGB"/>
<rect x="$RIM" y="$RIM" width="$((FRAME_W-2*RIM))" height="$((FRAME_H-2*RIM))" rx="$((FRAME_R-RIM))" fill="$BODY_RGB"/>
<rect x="$((SCREEN_X-FRAME_X))" y="$((SCREEN_Y-FRAME_Y))" width="$SCREEN_W" height="$SCREEN_H" rx="$SCREEN_R" fill="#000"/>
</svg>
SVG
cat > "$t/island.svg" <<SVG
<svg xmlns="http://www.w3.org/2000/svg" width="$ISLAND_W" height="$ISLAND_H">
<rect width="$ISLAND_W" height="$ISLAND_H" rx="$((ISLAND_H/2))" fill="#000"/>
</svg>
SVG
cat > "$t/round.svg" <<SVG
<svg xmlns="http://www.w3.org/2000/svg" width="$SHOT_W" height="$SHOT_H">
<rect width="$SHOT_W" height="$SHOT_H" rx="$SCREEN_R" fill="#fff"/>
</svg>
SVG
vips svgload "$t/bezel.svg" "$t/bezel.v"
vips svgload "$t/island.svg" "$t/island.v"
vips svgload "$t/round.svg" "$t/round.v"

# screenshot: resized into the screen, corners rounded by the mask's alpha
sw=$(vipsheader -f width "$shot"); sh=$(vipsheader -f height "$shot")
vips resize "$shot" "$t/shot.v" "$(awk -v a=$SHOT_W -v b=$sw 'BEGIN { printf "%.9f", a/b }')" \
  --vscale "$(awk -v a=$SHOT_H -v b=$sh 'BEGIN { printf "%.9f", a/b }')"
vips extract_band "$t/round.v" "$t/alpha.v" 3
vips bandjoin "$t/shot.v $t/alpha.v" "$t/shota.v"

vips composite "$t/bg.v $t/text.v $t/bezel.v $t/shota.v $t/island.v" "$t/all.v" \
  "2 2 2 2" \
  --x "$(( (W-tw)/2 )) $FRAME_X $SHOT_X $ISLAND_X" --y "$LINE1_Y $FRAME_Y $SHOT_Y $ISLAND_Y"
vips extract_band "$t/all.v" "$t/rgb.v" 0 --n 3
vips cast "$t/rgb.v" "$out[compression=6]" uchar
