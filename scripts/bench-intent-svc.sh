#!/usr/bin/env bash
# whet-intent-svc against scikit-learn on CLINC150 in one run: fit time (vectoriser + SVM +
# 5-fold calibration) and single-message predict latency (p50 of 2,000). The fits
# alternate, Rust then scikit-learn, for ROUNDS rounds (default 5), so both sides see the
# same drift of this shared machine; the report gives each side's median and the median of
# the per-round ratios. Needs ../shared/data/clinc150. Usage: scripts/bench-intent-svc.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
rounds=${ROUNDS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "scikit-learn==1.9.1" "numpy==2.4.6" "scipy==1.17.1"
cargo bench --quiet -p whet-benches --bench intent_svc --no-run
rust() { cargo bench --quiet -p whet-benches --bench intent_svc -- --side-by-side "$@"; }
python() { "$work/venv/bin/python" scripts/bench/intent_svc_ref.py "$@"; }
for _ in $(seq "$rounds"); do
    rust fit | awk '{print $3}' >> "$work/rust_fit"
    python fit | awk '{print $3}' >> "$work/python_fit"
done
rust predict | awk '{print $3}' > "$work/rust_predict"
python predict | awk '{print $3}' > "$work/python_predict"
echo "fit seconds per round (scikit-learn, rust, ratio):"
paste "$work/python_fit" "$work/rust_fit" | awk '{printf "  %8.3f %8.3f %6.2f\n", $1, $2, $1 / $2}'
ratio=$(paste "$work/python_fit" "$work/rust_fit" | awk '{print $1 / $2}' | whet_median)
echo "metric             scikit-learn        rust   scikit-learn / rust"
printf "%-18s %12.3f %11.3f %21.1f  (median of %s paired ratios)\n" fit_seconds \
    "$(whet_median < "$work/python_fit")" "$(whet_median < "$work/rust_fit")" "$ratio" "$rounds"
awk -v p="$(cat "$work/python_predict")" -v r="$(cat "$work/rust_predict")" \
    'BEGIN { printf "%-18s %12.1f %11.1f %21.1f\n", "predict_p50_us", p, r, p / r }'
