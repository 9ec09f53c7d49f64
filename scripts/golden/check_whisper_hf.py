"""transformers on a Whisper folder written by whisper_to_hf against CTranslate2 on the
original file (scripts/check-whisper-export.sh): greedy tokens from the same log-mel."""

import glob
import json
import os
import sys
import wave

import ctranslate2
import numpy as np
import torch
import whisper
from transformers import WhisperForConditionalGeneration

hf_dir, ct2_dir, clips = sys.argv[1:4]
hf = WhisperForConditionalGeneration.from_pretrained(hf_dir).eval()
ct2 = ctranslate2.models.Whisper(ct2_dir, device="cpu", compute_type="float32")
prompt = [50257, 50362]
worst, same = 0.0, 0
paths = sorted(glob.glob(os.path.join(clips, "*.wav")))
for path in paths:
    with wave.open(path) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    audio = torch.from_numpy(pcm.astype(np.float32) / 32768.0)
    mel = whisper.log_mel_spectrogram(audio, 80, padding=whisper.audio.N_SAMPLES)[:, :3000][None]
    with torch.no_grad():
        enc_hf = hf.model.encoder(mel).last_hidden_state.numpy()[0]
        tokens = list(prompt)
        for _ in range(100):
            logits = hf(input_features=mel, decoder_input_ids=torch.tensor([tokens])).logits
            nxt = int(logits[0, -1].argmax())
            if nxt == 50256:
                break
            tokens.append(nxt)
    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel.numpy()))
    enc_ct2 = np.array(ct2.encode(features, to_cpu=True))[0]
    worst = max(worst, float(np.abs(enc_hf - enc_ct2).max()))
    want = ct2.generate(features, [prompt], beam_size=1, max_length=100, suppress_blank=False,
                        suppress_tokens=[])[0].sequences_ids[0]
    same += tokens[len(prompt):] == want
print(json.dumps({"clips": len(paths), "same_greedy_tokens": same, "max_abs_encoder_diff": worst}))
if same != len(paths) or worst > 1e-3:
    sys.exit("FAIL: transformers on the exported folder differs from CTranslate2")
print("OK: transformers loads the exported folder and gives CTranslate2's tokens")
