"""SmolLM2-135M-Instruct Q4_1 with a GGUF LoRA adapter in llama.cpp (llama-cpp-python's
`lora_path`), for crates/vlm-lora/tests/lora_adapters.rs: the adapter is the PEFT fixture
converted by Whetstone (examples/lora_peft_to_gguf.rs), so llama.cpp reading it proves the
file; per prompt position of llama_cpp.json's prompts, the logits of the 10 best tokens and
of its 256 probe tokens, with the adapter.
Usage: python smollm2_llama_cpp_lora.py MODEL.gguf ADAPTER.gguf llama_cpp.json OUT.json
"""
import json
import sys

import numpy as np
from llama_cpp import Llama

model_path, adapter, base_json, out = sys.argv[1:5]
base = json.load(open(base_json))
llm = Llama(model_path=model_path, lora_path=adapter, n_ctx=512, n_threads=2, logits_all=True, verbose=False, seed=0)
cases = []
for c in base["cases"]:
    toks = c["tokens"]
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
                "probe_logits": [float(row[t]) for t in base["probe"]],
            }
        )
    cases.append({"prompt": c["prompt"], "tokens": toks, "positions": positions})
with open(out, "w") as f:
    json.dump({"probe": base["probe"], "cases": cases}, f, ensure_ascii=False)
