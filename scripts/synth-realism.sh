#!/usr/bin/env bash
# Realism check of whet-synth-docs: Tesseract's character accuracy on 24 clean documents
# (seed 7, three of each of the eight templates) against their ground truth, line by line
# and, for receipts, page by page. Installs Debian's tesseract-ocr when missing.
# Usage: scripts/synth-realism.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
whet_fonts
command -v tesseract >/dev/null || whet_apt_install tesseract-ocr
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --quiet -p whet-examples --example synth_receipts -- --n 24 --seed 7 --out "$work/docs" 2>/dev/null
python3 scripts/synth-realism.py "$work/docs" 24
