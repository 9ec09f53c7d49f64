#!/usr/bin/env python3
"""Times the Python references of whet-eval-metrics on the golden inputs.

Prints `python <metric> <seconds per pass over the golden file>` (median of 7 passes
after one warm-up), the same passes `benches/benches/eval_metrics.rs` times in Rust:
  wer           jiwer.process_words per case (text.jsonl)
  cer           jiwer.process_characters per case (text.jsonl)
  teds          PubTabNet TEDS.evaluate per table pair (teds.jsonl)
  detection_db  the DB / PaddleOCR protocol over shapely, per case (detection.jsonl)
Run by scripts/bench-eval-metrics.sh inside the golden script's virtual environment.
"""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
import eval_metrics as g  # noqa: E402  (the golden script: PubTabNet TEDS, DB protocol)

GOLDEN = os.path.join(HERE, "..", "..", "crates", "eval-metrics", "tests", "golden")


def load(name):
    with open(os.path.join(GOLDEN, name + ".jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main():
    import jiwer

    text = load("text")
    tables = load("teds")
    det = load("detection")
    teds = g.pubtabnet_teds()(structure_only=False)

    def wer():
        return sum(jiwer.process_words(c["refs"], c["hyps"]).wer for c in text)

    def cer():
        return sum(jiwer.process_characters(c["refs"], c["hyps"]).cer for c in text)

    def teds_pass():
        return sum(teds.evaluate(c["pred"], c["true"]) for c in tables)

    def detection():
        total = 0.0
        for c in det:
            per = [g.db_evaluate_image(im["gt"], im["det"]) for im in c["images"]]
            gt = sum(r["gt_care"] for r in per)
            dt = sum(r["det_care"] for r in per)
            m = sum(r["matched"] for r in per)
            r = 0 if gt == 0 else m / gt
            p = 0 if dt == 0 else m / dt
            total += 0 if r + p == 0 else 2 * r * p / (r + p)
        return total

    for name, fn in (("wer", wer), ("cer", cer), ("teds", teds_pass), ("detection_db", detection)):
        fn()
        times = []
        for _ in range(7 if name != "teds" else 3):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        print(f"python {name} {statistics.median(times):.6f}", flush=True)


if __name__ == "__main__":
    main()
