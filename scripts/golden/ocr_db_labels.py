#!/usr/bin/env python3
"""Golden fixture for whet-ocr-det's DB training targets: PaddleOCR's own MakeBorderMap and
MakeShrinkMap (paddleocr 2.9.1, ppocr/data/imaug/make_border_map.py and
make_shrink_map.py, imported from the unpacked wheel given as argv[1]) run in pipeline
order (border map, then shrink map) on hand-made cases: axis-aligned and rotated boxes
with fractional corners, a thin line (masked from the shrink map, still on the border
map), a `###` box, a box running off the image, and two touching boxes.

Run by scripts/golden/ocr-db-labels.sh. Writes crates/ocr-det/tests/golden/db_labels.json:
[{w, h, polygons: [[[x, y], ...]], ignore: [bool], shrink, shrink_mask, thresh_mask:
base64 of one uint8 per pixel, thresh: base64 of float32 little-endian}].
"""
import base64
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(sys.argv[1], "paddleocr", "ppocr", "data", "imaug"))
from make_border_map import MakeBorderMap  # noqa: E402
from make_shrink_map import MakeShrinkMap  # noqa: E402

HERE = os.path.dirname(__file__)
OUT = os.path.join(HERE, "..", "..", "crates", "ocr-det", "tests", "golden", "db_labels.json")


def rotated(cx, cy, w, h, deg):
    a = np.deg2rad(deg)
    c, s = np.cos(a), np.sin(a)
    pts = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return [[cx + x * c - y * s, cy + x * s + y * c] for x, y in pts]


CASES = [
    (96, 64, [[[10, 10], [80, 10], [80, 30], [10, 30]]], [False]),
    (96, 64, [rotated(48, 32, 60, 18, 12.5)], [False]),
    (120, 80, [[[5.5, 8.25], [70.75, 6.5], [71.25, 24.5], [6.0, 26.0]],
               [[10, 40], [100, 40], [100, 45], [10, 45]],
               [[20, 55], [60, 55], [60, 75], [20, 75]]], [False, False, True]),
    (96, 64, [[[70, 20], [110, 20], [110, 40], [70, 40]], rotated(30, 45, 40, 14, -7)], [False, False]),
    (128, 48, [[[4, 8], [60, 8], [60, 28], [4, 28]], [[60, 8], [120, 8], [120, 28], [60, 28]]],
     [False, False]),
]


def main():
    out = []
    border, shrink = MakeBorderMap(), MakeShrinkMap()
    for w, h, polys, ignore in CASES:
        data = {
            "image": np.zeros((h, w, 3), np.uint8),
            "polys": np.array(polys, dtype=np.float32),
            "ignore_tags": np.array(ignore),
        }
        data = shrink(border(data))
        b64 = lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()  # noqa: E731
        out.append({
            "w": w, "h": h, "polygons": [[[float(v) for v in p] for p in poly] for poly in polys],
            "ignore": ignore,
            "shrink": b64(data["shrink_map"].astype(np.uint8)),
            "shrink_mask": b64(data["shrink_mask"].astype(np.uint8)),
            "thresh": b64(data["threshold_map"].astype("<f4")),
            "thresh_mask": b64(data["threshold_mask"].astype(np.uint8)),
        })
    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"{len(out)} cases")


if __name__ == "__main__":
    main()
