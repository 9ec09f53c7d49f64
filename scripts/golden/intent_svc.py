#!/usr/bin/env python3
"""Golden fixtures for whet-intent-svc, produced by scikit-learn 1.9.1.

Run by scripts/golden/intent-svc.sh (throw-away venv with scripts/golden/requirements.txt).
Reads ../shared/data/clinc150/data_full.json and writes
crates/intent-svc/tests/golden/tfidf.json: for two vectoriser configurations fitted on
the CLINC150 training texts (in-scope and out-of-scope), the vocabulary in feature order,
the idf values, and the TF-IDF rows of the first 300 test texts.
"""
import json
import os
import sys

from sklearn.feature_extraction.text import TfidfVectorizer

HERE = os.path.dirname(__file__)
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data", "clinc150", "data_full.json")
OUT = os.path.join(HERE, "..", "..", "crates", "intent-svc", "tests", "golden", "tfidf.json")

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
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
    print(f"{OUT}: {len(CONFIGS)} configurations", file=sys.stderr)


if __name__ == "__main__":
    main()
