"""Checks a merged Hugging Face folder Whetstone wrote against PEFT's merge of the same
adapter into the same base (scripts/check-merged-export.sh).
Usage: python check_merged.py GGUF_DIR GGUF_NAME PEFT_DIR MERGED_DIR
"""
import json
import sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

gguf_dir, gguf_name, peft_dir, merged_dir = sys.argv[1:5]
torch.manual_seed(0)

ref_tok = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
tok = AutoTokenizer.from_pretrained(merged_dir)
messages = [
    {"role": "user", "content": "Document lines (line: x|y text):\n0: 50|2 SARI-SARI STORE\n1: 84|90 TOTAL ₱1,076.50\n\nExtract the total."},
]
ref_text = ref_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
assert text == ref_text, (text, ref_text)
ids = tok(text, add_special_tokens=False)["input_ids"]
ref_ids = ref_tok(ref_text, add_special_tokens=False)["input_ids"]
assert ids == ref_ids, (ids, ref_ids)
# The GGUF's own end token (transformers' GGUF reader reports <|im_start|> instead).
from gguf import GGUFReader

eos_id = int(GGUFReader(f"{gguf_dir}/{gguf_name}").fields["tokenizer.ggml.eos_token_id"].parts[-1][0])
assert tok.convert_tokens_to_ids(tok.eos_token) == eos_id, (tok.eos_token, eos_id)

base = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32)
reference = PeftModel.from_pretrained(base, peft_dir).merge_and_unload().eval()
merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32).eval()
x = torch.tensor([ids])
with torch.no_grad():
    want = reference(x).logits[0]
    got = merged(x).logits[0]
    plain = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32).eval()(x).logits[0]
diff = (want - got).abs().max().item()
adapter_effect = (plain - got).abs().max().item()
same_argmax = bool((want.argmax(-1) == got.argmax(-1)).all())
print(json.dumps({"tokens": len(ids), "max_abs_logit_diff": diff, "same_argmax": same_argmax,
                  "max_abs_change_from_base": adapter_effect}))
assert adapter_effect > 1e-2, "the adapter changes nothing: the check would prove nothing"
assert diff < 1e-3, diff
assert same_argmax
print("OK: transformers loads the merged folder and gives PEFT's merged logits")
