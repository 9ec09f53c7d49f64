"""A PEFT LoRA adapter on Whisper tiny.en (the Hugging Face folder whisper_to_hf writes)
and the logits it gives (usage: HF_DIR OUT_DIR). r 4, alpha 8 on every q_proj and v_proj,
both factors random (init_lora_weights=False, seeded), saved with PEFT's save_pretrained;
the logits of a fixed decoder input over a fixed synthetic log-mel, base and adapted, the
first 1,000 vocabulary entries of each position, written as JSON."""

import json
import os
import sys

import torch
from peft import LoraConfig, get_peft_model
from transformers import WhisperForConditionalGeneration

hf_dir, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
model = WhisperForConditionalGeneration.from_pretrained(hf_dir, torch_dtype=torch.float32).eval()
i = torch.arange(80 * 3000, dtype=torch.float32)
mel = ((i % 113) / 113.0 - 0.5).reshape(1, 80, 3000)
tokens = torch.tensor([[50257, 50362, 1318, 373, 407, 281, 4161]])
with torch.no_grad():
    base = model(input_features=mel, decoder_input_ids=tokens).logits[0, :, :1000]
config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
peft_model = get_peft_model(model, config).eval()
with torch.no_grad():
    adapted = peft_model(input_features=mel, decoder_input_ids=tokens).logits[0, :, :1000]
os.makedirs(out, exist_ok=True)
peft_model.save_pretrained(os.path.join(out, "adapter"))
json.dump(
    {
        "tokens": tokens[0].tolist(),
        "base": base.tolist(),
        "adapted": adapted.tolist(),
    },
    open(os.path.join(out, "logits.json"), "w"),
)
print("largest change from the adapter", (adapted - base).abs().max().item())
