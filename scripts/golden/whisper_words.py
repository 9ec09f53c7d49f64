"""openai-whisper's word-level timestamps (transcribe(word_timestamps=True), greedy with
temperature fallback, fp32) of speech clips with Whisper tiny.en built from a Hugging Face
folder (usage: HF_DIR ALIGNMENT_HEADS_JSON OUT.json CLIP...). Also one file made of the
clips joined twice over, 1.5 s of silence after each (long-form: words move `seek`)."""

import json
import os
import sys
import wave

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from openai_whisper_hf import load  # noqa: E402

hf_dir, heads_json, out = sys.argv[1:4]
clips = sys.argv[4:]
heads = json.load(open(heads_json))["alignment_heads"]
torch.manual_seed(0)
model = load(hf_dir, heads)


def read(path):
    with wave.open(path) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    return pcm.astype(np.float32) / 32768.0


cases = []
arrays = [(os.path.basename(c), read(c)) for c in clips]
silence = np.zeros(24000, dtype=np.float32)
joined = np.concatenate([x for _ in range(2) for _, a in arrays for x in (a, silence)])
for name, audio in arrays + [("joined", joined)]:
    r = model.transcribe(audio, language="en", fp16=False, word_timestamps=True)
    cases.append(
        {
            "clip": name,
            "segments": [
                {
                    "start": s["start"],
                    "end": s["end"],
                    "text": s["text"],
                    "words": [
                        {k: w[k] for k in ("word", "start", "end", "probability")}
                        for w in s["words"]
                    ],
                }
                for s in r["segments"]
            ],
        }
    )
    print(name, [(w["word"], w["start"], w["end"]) for s in r["segments"] for w in s["words"]][:6])
json.dump({"cases": cases}, open(out, "w"), indent=1, ensure_ascii=False)
