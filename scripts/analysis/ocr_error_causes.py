"""Splits the misread lines of `ocr_sroie_eval --errors` by cause.

Each line of the JSONL (`{"image", "truth", "read"}`, spaces already removed, upper case
as the evaluation compares them) goes to the first cause that explains it:

- dont_care:   the annotation is SROIE's `***` (an unreadable or foreign-script line);
- full_width:  equal once full-width forms are folded to ASCII (NFKC: `（` -> `(`);
- punctuation: equal once punctuation is removed (`.`, `,`, `:`, `-`, quotes, brackets...);
- look_alike:  equal once look-alike letters and digits are merged (O/0/D/Q, I/1/L/|, S/5,
               B/8, Z/2, G/6), after the two folds above;
- cjk_output:  the recognizer wrote CJK characters where the truth has none;
- truncated:   one is inside the other, or they share all but a head or tail of two or
               more characters (a box cut short, split or merged: a detection cause);
- other:       what is left, a genuine misreading (with its edit distance).

Usage: python3 ocr_error_causes.py ERRORS.jsonl [--examples N]
"""

import collections
import json
import sys
import unicodedata

PUNCT = set(".,:;-_'\"`()[]{}<>/\\|!?*#~^+=&%$@")
LOOK_ALIKE = str.maketrans({"0": "O", "D": "O", "Q": "O", "1": "I", "L": "I", "|": "I",
                            "5": "S", "8": "B", "2": "Z", "6": "G"})


def nfkc(s):
    return unicodedata.normalize("NFKC", s)


def depunct(s):
    return "".join(c for c in s if c not in PUNCT)


def has_cjk(s):
    return any("\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef" for c in s)


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def truncated(t, r):
    if not t or not r or len(t) == len(r):
        return False
    short, long = sorted((t, r), key=len)
    if len(long) - len(short) < 2:
        return False
    if short in long:
        return True
    # All but a head or a tail: the shorter is the longer's prefix or suffix up to one edit.
    return (edit_distance(short, long[: len(short)]) <= 1
            or edit_distance(short, long[-len(short):]) <= 1)


def cause(truth, read):
    t, r = truth.upper(), read.upper()
    if t.strip("*") == "":
        return "dont_care"
    if nfkc(t) == nfkc(r):
        return "full_width"
    t, r = nfkc(t), nfkc(r)
    if depunct(t) == depunct(r):
        return "punctuation"
    if depunct(t).translate(LOOK_ALIKE) == depunct(r).translate(LOOK_ALIKE):
        return "look_alike"
    if has_cjk(r) and not has_cjk(t):
        return "cjk_output"
    if truncated(t, r):
        return "truncated"
    return "other"


def main():
    path = sys.argv[1]
    show = int(sys.argv[sys.argv.index("--examples") + 1]) if "--examples" in sys.argv else 3
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    groups = collections.defaultdict(list)
    for row in rows:
        groups[cause(row["truth"], row["read"])].append(row)
    print(f"{len(rows)} misread lines in {path}")
    for name in ["dont_care", "full_width", "punctuation", "look_alike", "cjk_output",
                 "truncated", "other"]:
        g = groups.get(name, [])
        print(f"  {name:<12} {len(g):>5}  {100 * len(g) / max(len(rows), 1):5.1f}%")
        for row in g[:show]:
            print(f"      {row['truth']!r} -> {row['read']!r}")
    other = groups.get("other", [])
    if other:
        dist = collections.Counter(min(edit_distance(nfkc(r["truth"].upper()),
                                                     nfkc(r["read"].upper())), 4) for r in other)
        print("  other, by edit distance (4 = 4 or more):",
              ", ".join(f"{d}: {dist[d]}" for d in sorted(dist)))


if __name__ == "__main__":
    main()
