#!/usr/bin/env bash
# Kernel micro-bench: burn-flex (Whetstone's CPU backend, with the features whet-core
# pins) against numpy (OpenBLAS) and PyTorch on the CPU, in the same run, alternating for
# ROUNDS rounds (default 3): f32 matmul at 1024^3 and at SmolLM2-135M's shapes, a 3x3 and
# a 5x5 depthwise convolution, softmax and layer norm (benches/benches/kernels.rs,
# scripts/bench/kernels_ref.py). Reports each kernel's median seconds, GFLOP/s where it
# is a multiply-add kernel, and the medians of the per-round ratios rust / peer.
# Installs numpy and torch 2.9.1 into a throw-away virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
rounds=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "torch==2.9.1" "numpy==2.4.6"
cargo bench --quiet -p whet-benches --bench kernels --no-run
for _ in $(seq "$rounds"); do
    cargo bench --quiet -p whet-benches --bench kernels -- --side-by-side >> "$work/all"
    "$work/venv/bin/python" scripts/bench/kernels_ref.py >> "$work/all"
done
"$work/venv/bin/python" - "$work/all" <<'PY'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for line in open(sys.argv[1]):
    side, name, s = line.split()
    runs[(side, name)].append(float(s))
flops = {"matmul_1024x1024x1024": 2 * 1024**3, "matmul_64x576x1536": 2 * 64 * 576 * 1536,
         "matmul_1x576x1536": 2 * 576 * 1536, "matmul_64x576x49152": 2 * 64 * 576 * 49152,
         "conv3x3_64x160x160": 2 * 64 * 64 * 9 * 160 * 160,
         "depthwise5x5_256x80x80": 2 * 256 * 25 * 80 * 80}
names = [n for (s, n) in runs if s == "rust"]
print("| kernel | burn-flex | numpy (OpenBLAS) | PyTorch | flex / numpy | flex / PyTorch |")
print("|---|---|---|---|---|---|")
def cell(side, name):
    if (side, name) not in runs:
        return ""
    m = statistics.median(runs[(side, name)])
    g = f", {flops[name] / m / 1e9:.1f} GFLOP/s" if name in flops else ""
    return f"{m * 1e3:.3f} ms{g}"
def ratio(peer, name):
    if (peer, name) not in runs:
        return ""
    return f"{statistics.median(r / p for r, p in zip(runs[('rust', name)], runs[(peer, name)])):.2f}x"
for n in names:
    print(f"| {n} | {cell('rust', n)} | {cell('numpy', n)} | {cell('torch', n)} | {ratio('numpy', n)} | {ratio('torch', n)} |")
PY
