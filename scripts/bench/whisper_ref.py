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

import whisper  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
import json  # noqa: E402

torch.set_num_threads(2)
cfg = json.load(open(f"{hf_dir}/config.json"))
hf = load_file(f"{hf_dir}/model.safetensors")
dims = whisper.model.ModelDimensions(
    n_mels=cfg["num_mel_bins"], n_vocab=cfg["vocab_size"],
    n_audio_ctx=cfg["max_source_positions"], n_audio_state=cfg["d_model"],
    n_audio_head=cfg["encoder_attention_heads"], n_audio_layer=cfg["encoder_layers"],
    n_text_ctx=cfg["max_target_positions"], n_text_state=cfg["d_model"],
    n_text_head=cfg["decoder_attention_heads"], n_text_layer=cfg["decoder_layers"],
)
rename = [
    ("model.", ""), (".layers.", ".blocks."), (".self_attn_layer_norm.", ".attn_ln."),
    (".encoder_attn_layer_norm.", ".cross_attn_ln."), (".final_layer_norm.", ".mlp_ln."),
    (".self_attn.", ".attn."), (".encoder_attn.", ".cross_attn."), (".q_proj.", ".query."),
    (".k_proj.", ".key."), (".v_proj.", ".value."), (".out_proj.", ".out."),
    (".fc1.", ".mlp.0."), (".fc2.", ".mlp.2."),
]
state = {}
for k, v in hf.items():
    n = k
    for a, b in rename:
        n = n.replace(a, b)
    n = n.replace("encoder.layer_norm.", "encoder.ln_post.").replace("decoder.layer_norm.", "decoder.ln.")
    n = n.replace("encoder.embed_positions.weight", "encoder.positional_embedding")
    n = n.replace("decoder.embed_positions.weight", "decoder.positional_embedding")
    n = n.replace("decoder.embed_tokens.weight", "decoder.token_embedding.weight")
    state[n] = v
model = whisper.model.Whisper(dims)
missing, unexpected = model.load_state_dict(state, strict=False)
assert not unexpected and all("alignment_heads" in m for m in missing), (missing, unexpected)
model.eval()


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
