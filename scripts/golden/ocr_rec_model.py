#!/usr/bin/env python3
"""Golden fixture for whet-ocr-det's recognizer network: onnxruntime's output.

Run by scripts/golden/ocr-det.sh. For 12 annotated text lines of SROIE receipts
(../shared/data/sroie-dev: the 2nd, 4th and 6th line of receipts 000, 010, 020 and 030),
crops the line's box, resizes it to height 48 (width ceil(48 * aspect) rounded up to a
multiple of 8, no cap: rapidocr widens the batch to its widest line; PIL bilinear) and saves it as
crates/ocr-det/tests/golden/rec_NN.png. Feeds PP-OCRv4's recognizer with
x = (pixel / 255 - 0.5) / 0.5 (float32, BGR), and writes rec.json: per line the file,
the SROIE transcript, per time step the five most probable classes with their
probabilities, and the greedy CTC text (argmax, merge repeats, drop blanks).
"""
import json
import math
import os

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "crates", "ocr-det", "tests", "golden")
SROIE = os.environ.get("SROIE", os.path.join(ROOT, "..", "shared", "data", "sroie-dev"))
MODEL = os.path.join(ROOT, "assets", "rapidocr-1.4.4", "ch_PP-OCRv4_rec_infer.onnx")


def main():
    meta = {p.key: p.value for p in onnx.load(MODEL).metadata_props}
    classes = ["blank"] + meta["character"].splitlines() + [" "]
    sess = ort.InferenceSession(MODEL, providers=["CPUExecutionProvider"])
    lines = []
    for receipt in ["000", "010", "020", "030"]:
        img = Image.open(os.path.join(SROIE, "img", receipt + ".jpg")).convert("RGB")
        rows = open(os.path.join(SROIE, "box", receipt + ".csv"), encoding="utf-8").read().splitlines()
        for k in (1, 3, 5):
            parts = rows[k].split(",", 8)
            xs, ys = [int(v) for v in parts[0:8:2]], [int(v) for v in parts[1:8:2]]
            crop = img.crop((min(xs), min(ys), max(xs), max(ys)))
            w = math.ceil(48 * crop.width / crop.height)
            w = (w + 7) // 8 * 8
            crop = crop.resize((w, 48), Image.BILINEAR)
            name = f"rec_{len(lines):02}.png"
            crop.save(os.path.join(OUT, name))
            bgr = np.asarray(crop, dtype=np.uint8)[:, :, ::-1].astype(np.float32)
            x = ((bgr / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5)).transpose(2, 0, 1)[None]
            prob = sess.run(None, {"x": x.astype(np.float32)})[0][0]
            top = np.argsort(-prob, axis=1, kind="stable")[:, :5]
            best = prob.argmax(axis=1)
            text = "".join(classes[c] for i, c in enumerate(best) if c != 0 and (i == 0 or c != best[i - 1]))
            lines.append({"file": name, "transcript": parts[8], "text": text,
                          "top": [[[int(c), float(prob[t, c])] for c in top[t]] for t in range(prob.shape[0])]})
    with open(os.path.join(OUT, "rec.json"), "w", encoding="utf-8") as f:
        json.dump(lines, f, ensure_ascii=False)
    for l in lines:
        print(f"{l['file']}: {l['text']!r} (SROIE {l['transcript']!r})")


if __name__ == "__main__":
    main()
