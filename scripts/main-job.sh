#!/usr/bin/env bash
# Whetstone's main job. For now: train a tiny model on the CPU end to end and print its
# loss falling (exit status 1 if it does not). Later issues replace it with the receipts
# loop: synthesise, train, evaluate, mine, resynthesise, retrain, deploy if better.
# Usage: scripts/main-job.sh [example args]   (WHET_DEVICE picks the device; cpu default)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo

# The dev profile optimises every dependency at opt-level 3 (see Cargo.toml), so this
# shares the test suite's build instead of compiling burn a second time for --release.
cargo run -p whet-examples --example hello_train -- "$@"
