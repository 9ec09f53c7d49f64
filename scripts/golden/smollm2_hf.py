"""The same SmolLM2-135M-Instruct Q4_1 GGUF run in float by Hugging Face transformers
(which decodes the GGUF's blocks to f32 with gguf-py): the exact-arithmetic reference for
crates/vlm-lora (llama.cpp instead multiplies with activations it rounds to 8 bits).
Reads the prompts and probe tokens of llama_cpp.json; writes per position the logits of
llama.cpp's 10 best tokens and of the probe tokens, and 64 greedy tokens per prompt.
Usage: python smollm2_hf.py MODEL_DIR GGUF_NAME LLAMA_CPP.json OUT.json
"""
import json
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM

model_dir, name, fixture, out = sys.argv[1:5]
torch.manual_seed(0)
model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=name, torch_dtype=torch.float32).eval()
fx = json.load(open(fixture))
cases = []
with torch.no_grad():
    for c in fx["cases"]:
        logits = model(torch.tensor([c["tokens"]])).logits[0].numpy()
        positions = [
            {
                "top1": int(np.argmax(row)),
                "llama_top_logits": [float(row[t]) for t in pos["top"]],
                "probe_logits": [float(row[t]) for t in fx["probe"]],
            }
            for row, pos in zip(logits, c["positions"])
        ]
        ids = torch.tensor([c["tokens"]])
        step = model(ids, use_cache=True)
        past, greedy = step.past_key_values, []
        for _ in range(64):
            nxt = int(step.logits[0, -1].argmax())
            greedy.append(nxt)
            step = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
            past = step.past_key_values
        cases.append({"positions": positions, "greedy": greedy})
with open(out, "w") as f:
    json.dump({"cases": cases}, f)
