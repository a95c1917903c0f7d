"""The diagram's look, in one place: sizes and gaps (in SVG units), colours, the font."""

from __future__ import annotations

MARGIN = 24
LEFT_PAD = 22  # room for correction loops left of the leftmost box
STAGE_W = 280
STAGE_W_MIN = 200
END_W = 164
COL_GAP = 40
ROW_GAP = 62
STUB = 150  # from the node area to the first lane: room for a label
LANE_GAP = 16
END_GAP = 22
MAX_WIDTH = 1200
PAD_X = 12
TITLE_SIZE = 15
INFO_SIZE = 12
LABEL_SIZE = 12
LINE_GAP = 5

INK = "#1f2933"
MUTED = "#52606d"
EDGE = "#334e68"
LOOP = "#b54708"
FILLS = {
    "review": ("#ffffff", "#0b5cad"),
    "timer": ("#fff8e6", "#b54708"),
    "approved": ("#e7f6ec", "#067647"),
    "rejected": ("#fdecea", "#b42318"),
    "not_accepted": ("#fdecea", "#b42318"),
    "withdrawn": ("#f0f2f5", "#667085"),
    "end": ("#f5f7fa", "#52606d"),
}
FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif"
