"""CTranslate2's Whisper tiny.en on the LibriVox clips (scripts/golden/whisper-ct2.sh)."""

import glob
import json
import os
import sys
import wave

import ctranslate2
import numpy as np
import torch
import whisper

model_dir, clips, out = sys.argv[1:4]
model = ctranslate2.models.Whisper(model_dir, device="cpu", compute_type="float32")
SOT, NO_TIMESTAMPS = 50257, 50362  # tiny.en: <|startoftranscript|>, <|notimestamps|>
cases = []
for path in sorted(glob.glob(os.path.join(clips, "*.wav"))):
    with wave.open(path) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    audio = torch.from_numpy(pcm.astype(np.float32) / 32768.0)
    mel = whisper.log_mel_spectrogram(audio, 80, padding=whisper.audio.N_SAMPLES)
    mel = mel[:, : whisper.audio.N_FRAMES].numpy()[None]
    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel))
    encoded = np.array(model.encode(features, to_cpu=True))[0]
    result = model.generate(
        features,
        [[SOT, NO_TIMESTAMPS]],
        beam_size=1,
        max_length=100,
        suppress_blank=False,
        suppress_tokens=[],
        return_scores=True,
        return_no_speech_prob=False,
    )[0]
    cases.append(
        {
            "clip": os.path.basename(path),
            "encoder_every_150th_frame": encoded[::150].round(6).tolist(),
            "tokens": result.sequences_ids[0],
            "score": result.scores[0],
        }
    )
    print(os.path.basename(path), result.sequences_ids[0][:10], result.scores[0])
with open(out, "w") as f:
    json.dump({"prompt": [SOT, NO_TIMESTAMPS], "cases": cases}, f)
