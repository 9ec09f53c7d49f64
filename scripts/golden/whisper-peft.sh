#!/usr/bin/env bash
# Regenerates crates/whisper-ft/tests/golden/whisper_peft/: a PEFT 0.21.2 LoRA adapter on
# Whisper tiny.en (transformers 5.12.1, torch 2.9.1 CPU; the Hugging Face folder
# whisper_to_hf writes) and the logits it gives, in a throw-away virtual environment.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --release --quiet -p whet-examples --example whisper_to_hf -- "$work/hf"
venv="${WHET_GOLDEN_VENV:-$work/venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "torch==2.9.1" "transformers==5.12.1" "peft==0.21.2" \
        "safetensors==0.8.0" "numpy==2.2.6"
fi
out=crates/whisper-ft/tests/golden/whisper_peft
rm -rf "$out"
"$venv/bin/python" scripts/golden/whisper_peft.py "$work/hf" "$out"
rm -f "$out/adapter/README.md"
