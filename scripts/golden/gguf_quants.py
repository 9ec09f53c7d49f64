"""ggml block-format fixtures from gguf-py (llama.cpp's own Python package; its quantisers
and decoders follow ggml-quants.c): a GGUF file written by gguf-py's GGUFWriter holding
  x                 f32 [4, 256] values
  q.Q8_0|Q4_0|Q4_1  x quantised by gguf.quants.quantize (ggml's reference quantisers)
  k.Q4_K|Q6_K       random blocks (valid f16 scales)
  k.Q4_K.f32 ...    those blocks decoded by gguf.quants.dequantize
Usage: python gguf_quants.py OUT.gguf
"""
import sys

import gguf
import numpy as np
from gguf.quants import dequantize, quantize

rng = np.random.default_rng(0)
x = (rng.standard_normal((4, 256)) * rng.uniform(0.01, 3, (4, 1))).astype(np.float32)
x[1, 3] = 0.0
x[2, :32] = 0.0  # an all-zero block: scale 0
w = gguf.GGUFWriter(sys.argv[1], "llama")
w.add_name("whet-core quant fixtures")
w.add_tensor("x", x)
T = gguf.GGMLQuantizationType
for qt in [T.Q8_0, T.Q4_0, T.Q4_1]:
    q = quantize(x, qt)
    w.add_tensor(f"q.{qt.name}", q, raw_shape=q.shape, raw_dtype=qt)
for qt, d_offsets in [(T.Q4_K, [0, 2]), (T.Q6_K, [208])]:
    block_bytes = gguf.GGML_QUANT_SIZES[qt][1]
    raw = rng.integers(0, 256, (4, block_bytes), dtype=np.uint8)
    for off in d_offsets:
        d = rng.uniform(0.001, 0.1, 4).astype(np.float16)
        raw[:, off : off + 2] = d.view(np.uint8).reshape(4, 2)
    w.add_tensor(f"k.{qt.name}", raw, raw_shape=raw.shape, raw_dtype=qt)
    w.add_tensor(f"k.{qt.name}.f32", dequantize(raw, qt).astype(np.float32))
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
