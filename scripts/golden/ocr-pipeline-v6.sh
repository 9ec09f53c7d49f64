#!/usr/bin/env bash
# Regenerates crates/ocr-det/tests/golden/pipeline_v6.json with rapidocr 3.10.0 (PP-OCRv6
# small) in a throw-away virtual environment. Needs ../shared/data/sroie-dev.
# OpenCV is pinned to 4.12 under the name rapidocr 3 depends on (opencv-python-headless),
# as for the PP-OCRv4 fixture: OpenCV 5's minAreaRect differs.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "rapidocr==3.10.0" "onnxruntime==1.23.2" \
    "opencv-python-headless==4.12.0.88" "numpy==2.2.6"
"$work/venv/bin/python" scripts/golden/ocr_pipeline_v6.py
