#!/usr/bin/env bash
# Regenerates whet-ocr-det's network fixtures in crates/ocr-det/tests/golden with the
# `onnx` package and onnxruntime in one throw-away virtual environment: the ONNX reader's
# view of the files (ocr_onnx.py), the detector's probability map (ocr_det_model.py) and
# the recognizer's outputs (ocr_rec_model.py) and OpenCV's resize and warp
# (ocr_image_ops.py). Needs ../shared/data/sroie-dev; fetches the
# weights. The end-to-end rapidocr fixture has its own script, ocr-pipeline.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/assets.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "onnx==1.19.1" "onnxruntime==1.23.2" "numpy==2.2.6" "pillow==12.0.0" \
    "opencv-python-headless==4.12.0.88"
for script in ocr_onnx ocr_det_model ocr_rec_model ocr_image_ops; do
    "$work/venv/bin/python" "scripts/golden/$script.py"
done
