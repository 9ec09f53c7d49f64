#!/usr/bin/env python3
"""Other systems' outputs on the SROIE receipts, for examples/ocr_sroie_eval.rs to score
with the same code: rapidocr-onnxruntime 1.4.4 (its packaged config, direction classifier
off, as Whetstone runs) and Tesseract (the `tesseract` command, --psm 3, lines from its TSV
word table). Usage: ocr_sroie_others.py SROIE_DIR OUT_DIR [LIMIT]; writes
OUT_DIR/rapidocr.json and OUT_DIR/tesseract.json ({image: [{"box": [[x, y] x 4], "text"}]}).
"""
import csv
import io
import json
import os
import subprocess
import sys
import time

from rapidocr_onnxruntime import RapidOCR

sroie, out = sys.argv[1], sys.argv[2]
limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
names = sorted(n for n in os.listdir(os.path.join(sroie, "img")) if n.endswith(".jpg"))[:limit]

engine = RapidOCR()
rapid, t0 = {}, time.perf_counter()
for n in names:
    result, _ = engine(os.path.join(sroie, "img", n), use_cls=False)
    rapid[n] = [{"box": [[float(v) for v in p] for p in box], "text": text} for box, text, _ in (result or [])]
print(f"rapidocr: {(time.perf_counter() - t0) / len(names):.2f} s per receipt", file=sys.stderr)

tess = {}
for n in names:
    tsv = subprocess.run(["tesseract", os.path.join(sroie, "img", n), "stdout", "--psm", "3", "tsv"],
                         capture_output=True, text=True, check=True).stdout
    lines = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row["level"] != "5" or not (row["text"] or "").strip():
            continue
        key = (row["block_num"], row["par_num"], row["line_num"])
        l, t, w, h = (int(row[k]) for k in ("left", "top", "width", "height"))
        x0, y0, x1, y1, words = lines.get(key, (l, t, l + w, t + h, []))
        lines[key] = (min(x0, l), min(y0, t), max(x1, l + w), max(y1, t + h), words + [row["text"]])
    tess[n] = [{"box": [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], "text": " ".join(words)}
               for x0, y0, x1, y1, words in lines.values()]

for name, data in (("rapidocr", rapid), ("tesseract", tess)):
    with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
