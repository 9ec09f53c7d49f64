#!/usr/bin/env bash
# Checks a merged export of the fine-tuned extraction model with the reference, in a
# throw-away virtual environment: transformers 5.12.1 loads the Hugging Face folder
# Whetstone wrote (config.json, model.safetensors, tokenizer.json) and gives the logits
# of the base GGUF with the same adapter merged by PEFT 0.21.2 (`merge_and_unload`); its
# tokenizer and chat template give the GGUF tokenizer's ids.
#
# Usage: scripts/check-merged-export.sh [VERSION_DIR]
#   VERSION_DIR: a registered version of smollm2-135m-extraction (with merged/ and
#   peft/), by default the latest under whet-out/extraction-lm/registry.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/assets.sh
version="${1:-$(ls -d whet-out/extraction-lm/registry/smollm2-135m-extraction/versions/[0-9]* 2>/dev/null | sort -V | tail -1)}"
if [ -z "$version" ] || [ ! -d "$version/merged" ]; then
    echo "error: no registered version with merged/ (run the finetune_extraction_lm example)" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "torch==2.9.1" "transformers==5.12.1" "gguf==0.19.0" \
    "peft==0.21.2" "accelerate==1.16.0" "numpy==2.2.6"
"$work/venv/bin/python" scripts/golden/check_merged.py \
    assets/smollm2-135m SmolLM2-135M-Instruct.Q4_1.gguf "$version/peft" "$version/merged"
