#!/usr/bin/env python3
"""Golden fixture for whet-ocr-det's OpenCV geometry: every `cv2.minAreaRect` call and
every pyclipper offset rapidocr-onnxruntime 1.4.4 makes while reading the first 20 SROIE
receipts (sorted by name; the direction classifier off, as in ocr_pipeline.py).

Run by scripts/golden/ocr-pipeline.sh. The calls are recorded by wrapping
`cv2.minAreaRect` and `pyclipper.PyclipperOffset` inside rapidocr's DB post-processing
module; nothing else changes. Writes crates/ocr-det/tests/golden/min_area_rect.json:
  rects: [{kind: "contour" | "grown", points: [x0, y0, x1, y1, ...] (the input, in order),
           rect: [cx, cy, w, h, angle], corners: cv2.boxPoints (4 x [x, y])}]
  offsets: [{quad: 4 x [x, y] (floats), delta, out: [x0, y0, ...] (pyclipper's polygon)}]
Floats are float32 values written exactly.
"""
import json
import os

import cv2
import numpy as np
import pyclipper
import rapidocr_onnxruntime.ch_ppocr_det.utils as det_utils
from rapidocr_onnxruntime import RapidOCR

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")
SROIE = os.environ.get("SROIE", os.path.join(ROOT, "..", "shared", "data", "sroie-dev"))
OUT = os.path.join(ROOT, "crates", "ocr-det", "tests", "golden", "min_area_rect.json")

rects, offsets = [], []
min_area_rect = cv2.minAreaRect


def recording_min_area_rect(points):
    rect = min_area_rect(points)
    flat = np.asarray(points).reshape(-1).astype(np.int64).tolist()
    grown = bool(offsets) and offsets[-1]["out"] == flat
    corners = cv2.boxPoints(rect).astype(np.float64).tolist()
    rects.append({"kind": "grown" if grown else "contour", "points": flat,
                  "rect": [float(rect[0][0]), float(rect[0][1]), float(rect[1][0]),
                           float(rect[1][1]), float(rect[2])],
                  "corners": corners})
    return rect


class RecordingOffset:
    def __init__(self):
        self.inner = pyclipper.PyclipperOffset()
        self.quad = None

    def AddPath(self, path, join, end):
        self.quad = np.asarray(path).astype(np.float64).tolist()
        self.inner.AddPath(path, join, end)

    def Execute(self, delta):
        out = self.inner.Execute(delta)
        assert len(out) == 1, "rapidocr reshapes a single polygon"
        offsets.append({"quad": self.quad, "delta": float(delta),
                        "out": np.asarray(out[0]).reshape(-1).astype(np.int64).tolist()})
        return out


class RecordingPyclipper:
    PyclipperOffset = RecordingOffset
    JT_ROUND = pyclipper.JT_ROUND
    ET_CLOSEDPOLYGON = pyclipper.ET_CLOSEDPOLYGON


def main():
    det_utils.cv2.minAreaRect = recording_min_area_rect
    det_utils.pyclipper = RecordingPyclipper
    engine = RapidOCR()
    for name in sorted(os.listdir(os.path.join(SROIE, "img")))[:20]:
        engine(os.path.join(SROIE, "img", name), use_cls=False)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"opencv": cv2.__version__, "rects": rects, "offsets": offsets}, f,
                  separators=(",", ":"))
    kinds = [r["kind"] for r in rects]
    print(f"{kinds.count('contour')} contour and {kinds.count('grown')} grown rectangles, "
          f"{len(offsets)} offsets")


if __name__ == "__main__":
    main()
