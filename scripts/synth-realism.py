#!/usr/bin/env python3
"""Character accuracy of Tesseract on clean synth-docs renders against their ground truth.

Usage: scripts/synth-realism.py DATASET_DIR [N]
For the first N samples of the dataset's manifest:
  lines:  every ground-truth text line's crop (`rec/`, as PaddleOCR recognition data is
          cut) read with `tesseract --psm 7` (one line), against the line's text: the
          legibility of the rendering, whatever the layout.
  pages:  receipts (single-column thermal paper, at most 576 px wide) read whole with
          `--psm 6`, against all their lines joined by newlines.
Whitespace runs are collapsed on both sides. Prints corpus character accuracy,
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


def tesseract(path, psm):
    return subprocess.run(["tesseract", path, "-", "--psm", str(psm)],
                          capture_output=True, text=True, check=True).stdout


def main():
    root = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    with open(os.path.join(root, "manifest.jsonl"), encoding="utf-8") as f:
        records = [json.loads(line) for line in f][:n]
    ids = {r["id"] for r in records}
    line_err = line_total = lines = 0
    with open(os.path.join(root, "rec_gt.txt"), encoding="utf-8") as f:
        for row in f:
            crop, text = row.rstrip("\n").split("\t", 1)
            if os.path.basename(crop).split("_")[0] not in ids:
                continue
            ref, hyp = squash(text), squash(tesseract(os.path.join(root, crop), 7))
            line_err += levenshtein(ref, hyp)
            line_total += len(ref)
            lines += 1
    page_err = page_total = pages = 0
    for r in records:
        if r["size"][0] > 576:  # thermal paper: 384 or 576 px wide
            continue
        with open(os.path.join(root, r["ground_truth"]), encoding="utf-8") as f:
            gt = json.load(f)
        ref = squash("\n".join(line["text"] for line in gt["lines"]))
        hyp = squash(tesseract(os.path.join(root, r["image"]), 6))
        page_err += levenshtein(ref, hyp)
        page_total += len(ref)
        pages += 1
    print(f"lines: {lines} lines of {len(records)} documents, {line_total} characters, "
          f"character accuracy {1 - line_err / line_total:.4f}")
    if pages:
        print(f"pages: {pages} receipts, {page_total} characters, "
              f"character accuracy {1 - page_err / page_total:.4f}")


if __name__ == "__main__":
    main()
