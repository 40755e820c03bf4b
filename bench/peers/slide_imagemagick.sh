#!/usr/bin/env bash
# The benchmark slide drawn by ImageMagick's convert in one process:
# gradient, two centred headline lines, rounded bezel, the screenshot resized
# into the screen with rounded corners, the island, PNG at level 6.
# usage: slide_imagemagick.sh SHOT.png OUT.png
set -eu
. "$(dirname "$0")/geometry.sh"
shot=$1; out=$2
exec /usr/bin/convert -size ${W}x${H} "gradient:${BG_TOP}-${BG_BOTTOM}" -depth 8 \
  -font "$FONT" -pointsize $TEXT_PX -fill white -gravity north \
  -annotate +0+$LINE1_Y "$LINE1" -annotate +0+$LINE2_Y "$LINE2" -gravity northwest \
  -fill "$RIM_RGB" -draw "roundrectangle $FRAME_X,$FRAME_Y $((FRAME_X+FRAME_W-1)),$((FRAME_Y+FRAME_H-1)) $FRAME_R,$FRAME_R" \
  -fill "$BODY_RGB" -draw "roundrectangle $((FRAME_X+RIM)),$((FRAME_Y+RIM)) $((FRAME_X+FRAME_W-1-RIM)),$((FRAME_Y+FRAME_H-1-RIM)) $((FRAME_R-RIM)),$((FRAME_R-RIM))" \
  -fill black -draw "roundrectangle $SCREEN_X,$SCREEN_Y $((SCREEN_X+SCREEN_W-1)),$((SCREEN_Y+SCREEN_H-1)) $SCREEN_R,$SCREEN_R" \
  \( "$shot" -resize ${SHOT_W}x${SHOT_H}\! \
     \( -size ${SHOT_W}x${SHOT_H} xc:black -fill white -draw "roundrectangle 0,0 $((SHOT_W-1)),$((SHOT_H-1)) $SCREEN_R,$SCREEN_R" \) \
     -alpha off -compose CopyOpacity -composite \) \
  -compose over -geometry +$SHOT_X+$SHOT_Y -composite \
  -fill black -draw "roundrectangle $ISLAND_X,$ISLAND_Y $((ISLAND_X+ISLAND_W-1)),$((ISLAND_Y+ISLAND_H-1)) $((ISLAND_H/2)),$((ISLAND_H/2))" \
  -alpha off -define png:compression-level=6 "PNG24:$out"
