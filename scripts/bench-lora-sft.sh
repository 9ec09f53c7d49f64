#!/usr/bin/env bash
# LoRA SFT of SmolLM2-135M-Instruct on the CPU, Whetstone (burn) against PEFT 0.21.2 +
# torch 2.9.1 in one run: seconds per optimiser step and peak resident memory, same model
# (the Q4_1 GGUF decoded to f32), sequence length (SEQ, default 512), batch 1, rank 16.
# The two alternate for ROUNDS rounds (default 3); medians and the median paired ratio.
# Installs torch (with its unused CUDA libraries, about 4 GB) into a throw-away venv.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh
rounds=${ROUNDS:-3}
seq=${SEQ:-512}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "torch==2.9.1" "transformers==5.12.1" "gguf==0.19.0" \
    "peft==0.21.2" "accelerate==1.16.0" "numpy==2.2.6"
cargo bench --quiet -p whet-benches --bench lora_sft --no-run
for _ in $(seq "$rounds"); do
    SEQ=$seq cargo bench --quiet -p whet-benches --bench lora_sft >> "$work/rust"
    "$work/venv/bin/python" scripts/bench/lora_sft_ref.py assets/smollm2-135m \
        SmolLM2-135M-Instruct.Q4_1.gguf "$seq" >> "$work/python"
done
for what in lora_step_seconds lora_peak_rss_mib; do
    grep "^rust $what" "$work/rust" | awk '{print $3}' > "$work/r"
    grep "^python $what" "$work/python" | awk '{print $3}' > "$work/p"
    echo "$what per round (peft+torch, whetstone, whetstone / peft+torch):"
    paste "$work/p" "$work/r" | awk '{printf "  %8.3f %8.3f %6.2f\n", $1, $2, $2 / $1}'
    printf "%s median: peft+torch %.3f, whetstone %.3f, ratio %.2f (median of %s paired ratios)\n" \
        "$what" "$(whet_median < "$work/p")" "$(whet_median < "$work/r")" \
        "$(paste "$work/p" "$work/r" | awk '{print $2 / $1}' | whet_median)" "$rounds"
done
