#!/usr/bin/env bash
# Regenerates crates/ocr-det/tests/golden/pipeline.json and min_area_rect.json with rapidocr-onnxruntime 1.4.4
# in a throw-away virtual environment. Needs ../shared/data/sroie-dev.
# OpenCV is pinned by the name rapidocr depends on (opencv-python): left to pip it
# resolves to OpenCV 5, whose minAreaRect differs (another hull orientation and angle
# convention); Whetstone reproduces 4.12, the version of the image_ops fixture too.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "rapidocr-onnxruntime==1.4.4" "onnxruntime==1.23.2" \
    "opencv-python==4.12.0.88" "numpy==2.2.6"
"$work/venv/bin/python" scripts/golden/ocr_pipeline.py
"$work/venv/bin/python" scripts/golden/ocr_min_area_rect.py
