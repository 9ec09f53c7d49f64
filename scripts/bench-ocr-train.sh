#!/usr/bin/env bash
# PP-OCRv4 training throughput, Whetstone (burn, CPU) against PyTorch (CPU) running the
# same networks converted from the same ONNX files (onnx2torch): seconds per full training
# step of the detector (640 x 640, batch 4, DB loss) and the recognizer (48 x 320, batch
# 32, CTC), every parameter trained, AdamW and norm clipping. The two alternate for ROUNDS
# rounds (default 3); the report gives each side's median and the median of the per-round
# ratios. Installs torch 2.9.1 (with its CUDA libraries, unused: PyPI has no CPU-only
# build; about 4 GB) into a throw-away virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh
rounds=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "torch==2.9.1" "torchvision==0.24.1" "onnx2torch==1.5.15" "onnx==1.23.2" "numpy==2.4.6"
cargo bench --quiet -p whet-benches --bench ocr_train --no-run
for _ in $(seq "$rounds"); do
    cargo bench --quiet -p whet-benches --bench ocr_train -- --side-by-side >> "$work/rust"
    "$work/venv/bin/python" scripts/bench/ocr_train_ref.py assets/rapidocr-1.4.4 >> "$work/python"
done
for what in det rec; do
    grep "^rust ${what}_" "$work/rust" | awk '{print $3}' > "$work/r.$what"
    grep "^python ${what}_" "$work/python" | awk '{print $3}' > "$work/p.$what"
    echo "$what: seconds per step per round (pytorch, rust, rust / pytorch):"
    paste "$work/p.$what" "$work/r.$what" | awk '{printf "  %7.3f %7.3f %6.2f\n", $1, $2, $2 / $1}'
    printf "%s median: pytorch %.3f s, rust %.3f s, rust / pytorch %.2f (median of %s paired ratios)\n" \
        "$what" "$(whet_median < "$work/p.$what")" "$(whet_median < "$work/r.$what")" \
        "$(paste "$work/p.$what" "$work/r.$what" | awk '{print $2 / $1}' | whet_median)" "$rounds"
done
