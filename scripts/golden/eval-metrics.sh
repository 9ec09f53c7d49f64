#!/usr/bin/env bash
# Regenerates crates/eval-metrics/tests/golden/*.jsonl from the reference packages.
#
# Builds a throw-away virtual environment with the pinned versions of
# scripts/golden/requirements.txt, extracts docTR's `doctr/utils/metrics.py` from its
# wheel and donut-python's `donut/util.py` from its (importing either package would pull in torch), runs scripts/golden/eval_metrics.py
# and removes the environment. Needs python3 with venv and pip, and PyPI.
#
# Usage: scripts/golden/eval-metrics.sh [family ...] [--n N]
set -euo pipefail
cd "$(dirname "$0")/../.."

DOCTR_VERSION=1.1.0
DONUT_VERSION=1.0.9
WHISPER_VERSION=20250625
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet -r scripts/golden/requirements.txt
"$work/venv/bin/pip" download --quiet --no-deps "python-doctr==$DOCTR_VERSION" "donut-python==$DONUT_VERSION" -d "$work/wheels"
"$work/venv/bin/python" - "$work" <<'PY'
import glob, sys, zipfile
work = sys.argv[1]
wheel = glob.glob(f"{work}/wheels/python_doctr-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(f"{work}/doctr_metrics.py", "wb") as out:
    out.write(z.read("doctr/utils/metrics.py"))
wheel = glob.glob(f"{work}/wheels/donut_python-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(f"{work}/donut_util.py", "wb") as out:
    out.write(z.read("donut/util.py"))
PY
# Whisper's normalisers from its source distribution (the package itself needs torch).
"$work/venv/bin/pip" download --quiet --no-deps --no-binary :all: "openai-whisper==$WHISPER_VERSION" -d "$work/wheels"
tar -xzf "$work"/wheels/openai_whisper-*.tar.gz -C "$work"
cp -r "$work"/openai_whisper-*/whisper/normalizers "$work/normalizers"
DOCTR_METRICS="$work/doctr_metrics.py" DONUT_UTIL="$work/donut_util.py" \
    WHISPER_NORMALIZERS="$work/normalizers" "$work/venv/bin/python" scripts/golden/eval_metrics.py "$@"
