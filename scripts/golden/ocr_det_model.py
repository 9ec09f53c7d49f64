#!/usr/bin/env python3
"""Golden fixture for whet-ocr-det's detector network: onnxruntime's probability map.

Run by scripts/golden/ocr-det.sh. Takes a 160 x 224 crop from the top of SROIE
receipt 000.jpg (../shared/data/sroie-dev), writes it as crates/ocr-det/tests/golden/
det_crop.png (RGB), feeds PP-OCRv4's detector with x = (pixel / 255 - 0.5) / 0.5 in
float32, channels in BGR order as rapidocr feeds OpenCV images, and writes the [160, 224]
probability map as little-endian float32 to det_crop_prob.bin.
"""
import os

import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "crates", "ocr-det", "tests", "golden")
SROIE = os.environ.get("SROIE", os.path.join(ROOT, "..", "shared", "data", "sroie-dev"))


def main():
    img = Image.open(os.path.join(SROIE, "img", "000.jpg")).convert("RGB")
    w, h = img.size
    left = (w - 224) // 2
    crop = img.crop((left, 40, left + 224, 40 + 160))
    crop.save(os.path.join(OUT, "det_crop.png"))
    rgb = np.asarray(crop, dtype=np.uint8)
    bgr = rgb[:, :, ::-1].astype(np.float32)
    x = ((bgr / np.float32(255.0) - np.float32(0.5)) / np.float32(0.5)).astype(np.float32)
    x = x.transpose(2, 0, 1)[None]
    sess = ort.InferenceSession(os.path.join(ROOT, "assets", "rapidocr-1.4.4", "ch_PP-OCRv4_det_infer.onnx"),
                                providers=["CPUExecutionProvider"])
    prob = sess.run(None, {"x": x})[0]
    assert prob.shape == (1, 1, 160, 224), prob.shape
    prob[0, 0].astype("<f4").tofile(os.path.join(OUT, "det_crop_prob.bin"))
    print(f"probability map: mean {prob.mean():.4f}, max {prob.max():.4f}, > 0.3: {(prob > 0.3).mean():.3f}")


if __name__ == "__main__":
    main()
