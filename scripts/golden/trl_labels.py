"""TRL's SFT labels for prompt-completion conversations on SmolLM2-135M-Instruct's
tokenizer (the fixture for whet-vlm-lora's `SftExample`): the dataset that `SFTTrainer`
prepares (tokenised prompt and prompt + completion, completion mask, labels with -100 on
the prompt, truncation to `max_length`), read back from the trainer itself.
Usage: python trl_labels.py MODEL_DIR GGUF_NAME OUT.json
"""
import json
import sys
import tempfile

from datasets import Dataset
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
from trl import SFTConfig, SFTTrainer

model_dir, name, out = sys.argv[1:4]
tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=name)

lmdx = (
    "Document lines (line: text x|y):\n0: GOLDEN HARVEST GROCERY 50|3\n"
    "1: 2434 Quezon Ave., Davao City 50|7\n2: VAT REG TIN 590-532-827-018 49|10\n"
    "3: OFFICIAL RECEIPT 50|14\n4: No. 593442 16|18\n5: 2023-05-04 83|18\n"
    "6: TOTAL 9|88\n7: \u20b12,817.16 84|88\n\n"
    "What is the total of this receipt? Answer as JSON: [\"value\", line]."
)
cases = [
    ([{"role": "user", "content": lmdx}], [{"role": "assistant", "content": '{"total":["2,817.16",7]}'}]),
    (
        [{"role": "system", "content": "Extract the fields as JSON."},
         {"role": "user", "content": "STORE 123 TOTAL \u20b11,234.50"}],
        [{"role": "assistant", "content": '{"total": "1234.50"}'}],
    ),
    (
        [{"role": "user", "content": "Magkano ang kabuuan? Salamat po!"},
         {"role": "assistant", "content": "Alin pong resibo?"},
         {"role": "user", "content": "Ito: KABUUAN 99.00"}],
        [{"role": "assistant", "content": "99.00  \n"}],
    ),
    ([{"role": "user", "content": "Say hi."}], [{"role": "assistant", "content": "Hi! \U0001F600"}]),
]
max_lengths = [None, None, None, None, 24, 48]
records = []
for i, max_length in enumerate(max_lengths):
    prompt, completion = cases[i % len(cases)]
    records.append({"prompt": prompt, "completion": completion, "max_length": max_length})

# A tiny random model: SFTTrainer needs one, the labels do not depend on it.
config = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32,
                     num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1)
model = LlamaForCausalLM(config)
fixtures = []
for rec in records:
    ds = Dataset.from_list([{"prompt": rec["prompt"], "completion": rec["completion"]}])
    with tempfile.TemporaryDirectory() as tmp:
        args = SFTConfig(output_dir=tmp, max_length=rec["max_length"], report_to="none",
                         bf16=False, use_cpu=True)
        trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok)
        rows = list(trainer.train_dataset)
    fixtures.append({
        "messages": rec["prompt"] + rec["completion"],
        "max_length": rec["max_length"],
        "input_ids": rows[0]["input_ids"] if rows else None,
        "labels": rows[0]["labels"] if rows else None,
    })
with open(out, "w") as f:
    json.dump({"trl": __import__("trl").__version__, "cases": fixtures}, f, ensure_ascii=False, indent=1)
