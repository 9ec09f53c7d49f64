"""Golden fixture for whet-hard-mining's confident learning: cleanlab's own
`find_label_issues(filter_by="prune_by_noise_rate")` and self-confidence scores on
- synthetic predicted probabilities (3, 10 with one class nobody is labelled, 25 classes)
  with class imbalance and 10-25% flipped labels, and
- scikit-learn's digits (bundled, 1,797 images, 10 classes) with 15% of the labels flipped,
  the probabilities from 5-fold cross-validated logistic regression (out of sample, as
  cleanlab requires).
Probabilities are rounded to 6 decimals (smaller file, still no ties in practice).
Writes crates/hard-mining/tests/golden/cleanlab.json.
"""

import json
import sys

import cleanlab
import numpy as np
import sklearn
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict


def synthetic(rng, n, k, noise, absent=None):
    weights = rng.dirichlet(np.ones(k) * 2.0)
    if absent is not None:
        weights[absent] = 0.0
        weights /= weights.sum()
    truth = rng.choice(k, size=n, p=weights)
    logits = rng.normal(0.0, 1.0, size=(n, k))
    logits[np.arange(n), truth] += rng.uniform(0.5, 4.0, size=n)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = truth.copy()
    flip = rng.random(n) < noise
    labels[flip] = rng.choice(k, size=flip.sum())
    if absent is not None:
        labels[labels == absent] = (absent + 1) % k
    return labels, probs


def digits(rng, noise):
    x, y = load_digits(return_X_y=True)
    labels = y.copy()
    flip = rng.random(len(y)) < noise
    labels[flip] = (y[flip] + rng.integers(1, 10, size=flip.sum())) % 10
    model = LogisticRegression(max_iter=2000)
    probs = cross_val_predict(model, x / 16.0, labels, cv=5, method="predict_proba")
    return labels, probs


def case(name, labels, probs):
    probs = np.round(probs, 6)
    issues = find_label_issues(labels, probs, filter_by="prune_by_noise_rate", n_jobs=1)
    scores = get_label_quality_scores(labels, probs, method="self_confidence")
    return {
        "name": name,
        "labels": [int(v) for v in labels],
        "pred_probs": [[float(v) for v in row] for row in probs],
        "self_confidence": [float(v) for v in scores],
        "issues": [int(i) for i in np.flatnonzero(issues)],
    }


def main(out):
    rng = np.random.default_rng(20261127)
    cases = [
        case("synthetic k3", *synthetic(rng, 300, 3, 0.10)),
        case("synthetic k10 class 7 absent", *synthetic(rng, 2000, 10, 0.20, absent=7)),
        case("synthetic k25", *synthetic(rng, 1500, 25, 0.25)),
        case("digits 15% flipped", *digits(rng, 0.15)),
    ]
    meta = {
        "generator": "scripts/golden/cleanlab.sh",
        "cleanlab": cleanlab.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }
    with open(out, "w") as f:
        json.dump({"meta": meta, "cases": cases}, f, separators=(",", ":"))
    for c in cases:
        print(f"{c['name']}: {len(c['labels'])} samples, {len(c['issues'])} flagged", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
