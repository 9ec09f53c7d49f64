#!/usr/bin/env bash
# Converts Whisper tiny.en from CTranslate2's file to a Hugging Face folder with the
# whisper_to_hf example, then, in a throw-away virtual environment, loads that folder in
# transformers 5.12.1 and checks that its greedy tokens on the 5 LibriVox clips are
# CTranslate2 4.6.0's on the original file (same log-mel from openai-whisper 20250625).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh
scripts/speech-data.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --release --quiet -p whet-examples --example whisper_to_hf -- "$work/hf"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "torch==2.9.1" "transformers==5.12.1" \
    "openai-whisper==20250625" "ctranslate2==4.6.0" "numpy==2.2.6"
"$work/venv/bin/python" scripts/golden/check_whisper_hf.py "$work/hf" assets/whisper-tiny.en \
    /usr/share/pocketsphinx/test/data/librivox
