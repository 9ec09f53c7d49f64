#!/usr/bin/env bash
# Where the CPU time goes: perf samples each of Whetstone's real workloads on burn-flex
# and prints the top entries by self time (symbols of the release bench binaries):
#   ocr_read      PP-OCRv4 reading one SROIE receipt (benches/benches/ocr_det.rs)
#   det_train     one detector training step, 640 x 640, batch 4 (ocr_train.rs)
#   rec_train     one recognizer training step, 48 x 320, batch 32 (ocr_train.rs)
#   lm_prompt     SmolLM2-135M, a 64-token prompt (lm.rs)
#   lm_token      SmolLM2-135M, one generated token (lm.rs)
#   lora_step     SmolLM2-135M, one LoRA training step on 64 tokens (lm.rs)
# Usage: scripts/profile-cpu.sh [workload...]   (TOP=12 entries, SECONDS_EACH=15)
# Installs perf (Debian's linux-perf) when it is missing; needs perf_event_paranoid <= 2.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh >/dev/null
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf; }
top=${TOP:-12}
secs=${SECONDS_EACH:-15}
declare -A bench=([ocr_read]=ocr_det [det_train]=ocr_train [rec_train]=ocr_train
    [lm_prompt]=lm [lm_token]=lm [lora_step]=lm)
declare -A filter=([ocr_read]=read_receipt_000 [det_train]=det_step_640x640_b4
    [rec_train]=rec_step_48x320_b32 [lm_prompt]=prompt_64 [lm_token]=token_1
    [lora_step]=lora_step_64)
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(ocr_read det_train rec_train lm_prompt lm_token lora_step)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for w in "${workloads[@]}"; do
    b=${bench[$w]}
    cargo bench --quiet -p whet-benches --bench "$b" --no-run 2>/dev/null
    exe=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/"$b"-* | grep -v '\.d$' | head -1)
    perf record -q -F 499 -o "$work/$w.data" -- "$exe" --bench --profile-time "$secs" "${filter[$w]}" \
        >/dev/null 2>&1
    echo "## $w: top $top by self time"
    perf report -q -i "$work/$w.data" --no-children --sort symbol --percent-limit 0.5 \
        >"$work/$w.txt" 2>/dev/null
    grep -v '^$' "$work/$w.txt" | sed -E 's/ +\[\.\] / /; s/^ +//; s/ +- - *$//' |
        awk -v top="$top" 'NR <= top {pct=$1; $1=""; sub(/^ /, "");
            if (length($0) > 110) $0 = substr($0, 1, 107) "..."; printf "%7s  %s\n", pct, $0}'
done
