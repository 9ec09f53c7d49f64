#!/usr/bin/env bash
# How hard each synth-docs degradation is for real OCR: for every DocFeature of the
# photographed-receipt kind (and for clean receipts), 12 receipts on 80 mm paper (seed 7,
# the plan asking for that feature alone, augmentations on) read by Tesseract (each line's
# crop, --psm 7: character accuracy) and by the pretrained PP-OCRv4 pipeline (detection
# hmean, line accuracy with spaces ignored). Installs tesseract-ocr and the fonts; fetches
# the weights.
# Usage: scripts/synth-realism-features.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
whet_fonts
scripts/assets.sh >/dev/null
command -v tesseract >/dev/null || whet_apt_install tesseract-ocr
n=${1:-12}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --quiet --release -p whet-examples --example synth_receipts --example ocr_sroie_eval
bin="${CARGO_TARGET_DIR}/release/examples"
printf '%-16s %10s %10s %10s\n' feature tesseract ppocr_hmean ppocr_lines
for f in none faded_print thermal_streaks dot_matrix narrow_font upper_case logo stamp fold low_res_capture; do
    if [ "$f" = none ]; then echo '{"features": {}}' > "$work/$f.json"; augment=()
    else echo "{\"features\": {\"$f\": 1.0}}" > "$work/$f.json"; augment=(--augment); fi
    "$bin/synth_receipts" --n "$n" --seed 7 --layout 1 --plan "$work/$f.json" "${augment[@]}" \
        --out "$work/$f" 2>/dev/null
    tess=$(python3 scripts/synth-realism.py "$work/$f" "$n" | sed -n 's/^lines:.*accuracy //p')
    read -r hmean lines < <("$bin/ocr_sroie_eval" --synthetic "$work/$f" 2>/dev/null \
        | awk '/^whetstone/ {print $(NF-3), $NF}')
    printf '%-16s %10s %10s %10s\n' "$f" "$tess" "$hmean" "$lines"
done
