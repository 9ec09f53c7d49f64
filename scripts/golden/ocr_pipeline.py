#!/usr/bin/env python3
"""Golden fixture for whet-ocr-det's whole pipeline: rapidocr-onnxruntime 1.4.4 on real
receipts.

Run by scripts/golden/ocr-pipeline.sh. Reads the first 20 SROIE receipts (sorted by name)
of ../shared/data/sroie-dev/img and the 8 synthetic Philippine receipts in
crates/ocr-det/tests/golden/synth (one per synth-docs template, rendered by
`cargo run --release -p whet-examples --example synth_receipts -- --n 8 --seed 606`;
lossless PNG, so both sides decode the same pixels), and runs RapidOCR with its packaged config, the
text-direction classifier off (use_cls=False: Whetstone's pipeline does not run it by
default). Writes crates/ocr-det/tests/golden/pipeline.json: per image, every line's
4-point box, text and score, in rapidocr's order; synthetic images are keyed
`synth/<name>`.
"""
import json
import os

from rapidocr_onnxruntime import RapidOCR

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")
SROIE = os.environ.get("SROIE", os.path.join(ROOT, "..", "shared", "data", "sroie-dev"))
OUT = os.path.join(ROOT, "crates", "ocr-det", "tests", "golden", "pipeline.json")


def main():
    engine = RapidOCR()
    synth = os.path.join(ROOT, "crates", "ocr-det", "tests", "golden", "synth")
    images = [(name, os.path.join(SROIE, "img", name))
              for name in sorted(os.listdir(os.path.join(SROIE, "img")))[:20]]
    images += [("synth/" + name, os.path.join(synth, name)) for name in sorted(os.listdir(synth))]
    out = {}
    for name, path in images:
        result, _ = engine(path, use_cls=False)
        out[name] = [{"box": [[float(v) for v in p] for p in box], "text": text, "score": float(score)}
                     for box, text, score in (result or [])]
        print(f"{name}: {len(out[name])} lines")
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
