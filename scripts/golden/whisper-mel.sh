#!/usr/bin/env bash
# Regenerates crates/whisper-ft/tests/golden/mel/ in a throw-away virtual environment:
# 16-bit WAV clips made here (tones, noise, a chirp, a click, a clip shorter than one
# window) and openai-whisper 20250625's log_mel_spectrogram of each (80 and 128 bins; one
# clip also with a second of zero padding), read as its load_audio reads 16-bit PCM.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/assets.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "torch==2.9.1" "openai-whisper==20250625" "numpy==2.2.6"
"$work/venv/bin/python" scripts/golden/whisper_mel.py crates/whisper-ft/tests/golden/mel
