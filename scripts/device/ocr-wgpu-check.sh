#!/usr/bin/env bash
# GPU check of whet-ocr-det through wgpu (Vulkan) on a lent NVIDIA machine; run there from the
# repository root. Two parts:
# 1. inference: `ocr_read` on five SROIE receipts on the CPU and on wgpu, the lines compared
#    and the seconds per receipt after a first pass that compiles and tunes the kernels;
# 2. training: one optimiser step of the detector and the recognizer (benches/ocr_train.rs)
#    on wgpu, against PyTorch on CUDA running the same networks
#    (scripts/bench/ocr_train_ref.py with device cuda).
#
# Prepare here (README's "GPU check" in docs/benchmarks.md):
#   cargo build --release -p whet-examples -p whet-benches \
#     --features whet-examples/wgpu,whet-core/wgpu --example ocr_read --bench ocr_train
#   strip both, `xz` them to .devcheck/ocr_read.xz and .devcheck/ocr_train.xz, copy the five
#   receipts to .devcheck/img/, download the Vulkan/EGL loader .debs to .gl/ and the onnx2torch
#   wheel to .whl/ (the device tool's notes), and carry .devcheck, .gl, .whl and the
#   detector's and recognizer's ONNX files of assets/rapidocr-1.4.4 (the whole folder takes the
#   carried tree over its 64 MiB). Writes outputs and logs to $OUT.
set -u
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
nvidia-smi -L; nproc
unxz() { python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],'wb'))" "$1" "$2" && chmod +x "$2"; }
unxz .devcheck/ocr_read.xz /tmp/ocr_read
unxz .devcheck/ocr_train.xz /tmp/ocr_train

echo "== inference"
B=/tmp/ocr_read
imgs=$(ls .devcheck/img/*.jpg)
export RUST_LOG=info
( time $B --device cpu $imgs ) > $OUT/cpu.txt 2> $OUT/cpu.log
# Twice over: the first pass compiles and autotunes the kernels.
( time $B --device wgpu $imgs $imgs ) > $OUT/wgpu.txt 2> $OUT/wgpu.log
tail -4 $OUT/cpu.log; grep -E "read|error|Error|panick" $OUT/wgpu.log | tail -12; tail -3 $OUT/wgpu.log
n=$(grep -c . $OUT/cpu.txt)
head -n "$n" $OUT/wgpu.txt > $OUT/wgpu_first.txt
echo "lines differing between cpu and wgpu (first pass):"
diff <(sed 's/^[0-9.]*  //' $OUT/cpu.txt) <(sed 's/^[0-9.]*  //' $OUT/wgpu_first.txt) | grep -c '^[<>]'
diff <(sed 's/^[0-9.]*  //' $OUT/cpu.txt) <(sed 's/^[0-9.]*  //' $OUT/wgpu_first.txt) | head -20

echo "== training"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl \
  && export PYTHONPATH=/tmp/site
export WHET_OCR_WEIGHTS=$PWD/assets/rapidocr-1.4.4
WHET_DEVICE=wgpu timeout 240 /tmp/ocr_train --side-by-side 2>> $OUT/train-wgpu.log | tee -a $OUT/train.txt
PYTHONUNBUFFERED=1 timeout 150 python3 scripts/bench/ocr_train_ref.py assets/rapidocr-1.4.4 cuda 2>> $OUT/train-cuda.log | tee -a $OUT/train.txt
tail -3 $OUT/train-wgpu.log $OUT/train-cuda.log
