#!/usr/bin/env bash
# Opt-in: run the wgpu backend on Mesa's software Vulkan adapter (lavapipe), so the GPU
# code path is exercised on a machine without a GPU. Slow: the first build compiles
# cubecl, naga and wgpu (20+ minutes on 2 cores), and lavapipe runs at about 2 GFLOP/s.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
whet_apt_install mesa-vulkan-drivers libvulkan1
# Mesa's loader wants a runtime folder; CI shells have none.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"

cargo test -p whet-core --features wgpu --test wgpu_software "$@"
