#!/usr/bin/env bash
# Side by side on this machine: SmolLM2-135M-Instruct Q4_1 generating 64 tokens greedily
# after the same chat prompt, whet-vlm-lora (examples/smollm2_generate.rs, weights kept in
# their Q4_1/Q8_0 blocks, dev profile: burn and whet-core at opt-level 3) against llama.cpp
# (llama-cpp-python 0.3.36,
# built from source with GGML_NATIVE, 2 threads). Prints prompt and generation tokens/s
# of each (median of 3 runs) and the ratios, whet / llama.cpp.
# Usage: scripts/bench-smollm2.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo
scripts/assets.sh
model=assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf
message="Write a short paragraph about receipts and value-added tax in the Philippines."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
CMAKE_ARGS="-DGGML_NATIVE=ON" "$work/venv/bin/pip" install --quiet "llama-cpp-python==0.3.36" "numpy==2.2.6"
cargo build -p whet-examples --example smollm2_generate
whet=$(ls -t "${CARGO_TARGET_DIR:-target}"/debug/examples/smollm2_generate | head -1)
for i in 1 2 3; do
    "$whet" "$message" --max-new-tokens 64 2>/dev/null | tail -1 |
        sed -E 's/.*at ([0-9.]+) tokens\/s; [0-9]+ generated at ([0-9.]+) tokens\/s.*/\1 \2/' >> "$work/whet.txt"
    "$work/venv/bin/python" - "$model" "$message" >> "$work/llama.txt" <<'PY'
import sys, time
import numpy as np
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=512, n_threads=2, verbose=False)
chat = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
toks = llm.tokenize((chat + "<|im_start|>user\n" + sys.argv[2] + "<|im_end|>\n<|im_start|>assistant\n").encode(), add_bos=False, special=True)
t0 = time.perf_counter(); llm.eval(toks); t1 = time.perf_counter()
n = 0
for _ in range(63):  # 64 tokens: the first comes from the prompt's logits
    nxt = int(np.argmax(llm.scores[llm.n_tokens - 1])); llm.eval([nxt]); n += 1
t2 = time.perf_counter()
print(len(toks) / (t1 - t0), n / (t2 - t1))
PY
done
med() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
wp=$(cut -d' ' -f1 "$work/whet.txt" | med); wg=$(cut -d' ' -f2 "$work/whet.txt" | med)
lp=$(cut -d' ' -f1 "$work/llama.txt" | med); lg=$(cut -d' ' -f2 "$work/llama.txt" | med)
printf "prompt tokens/s:    whet %.1f, llama.cpp %.1f, ratio %.3f\n" "$wp" "$lp" "$(echo "$wp / $lp" | bc -l)"
printf "generated tokens/s: whet %.1f, llama.cpp %.1f, ratio %.3f\n" "$wg" "$lg" "$(echo "$wg / $lg" | bc -l)"
