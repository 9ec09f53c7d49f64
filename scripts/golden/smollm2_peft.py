"""A PEFT LoRA adapter on SmolLM2-135M-Instruct (the Q4_1 GGUF decoded to f32 by
transformers, which also puts llama.cpp's query/key rows back in Hugging Face's layout)
and its logits on the first prompt of llama_cpp.json: the fixture for loading a real
model's PEFT adapter in whet-vlm-lora.
Usage: python smollm2_peft.py MODEL_DIR GGUF_NAME LLAMA_CPP.json OUT_DIR
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model_dir, name, fixture, out = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
torch.manual_seed(0)
model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=name, dtype=torch.float32).eval()
config = LoraConfig(
    r=4,
    lora_alpha=8,
    target_modules=["q_proj", "k_proj", "v_proj", "down_proj"],
    layers_to_transform=[0, 15, 29],
    task_type="CAUSAL_LM",
)
peft_model = get_peft_model(model, config).eval()
with torch.no_grad():
    for n, p in peft_model.named_parameters():
        if "lora_B" in n:
            p.copy_(torch.randn_like(p) * 0.05)
peft_model.save_pretrained(str(out / "smollm2_peft"))
(out / "smollm2_peft" / "README.md").unlink(missing_ok=True)
fx = json.load(open(fixture))
tokens = fx["cases"][0]["tokens"]
with torch.no_grad():
    on = peft_model(torch.tensor([tokens])).logits[0].numpy()
    with peft_model.disable_adapter():
        off = peft_model(torch.tensor([tokens])).logits[0].numpy()
probe = fx["probe"]
rows = [
    {"top1": int(np.argmax(r)), "probe_logits": [float(r[t]) for t in probe], "off_probe_logits": [float(o[t]) for t in probe]}
    for r, o in zip(on, off)
]
with open(out / "smollm2_peft.json", "w") as f:
    json.dump({"tokens": tokens, "probe": probe, "positions": rows}, f)
print("largest change the adapter makes:", float(np.abs(on - off).max()))
