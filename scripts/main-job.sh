#!/usr/bin/env bash
# Whetstone's main job. For now: examples/train_tiny.rs trains a small classifier on the
# CPU with the whet-core Trainer, is killed part-way, resumes from its checkpoint, and
# registers the result, promoting it only if it beats production (exit status 1 if
# training fails). Later issues replace it with the receipts loop: synthesise, train,
# evaluate, mine, resynthesise, retrain, deploy if better.
# Usage: scripts/main-job.sh [example args]   (WHET_DEVICE picks the device; cpu default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo

# The dev profile optimises every dependency at opt-level 3 (see Cargo.toml), so this
# shares the test suite's build instead of compiling burn a second time for --release.
cargo run -p whet-examples --example train_tiny -- "$@"
