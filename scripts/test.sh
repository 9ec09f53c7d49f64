#!/usr/bin/env bash
# The whole test suite: unit, integration and doc tests of every crate, examples built,
# after fetching the pretrained weights (scripts/assets.sh) and installing the speech clips
# (scripts/speech-data.sh: Debian's pocketsphinx-testdata and espeak-ng).
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo

# Real pretrained weights the model crates' tests load (fetched once, checksummed).
scripts/assets.sh
# Real speech the Whisper tests transcribe (a Debian package).
scripts/speech-data.sh
cargo test --workspace --all-targets "$@"
cargo test --workspace --doc "$@"
