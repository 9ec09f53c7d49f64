#!/usr/bin/env bash
# The whole test suite: unit, integration and doc tests of every crate, examples built,
# after fetching the pretrained weights (scripts/assets.sh).
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo

# Real pretrained weights the model crates' tests load (fetched once, checksummed).
scripts/assets.sh
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
