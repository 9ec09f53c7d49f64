#!/usr/bin/env bash
# Regenerates crates/ocr-det/tests/golden/onnx.json with the `onnx` package in a throw-away
# virtual environment. Fetches the weights first (scripts/assets.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/assets.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "onnx==1.19.1" "numpy==2.4.6"
"$work/venv/bin/python" scripts/golden/ocr_onnx.py
