#!/usr/bin/env bash
# Regenerates crates/vlm-lora/tests/golden/trl_labels.json in a throw-away virtual
# environment: the input ids and labels TRL 1.16.0's SFTTrainer prepares for
# prompt-completion conversations (completion-only loss, truncation) on the tokenizer of
# the SmolLM2-135M-Instruct GGUF of scripts/assets.sh (transformers 5.12.1 reads it).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/assets.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "torch==2.9.1" "transformers==5.12.1" "gguf==0.19.0" \
    "trl==1.16.0" "datasets==4.7.0" "accelerate==1.16.0" "numpy==2.2.6"
"$work/venv/bin/python" scripts/golden/trl_labels.py \
    assets/smollm2-135m SmolLM2-135M-Instruct.Q4_1.gguf crates/vlm-lora/tests/golden/trl_labels.json
