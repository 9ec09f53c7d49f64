"""Compressed audio and resampling fixtures (scripts/golden/whisper-audio.sh).

From the first 1.2 s of a LibriVox clip (16 kHz, 16-bit): soxr's very-high-quality
resampling of it to 44.1 kHz, written as FLAC (16-bit), MP3 and Ogg Vorbis, and 0.3 s of it as a
stereo 48 kHz float WAV; OUT/audio.npz holds what libsndfile decodes from each compressed file
(`flac` as int16, `mp3` and `ogg` as float16, mono), and
soxr's and librosa's (soxr_hq) resampling of the FLAC's samples back to 16 kHz
(`soxr_vhq_16k`, `librosa_16k`)."""

import os
import sys
import wave

import librosa
import numpy as np
import soundfile as sf
import soxr

clip, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
with wave.open(clip) as w:
    pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
x16 = pcm[: int(1.2 * 16000)].astype(np.float64) / 32768.0
x44 = soxr.resample(x16, 16000, 44100, quality="VHQ")
x44 = np.clip(np.round(x44 * 32767), -32768, 32767).astype(np.int16)
sf.write(os.path.join(out, "speech44k.flac"), x44, 44100, subtype="PCM_16")
sf.write(os.path.join(out, "speech44k.mp3"), x44.astype(np.float32) / 32768.0, 44100, format="MP3")
sf.write(os.path.join(out, "speech44k.ogg"), x44.astype(np.float32) / 32768.0, 44100, format="OGG", subtype="VORBIS")
x48 = soxr.resample(x16[:4800], 16000, 48000, quality="VHQ").astype(np.float32)
sf.write(os.path.join(out, "stereo48k.wav"), np.stack([x48, 0.5 * x48], axis=1), 48000, subtype="FLOAT")
arrays = {}
for ext in ("flac", "mp3", "ogg"):
    data, rate = sf.read(os.path.join(out, f"speech44k.{ext}"), dtype="float32")
    assert rate == 44100 and data.ndim == 1
    # The lossless file as its 16-bit integers; the lossy ones in half precision (their
    # comparison is a signal-to-noise ratio).
    arrays[ext] = np.round(data * 32768).astype(np.int16) if ext == "flac" else data.astype(np.float16)
flac = arrays["flac"].astype(np.float64) / 32768.0
arrays["soxr_vhq_16k"] = soxr.resample(flac, 44100, 16000, quality="VHQ").astype(np.float32)
arrays["librosa_16k"] = librosa.resample(flac, orig_sr=44100, target_sr=16000).astype(np.float32)
np.savez_compressed(os.path.join(out, "audio.npz"), **arrays)
print({k: v.shape for k, v in arrays.items()})
