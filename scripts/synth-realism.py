#!/usr/bin/env python3
"""Character accuracy of Tesseract on clean synth-docs renders against their ground truth.

Usage: scripts/synth-realism.py DATASET_DIR [N]
For the first N samples of the dataset's manifest, runs `tesseract <image> - --psm 6`
and compares its output with the ground-truth lines (joined by newlines), whitespace
runs collapsed on both sides. Prints corpus character accuracy
1 - (summed edit distance / summed reference length). Needs Debian's tesseract-ocr.
"""
import json
import os
import subprocess
import sys


def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def squash(s):
    return "\n".join(" ".join(line.split()) for line in s.splitlines() if line.strip())


def main():
    root = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    with open(os.path.join(root, "manifest.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f][:n]
    errors = total = 0
    worst = []
    for r in records:
        with open(os.path.join(root, r["ground_truth"]), encoding="utf-8") as f:
            gt = json.load(f)
        ref = squash("\n".join(line["text"] for line in gt["lines"]))
        out = subprocess.run(["tesseract", os.path.join(root, r["image"]), "-", "--psm", "6"],
                             capture_output=True, text=True, check=True).stdout
        hyp = squash(out)
        d = levenshtein(ref, hyp)
        errors += d
        total += len(ref)
        worst.append((d / max(len(ref), 1), r["id"]))
    worst.sort(reverse=True)
    print(f"samples {len(records)}  characters {total}  edit distance {errors}  "
          f"character accuracy {1 - errors / total:.4f}")
    print("worst samples (CER, id):", ", ".join(f"{c:.3f} {i}" for c, i in worst[:3]))


if __name__ == "__main__":
    main()
