#!/usr/bin/env bash
# PP-OCRv4 in burn, rapidocr-onnxruntime and Tesseract on the SROIE receipts
# (../shared/data/sroie-dev), scored by the same code (examples/ocr_sroie_eval.rs):
# DB-protocol detection P/R/hmean and recognition accuracy on matched lines.
# Usage: scripts/ocr-sroie-eval.sh [LIMIT]   (installs tesseract-ocr with apt when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh
whet_apt_install tesseract-ocr tesseract-ocr-eng
sroie=../shared/data/sroie-dev
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "rapidocr-onnxruntime==1.4.4" "onnxruntime==1.23.2" \
    "opencv-python==4.12.0.88" "numpy==2.2.6"
"$work/venv/bin/python" scripts/bench/ocr_sroie_others.py "$sroie" "$work" ${1:+"$1"}
cargo run --quiet --release -p whet-examples --example ocr_sroie_eval -- --sroie "$sroie" \
    ${1:+--limit "$1"} --other "rapidocr-onnxruntime 1.4.4=$work/rapidocr.json" \
    --other "tesseract $(tesseract --version 2>&1 | head -1 | awk '{print $2}')=$work/tesseract.json"
