"""Chat prompts rendered by transformers' apply_chat_template from the template inside
SmolLM2-135M-Instruct's GGUF (the fixture for whet-vlm-lora's chat template).
Usage: python smollm2_chat.py MODEL_DIR GGUF_NAME OUT.json
"""
import json
import sys

from transformers import AutoTokenizer

model_dir, name, out = sys.argv[1:4]
tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=name)
conversations = [
    [{"role": "user", "content": "What is the total on this receipt?"}],
    [
        {"role": "system", "content": "Extract the fields as JSON."},
        {"role": "user", "content": "STORE 123 TOTAL ₱1,234.50"},
        {"role": "assistant", "content": '{"total": "1234.50"}'},
        {"role": "user", "content": "Salamat po!"},
    ],
]
cases = []
for messages in conversations:
    for add in (True, False):
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=add)
        cases.append({"messages": messages, "add_generation_prompt": add, "text": text})
with open(out, "w") as f:
    json.dump(cases, f, ensure_ascii=False, indent=1)
