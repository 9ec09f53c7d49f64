#!/usr/bin/env bash
# Proves that MLflow reads Whetstone runs: trains examples/train_tiny (killed and resumed
# on the way), then reads the run with mlflow-skinny's search_runs and MlflowClient in a
# throw-away virtual environment and checks every param, metric point, tag and artifact.
# Output is committed as docs/interop/mlflow.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
whet_require_cargo

MLFLOW_VERSION=3.17.2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "mlflow-skinny==$MLFLOW_VERSION"

# Killed at step 250 (it aborts: a non-zero status), then resumed by the same command.
if cargo run --quiet -p whet-examples --example train_tiny -- --out "$work/out" --kill-at 250 >/dev/null 2>&1; then
    echo "train_tiny was meant to be killed at step 250" >&2
    exit 1
fi
cargo run --quiet -p whet-examples --example train_tiny -- --out "$work/out" >/dev/null 2>&1
MLFLOW_ALLOW_FILE_STORE=true "$work/venv/bin/python" scripts/interop/mlflow_check.py \
    "$work/out/mlruns" train_tiny 2>&1 | sed "s|$work|<tmp>|g"
