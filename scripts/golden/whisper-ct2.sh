#!/usr/bin/env bash
# Regenerates crates/whisper-ft/tests/golden/ct2_tiny_en.json in a throw-away virtual
# environment: CTranslate2 4.6.0 running Whisper tiny.en (scripts/assets.sh) on the 5
# LibriVox clips of pocketsphinx-testdata (scripts/speech-data.sh), from openai-whisper
# 20250625's log-mel of each (30 s of padding on the audio, the first 3,000 frames):
# every 150th frame of the encoder's output, and the greedy tokens and their log
# probabilities without any suppression or timestamp rule.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/assets.sh
scripts/speech-data.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "torch==2.9.1" "openai-whisper==20250625" "numpy==2.2.6" \
    "ctranslate2==4.6.0"
"$work/venv/bin/python" scripts/golden/whisper_ct2.py assets/whisper-tiny.en \
    /usr/share/pocketsphinx/test/data/librivox crates/whisper-ft/tests/golden/ct2_tiny_en.json
