#!/usr/bin/env bash
# Side-by-side: whet-eval-metrics against its Python references on the same golden
# inputs, in one run on one machine. Builds the reference environment (as
# scripts/golden/eval-metrics.sh does), times both, prints the ratios.
# Usage: scripts/bench-eval-metrics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet -r scripts/golden/requirements.txt

cargo bench --quiet -p whet-benches --bench eval_metrics --no-run
cargo bench --quiet -p whet-benches --bench eval_metrics -- --side-by-side > "$work/rust.txt"
"$work/venv/bin/python" scripts/bench/eval_metrics_ref.py > "$work/python.txt"

echo "metric         python s/pass   rust s/pass   python / rust"
join <(sort "$work/python.txt" | awk '{print $2, $3}') <(sort "$work/rust.txt" | awk '{print $2, $3}') |
    awk '{ printf "%-14s %13.4f %13.6f %15.1f\n", $1, $2, $3, $2 / $3 }'
