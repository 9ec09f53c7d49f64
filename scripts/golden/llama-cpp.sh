#!/usr/bin/env bash
# Regenerates crates/vlm-lora/tests/golden/llama_cpp.json with llama.cpp itself
# (llama-cpp-python 0.3.36 from PyPI, built from source: a few minutes) in a throw-away
# virtual environment, on the SmolLM2-135M-Instruct Q4_1 GGUF of scripts/assets.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/assets.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "llama-cpp-python==0.3.36" "numpy==2.2.6"
"$work/venv/bin/python" scripts/golden/llama_cpp.py \
    assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf crates/vlm-lora/tests/golden/llama_cpp.json
