#!/usr/bin/env bash
# whet-intent-svc against scikit-learn on CLINC150 in one run: fit time and single-message
# predict latency (p50). Needs ../shared/data/clinc150. Usage: scripts/bench-intent-svc.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "scikit-learn==1.9.1" "numpy==2.4.6" "scipy==1.17.1"
cargo bench --quiet -p whet-benches --bench intent_svc --no-run
cargo bench --quiet -p whet-benches --bench intent_svc -- --side-by-side > "$work/rust.txt"
"$work/venv/bin/python" scripts/bench/intent_svc_ref.py > "$work/python.txt"
echo "metric             scikit-learn        rust   scikit-learn / rust"
join <(sort "$work/python.txt" | awk '{print $2, $3}') <(sort "$work/rust.txt" | awk '{print $2, $3}') |
    awk '{ printf "%-18s %12.3f %11.3f %21.1f\n", $1, $2, $3, $2 / $3 }'
