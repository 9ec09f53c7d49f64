"""Reads a Whetstone run with MLflow's own client and checks every value.

Usage: MLFLOW_ALLOW_FILE_STORE=true python mlflow_check.py MLRUNS_DIR EXPERIMENT

Whetstone writes runs in MLflow's file-store layout without any MLflow code. This script
is the proof that MLflow reads them as its own: it finds the run with `search_runs`, and
compares what MLflow returns (params, metric histories, tags, status, artifacts) with what
Whetstone recorded independently (the checkpoint's config.json and artifacts/metrics.jsonl).
Exits 1 on the first mismatch.
"""

import json
import math
import os
import sys

import mlflow
from mlflow.tracking import MlflowClient


def flatten(prefix, value, out):
    """Mirror of whet_core::run::RunDir::log_params_json."""
    if isinstance(value, dict):
        for k, v in value.items():
            flatten(f"{prefix}.{k}" if prefix else k, v, out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flatten(f"{prefix}.{i}" if prefix else str(i), v, out)
    elif value is None:
        out[prefix] = "None"
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    elif isinstance(value, float):
        out[prefix] = repr(value)
    else:
        out[prefix] = str(value)


def fail(message):
    print(f"MISMATCH: {message}")
    sys.exit(1)


def main():
    mlruns, experiment = sys.argv[1], sys.argv[2]
    mlflow.set_tracking_uri("file://" + os.path.abspath(mlruns))
    client = MlflowClient()
    runs = mlflow.search_runs(experiment_names=[experiment], output_format="list")
    if not runs:
        fail(f"search_runs found no run in experiment {experiment!r}")
    print(f"mlflow {mlflow.__version__}: search_runs found {len(runs)} run(s) in {experiment!r}")
    for run in runs:
        info, data = run.info, run.data
        artifacts = info.artifact_uri.removeprefix("file://")
        print(f"run {info.run_id} ({info.run_name}): status {info.status}")
        if info.status != "FINISHED":
            fail(f"status {info.status}, expected FINISHED")
        if info.end_time is None or info.end_time < info.start_time:
            fail("end time missing or before start time")
        if data.tags.get("mlflow.runName") != info.run_name:
            fail(f"mlflow.runName tag {data.tags.get('mlflow.runName')!r} != {info.run_name!r}")

        # Params: every leaf of the saved config, as strings, nothing more, nothing less.
        ckpt_dir = os.path.join(artifacts, "checkpoints")
        latest = open(os.path.join(ckpt_dir, "latest")).read().strip()
        config = json.load(open(os.path.join(ckpt_dir, latest, "config.json")))
        expected = {}
        flatten("", config["train"], expected)
        if config.get("user") is not None:
            flatten("user", config["user"], expected)
        if data.params != expected:
            missing = sorted(set(expected) - set(data.params))
            extra = sorted(set(data.params) - set(expected))
            diff = sorted(k for k in expected if k in data.params and data.params[k] != expected[k])
            fail(f"params differ: missing {missing}, extra {extra}, "
                 f"different {[(k, data.params[k], expected[k]) for k in diff]}")
        print(f"  params: {len(expected)} match the checkpoint's config.json")

        # Metrics: each key's full history equals the JSONL log, step by step, bit for bit.
        records = [json.loads(l) for l in open(os.path.join(artifacts, "metrics.jsonl")) if l.strip()]
        history = {}
        for r in records:
            for k, v in r.items():
                if k in ("step", "epoch", "timestamp"):
                    continue
                history.setdefault(k, []).append((r["step"], v))
        if set(history) != set(data.metrics):
            fail(f"metric keys differ: {sorted(history)} vs {sorted(data.metrics)}")
        points = 0
        for key, expect in history.items():
            got = [(m.step, m.value) for m in client.get_metric_history(info.run_id, key)]
            got.sort(key=lambda p: p[0])
            expect.sort(key=lambda p: p[0])
            if len(got) != len(expect):
                fail(f"{key}: {len(got)} points via MLflow, {len(expect)} in metrics.jsonl")
            for (gs, gv), (es, ev) in zip(got, expect):
                same = gv == ev or (math.isnan(gv) and math.isnan(ev))
                if gs != es or not same:
                    fail(f"{key}: MLflow has ({gs}, {gv!r}), metrics.jsonl has ({es}, {ev!r})")
            if data.metrics[key] != expect[-1][1]:
                fail(f"{key}: latest value {data.metrics[key]!r} != {expect[-1][1]!r}")
            points += len(got)
        print(f"  metrics: {len(history)} keys, {points} points match metrics.jsonl exactly")

        names = sorted(a.path for a in client.list_artifacts(info.run_id))
        for needed in ("checkpoints", "metrics.jsonl", "curves.png"):
            if needed not in names:
                fail(f"artifact {needed} not listed (got {names})")
        print(f"  artifacts: {names}")
    print("OK: MLflow reads every Whetstone value as written")


if __name__ == "__main__":
    main()
