#!/usr/bin/env python3
"""Golden fixtures for whet-eval-metrics, produced by the reference packages.

Run through `scripts/golden/eval-metrics.sh`, which builds a throw-away virtual
environment with the pinned versions of `requirements.txt` (and the wheels
named there) and writes `crates/eval-metrics/tests/golden/*.jsonl`.

Every input is drawn from a seeded `random.Random`, so the files are
reproducible; each line is one case: the inputs and what the reference
computed from them.

Families and their references:
  text.jsonl        jiwer 4 `process_words` / `process_characters` (rapidfuzz
                    alignment), rapidfuzz `Levenshtein.normalized_distance`
  recognition.jsonl PaddleOCR `RecMetric` formula over rapidfuzz distances
  detection.jsonl   shapely geometry; DB/PaddleOCR greedy matching (the
                    algorithm of `ppocr/metrics/eval_det_iou.py`, which is not
                    published on PyPI, re-stated here), docTR 1.1.0
                    `LocalizationConfusion` loaded from its wheel
  classification.jsonl  scikit-learn `classification_report`,
                    `confusion_matrix`, `brier_score_loss`
  teds.jsonl        PubTabNet `src/metric.py` TEDS (not on PyPI; re-stated
                    here verbatim in behaviour) over apted 1.0.3, lxml 6.0.2
                    and distance 0.1.3
  html.jsonl        lxml 6.0.2 (libxml2 2.14) `html.fromstring` trees of
                    random, often broken, markup: what TEDS's parser must rebuild
  anls.jsonl        anls 0.0.2 `anls_score`
  anls_star.jsonl   anls_star 1.0.1 `anls_score` over munkres 1.1.4 (inputs as
                    JSON text; tuples of alternatives as {"__tuple__": [...]})
  normalizer.jsonl  openai-whisper 20250625 `BasicTextNormalizer` (its
                    `whisper/normalizers` folder taken from the sdist), all
                    four option combinations
  english.jsonl     openai-whisper 20250625 `EnglishTextNormalizer`,
                    `EnglishNumberNormalizer`, `EnglishSpellingNormalizer`
  donut.jsonl       donut-python 1.0.9 `JSONParseEvaluator` (its class source
                    taken from the wheel, run over zss and nltk's edit_distance)
"""

import argparse
import importlib.util
import json
import math
import os
import random
import sys

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "eval-metrics", "tests", "golden")

WORDS = (
    "the a of to and in is it you that he was for on are with as I his they be at one have this from "
    "or had by hot word but what some we can out other were all there when up use your how said an each "
    "resibo kabuuan halaga bayad sukli presyo dami buwis benta tindahan salamat po opo hindi oo "
    "ang ng mga sa na si ni kay para pero kasi talaga naman lang din rin "
    "café naïve façade résumé Zürich São Paulo ₱1,250.00 12% VAT TIN 123-456-789-000 "
    "北京 東京 서울 😀 Ελλάδα Москва ñandú piña"
).split()

WHITESPACE = [" ", " ", " ", " ", "  ", "\t", " \t ", "\n", "\u00a0", " \u3000 ", "\x1c"]


def sentence(rng, n):
    return [rng.choice(WORDS) for _ in range(n)]


def mutate(rng, words, p):
    out = []
    for w in words:
        r = rng.random()
        if r < p / 3:
            continue  # deletion
        if r < 2 * p / 3:
            out.append(rng.choice(WORDS))  # substitution
        else:
            out.append(w)
        if rng.random() < p / 3:
            out.append(rng.choice(WORDS))  # insertion
    if rng.random() < 0.1 and len(out) > 1:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


def join(rng, words):
    if not words:
        return rng.choice(["", "", " ", "  \t"])
    s = ""
    for i, w in enumerate(words):
        if i:
            s += rng.choice(WHITESPACE)
        s += w
    if rng.random() < 0.2:
        s = rng.choice(WHITESPACE) + s
    if rng.random() < 0.2:
        s = s + rng.choice(WHITESPACE)
    return s


def char_mutate(rng, s, p):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ÑñéÉ₱.,-O0Il1SB58"
    out = []
    for ch in s:
        r = rng.random()
        if r < p / 3:
            continue
        if r < 2 * p / 3:
            out.append(rng.choice(alphabet))
        else:
            out.append(ch)
        if rng.random() < p / 3:
            out.append(rng.choice(alphabet))
    return "".join(out)


def ops(out):
    return [[[c.type, c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx] for c in sent] for sent in out.alignments]


def gen_text(rng, n_cases):
    import jiwer
    from rapidfuzz.distance import Levenshtein

    rows = []
    for case in range(n_cases):
        n = rng.choice([1, 1, 2, 3, 5])
        refs, hyps = [], []
        for _ in range(n):
            kind = rng.random()
            ref = sentence(rng, rng.randrange(0, 12))
            if kind < 0.05:
                ref = []
            hyp = mutate(rng, ref, rng.choice([0.0, 0.1, 0.3, 0.6, 1.0]))
            if kind > 0.97:
                hyp = []
            refs.append(join(rng, ref))
            hyps.append(join(rng, hyp))
        row = {"refs": refs, "hyps": hyps}
        try:
            w = jiwer.process_words(refs, hyps)
            row["words"] = {
                "hits": w.hits, "substitutions": w.substitutions, "deletions": w.deletions,
                "insertions": w.insertions, "wer": w.wer, "mer": w.mer, "wil": w.wil, "wip": w.wip,
                "ops": ops(w),
            }
        except ValueError as e:
            row["words"] = {"error": str(e)}
        try:
            c = jiwer.process_characters(refs, hyps)
            row["chars"] = {
                "hits": c.hits, "substitutions": c.substitutions, "deletions": c.deletions,
                "insertions": c.insertions, "cer": c.cer, "ops": ops(c),
            }
        except ValueError as e:
            row["chars"] = {"error": str(e)}
        # plain string distances, as rapidfuzz computes them on code points
        a, b = refs[0], hyps[0]
        row["levenshtein"] = {
            "distance": Levenshtein.distance(a, b),
            "normalized_distance": Levenshtein.normalized_distance(a, b),
            "editops": [[o.tag, o.src_pos, o.dest_pos] for o in Levenshtein.editops(a, b)],
        }
        rows.append(row)
    return rows


def gen_recognition(rng, n_cases):
    """PaddleOCR `ppocr/metrics/rec_metric.py` (RecMetric), stated over rapidfuzz.

    acc = correct / (all + 1e-5); norm_edit_dis = 1 - sum(normalized_distance) / (all + 1e-5);
    `ignore_space` removes " " from both sides first; `is_filter` keeps
    [0-9A-Za-z] and lower-cases.
    """
    import string
    from rapidfuzz.distance import Levenshtein

    def normalize(text):
        text = "".join(filter(lambda x: x in (string.digits + string.ascii_letters), text))
        return text.lower()

    rows = []
    texts = ["TOTAL", "Total Sales (VAT Inclusive)", "₱1,250.00", "12% VAT", "SUKLI", "Salamat po!",
             "TIN: 123-456-789-000", "OR No. 000123", "CASH", "Café Niña", "", " ", "Pandesal x 12"]
    for case in range(n_cases):
        n = rng.randrange(0, 8)
        pairs = []
        for _ in range(n):
            t = rng.choice(texts) if rng.random() < 0.6 else join(rng, sentence(rng, rng.randrange(0, 4)))
            p = t if rng.random() < 0.4 else char_mutate(rng, t, rng.choice([0.05, 0.2, 0.5]))
            pairs.append([p, t])
        row = {"pairs": pairs}
        for ignore_space in (True, False):
            for is_filter in (False, True):
                correct, total, ned = 0, 0, 0.0
                for p, t in pairs:
                    if ignore_space:
                        p = p.replace(" ", "")
                        t = t.replace(" ", "")
                    if is_filter:
                        p = normalize(p)
                        t = normalize(t)
                    ned += Levenshtein.normalized_distance(p, t)
                    if p == t:
                        correct += 1
                    total += 1
                key = f"space{int(not ignore_space)}_filter{int(is_filter)}"
                row[key] = {
                    "correct": correct, "total": total, "ned_sum": ned,
                    "acc": 1.0 * correct / (total + 1e-5),
                    "norm_edit_dis": 1 - ned / (total + 1e-5),
                }
        rows.append(row)
    return rows


def load_doctr_metrics():
    """docTR's `doctr/utils/metrics.py`, loaded from the wheel without importing
    the package (whose `__init__` pulls in torch)."""
    path = os.environ.get("DOCTR_METRICS")
    spec = importlib.util.spec_from_file_location("doctr_metrics", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def random_quad(rng, integer):
    kind = rng.random()
    cx, cy = rng.uniform(0, 200), rng.uniform(0, 200)
    w, h = rng.uniform(1, 80), rng.uniform(1, 30)
    if kind < 0.55:  # axis-aligned or slightly rotated box
        a = rng.choice([0.0, 0.0, rng.uniform(-0.3, 0.3)])
        ca, sa = math.cos(a), math.sin(a)
        pts = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
        pts = [(cx + x * ca - y * sa, cy + x * sa + y * ca) for x, y in pts]
    elif kind < 0.8:  # arbitrary convex-ish quad
        pts = [(cx - w / 2 + rng.uniform(-5, 5), cy - h / 2 + rng.uniform(-5, 5)),
               (cx + w / 2 + rng.uniform(-5, 5), cy - h / 2 + rng.uniform(-5, 5)),
               (cx + w / 2 + rng.uniform(-5, 5), cy + h / 2 + rng.uniform(-5, 5)),
               (cx - w / 2 + rng.uniform(-5, 5), cy + h / 2 + rng.uniform(-5, 5))]
    elif kind < 0.9:  # concave (dart)
        pts = [(cx - w / 2, cy - h / 2), (cx + w / 2, cy - h / 2), (cx, cy + rng.uniform(-h / 2, h / 4)),
               (cx - w / 2, cy + h / 2)]
    elif kind < 0.95:  # bow-tie: self-intersecting, invalid
        pts = [(cx - w / 2, cy - h / 2), (cx + w / 2, cy + h / 2), (cx + w / 2, cy - h / 2),
               (cx - w / 2, cy + h / 2)]
    else:  # degenerate: zero area or repeated points
        if rng.random() < 0.5:
            pts = [(cx, cy), (cx + w, cy), (cx + 2 * w, cy), (cx + w / 2, cy)]
        else:
            pts = [(cx, cy), (cx, cy), (cx + w, cy), (cx + w, cy + h)]
    if integer:
        pts = [(float(round(x)), float(round(y))) for x, y in pts]
    return [list(p) for p in pts]


def jitter(rng, quad, amount, integer):
    out = [[x + rng.uniform(-amount, amount), y + rng.uniform(-amount, amount)] for x, y in quad]
    if integer:
        out = [[float(round(x)), float(round(y))] for x, y in out]
    return out


def db_evaluate_image(gt, pred, iou_constraint=0.5, area_precision_constraint=0.5):
    """The algorithm of PaddleOCR/DB `DetectionIoUEvaluator.evaluate_image`."""
    from shapely.geometry import Polygon

    def ok(points):
        try:
            p = Polygon(points)
        except ValueError:
            return False
        return p.is_valid and p.is_simple

    gt_pols, gt_dont_care = [], []
    for g in gt:
        if not ok(g["points"]):
            continue
        gt_pols.append(g["points"])
        if g["ignore"]:
            gt_dont_care.append(len(gt_pols) - 1)
    det_pols, det_dont_care = [], []
    for d in pred:
        if not ok(d):
            continue
        det_pols.append(d)
        for k in gt_dont_care:
            inter = Polygon(gt_pols[k]).intersection(Polygon(d)).area
            area = Polygon(d).area
            precision = 0 if area == 0 else inter / area
            if precision > area_precision_constraint:
                det_dont_care.append(len(det_pols) - 1)
                break
    matched = 0
    if gt_pols and det_pols:
        gt_used = [False] * len(gt_pols)
        det_used = [False] * len(det_pols)
        iou = [[Polygon(d).intersection(Polygon(g)).area / Polygon(d).union(Polygon(g)).area
                for d in det_pols] for g in gt_pols]
        for i in range(len(gt_pols)):
            for j in range(len(det_pols)):
                if not gt_used[i] and not det_used[j] and i not in gt_dont_care and j not in det_dont_care:
                    if iou[i][j] > iou_constraint:
                        gt_used[i] = det_used[j] = True
                        matched += 1
    gt_care = len(gt_pols) - len(gt_dont_care)
    det_care = len(det_pols) - len(det_dont_care)
    if gt_care == 0:
        recall = 1.0
        precision = 0.0 if det_care > 0 else 1.0
    else:
        recall = matched / gt_care
        precision = 0 if det_care == 0 else matched / det_care
    hmean = 0 if precision + recall == 0 else 2.0 * precision * recall / (precision + recall)
    return {"gt_care": gt_care, "det_care": det_care, "matched": matched,
            "precision": precision, "recall": recall, "hmean": hmean}


def gen_detection(rng, n_cases):
    import numpy as np
    from shapely.geometry import Polygon

    doctr = load_doctr_metrics()
    rows = []
    for case in range(n_cases):
        integer = rng.random() < 0.5
        images = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            gts = [{"points": random_quad(rng, integer), "ignore": rng.random() < 0.1}
                   for _ in range(rng.randrange(0, 7))]
            dets = []
            for g in gts:
                if rng.random() < 0.8:
                    dets.append(jitter(rng, g["points"], rng.choice([0.5, 2.0, 6.0, 15.0]), integer))
            for _ in range(rng.randrange(0, 3)):
                dets.append(random_quad(rng, integer))
            rng.shuffle(dets)
            images.append({"gt": gts, "det": dets})
        per_image = [db_evaluate_image(im["gt"], im["det"]) for im in images]
        gt_care = sum(r["gt_care"] for r in per_image)
        det_care = sum(r["det_care"] for r in per_image)
        matched = sum(r["matched"] for r in per_image)
        recall = 0 if gt_care == 0 else matched / gt_care
        precision = 0 if det_care == 0 else matched / det_care
        hmean = 0 if recall + precision == 0 else 2 * recall * precision / (recall + precision)
        row = {"images": images,
               "db": {"gt_care": gt_care, "det_care": det_care, "matched": matched,
                      "precision": precision, "recall": recall, "hmean": hmean},
               "per_image": per_image}

        # docTR on the polygons shapely accepts as valid (docTR itself does not
        # filter, and GEOS may refuse invalid ones), ignoring don't-care flags.
        def valid(p):
            try:
                q = Polygon(p)
            except ValueError:
                return False
            return q.is_valid and q.area > 0

        m_poly = doctr.LocalizationConfusion(iou_thresh=0.5, use_polygons=True)
        m_box = doctr.LocalizationConfusion(iou_thresh=0.5, use_polygons=False)
        doctr_images = []
        for im in images:
            g = [x["points"] for x in im["gt"] if valid(x["points"])]
            d = [x for x in im["det"] if valid(x)]
            doctr_images.append({"gt": g, "det": d})
            ga = np.array(g, dtype=np.float64).reshape(-1, 4, 2)
            da = np.array(d, dtype=np.float64).reshape(-1, 4, 2)
            m_poly.update(ga, da)
            gb = np.concatenate([ga.min(axis=1), ga.max(axis=1)], axis=1) if len(g) else np.zeros((0, 4))
            db = np.concatenate([da.min(axis=1), da.max(axis=1)], axis=1) if len(d) else np.zeros((0, 4))
            m_box.update(gb, db)
        row["doctr_images"] = doctr_images
        for name, m in (("doctr_polygon", m_poly), ("doctr_box", m_box)):
            r, p, _ = m.summary()
            row[name] = {"matches": m.matches, "num_gts": m.num_gts, "num_preds": m.num_preds,
                         "recall": r, "precision": p, "tot_iou": m.tot_iou}
        # pairwise geometry, for the polygon primitives themselves
        pairs = []
        for im in images:
            for g in im["gt"][:2]:
                for d in im["det"][:2]:
                    try:
                        pg, pd = Polygon(g["points"]), Polygon(d)
                        entry = {"a": g["points"], "b": d, "a_valid": pg.is_valid and pg.is_simple,
                                 "b_valid": pd.is_valid and pd.is_simple, "a_area": pg.area, "b_area": pd.area}
                        if entry["a_valid"] and entry["b_valid"]:
                            entry["intersection"] = pg.intersection(pd).area
                            entry["union"] = pg.union(pd).area
                        pairs.append(entry)
                    except ValueError:
                        pass
        row["pairs"] = pairs
        rows.append(row)
    return rows


def gen_classification(rng, n_cases):
    import numpy as np
    from sklearn.metrics import brier_score_loss, classification_report, confusion_matrix

    rows = []
    for case in range(n_cases):
        k = rng.randrange(2, 7)
        labels = [f"c{i}" for i in range(k)] if rng.random() < 0.7 else ["bayad", "sukli", "resibo", "oos", "b", "a"][:k]
        n = rng.randrange(1, 60)
        y_true = [rng.choice(labels) for _ in range(n)]
        acc = rng.random()
        y_pred = [t if rng.random() < acc else rng.choice(labels) for t in y_true]
        # probabilities for the calibration metrics: a softmax that favours y_pred
        probs = []
        for p in y_pred:
            logits = [rng.gauss(0, 1) + (rng.uniform(0, 4) if l == p else 0.0) for l in labels]
            m = max(logits)
            e = [math.exp(x - m) for x in logits]
            s = sum(e)
            probs.append([x / s for x in e])
        # make y_pred the argmax so the two views agree
        y_pred = [labels[max(range(k), key=lambda i: pr[i])] for pr in probs]
        present = sorted(set(y_true) | set(y_pred))
        rep = classification_report(y_true, y_pred, labels=present, output_dict=True, zero_division=0, digits=6)
        cm = confusion_matrix(y_true, y_pred, labels=present).tolist()
        row = {"labels": labels, "y_true": y_true, "y_pred": y_pred, "probs": probs,
               "present": present, "report": rep, "confusion": cm}
        # sklearn >= 1.7 brier_score_loss accepts multiclass probabilities, with the
        # columns in sorted label order (as LabelBinarizer orders them)
        order = sorted(range(k), key=lambda i: labels[i])
        sorted_probs = np.array([[pr[i] for i in order] for pr in probs])
        row["brier"] = float(brier_score_loss(y_true, sorted_probs, labels=sorted(labels)))
        rows.append(row)
    return rows


def load_donut_evaluator():
    """`JSONParseEvaluator` from donut-python's wheel, without importing the package
    (whose `__init__` pulls in torch and transformers)."""
    import ast
    import typing
    import zss
    from nltk import edit_distance
    from zss import Node

    source = open(os.environ["DONUT_UTIL"], encoding="utf-8").read()
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "JSONParseEvaluator")
    namespace = {"zss": zss, "Node": Node, "edit_distance": edit_distance}
    namespace.update({k: getattr(typing, k) for k in ("Any", "Dict", "List", "Union", "Tuple", "Optional")})
    exec(compile(ast.Module(body=[cls], type_ignores=[]), "donut/util.py", "exec"), namespace)
    return namespace["JSONParseEvaluator"]()


RECEIPT_WORDS = ["Kape", "Pandesal", "Adobo", "Sinigang", "Halo-halo", "Café Niña", "Iced Tea", "Lumpia",
                 "SUKLI", "TOTAL", "VAT", "₱", "Cash", "GCash", "  padded  ", "", " ", "ñ", "北京"]


def donut_value(rng, depth):
    r = rng.random()
    if depth > 0 and r < 0.15:
        return {k: donut_value(rng, depth - 1) for k in rng.sample(["nm", "cnt", "price", "unitprice", "sub"], rng.randrange(0, 4))}
    if depth > 0 and r < 0.3:
        if rng.random() < 0.6:
            return [donut_value(rng, depth - 1) if rng.random() < 0.2 else
                    {k: donut_value(rng, 0) for k in rng.sample(["nm", "cnt", "price"], rng.randrange(1, 4))}
                    for _ in range(rng.randrange(0, 4))]
        return [donut_scalar(rng) for _ in range(rng.randrange(0, 4))]
    return donut_scalar(rng)


def donut_scalar(rng):
    r = rng.random()
    if r < 0.6:
        return rng.choice(RECEIPT_WORDS)
    if r < 0.7:
        return rng.choice([0, 1, 2, 12, 120, -3])
    if r < 0.8:
        return rng.choice([0.0, 1.0, 12.5, 0.1, 1e16, 1.5e-05, 1250.75, -0.0])
    if r < 0.85:
        return rng.choice([True, False])
    if r < 0.9:
        return None
    return "%d.%02d" % (rng.randrange(0, 5000), rng.randrange(0, 100))


def donut_doc(rng):
    keys = ["menu", "total", "subtotal", "vat", "tin", "date", "store", "items", "cash", "change"]
    return {k: donut_value(rng, 2) for k in rng.sample(keys, rng.randrange(0, 6))}


def donut_perturb(rng, v):
    if isinstance(v, dict):
        out = {k: donut_perturb(rng, x) for k, x in v.items() if rng.random() > 0.1}
        if rng.random() < 0.1:
            out[rng.choice(["total", "extra", "nm"])] = donut_scalar(rng)
        return out
    if isinstance(v, list):
        out = [donut_perturb(rng, x) for x in v if rng.random() > 0.1]
        if rng.random() < 0.2:
            rng.shuffle(out)
        return out
    if isinstance(v, str) and v and rng.random() < 0.3:
        return char_mutate(rng, v, 0.3)
    if rng.random() < 0.05:
        return donut_scalar(rng)
    return v


def gen_donut(rng, n_cases):
    ev = load_donut_evaluator()
    rows = []
    for case in range(n_cases):
        docs = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            answer = donut_doc(rng)
            pred = donut_perturb(rng, answer) if rng.random() < 0.9 else donut_doc(rng)
            docs.append({"pred": pred, "answer": answer})
        row = {"docs": docs}
        preds = [d["pred"] for d in docs]
        answers = [d["answer"] for d in docs]
        row["flat"] = [[list(f) for f in ev.flatten(ev.normalize_dict(d["answer"]))] for d in docs]
        try:
            row["f1"] = ev.cal_f1(preds, answers)
        except ZeroDivisionError:
            row["f1"] = None
        accs = []
        for d in docs:
            try:
                accs.append(ev.cal_acc(d["pred"], d["answer"]))
            except ZeroDivisionError:
                accs.append(None)
        row["ted_acc"] = accs
        rows.append(row)
    return rows


def pubtabnet_teds():
    """PubTabNet's `TEDS` (ibm-aur-nlp/PubTabNet `src/metric.py`), single-process."""
    from collections import deque

    import distance
    from apted import APTED, Config
    from apted.helpers import Tree
    from lxml import etree, html

    class TableTree(Tree):
        def __init__(self, tag, colspan=None, rowspan=None, content=None, *children):
            self.tag = tag
            self.colspan = colspan
            self.rowspan = rowspan
            self.content = content
            self.children = list(children)

    class CustomConfig(Config):
        @staticmethod
        def maximum(*sequences):
            return max(map(len, sequences))

        def normalized_distance(self, *sequences):
            return float(distance.levenshtein(*sequences)) / self.maximum(*sequences)

        def rename(self, node1, node2):
            if (node1.tag != node2.tag) or (node1.colspan != node2.colspan) or (node1.rowspan != node2.rowspan):
                return 1.
            if node1.tag == 'td':
                if node1.content or node2.content:
                    return self.normalized_distance(node1.content, node2.content)
            return 0.

    class TEDS(object):
        def __init__(self, structure_only=False, ignore_nodes=None):
            self.structure_only = structure_only
            self.ignore_nodes = ignore_nodes
            self.__tokens__ = []

        def tokenize(self, node):
            self.__tokens__.append('<%s>' % node.tag)
            if node.text is not None:
                self.__tokens__ += list(node.text)
            for n in node.getchildren():
                self.tokenize(n)
            if node.tag != 'unk':
                self.__tokens__.append('</%s>' % node.tag)
            if node.tag != 'td' and node.tail is not None:
                self.__tokens__ += list(node.tail)

        def load_html_tree(self, node, parent=None):
            if node.tag == 'td':
                if self.structure_only:
                    cell = []
                else:
                    self.__tokens__ = []
                    self.tokenize(node)
                    cell = self.__tokens__[1:-1].copy()
                new_node = TableTree(node.tag, int(node.attrib.get('colspan', '1')),
                                     int(node.attrib.get('rowspan', '1')), cell, *deque())
            else:
                new_node = TableTree(node.tag, None, None, None, *deque())
            if parent is not None:
                parent.children.append(new_node)
            if node.tag != 'td':
                for n in node.getchildren():
                    self.load_html_tree(n, new_node)
            if parent is None:
                return new_node

        def evaluate(self, pred, true):
            if (not pred) or (not true):
                return 0.0
            parser = html.HTMLParser(remove_comments=True, encoding='utf-8')
            pred = html.fromstring(pred, parser=parser)
            true = html.fromstring(true, parser=parser)
            if pred.xpath('body/table') and true.xpath('body/table'):
                pred = pred.xpath('body/table')[0]
                true = true.xpath('body/table')[0]
                if self.ignore_nodes:
                    etree.strip_tags(pred, *self.ignore_nodes)
                    etree.strip_tags(true, *self.ignore_nodes)
                n_nodes_pred = len(pred.xpath(".//*"))
                n_nodes_true = len(true.xpath(".//*"))
                n_nodes = max(n_nodes_pred, n_nodes_true)
                tree_pred = self.load_html_tree(pred)
                tree_true = self.load_html_tree(true)
                distance_ = APTED(tree_pred, tree_true, CustomConfig()).compute_edit_distance()
                return 1.0 - (float(distance_) / n_nodes)
            else:
                return 0.0

    return TEDS


CELL_TEXT = ["Kape", "Pandesal", "120.00", "₱1,250.00", "12% VAT", "Qty", "Item", "Amount", "", " ",
             "Café Niña", "a &amp; b", "x&nbsp;y", "Tot&eacute;l", "1 &lt; 2", "&#8369;5", "SUKLI"]


def random_table(rng):
    rows = rng.randrange(1, 7)
    cols = rng.randrange(1, 5)
    grid = []
    for r in range(rows):
        row = []
        for c in range(cols):
            attrs = ""
            if rng.random() < 0.1:
                attrs += ' colspan="%d"' % rng.randrange(1, 4)
            if rng.random() < 0.08:
                attrs += " rowspan=%d" % rng.randrange(1, 3)
            text = rng.choice(CELL_TEXT)
            if rng.random() < 0.15:
                text = "<b>%s</b>" % text
            if rng.random() < 0.05:
                text = "%s<br>%s" % (text, rng.choice(CELL_TEXT))
            row.append((attrs, text))
        grid.append(row)
    return {"grid": grid, "head": rng.randrange(0, min(2, rows) + 1) if rng.random() < 0.6 else None}


def render_table(rng, t, malformed):
    def row_html(row):
        cells = []
        for attrs, text in row:
            tag = "th" if malformed and rng.random() < 0.05 else "td"
            close = "" if malformed and rng.random() < 0.2 else "</%s>" % tag
            open_ = "<%s%s>" % (tag.upper() if malformed and rng.random() < 0.1 else tag, attrs)
            cells.append(open_ + text + close)
        sep = rng.choice(["", "\n", " "]) if malformed else ""
        end = "" if malformed and rng.random() < 0.2 else "</tr>"
        return "<tr>" + sep.join(cells) + end
    grid = t["grid"]
    body = ""
    if t["head"] is not None:
        body += "<thead>" + "".join(row_html(r) for r in grid[:t["head"]]) + "</thead>"
        rest = grid[t["head"]:]
        body += "<tbody>" + "".join(row_html(r) for r in rest) + ("" if malformed and rng.random() < 0.3 else "</tbody>")
    else:
        body += "".join(row_html(r) for r in grid)
    if malformed and rng.random() < 0.2:
        body += rng.choice(["</thead>", "</td>", "<!-- note -->", "</tr></tr>", "<tr>", "</b>"])
    table = "<table>" + body + "</table>"
    r = rng.random()
    if malformed and r < 0.1:
        return table  # a fragment: PubTabNet finds no body/table in it
    if malformed and r < 0.2:
        return "<html>" + table + "</html>"
    return "<html><body>" + table + "</body></html>"


def perturb_table(rng, t):
    grid = [list(row) for row in t["grid"]]
    for row in grid:
        for c in range(len(row)):
            if rng.random() < 0.2:
                attrs, text = row[c]
                row[c] = (attrs, char_mutate(rng, text, 0.3) if "&" not in text else rng.choice(CELL_TEXT))
        if len(row) > 1 and rng.random() < 0.1:
            row.pop(rng.randrange(len(row)))
    if len(grid) > 1 and rng.random() < 0.1:
        grid.pop(rng.randrange(len(grid)))
    if rng.random() < 0.1:
        grid.append(list(rng.choice(grid)))
    head = t["head"]
    if head is not None and head > len(grid):
        head = len(grid)
    return {"grid": grid, "head": head}


def gen_teds(rng, n_cases):
    TEDS = pubtabnet_teds()
    full, struct = TEDS(structure_only=False), TEDS(structure_only=True)
    rows = []
    for case in range(n_cases):
        t = random_table(rng)
        truth = render_table(rng, t, malformed=False)
        pred = render_table(rng, perturb_table(rng, t) if rng.random() < 0.9 else random_table(rng),
                            malformed=rng.random() < 0.4)
        if rng.random() < 0.02:
            pred = rng.choice(["", "<html><body></body></html>", "no table here"])
        row = {"pred": pred, "true": truth}
        for name, m in (("teds", full), ("teds_struct", struct)):
            try:
                row[name] = m.evaluate(pred, truth)
            except (ValueError, ZeroDivisionError) as e:
                row[name] = {"error": type(e).__name__}
        rows.append(row)
    return rows


HTML_PIECES = ["<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th>", "</th>", "<thead>",
               "</thead>", "<tbody>", "</tbody>", "<tfoot>", "<b>", "</b>", "<i>", "</i>", "<span>",
               "</span>", "<p>", "</p>", "<div>", "</div>", "<br>", "<br/>", "<img src=x>", "<a href='#'>",
               "</a>", "<TD COLSPAN=2>", "<td rowspan=\"3\">", "<td colspan>", "<td class=a class=b>",
               "<font>", "</font>", "<ul>", "<li>", "</ul>", "<script>x<y</script>", "<title>a&amp;b</title>",
               "<textarea>&lt;</td></textarea>", "<head>", "</head>", "<body>", "</body>", "<html>",
               "<!-- c -->", "<!-->", "<!--->", "<!x>", "<?pi?>", "<!DOCTYPE html>", "</>", "</4>",
               "<7>", "< b>", "<b/>", "</b x=1>", "&amp;", "&amp", "&ampx", "&nbsp;", "&nbspx", "&notin;",
               "&notit;", "&#65;", "&#x41", "&#128;", "&#0;", "&#xD800;", "&bogus;", "&", "&#", "&#x;",
               "\r\n", "\r", "\n", " ", "  ", "\t", "Kape", "120.00", "₱", "Niña", "a<b", "x>y",
               "<td title='&amp=x &ampy'>", "<colgroup>", "<col>", "<caption>", "<tr/>", "</html>",
               "<option>", "<h1>", "<form>", "</form>", "<center>", "<u>", "<table border=1>"]


def lxml_tree(e):
    return {"tag": e.tag if isinstance(e.tag, str) else "#other", "attrs": [[k, v] for k, v in e.attrib.items()],
            "text": e.text or "", "tail": e.tail or "", "children": [lxml_tree(c) for c in e]}


def gen_html(rng, n_cases):
    from lxml import html

    parser = html.HTMLParser(remove_comments=True, encoding="utf-8")
    rows = []
    for case in range(n_cases):
        pieces = [rng.choice(HTML_PIECES) for _ in range(rng.randrange(1, 40))]
        doc = "<html><body>" + "".join(pieces)
        if rng.random() < 0.5:
            doc += "</body></html>"
        try:
            root = html.fromstring(doc.encode("utf-8"), parser=parser)
            tree = lxml_tree(root)
        except Exception as e:  # an empty document
            tree = {"error": type(e).__name__}
        rows.append({"html": doc, "tree": tree})
    return rows


ANLS_ANSWERS = ["Total", "TOTAL DUE", "₱1,250.00", "Café Niña", "straße", "STRASSE", "Ǆemal", "İstanbul",
                "Σίσυφος", "ΣΊΣΥΦΟΣ", "salamat po", "  12% VAT ", "", " ", "Sari-Sari Store", "ﬁle", "Ⅻ"]


def gen_anls(rng, n_cases):
    from anls import anls_score

    rows = []
    for case in range(n_cases):
        golds = [rng.choice(ANLS_ANSWERS) if rng.random() < 0.7 else join(rng, sentence(rng, rng.randrange(0, 4)))
                 for _ in range(rng.randrange(1, 4))]
        base = rng.choice(golds)
        r = rng.random()
        if r < 0.3:
            pred = base
        elif r < 0.5:
            pred = rng.choice([base.upper(), base.lower(), " " + base + "\t", base.replace(" ", "  ")])
        elif r < 0.9:
            pred = char_mutate(rng, base, rng.choice([0.1, 0.3, 0.6]))
        else:
            pred = rng.choice(ANLS_ANSWERS)
        threshold = rng.choice([0.5, 0.5, 0.5, 0.3, 0.8])
        rows.append({"pred": pred, "golds": golds, "threshold": threshold,
                     "score": anls_score(pred, golds, threshold=threshold)})
    return rows


NORM_PIECES = ["Salamat", "po", "[musika]", "(tawa)", "<unk>", "Café", "Niña", "ÆRØ", "straße", "Đorđe",
               "Łódź", "þorn", "naïve", "₱1,250.00", "12%", "$5", "€3", "—", "…", "“quoted”", "it's",
               "e-mail", "ﬁ", "①", "x²", "Ⅻ", "北京", "東京", "한국어", "😀", "👍🏽", "Ελλάδα", "ΣΊΣΥΦΟΣ",
               "İstanbul", "(", ")", "()", "[", "]", "<", ">", "a\u0301", "\u00a0", "\u3000", "\t", "\n",
               "\x1c", "  ", " ", "!", "?", ",", ".", "-", "_", "~", "ñandú", "Mañana", "KABUUAN:",
               "\u0e01\u0e33", "\u0915\u094d\u0937"]


def gen_normalizer(rng, n_cases):
    path = os.environ["WHISPER_NORMALIZERS"]
    sys.path.insert(0, os.path.dirname(path))
    from normalizers.basic import BasicTextNormalizer

    variants = {f"d{int(d)}_s{int(sp)}": BasicTextNormalizer(remove_diacritics=d, split_letters=sp)
                for d in (False, True) for sp in (False, True)}
    rows = []
    for case in range(n_cases):
        text = "".join(rng.choice(NORM_PIECES) + rng.choice(["", " ", " ", "  "]) for _ in range(rng.randrange(0, 12)))
        row = {"text": text}
        for name, n in variants.items():
            row[name] = n(text)
        rows.append(row)
    return rows


EN_PIECES = ["twenty", "five", "one", "oh", "zero", "double", "triple", "point", "hundred", "thousand",
             "million", "billion", "and", "a", "half", "dollars", "dollar", "cents", "cent", "pounds", "euros",
             "percent", "per", "minus", "plus", "negative", "first", "second", "third", "twelfth", "twentieth",
             "sixes", "nineties", "hundredth", "millions", "ones", "eleven", "nineteen", "thirty", "ninety",
             "$20", "£5", "€3.50", "¢7", "1,250", "3.14", "007", "1960s", "274th", "32nd", "2nd", "10:30",
             "won't", "can't", "let's", "y'all", "gonna", "wanna", "I'm", "he's", "they've", "we'd", "she'll",
             "Mr.", "Mrs", "Dr", "St.", "Jr.", "colour", "favourite", "organise", "grey", "centre", "travelled",
             "hmm", "um", "uh", "mhm", "[laughs]", "(inaudible)", "<noise>", "Café", "naïve", "Ærø", "straße",
             "salamat", "po", "—", "...", ",", ".", "!", "?", "'", "\"", "%", "&", "#", "@", "1", "2", "3", "1s",
             "O", "Oh", "hello.", "e.g.", "U.S.", "3.", ".5", "1.2.3", "9.99", "$0.50", "$2 and ¢7"]


def gen_english(rng, n_cases):
    path = os.environ["WHISPER_NORMALIZERS"]
    sys.path.insert(0, os.path.dirname(path))
    from normalizers.english import EnglishNumberNormalizer, EnglishSpellingNormalizer, EnglishTextNormalizer

    text_n, num_n, spell_n = EnglishTextNormalizer(), EnglishNumberNormalizer(), EnglishSpellingNormalizer()
    rows = []
    for case in range(n_cases):
        text = " ".join(rng.choice(EN_PIECES) for _ in range(rng.randrange(0, 14)))
        if rng.random() < 0.3:
            text = text.upper() if rng.random() < 0.5 else text.capitalize()
        row = {"text": text}
        for name, fn in (("english", text_n), ("numbers", lambda s: num_n(s.lower())), ("spellings", spell_n)):
            try:
                row[name] = fn(text)
            except Exception as e:  # the reference's own failures, recorded as such
                row[name] = {"error": type(e).__name__}
        rows.append(row)
    return rows


STAR_LEAVES = ["Kape", "kape ", "Pandesal", "₱1,250.00", "1250", "Café Niña", "TOTAL", "", "salamat po",
               12, 0, 1, 2.5, 1.0, True, False, None]


def star_value(rng, depth, gt):
    r = rng.random()
    if depth > 0 and r < 0.2:
        keys = sorted(rng.sample(["total", "items", "date", "store", "vat", "nm", "cnt"], rng.randrange(0, 4)))
        return {k: star_value(rng, depth - 1, gt) for k in keys}
    if depth > 0 and r < 0.4:
        return [star_value(rng, depth - 1, gt) for _ in range(rng.randrange(0, 4))]
    if gt and depth > 0 and r < 0.5:
        return tuple(star_value(rng, depth - 1, gt) for _ in range(rng.randrange(1, 3)))
    return rng.choice(STAR_LEAVES)


def star_perturb(rng, v):
    if isinstance(v, tuple):
        return star_perturb(rng, rng.choice(v))
    if isinstance(v, dict):
        out = {k: star_perturb(rng, x) for k, x in v.items() if rng.random() > 0.15}
        if rng.random() < 0.15:
            out[rng.choice(["extra", "total", "nm"])] = rng.choice(STAR_LEAVES)
        return dict(sorted(out.items()))
    if isinstance(v, list):
        out = [star_perturb(rng, x) for x in v if rng.random() > 0.15]
        if rng.random() < 0.3:
            rng.shuffle(out)
        if rng.random() < 0.15:
            out.append(rng.choice(STAR_LEAVES))
        return out
    if isinstance(v, str) and rng.random() < 0.4:
        return char_mutate(rng, v, rng.choice([0.1, 0.4]))
    if rng.random() < 0.1:
        return rng.choice(STAR_LEAVES)
    return v


def star_json(v):
    if isinstance(v, tuple):
        return {"__tuple__": [star_json(x) for x in v]}
    if isinstance(v, list):
        return [star_json(x) for x in v]
    if isinstance(v, dict):
        return {k: star_json(x) for k, x in v.items()}
    return v


def gen_anls_star(rng, n_cases):
    import warnings

    from anls_star import anls_score

    warnings.simplefilter("ignore")
    rows = []
    for case in range(n_cases):
        gt = star_value(rng, rng.choice([1, 2, 3]), gt=True)
        if rng.random() < 0.1:
            gt = [rng.choice(["Kape", "kape", "coffee"]) for _ in range(rng.randrange(1, 3))]
            pred = rng.choice(["Kape", "cofee", "tea"])
        else:
            pred = star_perturb(rng, gt) if rng.random() < 0.85 else star_value(rng, 2, gt=False)
        try:
            score = anls_score(gt, pred)
        except Exception as e:
            score = {"error": type(e).__name__}
        # as JSON text, so that key order (which ANLS* sums in) survives the file
        rows.append({"gt": json.dumps(star_json(gt), ensure_ascii=False),
                     "pred": json.dumps(star_json(pred), ensure_ascii=False), "score": score})
    return rows


def write(name, rows):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{path}: {len(rows)} cases", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("families", nargs="*", default=["text", "recognition", "detection", "classification", "donut", "teds", "html", "anls", "normalizer", "english", "anls_star"])
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args()
    gens = {"text": gen_text, "recognition": gen_recognition, "detection": gen_detection,
            "classification": gen_classification, "donut": gen_donut, "teds": gen_teds, "html": gen_html, "anls": gen_anls, "normalizer": gen_normalizer, "english": gen_english, "anls_star": gen_anls_star}
    for fam in args.families:
        rng = random.Random(f"whetstone-{fam}")
        write(f"{fam}.jsonl", gens[fam](rng, args.n))


if __name__ == "__main__":
    main()
