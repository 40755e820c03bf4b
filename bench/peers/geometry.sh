# The benchmark slide's geometry, written by measure_geometry.py from Easel's
# own render (bench_render --out), so the peers draw the same picture.
# Sourced by the peer scripts. Canvas pixels.
W=1320; H=2868
BG_TOP='#1E3A8A'; BG_BOTTOM='#0F172A'
LINE1='Track every habit'; LINE2='in one calm place'
TEXT_PX=92; LINE1_Y=167; LINE2_Y=287            # top of each line's ink
FRAME_X=116; FRAME_Y=483; FRAME_W=1087; FRAME_H=2270; FRAME_R=98
RIM=9; RIM_RGB='#2C2C2E'; BODY_RGB='#0A0A0B'
SCREEN_X=155; SCREEN_Y=522; SCREEN_W=1009; SCREEN_H=2192; SCREEN_R=59
SHOT_W=1009; SHOT_H=2187; SHOT_X=155; SHOT_Y=524  # screenshot 1179x2556, contain
ISLAND_X=518; ISLAND_Y=552; ISLAND_W=283; ISLAND_H=83
FONT=${EASEL_FONT:-/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf}
