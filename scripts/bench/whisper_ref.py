"""Real-time factors of faster-whisper (fp32 and int8) and openai-whisper (torch CPU) on
speech clips, Whisper tiny.en, greedy with temperature fallback, no VAD
(scripts/bench-whisper.sh). Each system transcribes the clips twice; the second pass is
timed. Prints `<system> rtf <seconds of compute / seconds of audio>`.

openai-whisper has no offline tiny.en here: its checkpoint is made from the Hugging Face
folder that whisper_to_hf writes (the same weights CTranslate2's file holds)."""

import sys
import time
import wave

import numpy as np
import torch

hf_dir, ct2_dir = sys.argv[1], sys.argv[2]
clips = sys.argv[3:]
audio_seconds = 0.0
for c in clips:
    with wave.open(c) as w:
        audio_seconds += w.getnframes() / w.getframerate()


def timed(transcribe):
    for c in clips:  # warm-up pass
        transcribe(c)
    start = time.perf_counter()
    for c in clips:
        transcribe(c)
    return (time.perf_counter() - start) / audio_seconds


from faster_whisper import WhisperModel  # noqa: E402

for compute in ("float32", "int8"):
    m = WhisperModel(ct2_dir, device="cpu", compute_type=compute, cpu_threads=2)

    def fw(c, m=m):
        segments, _ = m.transcribe(c, beam_size=1, vad_filter=False, language="en")
        return "".join(s.text for s in segments)

    print(f"faster-whisper-{compute} rtf {timed(fw):.4f}", flush=True)

import os  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "golden"))
from openai_whisper_hf import load  # noqa: E402

torch.set_num_threads(2)
model = load(hf_dir)


# openai-whisper reads files through ffmpeg; it is given the samples instead, read as its
# load_audio reads 16-bit PCM.
arrays = {}
for c in clips:
    with wave.open(c) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    arrays[c] = pcm.astype(np.float32) / 32768.0


def ow(c):
    return model.transcribe(arrays[c], language="en", fp16=False)["text"]


print(f"openai-whisper rtf {timed(ow):.4f}", flush=True)
