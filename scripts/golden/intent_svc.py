#!/usr/bin/env python3
"""Golden fixtures for whet-intent-svc, produced by scikit-learn 1.9.1.

Run by scripts/golden/intent-svc.sh (throw-away venv with scripts/golden/requirements.txt).
Reads ../shared/data/clinc150/data_full.json and writes
crates/intent-svc/tests/golden/tfidf.json: for two vectoriser configurations fitted on
the CLINC150 training texts (in-scope and out-of-scope), the vocabulary in feature order,
the idf values, and the TF-IDF rows of the first 300 test texts; and LinearSVC's
predictions on the whole test set (in-scope and out-of-scope); and, in svm_variants.json,
LinearSVC with class_weight="balanced" and sample weights on an imbalanced subset, and with
the hinge loss.
"""
import json
import os
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

HERE = os.path.dirname(__file__)
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data", "clinc150", "data_full.json")
OUT = os.path.join(HERE, "..", "..", "crates", "intent-svc", "tests", "golden", "tfidf.json")
OUT_VARIANTS = os.path.join(os.path.dirname(OUT), "svm_variants.json")

CONFIGS = {
    "issue_defaults": dict(ngram_range=(1, 3), max_features=10000, min_df=1, sublinear_tf=False),
    "bigrams_min_df2_sublinear": dict(ngram_range=(1, 2), max_features=None, min_df=2, sublinear_tf=True),
}


def main():
    data = json.load(open(os.environ.get("CLINC150", DATA), encoding="utf-8"))
    train = [t for t, _ in data["train"] + data["oos_train"]]
    test = [t for t, _ in (data["test"] + data["oos_test"])[:300]]
    out = {"train_size": len(train), "test_texts": test, "configs": {}}
    for name, params in CONFIGS.items():
        v = TfidfVectorizer(**params)
        v.fit(train)
        vocab = [None] * len(v.vocabulary_)
        for term, i in v.vocabulary_.items():
            vocab[i] = term
        x = v.transform(test).tocsr()
        rows = []
        for r in range(x.shape[0]):
            lo, hi = x.indptr[r], x.indptr[r + 1]
            order = sorted(range(lo, hi), key=lambda k: x.indices[k])
            rows.append([[int(x.indices[k]) for k in order], [float(x.data[k]) for k in order]])
        out["configs"][name] = {"params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
                                "vocabulary": vocab, "idf": [float(f) for f in v.idf_], "rows": rows}
    # LinearSVC (defaults: squared hinge, C 1, tol 1e-4, intercept_scaling 1) on the
    # exactly reproducible vectoriser; predictions for the whole test set.
    v = TfidfVectorizer(**CONFIGS["bigrams_min_df2_sublinear"])
    xtr = v.fit_transform(train)
    ytr = [y for _, y in data["train"] + data["oos_train"]]
    all_test = data["test"] + data["oos_test"]
    svc = LinearSVC(C=1.0, random_state=0).fit(xtr, ytr)
    pred = svc.predict(v.transform([t for t, _ in all_test])).tolist()
    out["svm"] = {"config": "bigrams_min_df2_sublinear", "dual": bool(svc.dual) if hasattr(svc, "dual") else None,
                  "test_labels": [y for _, y in all_test], "predictions": pred,
                  "accuracy": sum(p == y for p, (_, y) in zip(pred, all_test)) / len(all_test)}
    # Calibrated confidence: CalibratedClassifierCV(sigmoid, cv=5, ensemble=True).
    folds = [0] * len(ytr)
    for k, (_, test_idx) in enumerate(StratifiedKFold(5).split(xtr, ytr)):
        for i in test_idx:
            folds[i] = k
    cal = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=0), method="sigmoid", cv=5).fit(xtr, ytr)
    xte = v.transform([t for t, _ in all_test])
    proba = cal.predict_proba(xte)
    yte = [y for _, y in all_test]
    cpred = cal.classes_[proba.argmax(axis=1)].tolist()
    out["calibration"] = {"folds": folds, "predictions": cpred,
                          "brier": float(brier_score_loss(yte, proba, labels=cal.classes_)),
                          "accuracy": sum(p == y for p, y in zip(cpred, yte)) / len(yte),
                          "max_proba": [float(p) for p in proba.max(axis=1)[:200]]}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    print(f"{OUT}: {len(CONFIGS)} configurations", file=sys.stderr)

    # LinearSVC variants on the same features: class_weight="balanced" with sample
    # weights on an imbalanced subset (class number c, in sorted order, keeps its first
    # 20 + (37 c mod 81) samples; every fifth kept sample weighs 2), and the hinge loss.
    classes = sorted(set(ytr))
    seen = {c: 0 for c in classes}
    keep = []
    for i, y in enumerate(ytr):
        c = classes.index(y)
        if seen[y] < 20 + (37 * c) % 81:
            keep.append(i)
        seen[y] += 1
    weights = [2.0 if k % 5 == 0 else 1.0 for k in range(len(keep))]
    variants = {"subset": keep, "sample_weight": weights}
    xte_all = v.transform([t for t, _ in all_test])
    bal = LinearSVC(C=1.0, class_weight="balanced", random_state=0).fit(
        xtr[keep], [ytr[i] for i in keep], sample_weight=weights)
    variants["balanced_weighted"] = {"predictions": bal.predict(xte_all).tolist(),
                                     "decision_first_20": bal.decision_function(xte_all[:20]).tolist()}
    hinge = LinearSVC(C=1.0, loss="hinge", random_state=0, max_iter=1000).fit(xtr, ytr)
    variants["hinge"] = {"predictions": hinge.predict(xte_all).tolist(),
                         "decision_first_20": hinge.decision_function(xte_all[:20]).tolist()}
    with open(OUT_VARIANTS, "w", encoding="utf-8") as f:
        json.dump(variants, f, ensure_ascii=False)
    print(f"{OUT_VARIANTS}: balanced + sample weights, hinge", file=sys.stderr)


if __name__ == "__main__":
    main()
