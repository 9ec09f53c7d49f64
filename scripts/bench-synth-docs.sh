#!/usr/bin/env bash
# Receipts per second on one core, whet-synth-docs against an equivalent Python PIL +
# Faker generator (scripts/bench/synth_docs_ref.py), in one run on one machine.
# Usage: scripts/bench-synth-docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
whet_fonts
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "pillow==12.0.0" "faker==38.2.0"
cargo bench --quiet -p whet-benches --bench synth_docs --no-run
rust=$(taskset -c 0 cargo bench --quiet -p whet-benches --bench synth_docs -- --side-by-side | awk '/receipts_per_second/ {print $3}')
python=$(taskset -c 0 "$work/venv/bin/python" scripts/bench/synth_docs_ref.py | awk '/receipts_per_second/ {print $3}')
echo "receipts per second on one core: rust $rust, python $python, ratio $(awk -v r="$rust" -v p="$python" 'BEGIN { printf "%.1f", r / p }')"
