"""openai-whisper's log-mel spectrograms of generated clips (scripts/golden/whisper-mel.sh).

Writes OUT/<clip>.wav (16 kHz, 16-bit mono) and OUT/mel.npz with arrays
`<clip>_<n_mels>` (and `<clip>_<n_mels>_pad16000` for the padded case): what
`whisper.log_mel_spectrogram` returns for the clip read as `load_audio` reads 16-bit PCM
(int16 / 32768).
"""

import os
import sys
import wave

import numpy as np
import torch
import whisper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
sr = 16000
rng = np.random.default_rng(14)


def t(seconds):
    return np.arange(int(seconds * sr)) / sr


clips = {
    "tones": 0.4 * np.sin(2 * np.pi * 440 * t(1.0)) + 0.2 * np.sin(2 * np.pi * 3100 * t(1.0)),
    "noise": 0.3 * rng.standard_normal(int(1.5 * sr)),
    "chirp": 0.5 * np.sin(2 * np.pi * (100 * t(0.8) + 0.5 * (7000 - 100) / 0.8 * t(0.8) ** 2)),
    "click": np.where(np.arange(int(0.5 * sr)) == 4000, 0.9, 0.0),
    "short": 0.5 * np.sin(2 * np.pi * 1000 * t(0.05)),
}
mels = {}
for name, x in clips.items():
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    with wave.open(os.path.join(out, f"{name}.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    audio = torch.from_numpy(pcm.astype(np.float32) / 32768.0)
    for n_mels in (80, 128):
        mels[f"{name}_{n_mels}"] = whisper.log_mel_spectrogram(audio, n_mels).numpy()
    if name == "short":
        mels[f"{name}_80_pad16000"] = whisper.log_mel_spectrogram(audio, 80, padding=16000).numpy()
np.savez_compressed(os.path.join(out, "mel.npz"), **mels)
print({k: v.shape for k, v in mels.items()})
