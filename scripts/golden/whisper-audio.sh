#!/usr/bin/env bash
# Regenerates crates/whisper-ft/tests/golden/audio/ in a throw-away virtual environment:
# FLAC, MP3 and Ogg Vorbis files (and a stereo float WAV) written by libsndfile 1.2
# (soundfile 0.13.1) from 1.2 s of a
# LibriVox clip, what libsndfile decodes from them, and soxr 1.0.0's and librosa
# 0.11.0's resampling to 16 kHz.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/speech-data.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "soundfile==0.13.1" "soxr==1.0.0" "librosa==0.11.0" \
    "numpy==2.2.6"
"$work/venv/bin/python" scripts/golden/whisper_audio.py \
    /usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav \
    crates/whisper-ft/tests/golden/audio
