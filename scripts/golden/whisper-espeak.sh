#!/usr/bin/env bash
# Regenerates crates/whisper-ft/tests/golden/faster_whisper_espeak.json: 20 espeak-ng
# clips (Philippine English and Tagalog expense phrases, seed 2026, noise added; made by
# the synth_speech example) with their SHA-256, and faster-whisper 1.2.1's greedy
# transcripts of them with Whisper tiny.en (CTranslate2 4.6.0, f32, no VAD), in a
# throw-away virtual environment.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/assets.sh
scripts/speech-data.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo run --release -q -p whet-examples --example synth_speech -- \
    --n 20 --seed 2026 --out "$work/clips" > /dev/null
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "faster-whisper==1.2.1" "ctranslate2==4.6.0"
"$work/venv/bin/python" scripts/golden/whisper_faster.py assets/whisper-tiny.en \
    "$work/fw.json" 1 "$work"/clips/*.wav
python3 - "$work/clips" "$work/fw.json" crates/whisper-ft/tests/golden/faster_whisper_espeak.json <<'PY'
import hashlib, json, os, sys
clips, fw, out = sys.argv[1:]
cases = {c["clip"]: c for c in json.load(open(fw))["cases"]}
records = [json.loads(l) for l in open(os.path.join(clips, "manifest.jsonl"))]
for r in records:
    c = cases[r["audio"]]
    r["sha256"] = hashlib.sha256(open(os.path.join(clips, r["audio"]), "rb").read()).hexdigest()
    r["segments"] = c["segments"]
    r["transcript"] = c["text"]
json.dump({"seed": 2026, "clips": records}, open(out, "w"), indent=1, ensure_ascii=False)
PY
