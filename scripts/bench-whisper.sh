#!/usr/bin/env bash
# Whisper tiny.en real-time factor (seconds of compute per second of audio; lower is
# faster) on the 5 LibriVox clips of pocketsphinx-testdata, in one run on this machine:
# whet-whisper-ft (examples/whisper_transcribe.rs, release) against faster-whisper 1.2.1
# (CTranslate2 4.6.0, fp32 and int8, 2 threads) and openai-whisper 20250625 (torch 2.9.1
# CPU, 2 threads), all greedy with temperature fallback and timestamps, no VAD. Each
# system transcribes the clips twice and the second pass is timed (model loading and
# warm-up excluded).
# Usage: scripts/bench-whisper.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh
scripts/speech-data.sh
clips=(/usr/share/pocketsphinx/test/data/librivox/*.wav)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet -p whet-examples --example whisper_transcribe --example whisper_to_hf
bin="${CARGO_TARGET_DIR:-target}/release/examples"
"$bin/whisper_to_hf" "$work/hf" 2> /dev/null
# Two passes; the second five files are timed.
"$bin/whisper_transcribe" "${clips[@]}" "${clips[@]}" 2> /dev/null |
    sed -nE 's/.*\(([0-9.]+) s of audio in ([0-9.]+) s.*/\1 \2/p' | tail -5 > "$work/whet"
awk '{a += $1; c += $2} END {printf "whet-whisper-ft rtf %.4f\n", c / a}' "$work/whet" | tee "$work/all"
# WHET_BENCH_VENV: a kept environment with these packages, instead of a throw-away one.
venv="${WHET_BENCH_VENV:-$work/venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "faster-whisper==1.2.1" "ctranslate2==4.6.0" \
        "torch==2.9.1" "openai-whisper==20250625" "safetensors==0.8.0" "numpy==2.2.6"
fi
"$venv/bin/python" scripts/bench/whisper_ref.py "$work/hf" assets/whisper-tiny.en \
    "${clips[@]}" | tee -a "$work/all"
w=$(awk '/^whet/ {print $3}' "$work/all")
for peer in faster-whisper-float32 faster-whisper-int8 openai-whisper; do
    p=$(awk -v s="$peer" '$1 == s {print $3}' "$work/all")
    printf "whet / %s: %.2f (above 1: whet slower)\n" "$peer" "$(echo "$w / $p" | bc -l)"
done
