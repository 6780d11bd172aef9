"""`edgekit bench --device local`: the table, the JSON on disk and the MLflow record."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from mlflow import MlflowClient
from typer.testing import CliRunner

from edgekit.bench.testset import build_test_arrays
from edgekit.cli.main import app
from edgekit.data.split import Split
from edgekit.tracking.store import sqlite_path

pytestmark = pytest.mark.slow  # the shared fixture converts a Keras model

QUICK = ["--runs", "5", "--warmup", "2", "--min-seconds", "0"]


@pytest.fixture
def store(tiny_exports, tmp_path: Path) -> str:
    """A copy of the training run's store, so each test writes its own."""
    uri = f"sqlite:///{tmp_path / 'store.db'}"
    shutil.copy(sqlite_path(tiny_exports.store), sqlite_path(uri))
    return uri


def _devices_file(tmp_path: Path, threads: list[int], requirements: dict | None = None) -> Path:
    device = {"target": "local", "board": "CI runner", "threads": threads}
    if requirements:
        device["requirements"] = requirements
    path = tmp_path / "devices.yaml"
    path.write_text(yaml.safe_dump({"devices": {"local": device}}))
    return path


def test_bench_local_records_nested_runs_under_the_training_run(tiny_exports, store, tmp_path):
    results = tmp_path / "results"

    result = CliRunner().invoke(
        app,
        ["bench", "--device", "local", "--run-id", tiny_exports.run_id, "--tracking-uri", store,
         "--export-dir", str(tiny_exports.folder.parent), "--threads", "1,2",
         "--devices-file", str(_devices_file(tmp_path, [1])), "--results-dir", str(results),
         *QUICK],
        env={"COLUMNS": "200"},
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "p50 ms" in result.output and "meets req." in result.output
    client = MlflowClient(tracking_uri=store)
    parent = client.get_run(tiny_exports.run_id)
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{tiny_exports.run_id}'"
    )
    assert len(children) == 3 * 2  # three files, two thread counts
    for child in children:
        assert child.info.status == "FINISHED"
        assert child.data.tags["edgekit.stage"] == "bench"
        metrics = child.data.metrics
        for key in ("latency_p50_ms", "latency_p90_ms", "accuracy", "min_recall"):
            assert key in metrics, key
        assert metrics["backbone_size_mb"] == 3.5  # copied from the parent
        assert metrics["meets_requirements"] in (0.0, 1.0)
        assert {"device", "board", "runtime", "runtime_version", "format", "precision",
                "threads"} <= set(child.data.params)  # fmt: skip
        folder = tmp_path / child.info.run_id
        folder.mkdir()
        raw = client.download_artifacts(child.info.run_id, "bench/latencies_ms.json", str(folder))
        latencies = json.loads(Path(raw).read_text())
        assert len(latencies) == metrics["num_timed_runs"]
    # The centroid classifier is right on the fixture's one-colour-per-class images.
    assert all(c.data.metrics["accuracy"] >= 0.75 for c in children)
    assert parent.data.metrics.keys() >= {
        "bench.local.int8_tflite.p50_ms",
        "bench.local.fp32_onnx.p90_ms",
        "bench.local.fp32_tflite.accuracy",
    }
    assert len(list(results.glob("local/*.json"))) == 6


def test_two_devices_at_once_each_judged_by_its_own_requirements(tiny_exports, store, tmp_path):
    strict = {"target": "local", "requirements": {"max_latency_ms": 1e-6}}
    lenient = {"target": "local", "requirements": {"max_latency_ms": 1e6}}

    result = _bench_onnx_on({"strict": strict, "lenient": lenient}, tiny_exports, store, tmp_path)

    assert result.exit_code == 0, result.output
    assert "strict mobilenetv3small.fp32.onnx t1: p90 latency" in result.output
    children = _nested_runs(store, tiny_exports.run_id)  # the run found through the manifests
    verdicts = {c.data.params["device"]: c.data.metrics["meets_requirements"] for c in children}
    assert verdicts == {"strict": 0.0, "lenient": 1.0}


def test_a_board_never_reached_gets_no_nested_runs_and_the_others_go_on(
    tiny_exports, store, tmp_path
):
    gone = {"target": "ssh", "host": "127.0.0.1", "port": 1}

    result = _bench_onnx_on(
        {"here": {"target": "local"}, "gone": gone}, tiny_exports, store, tmp_path
    )

    assert result.exit_code == 1, result.output
    assert "not reached, nothing recorded in MLflow: gone" in result.output
    children = _nested_runs(store, tiny_exports.run_id)
    assert [c.data.params["device"] for c in children] == ["here"]
    assert children[0].info.status == "FINISHED"


def test_test_arrays_are_cached_by_content(tiny_exports, tmp_path):
    split = Split.from_csv(_split_csv(tiny_exports, tmp_path))
    names = ("Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy")

    first = build_test_arrays(split, tiny_exports.data_root, names, (32, 32), tmp_path / "c")
    stamp = first.stat().st_mtime_ns
    again = build_test_arrays(split, tiny_exports.data_root, names, (32, 32), tmp_path / "c")
    other = build_test_arrays(split, tiny_exports.data_root, names, (24, 32), tmp_path / "c")

    assert again == first and again.stat().st_mtime_ns == stamp
    assert other != first
    with np.load(other) as data:
        assert data["pixels"].shape == (len(split.part("test")), 24, 32, 3)
        assert data["pixels"].dtype == np.uint8
        assert sorted(set(data["labels"].tolist())) == [0, 1, 2, 3]


def _split_csv(tiny_exports, tmp_path: Path) -> Path:
    client = MlflowClient(tracking_uri=tiny_exports.store)
    return Path(
        client.download_artifacts(tiny_exports.run_id, "data/split_manifest.csv", str(tmp_path))
    )


def test_ctrl_c_stops_every_pass_records_nothing_and_exits_130(tiny_exports, store, tmp_path):
    """Ctrl-C as a terminal sends it: to the whole process group, runner included."""
    command = [
        sys.executable, "-m", "edgekit", "bench", "--device", "local",
        "--run-id", tiny_exports.run_id, "--tracking-uri", store,
        "--export-dir", str(tiny_exports.folder.parent),
        "--devices-file", str(_devices_file(tmp_path, [1, 2])),
        "--results-dir", str(tmp_path / "results"), "--runs", "5", "--min-seconds", "30",
    ]  # fmt: skip
    # 3 files x 2 thread counts x >= 30 s: minutes, unless the interrupt stops every pass.
    process = subprocess.Popen(command, start_new_session=True, stderr=subprocess.PIPE)
    try:
        _wait_for_a_runner(process)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    assert process.returncode == 130, stderr.decode()[-2000:]
    assert "nothing recorded in MLflow" in stderr.decode()
    assert _nested_runs(store, tiny_exports.run_id) == []


def _bench_onnx_on(devices: dict, tiny_exports, store: str, tmp_path: Path):
    """`edgekit bench` of the ONNX export on every device of `devices`, in-process."""
    path = tmp_path / "devices.yaml"
    path.write_text(yaml.safe_dump({"devices": devices}))
    return CliRunner().invoke(
        app,
        ["bench", "--device", ",".join(devices), "--export-dir", str(tiny_exports.folder),
         "--formats", "onnx", "--tracking-uri", store, "--devices-file", str(path),
         "--results-dir", str(tmp_path / "r"), *QUICK],
        env={"COLUMNS": "200"},
    )  # fmt: skip


def _nested_runs(store: str, run_id: str) -> list:
    client = MlflowClient(tracking_uri=store)
    experiment_id = client.get_run(run_id).info.experiment_id
    return client.search_runs([experiment_id], f"tags.mlflow.parentRunId = '{run_id}'")


def _wait_for_a_runner(process: subprocess.Popen, timeout_s: float = 120) -> None:
    """Until a process of the bench's group other than edgekit itself (the runner) exists."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        if any(_group_of(pid) == process.pid for pid in _pids() if pid != process.pid):
            time.sleep(1.0)  # the runner is loading its model: interrupt mid-pass
            return
        time.sleep(0.2)
    raise AssertionError("no runner started")


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None
