#!/usr/bin/env bash
# GPU check of whet-ocr-det through wgpu (Vulkan) on a lent NVIDIA machine; run there from the
# repository root. Prepare here: build `cargo build --release -p whet-examples --features wgpu
# --example ocr_read`, strip it and `xz` it to .devcheck/ocr_read.xz, copy a few receipts to
# .devcheck/img/, download the Vulkan/EGL loader .debs to .gl/ (see the device tool notes), and
# carry .devcheck, .gl and assets/rapidocr-1.4.4. Writes cpu/wgpu outputs and logs to $OUT.
set -u
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
if ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
nvidia-smi -L; nproc
python3 -c "import lzma,shutil; shutil.copyfileobj(lzma.open('.devcheck/ocr_read.xz'), open('/tmp/ocr_read','wb'))" && chmod +x /tmp/ocr_read
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
