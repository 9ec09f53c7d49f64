#!/usr/bin/env python3
"""Golden fixture for whet-ocr-det's ONNX reader, produced by the `onnx` package.

Run by scripts/golden/ocr-det.sh (throw-away venv; fetches the weights first). For the
PP-OCRv4 detector and recognizer in assets/rapidocr-1.4.4: node count and operator
counts, graph inputs and outputs, every stored tensor (initializers and Constant-node
values) with its shape, element count, sum and first value, and the recognizer's
dictionary length and first entries. Writes crates/ocr-det/tests/golden/onnx.json.
"""
import collections
import json
import os

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")
ASSETS = os.path.join(ROOT, "assets", "rapidocr-1.4.4")
OUT = os.path.join(ROOT, "crates", "ocr-det", "tests", "golden", "onnx.json")


def describe(path):
    m = onnx.load(path)
    g = m.graph
    tensors = {}
    for t in g.initializer:
        tensors[t.name] = numpy_helper.to_array(t)
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    tensors[n.output[0]] = numpy_helper.to_array(a.t)
    out = {
        "nodes": len(g.node),
        "ops": dict(collections.Counter(n.op_type for n in g.node)),
        "inputs": [i.name for i in g.input],
        "outputs": [o.name for o in g.output],
        "tensors": {
            name: {
                "dims": list(a.shape),
                "dtype": str(a.dtype),
                "sum": float(np.asarray(a, dtype=np.float64).sum()),
                "first": float(a.reshape(-1)[0]) if a.size else None,
            }
            for name, a in sorted(tensors.items())
        },
    }
    meta = {p.key: p.value for p in m.metadata_props}
    if "character" in meta:
        lines = meta["character"].splitlines()
        out["dictionary"] = {"lines": len(lines), "first": lines[:20], "last": lines[-5:]}
    return out


def main():
    fixture = {
        "det": describe(os.path.join(ASSETS, "ch_PP-OCRv4_det_infer.onnx")),
        "rec": describe(os.path.join(ASSETS, "ch_PP-OCRv4_rec_infer.onnx")),
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
