#!/usr/bin/env python3
"""scikit-learn's side of scripts/bench-intent-svc.sh: the same CLINC150 fit
(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True) + CalibratedClassifierCV(
LinearSVC(C=1), method="sigmoid", cv=5)) and single-message predict (p50 of 2,000,
vectorise + predict_proba). With the argument `fit` it times one fit only. Prints
`python <metric> <value>`."""
import json
import os
import statistics
import sys
import time

from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

data = json.load(open(os.environ.get("CLINC150") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data", "clinc150", "data_full.json")))
train = data["train"] + data["oos_train"]
test = [t for t, _ in data["test"] + data["oos_test"]][:2000]
t = time.perf_counter()
v = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
x = v.fit_transform([t_ for t_, _ in train])
model = CalibratedClassifierCV(LinearSVC(C=1.0), method="sigmoid", cv=5).fit(x, [y for _, y in train])
if sys.argv[1:] == ["fit"]:
    print(f"python fit_seconds {time.perf_counter() - t:.3f}")
    sys.exit(0)
times = []
for m in test:
    t = time.perf_counter()
    model.predict_proba(v.transform([m]))
    times.append((time.perf_counter() - t) * 1e6)
print(f"python predict_p50_us {statistics.median(times):.1f}")
