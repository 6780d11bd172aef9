"""The board runner in its own process, where TensorFlow and edgekit cannot be imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_exports import CLASS_COLOURS, CLASSES, TinyExports

from edgekit.runner import RUNNER_PATH, RUNNER_SCHEMA_VERSION

pytestmark = pytest.mark.slow  # the shared fixture converts a Keras model


@pytest.fixture(scope="module")
def no_tensorflow(tmp_path_factory) -> Path:
    """A PYTHONPATH on which `import tensorflow` and `import edgekit` both fail."""
    stubs = tmp_path_factory.mktemp("stubs")
    for name in ("tensorflow", "edgekit", "keras"):
        (stubs / name).mkdir()
        (stubs / name / "__init__.py").write_text(
            f"raise ImportError('the board runner must not import {name}')\n"
        )
    return stubs


def run_runner(stubs: Path, *args: str, cwd: Path | None = None) -> tuple[int, dict, str]:
    done = subprocess.run(
        [sys.executable, str(RUNNER_PATH), *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(stubs), "PATH": "/usr/bin:/bin"},
        cwd=cwd or stubs,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


def _args(path: Path) -> list[str]:
    fmt = path.suffix.lstrip(".")
    return ["--model", str(path), "--format", fmt, "--runtime", "litert,onnxruntime"]


def test_the_stubs_really_break_tensorflow(no_tensorflow: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import tensorflow"],
        env={"PYTHONPATH": str(no_tensorflow)},
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "must not import tensorflow" in done.stderr


@pytest.mark.parametrize("key", ["fp32.tflite", "int8.tflite", "fp32.onnx"])
def test_timing_pass_keeps_raw_latencies_and_their_stats(tiny_exports, no_tensorflow, key):
    code, result, _ = run_runner(
        no_tensorflow, "timing", *_args(tiny_exports.files[key]),
        "--runs", "7", "--warmup", "2", "--min-seconds", "0", "--warmup-seconds", "0",
    )  # fmt: skip

    assert code == 0, result
    assert result["schema_version"] == RUNNER_SCHEMA_VERSION
    latencies = np.array(result["latencies_ms"])
    stats = result["latency"]
    assert len(latencies) == stats["num_runs"] == 7
    assert stats["p50_ms"] == pytest.approx(np.percentile(latencies, 50))
    assert stats["min_ms"] <= stats["p50_ms"] <= stats["p90_ms"] <= stats["max_ms"]
    assert result["num_warmup_runs"] >= 2
    expected_dtype = "int8" if key.startswith("int8") else "float32"
    assert result["runtime"]["input_dtype"] == expected_dtype


def test_timed_runs_last_at_least_min_seconds(tiny_exports, no_tensorflow) -> None:
    code, result, _ = run_runner(
        no_tensorflow, "timing", *_args(tiny_exports.files["fp32.tflite"]),
        "--runs", "1", "--warmup", "0", "--min-seconds", "0.3", "--warmup-seconds", "0",
    )  # fmt: skip

    assert code == 0
    assert (
        sum(result["latencies_ms"]) + result["overhead_per_run_ms"] * len(result["latencies_ms"])
        >= 300 * 0.99
    )
    assert result["latency"]["num_runs"] > 1


@pytest.mark.parametrize("key", ["fp32.tflite", "int8.tflite", "fp32.onnx"])
def test_accuracy_pass_matches_the_keras_model(
    tiny_exports: TinyExports, no_tensorflow, key, tmp_path
):
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(1, 32, 32, 3), dtype=np.uint8)
    # The class colours, flat, plus one noisy image: the int8 file must round and clip.
    flats = np.array([np.full((32, 32, 3), CLASS_COLOURS[c], np.uint8) for c in CLASSES])
    pixels = np.concatenate([flats, pixels])
    expected = tiny_exports.keras_model.predict(pixels.astype(np.float32), verbose=0).argmax(1)
    labels = np.arange(len(pixels)) % len(CLASSES)
    np.savez(tmp_path / "test arrays (1).npz", pixels=pixels, labels=labels)

    code, result, _ = run_runner(
        no_tensorflow, "accuracy", *_args(tiny_exports.files[key]),
        "--test-arrays", str(tmp_path / "test arrays (1).npz"), "--num-classes", "4",
    )  # fmt: skip

    assert code == 0, result
    confusion = np.array(result["confusion"])
    predicted = confusion.argmax(axis=1)  # one image per row label except the last
    assert confusion.sum() == len(pixels)
    assert list(expected[:4]) == list(range(4))  # the flat colours are classified right ...
    assert list(predicted[:4]) == list(expected[:4])  # ... and so by the runner too


def test_memory_pass_reports_rss_before_after_and_peak(tiny_exports, no_tensorflow) -> None:
    code, result, _ = run_runner(
        no_tensorflow, "memory", *_args(tiny_exports.files["fp32.onnx"]), "--warmup", "2"
    )

    assert code == 0, result
    assert 0 < result["rss_before_load_mb"] < result["rss_after_load_mb"]
    assert result["peak_inference_mb"] >= result["rss_after_load_mb"] * 0.9


def test_missing_runtime_exits_3_with_the_install_hint(tiny_exports, no_tensorflow) -> None:
    code, result, stderr = run_runner(
        no_tensorflow, "timing", "--model", str(tiny_exports.files["fp32.tflite"]),
        "--runtime", "tflite-runtime",
    )  # fmt: skip

    assert code == 3
    assert result["ok"] is False
    assert result["error"]["hint"] == "pip install tflite-runtime"
    assert "tflite_runtime" in stderr


def test_unloadable_model_exits_4(no_tensorflow, tmp_path) -> None:
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(b"not a flatbuffer")

    code, result, _ = run_runner(no_tensorflow, "timing", *_args(broken))

    assert code == 4
    assert result["error"]["kind"] == "load_failed"


def test_test_arrays_of_another_size_exit_6(tiny_exports, no_tensorflow, tmp_path) -> None:
    np.savez(tmp_path / "a.npz", pixels=np.zeros((2, 16, 16, 3), np.uint8), labels=[0, 1])

    code, result, _ = run_runner(
        no_tensorflow, "accuracy", *_args(tiny_exports.files["fp32.tflite"]),
        "--test-arrays", str(tmp_path / "a.npz"), "--num-classes", "4",
    )  # fmt: skip

    assert code == 6
    assert "16x16" in result["error"]["message"]


def test_probe_reports_runtimes_with_versions(no_tensorflow) -> None:
    code, result, _ = run_runner(no_tensorflow, "probe")

    assert code == 0
    board = result["board"]
    assert board["runtimes"]["litert"]["importable"] is True
    assert board["runtimes"]["onnxruntime"]["version"]
    assert board["runtimes"]["tflite-runtime"]["install"] == "pip install tflite-runtime"
    assert board["ram"]["total_mb"] > 0
