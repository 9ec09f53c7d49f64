#!/usr/bin/env bash
# Regenerates crates/hard-mining/tests/golden/cleanlab.json with cleanlab itself, in a
# throw-away virtual environment (pinned versions below). Needs python3 with venv, and PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "cleanlab==2.9.0" "numpy==2.2.6" "scikit-learn==1.7.2" "scipy==1.16.3" "pandas==2.3.3"
"$work/venv/bin/python" scripts/golden/cleanlab_issues.py crates/hard-mining/tests/golden/cleanlab.json
