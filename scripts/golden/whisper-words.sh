#!/usr/bin/env bash
# Regenerates crates/whisper-ft/tests/golden/openai_words_tiny_en.json: openai-whisper
# 20250625's word-level timestamps (torch 2.9.1 CPU, fp32) of the 5 LibriVox clips and of
# the clips joined, with Whisper tiny.en (the Hugging Face folder whisper_to_hf writes
# from CTranslate2's file; alignment heads from that file's config.json), in a throw-away
# virtual environment.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh
scripts/speech-data.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --release --quiet -p whet-examples --example whisper_to_hf -- "$work/hf"
venv="${WHET_GOLDEN_VENV:-$work/venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "torch==2.9.1" "openai-whisper==20250625" \
        "safetensors==0.8.0" "numpy==2.2.6"
fi
"$venv/bin/python" scripts/golden/whisper_words.py "$work/hf" assets/whisper-tiny.en/config.json \
    crates/whisper-ft/tests/golden/openai_words_tiny_en.json \
    /usr/share/pocketsphinx/test/data/librivox/*.wav
