#!/usr/bin/env bash
# whet-ocr-det against rapidocr-onnxruntime 1.4.4 in one run: seconds per receipt for the
# whole pipeline on five SROIE receipts. The two alternate for ROUNDS rounds (default 3)
# so both see the same drift of this shared machine; the report gives each side's median
# and the median of the per-round ratios. Needs ../shared/data/sroie-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh
rounds=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "rapidocr-onnxruntime==1.4.4" "onnxruntime==1.23.2" \
    "opencv-python==4.12.0.88" "numpy==2.2.6"
cargo bench --quiet -p whet-benches --bench ocr_det --no-run
for _ in $(seq "$rounds"); do
    cargo bench --quiet -p whet-benches --bench ocr_det -- --side-by-side | awk '{print $3}' >> "$work/rust"
    "$work/venv/bin/python" scripts/bench/ocr_det_ref.py | awk '{print $3}' >> "$work/python"
done
echo "seconds per receipt per round (onnxruntime, rust, rust / onnxruntime):"
paste "$work/python" "$work/rust" | awk '{printf "  %7.3f %7.3f %6.2f\n", $1, $2, $2 / $1}'
printf "median: onnxruntime %.3f s, rust %.3f s, rust / onnxruntime %.2f (median of %s paired ratios)\n" \
    "$(whet_median < "$work/python")" "$(whet_median < "$work/rust")" \
    "$(paste "$work/python" "$work/rust" | awk '{print $2 / $1}' | whet_median)" "$rounds"
