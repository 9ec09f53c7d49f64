"""faster-whisper's transcripts of speech clips with Whisper tiny.en
(usage: MODEL_DIR OUT.json BEAM_SIZE CLIP...)
(scripts/golden/whisper-faster.sh): greedy or beam search (BEAM_SIZE), temperature 0 only,
no VAD, language en, its other defaults (previous text as prompt, timestamps)."""

import glob
import json
import os
import sys

from faster_whisper import WhisperModel

model_dir, out, beam_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
clips = sys.argv[4:]
model = WhisperModel(model_dir, device="cpu", compute_type="float32")
cases = []
for path in clips:
    segments, info = model.transcribe(
        path, beam_size=beam_size, best_of=1, temperature=0.0, vad_filter=False, language="en"
    )
    segments = list(segments)
    cases.append(
        {
            "clip": os.path.basename(path),
            "segments": [
                {"start": s.start, "end": s.end, "text": s.text, "tokens": s.tokens}
                for s in segments
            ],
            "text": "".join(s.text for s in segments),
        }
    )
    print(os.path.basename(path), cases[-1]["text"])
with open(out, "w") as f:
    json.dump({"cases": cases}, f, indent=1, ensure_ascii=False)
