#!/usr/bin/env bash
# Regenerates crates/ocr-det/tests/golden/rec_*.png and rec.json with onnxruntime in a
# throw-away virtual environment. Needs ../shared/data/sroie-dev; fetches the weights.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/assets.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "onnxruntime==1.23.2" "onnx==1.19.1" "numpy==2.4.6" "pillow==12.0.0"
"$work/venv/bin/python" scripts/golden/ocr_rec_model.py
