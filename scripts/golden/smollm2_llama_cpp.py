"""SmolLM2-135M-Instruct Q4_1 reference outputs from llama.cpp (llama-cpp-python), for
crates/vlm-lora/tests: token ids of the prompts (llama.cpp's tokenizer, special tokens
parsed), per position the top-1 token and the logits of the 10 best tokens and of 256
fixed tokens, and 64 greedy tokens after each prompt (argmax of llama.cpp's logits).
Also 1,000 strings with llama.cpp's tokens of each (English, Tagalog, peso sign, digits,
emoji, runs of spaces and newlines), for the tokenizer.
Usage: python smollm2_llama_cpp.py MODEL.gguf OUT.json
"""
import json
import random
import sys

import numpy as np
from llama_cpp import Llama

model_path, out = sys.argv[1], sys.argv[2]
llm = Llama(model_path=model_path, n_ctx=512, n_threads=2, logits_all=True, verbose=False, seed=0)

prompts = [
    "<|im_start|>user\nWhat is the capital of the Philippines?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nExtract the total as JSON.<|im_end|>\n<|im_start|>user\nSTORE 123 TOTAL ₱1,234.50 VAT 12%<|im_end|>\n<|im_start|>assistant\n",
    "The quick brown fox jumps over the lazy dog. Once upon a time,",
    "Magandang umaga! Ang kabuuang halaga ay",
    "def fibonacci(n):\n    ",
]
rng = np.random.default_rng(0)
probe = sorted(rng.choice(llm.n_vocab(), 256, replace=False).tolist())

cases = []
for p in prompts:
    toks = llm.tokenize(p.encode(), add_bos=False, special=True)
    llm.reset()
    llm.eval(toks)
    scores = np.array(llm.scores[: len(toks)], dtype=np.float32)
    positions = []
    for row in scores:
        top = np.argsort(-row, kind="stable")[:10]
        positions.append(
            {
                "top": [int(t) for t in top],
                "top_logits": [float(row[t]) for t in top],
                "probe_logits": [float(row[t]) for t in probe],
            }
        )
    generated = []
    seq = list(toks)
    for _ in range(64):
        nxt = int(np.argmax(np.array(llm.scores[len(seq) - 1], dtype=np.float32)))
        generated.append(nxt)
        seq.append(nxt)
        llm.eval([nxt])
    cases.append({"prompt": p, "tokens": toks, "positions": positions, "greedy": generated})

random.seed(0)
words = (
    "receipt total VAT TIN invoice amount cash change salamat po magandang umaga kabuuang "
    "halaga bayad sukli resibo ng mga sa ang Maynila Quezon City ₱ 1,234.50 12% 0.00 "
    "naïve café — “quoted” 😀 🇵🇭 👍🏽 日本 한국어 ñ Ñ <|im_start|> <|im_end|> \t\t def return"
).split(" ")
strings = []
for i in range(1000):
    n = random.randint(1, 12)
    parts = [random.choice(words) for _ in range(n)]
    seps = [random.choice([" ", " ", " ", "  ", "\n", "\n\n", "", "   \n "]) for _ in range(n)]
    s = "".join(p + q for p, q in zip(parts, seps))
    if i % 7 == 0:
        s = str(random.randint(0, 10**9)) + s
    strings.append(s)
tokenized = [{"text": s, "tokens": llm.tokenize(s.encode(), add_bos=False, special=False)} for s in strings]

with open(out, "w") as f:
    json.dump({"probe": probe, "cases": cases, "tokenize": tokenized}, f, ensure_ascii=False)
