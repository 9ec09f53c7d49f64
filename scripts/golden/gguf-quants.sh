#!/usr/bin/env bash
# Regenerates crates/core/tests/golden/gguf/quants.gguf with gguf-py 0.19.0 (llama.cpp's
# Python package) in a throw-away virtual environment.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "gguf==0.19.0" "numpy==2.2.6"
"$work/venv/bin/python" scripts/golden/gguf_quants.py crates/core/tests/golden/gguf/quants.gguf
