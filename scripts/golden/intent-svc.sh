#!/usr/bin/env bash
# Regenerates crates/intent-svc/tests/golden/tfidf.json with scikit-learn in a throw-away
# virtual environment (pinned in scripts/golden/requirements.txt). Needs ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet -r scripts/golden/requirements.txt
"$work/venv/bin/python" scripts/golden/intent_svc.py
