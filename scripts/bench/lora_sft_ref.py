"""PEFT + torch side of scripts/bench-lora-sft.sh: LoRA SFT steps of SmolLM2-135M-Instruct
(the Q4_1 GGUF decoded to f32 by transformers) on the CPU, one conversation of SEQ tokens
(the second half scored), batch 1, LoRA r 16 / alpha 32 on the seven projections, AdamW,
clipping at 1. Prints `python lora_step_seconds <median of steps 2..>` and
`python lora_peak_rss_mib <ru_maxrss>`.
Usage: python lora_sft_ref.py MODEL_DIR GGUF_NAME [SEQ] [STEPS]
"""
import resource
import statistics
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

model_dir, name = sys.argv[1:3]
seq = int(sys.argv[3]) if len(sys.argv) > 3 else 512
steps = int(sys.argv[4]) if len(sys.argv) > 4 else 6
torch.set_num_threads(2)
model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=name, torch_dtype=torch.float32)
config = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0,
                    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
model = get_peft_model(model, config)
model.train()
ids = torch.tensor([[(7 * i + 100) % 40000 for i in range(seq)]])
labels = ids.clone()
labels[:, : seq // 2] = -100
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
times = []
for _ in range(steps):
    start = time.perf_counter()
    loss = model(input_ids=ids, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    times.append(time.perf_counter() - start)
print(f"python lora_step_seconds {statistics.median(times[1:]):.3f}")
print(f"python lora_peak_rss_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
