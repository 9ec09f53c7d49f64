#!/usr/bin/env bash
# Regenerates crates/ocr-det/tests/golden/db_labels.json with PaddleOCR's own DB target
# code (paddleocr 2.9.1's make_border_map.py / make_shrink_map.py, taken from its wheel
# without installing paddle) in a throw-away virtual environment.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "numpy==2.2.6" "opencv-python-headless==4.12.0.88" \
    "shapely==2.1.1" "pyclipper==1.3.0.post6"
"$work/venv/bin/pip" download --quiet --no-deps -d "$work" "paddleocr==2.9.1"
(cd "$work" && python3 -m zipfile -e paddleocr-2.9.1-py3-none-any.whl wheel)
"$work/venv/bin/python" scripts/golden/ocr_db_labels.py "$work/wheel"
