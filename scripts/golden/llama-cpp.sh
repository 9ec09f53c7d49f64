#!/usr/bin/env bash
# Regenerates the SmolLM2 fixtures of crates/vlm-lora/tests/golden in a throw-away
# virtual environment, on the SmolLM2-135M-Instruct Q4_1 GGUF of scripts/assets.sh:
#   llama_cpp.json  llama.cpp itself (llama-cpp-python 0.3.36 from PyPI, built from
#                   source: a few minutes): tokens, logits, greedy continuations
#   hf_float.json   the same GGUF decoded to f32 by transformers 5.12.1 (torch 2.9.1 CPU
#                   use; PyPI's wheel carries CUDA libraries, unused): exact arithmetic
#   hf/             Hugging Face folders written by transformers: two small Llamas (f32
#                   untied, bf16 tied) and their logits, SmolLM2's tokenizer and its tokens
#   chat_template.json  conversations rendered by transformers' apply_chat_template from
#                   the template inside the GGUF
#   smollm2_peft/   a PEFT 0.21.2 LoRA adapter on that model, and smollm2_peft.json its
#                   logits, adapter on and off
#   smollm2_peft.gguf  that adapter converted to llama.cpp's format by Whetstone
#                   (examples/lora_peft_to_gguf.rs), and llama_cpp_lora.json llama.cpp's
#                   logits with it (lora_path)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
scripts/assets.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "llama-cpp-python==0.3.36" "numpy==2.2.6" \
    "torch==2.9.1" "transformers==5.12.1" "gguf==0.19.0" "peft==0.21.2" "accelerate==1.16.0"
golden=crates/vlm-lora/tests/golden
"$work/venv/bin/python" scripts/golden/smollm2_llama_cpp.py \
    assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf "$golden/llama_cpp.json"
"$work/venv/bin/python" scripts/golden/smollm2_hf.py \
    assets/smollm2-135m SmolLM2-135M-Instruct.Q4_1.gguf "$golden/llama_cpp.json" "$golden/hf_float.json"
"$work/venv/bin/python" scripts/golden/smollm2_peft.py \
    assets/smollm2-135m SmolLM2-135M-Instruct.Q4_1.gguf "$golden/llama_cpp.json" "$golden"
cargo run --release -p whet-examples --example lora_peft_to_gguf -- \
    --model assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf \
    --peft "$golden/smollm2_peft" --out "$golden/smollm2_peft.gguf"
"$work/venv/bin/python" scripts/golden/smollm2_llama_cpp_lora.py \
    assets/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf "$golden/smollm2_peft.gguf" \
    "$golden/llama_cpp.json" "$golden/llama_cpp_lora.json"
"$work/venv/bin/python" scripts/golden/llama_hf.py \
    assets/smollm2-135m SmolLM2-135M-Instruct.Q4_1.gguf "$golden/hf" "$golden/llama_cpp.json"
"$work/venv/bin/python" scripts/golden/smollm2_chat.py \
    assets/smollm2-135m SmolLM2-135M-Instruct.Q4_1.gguf "$golden/chat_template.json"
