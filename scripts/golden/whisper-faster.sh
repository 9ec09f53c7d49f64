#!/usr/bin/env bash
# Regenerates crates/whisper-ft/tests/golden/faster_whisper_tiny_en{,_beam5}.json in a
# throw-away virtual environment: faster-whisper 1.2.1 (CTranslate2 4.6.0, f32)
# transcribing the 5 LibriVox clips of pocketsphinx-testdata with Whisper tiny.en
# (scripts/assets.sh), greedy and with 5 beams, no VAD.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/assets.sh
scripts/speech-data.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "faster-whisper==1.2.1" "ctranslate2==4.6.0"
for beams in 1 5; do
    out=crates/whisper-ft/tests/golden/faster_whisper_tiny_en.json
    [ "$beams" = 1 ] || out=crates/whisper-ft/tests/golden/faster_whisper_tiny_en_beam5.json
    "$work/venv/bin/python" scripts/golden/whisper_faster.py assets/whisper-tiny.en "$out" \
        "$beams" /usr/share/pocketsphinx/test/data/librivox/*.wav
done
