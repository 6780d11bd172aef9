"""The ssh target against a real sshd on 127.0.0.1: end to end, refusals, timeouts, quoting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from mlflow import MlflowClient
from tiny_exports import copy_with_awkward_name
from typer.testing import CliRunner

from edgekit.bench.harness import BenchSettings, bench_device, find_artifacts
from edgekit.bench.targets import SshTarget, TargetError
from edgekit.cli.main import app

pytestmark = [pytest.mark.ssh, pytest.mark.slow]

QUICK = BenchSettings(runs=5, warmup=2, min_seconds=0, warmup_seconds=0, timeout_s=60)


def _remote_leftovers(device) -> list[Path]:
    root = Path(device.work_dir)
    return list(root.iterdir()) if root.exists() else []


def test_bench_over_ssh_end_to_end_with_awkward_file_names(sshd, tiny_exports, tmp_path):
    awkward = copy_with_awkward_name(tiny_exports, "int8.tflite", tmp_path / "exports (a) 'b'")
    [artifact] = find_artifacts(awkward.parent)
    arrays = tmp_path / "test arrays (1) 'x'.npz"
    import numpy as np

    np.savez(arrays, pixels=np.zeros((3, 32, 32, 3), np.uint8), labels=np.array([0, 1, 2]))
    device = sshd.device()

    [m] = bench_device(
        device, [artifact], {(32, 32): arrays}, QUICK, tmp_path / "results", lambda *a: None
    )

    assert m.errors == ()
    assert m.timing["latency"]["num_runs"] == 5
    assert m.accuracy["num_images"] == 3
    assert m.memory["peak_inference_mb"] > 0
    assert m.thermal_before is not None and m.thermal_after is not None
    saved = json.loads((tmp_path / "results" / "loopback" / f"{m.artifact}.t1.json").read_text())
    assert saved["timing"]["latency"] == m.timing["latency"]
    assert _remote_leftovers(device) == []  # the per-bench folder is gone


def test_files_already_on_the_board_are_not_copied_twice(sshd, tiny_exports):
    target = SshTarget(sshd.device())
    target.open()
    try:
        first = target.put(tiny_exports.files["fp32.onnx"])
        Path(first).write_bytes(Path(first).read_bytes())  # still there, same content
        target._copied.clear()  # a new session would only find it by its hash folder
        assert target.put(tiny_exports.files["fp32.onnx"]) == first
    finally:
        target.close()


def test_unknown_host_key_is_refused_with_the_fix(sshd, tiny_exports, tmp_path):
    device = sshd.device(ssh_options={"UserKnownHostsFile": str(sshd.wrong_known_hosts)})

    with pytest.raises(TargetError, match=r"host key not trusted.*ssh-keyscan"):
        SshTarget(device).open()

    [artifact] = find_artifacts(tiny_exports.folder, ("onnx",))
    [m] = bench_device(device, [artifact], {}, QUICK, tmp_path, lambda *a: None)
    assert m.timing is None and "host key not trusted" in m.errors[0]


def test_a_pass_past_its_timeout_is_reported_and_the_folder_removed(sshd, tiny_exports, tmp_path):
    device = sshd.device()
    [artifact] = find_artifacts(tiny_exports.folder, ("tflite",), ("fp32",))
    slow = BenchSettings(runs=5, warmup=0, min_seconds=120, warmup_seconds=0, timeout_s=4)

    [m] = bench_device(device, [artifact], {}, slow, tmp_path, lambda *a: None)

    assert m.timing is None
    assert any("ran past 4 s" in e for e in m.errors), m.errors
    assert m.memory is not None  # the next pass of that board still ran
    assert _remote_leftovers(device) == []


def test_a_device_without_its_runtime_gets_the_install_hint(sshd, tiny_exports, tmp_path):
    device = sshd.device(runtimes=["tflite-runtime"])
    [artifact] = find_artifacts(tiny_exports.folder, ("tflite",), ("fp32",))

    [m] = bench_device(device, [artifact], {}, QUICK, tmp_path, lambda *a: None)

    assert m.timing is None
    assert "fix: pip install tflite-runtime" in m.errors[0]


def test_cli_bench_through_the_loopback_device_records_nested_runs(sshd, tiny_exports, tmp_path):
    device = sshd.device().model_dump(mode="json", exclude={"name"}, exclude_defaults=True)
    devices_file = tmp_path / "devices.yaml"
    devices_file.write_text(yaml.safe_dump({"devices": {"loopback": device | {"target": "ssh"}}}))
    store = f"sqlite:///{tmp_path / 'store.db'}"
    _copy_run(tiny_exports.store, store, tiny_exports.run_id)

    result = CliRunner().invoke(
        app,
        ["bench", "--device", "loopback", "--run-id", tiny_exports.run_id, "--tracking-uri",
         store, "--export-dir", str(tiny_exports.folder), "--formats", "onnx",
         "--devices-file", str(devices_file), "--results-dir", str(tmp_path / "results"),
         "--runs", "5", "--warmup", "2", "--min-seconds", "0"],
        env={"COLUMNS": "200"},
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri=store)
    [child] = client.search_runs(
        [client.get_run(tiny_exports.run_id).info.experiment_id],
        f"tags.mlflow.parentRunId = '{tiny_exports.run_id}'",
    )
    assert child.data.params["device"] == "loopback" and child.data.params["target"] == "ssh"
    assert child.data.metrics["latency_p50_ms"] > 0
    assert "accuracy" in child.data.metrics


def _copy_run(source: str, dest: str, run_id: str) -> None:
    """Bench writes to its store: give each test its own copy of the training run's store."""
    import shutil

    from edgekit.tracking.store import sqlite_path

    shutil.copy(sqlite_path(source), sqlite_path(dest))
