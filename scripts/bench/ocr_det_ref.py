#!/usr/bin/env python3
"""rapidocr-onnxruntime 1.4.4's side of scripts/bench-ocr-det.sh: seconds per receipt for
the whole pipeline (direction classifier off, as Whetstone runs) on the same five SROIE
receipts as benches/benches/ocr_det.rs, after one warm-up read. onnxruntime's default
threading (all cores), as rapidocr ships. Prints `python seconds_per_receipt <value>`."""
import os
import time

import cv2
from rapidocr_onnxruntime import RapidOCR

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SROIE = os.environ.get("SROIE", os.path.join(ROOT, "..", "shared", "data", "sroie-dev"))
images = [cv2.imread(os.path.join(SROIE, "img", n)) for n in ["000.jpg", "010.jpg", "020.jpg", "030.jpg", "040.jpg"]]
engine = RapidOCR()
engine(images[0], use_cls=False)
t = time.perf_counter()
for img in images:
    engine(img, use_cls=False)
print(f"python seconds_per_receipt {(time.perf_counter() - t) / len(images):.3f}")
