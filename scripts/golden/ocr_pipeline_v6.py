#!/usr/bin/env python3
"""Golden fixture for whet-ocr-det's pipeline on PP-OCRv6: rapidocr 3.10.0 (its packaged
PP-OCRv6 small detector and recognizer, onnxruntime) on the images of
scripts/golden/ocr_pipeline.py: the first 20 SROIE receipts of ../shared/data/sroie-dev and
the 8 synthetic receipts in crates/ocr-det/tests/golden/synth, the direction classifier off.

Run by scripts/golden/ocr-pipeline-v6.sh. Writes crates/ocr-det/tests/golden/pipeline_v6.json:
per image, every line's 4-point box, text and score, in rapidocr's order.
"""
import json
import os

from rapidocr import RapidOCR

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")
SROIE = os.environ.get("SROIE", os.path.join(ROOT, "..", "shared", "data", "sroie-dev"))
OUT = os.path.join(ROOT, "crates", "ocr-det", "tests", "golden", "pipeline_v6.json")


def main():
    engine = RapidOCR(params={"Global.use_cls": False, "Global.log_level": "warning"})
    synth = os.path.join(ROOT, "crates", "ocr-det", "tests", "golden", "synth")
    images = [(name, os.path.join(SROIE, "img", name))
              for name in sorted(os.listdir(os.path.join(SROIE, "img")))[:20]]
    images += [("synth/" + name, os.path.join(synth, name)) for name in sorted(os.listdir(synth))]
    out = {}
    for name, path in images:
        r = engine(path, use_cls=False)
        boxes = [] if r.boxes is None else r.boxes.tolist()
        out[name] = [{"box": [[float(v) for v in p] for p in box], "text": text, "score": float(score)}
                     for box, text, score in zip(boxes, r.txts or [], r.scores or [])]
        print(f"{name}: {len(out[name])} lines")
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
