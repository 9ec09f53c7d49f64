#!/usr/bin/env bash
# Whetstone's main job: fine-tune PP-OCRv4 on synthetic Philippine receipts on the CPU
# (examples/finetune_receipts_ocr.rs). It synthesises 200 training and 40 held-out
# receipts, measures the pretrained detector and recognizer (and on the real SROIE
# receipts of ../shared/data/sroie-dev when they are there), fine-tunes the recognizer
# with the whet-core Trainer, is killed part-way (a simulated crash at step 150),
# resumes from its last checkpoint, measures again and registers the result, promoted to
# production only if it beats the current version. Exit status non-zero if any step
# fails. Runs, datasets and the registry land in whet-out/finetune-ocr.
# Usage: scripts/main-job.sh [example args]   (WHET_DEVICE picks the device; cpu default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
whet_fonts
scripts/assets.sh

args=()
if [ -d ../shared/data/sroie-dev/img ]; then
    args+=(--sroie ../shared/data/sroie-dev)
fi
# The dev profile optimises every dependency (burn) at opt-level 3 (see Cargo.toml), so
# this shares the test suite's build instead of compiling burn a second time.
run() { cargo run -p whet-examples --example finetune_receipts_ocr -- "${args[@]}" "$@"; }

echo "::: attempt 1: will be killed at recognizer step 150"
if run --kill-at 150 "$@"; then
    echo "attempt 1 was meant to be killed" >&2
    exit 1
fi
echo "::: attempt 2: resuming from the last checkpoint"
run "$@"
