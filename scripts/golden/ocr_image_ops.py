#!/usr/bin/env python3
"""Golden fixture for whet-ocr-det's OpenCV-style image operations, produced by
opencv-python-headless. Run by scripts/golden/ocr-det.sh. From
crates/ocr-det/tests/golden/det_crop.png (RGB, 224 x 160): cv2.resize (INTER_LINEAR) to
97 x 50 and to 300 x 211, and cv2.warpPerspective (INTER_CUBIC, BORDER_REPLICATE) of the
quadrilateral (12.5, 20.25) (201.75, 31.0) (196.0, 87.5) (9.0, 70.0) onto 150 x 45 with the
matrix of cv2.getPerspectiveTransform; writes image_ops_*.png beside it.
"""
import os

import cv2
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "ocr-det", "tests", "golden")


def main():
    img = cv2.imread(os.path.join(OUT, "det_crop.png"), cv2.IMREAD_COLOR)  # BGR
    for w, h in [(97, 50), (300, 211)]:
        cv2.imwrite(os.path.join(OUT, f"image_ops_resize_{w}x{h}.png"), cv2.resize(img, (w, h)))
    src = np.array([[12.5, 20.25], [201.75, 31.0], [196.0, 87.5], [9.0, 70.0]], dtype=np.float32)
    dst = np.array([[0, 0], [150, 0], [150, 45], [0, 45]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(img, m, (150, 45), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    cv2.imwrite(os.path.join(OUT, "image_ops_warp_150x45.png"), warped)


if __name__ == "__main__":
    main()
