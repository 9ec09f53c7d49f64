#!/usr/bin/env bash
# The whole test suite: unit, integration and doc tests of every crate, examples built.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
