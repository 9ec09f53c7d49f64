#!/usr/bin/env bash
# Regenerates crates/core/tests/golden/lora with PEFT itself, in a throw-away virtual
# environment: whet-core first writes its own adapter (the ignored test
# write_whet_adapter), then scripts/golden/lora_peft.py makes PEFT's fixtures and loads
# whet-core's adapter in PEFT, failing if PEFT's output on it differs by 1e-6 or more.
# Downloads torch 2.9.1 from PyPI (with its CUDA libraries, unused: PyPI has no CPU-only
# build), peft 0.21.2.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
whet_require_cargo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "torch==2.9.1" "peft==0.21.2" "transformers==5.12.1" \
    "accelerate==1.16.0" "safetensors==0.6.2" "numpy==2.2.6"
cargo test -p whet-core --test lora_peft -- --ignored write_whet_adapter
"$work/venv/bin/python" scripts/golden/lora_peft.py crates/core/tests/golden/lora
rm -f crates/core/tests/golden/lora/peft_adapter/README.md  # PEFT's model card template
