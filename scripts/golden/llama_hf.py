"""Hugging Face model folders as transformers writes them, for crates/vlm-lora/tests/hf_folders.rs:
  llama_tiny_hf/        a small Llama (2 layers, 4 query / 2 key-value heads, untied
                        output head) with seeded random weights, saved in f32
  llama_tiny_hf_bf16/   the same shape, tied embeddings, saved in bf16
  llama_tiny_hf.json    transformers' logits of both on fixed token sequences
  smollm2_tokenizer/    SmolLM2-135M-Instruct's tokenizer, read by transformers from the
                        GGUF and saved (tokenizer.json, tokenizer_config.json, chat template)
  smollm2_tokenizer.json  that folder's tokens (transformers, special tokens parsed) of
                        the 1,000 strings of llama_cpp.json
Usage: python llama_hf.py MODEL_DIR GGUF_NAME OUT_DIR LLAMA_CPP_JSON
"""
import json
import os
import sys

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

model_dir, gguf_name, out, llama_cpp_json = sys.argv[1:5]
sequences = [[1, 5, 9, 200, 17, 3, 3, 250, 0, 42, 77], [100, 101, 102]]
result = {"sequences": sequences, "models": {}}
for name, tied, dtype in [("llama_tiny_hf", False, torch.float32), ("llama_tiny_hf_bf16", True, torch.bfloat16)]:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=256, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=50000.0,
        max_position_embeddings=128, tie_word_embeddings=tied,
    )
    model = LlamaForCausalLM(config).eval()
    # Norm weights away from 1, so that loading them is tested.
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
    model = model.to(dtype)
    model.save_pretrained(os.path.join(out, name), safe_serialization=True)
    model = model.float()
    logits = []
    with torch.no_grad():
        for s in sequences:
            logits.append(model(torch.tensor([s])).logits[0].tolist())
    result["models"][name] = logits
with open(os.path.join(out, "llama_tiny_hf.json"), "w") as f:
    json.dump(result, f)

tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=gguf_name)
tok.save_pretrained(os.path.join(out, "smollm2_tokenizer"))
tok = AutoTokenizer.from_pretrained(os.path.join(out, "smollm2_tokenizer"))
strings = [t["text"] for t in json.load(open(llama_cpp_json))["tokenize"]]
with open(os.path.join(out, "smollm2_tokenizer.json"), "w") as f:
    json.dump([{"text": s, "tokens": tok.encode(s, add_special_tokens=False)} for s in strings], f, ensure_ascii=False)
