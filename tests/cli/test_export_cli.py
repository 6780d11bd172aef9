"""`edgekit export` end to end: a real tiny run exported to every format, each file run again
with its board runtime and compared with the Keras model, and the MLflow record checked."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.data.split import Split
from edgekit.errors import ExportError
from edgekit.export import parity
from edgekit.export.manifest import read_manifest
from edgekit.export.runtime import load_runner
from edgekit.export.samples import load_images
from edgekit.train.model import read_model_metadata

FILES = (
    "mobilenetv3small.fp32.tflite",
    "mobilenetv3small.fp16.tflite",
    "mobilenetv3small.int8.tflite",
    "mobilenetv3small.fp32.onnx",
    "mobilenetv3small.int8.onnx",
)


@pytest.fixture(scope="module")
def reference(tiny_run, tmp_path_factory):
    """The run's Keras model, its test images decoded as in training, and Keras' output."""
    store, run_id, data = tiny_run
    client = MlflowClient(tracking_uri=store)
    folder = tmp_path_factory.mktemp("reference")
    model_path = Path(client.download_artifacts(run_id, "model", str(folder)))
    keras_file = model_path / "mobilenetv3small.keras"
    split = Split.from_csv(
        client.download_artifacts(run_id, "data/split_manifest.csv", str(folder))
    )
    metadata = read_model_metadata(keras_file)
    relpaths = tuple(sorted(e.relpath for e in split.part("test")))
    images = load_images(data, split, relpaths, tuple(metadata["class_names"]), (32, 32))
    model = keras.saving.load_model(keras_file)
    return images, np.asarray(model(images.pixels, training=False)), keras_file, split, metadata


@pytest.mark.slow
def test_export_writes_every_format_with_a_complete_manifest(tiny_export, reference) -> None:
    _, folder = tiny_export
    _, _, _, _, metadata = reference

    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*FILES, *(f"{name}.manifest.json" for name in FILES)]
    )
    for name in FILES:
        manifest = read_manifest(folder / f"{name}.manifest.json")
        int8 = manifest.artifact.precision == "int8"
        assert manifest.artifact.file == name
        assert manifest.artifact.size_bytes == (folder / name).stat().st_size
        assert len(manifest.artifact.sha256) == 64
        assert manifest.class_names == tuple(metadata["class_names"])
        assert manifest.preprocessing == metadata["preprocessing"]
        assert manifest.input.shape == (None, 32, 32, 3) and manifest.input.layout == "NHWC"
        assert manifest.output.shape == (None, 4)
        assert manifest.converter.version and manifest.runtime.version
        assert manifest.runtime.name == ("litert" if name.endswith("tflite") else "onnxruntime")
        assert (manifest.calibration is not None) == int8
        if int8:
            assert manifest.calibration.num_images == 24
            assert sum(manifest.calibration.num_by_class.values()) == 24
            assert min(manifest.calibration.num_by_class.values()) >= 1
        if name.endswith("onnx"):
            assert manifest.converter.options["opset"] >= 13
    tflite_int8 = read_manifest(folder / f"{FILES[2]}.manifest.json")
    assert tflite_int8.input.dtype == "int8" and tflite_int8.output.dtype == "int8"
    assert tflite_int8.input.quantization is not None
    assert tflite_int8.output.quantization is not None
    onnx_int8 = read_manifest(folder / f"{FILES[4]}.manifest.json")
    assert onnx_int8.converter.options["activation_type"] == "QUInt8"  # fast on ORT's CPU


@pytest.mark.slow
def test_every_export_agrees_with_keras_when_run_again(tiny_export, reference) -> None:
    _, folder = tiny_export
    images, keras_probabilities, _, _, _ = reference

    for name in FILES:
        manifest = read_manifest(folder / f"{name}.manifest.json")
        probabilities = load_runner(folder / name).predict(images.pixels)
        agreement = np.mean(probabilities.argmax(1) == keras_probabilities.argmax(1))
        accuracy = np.mean(probabilities.argmax(1) == images.labels)

        assert manifest.parity.num_images == len(images) > 0
        assert accuracy == pytest.approx(manifest.parity.accuracy)
        assert agreement == pytest.approx(manifest.parity.top1_agreement)
        np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=0.02)
        if manifest.artifact.precision != "int8":
            tolerance = parity.FLOAT_TOLERANCE[manifest.artifact.precision]
            assert np.abs(probabilities - keras_probabilities).max() <= tolerance
            assert manifest.parity.max_abs_diff <= tolerance


@pytest.mark.slow
def test_int8_io_needs_the_files_own_scale_and_zero_point(tiny_export, reference) -> None:
    from ai_edge_litert.interpreter import Interpreter

    _, folder = tiny_export
    images, _, _, _, _ = reference
    interpreter = Interpreter(model_path=str(folder / FILES[2]))
    interpreter.allocate_tensors()
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()
    in_scale, in_zero = inp["quantization"]
    out_scale, out_zero = out["quantization"]

    def run(q: np.ndarray) -> np.ndarray:
        rows = []
        for image in q:
            interpreter.set_tensor(inp["index"], image[None])
            interpreter.invoke()
            rows.append(interpreter.get_tensor(out["index"])[0])
        return np.array(rows)

    right = run(np.clip(np.round(images.pixels / in_scale) + in_zero, -128, 127).astype(np.int8))
    no_zero_point = run(np.clip(np.round(images.pixels / in_scale), -128, 127).astype(np.int8))
    probabilities = out_scale * (right.astype(np.float32) - out_zero)

    expected = load_runner(folder / FILES[2]).predict(images.pixels)
    np.testing.assert_allclose(probabilities, expected)
    # Without the zero point the model sees other pixels: outputs move far beyond int8
    # rounding. (Top-1 agreement with Keras is no test here: the 3-epoch 32x32 model has
    # near-tied classes on its ~9 test images, and which way a tie breaks varies per run.)
    wrong = out_scale * (no_zero_point.astype(np.float32) - out_zero)
    assert np.abs(wrong - probabilities).max() > 10 * out_scale
    # Undequantized outputs are not probabilities: int8 codes around -128..127.
    assert not np.allclose(right.astype(np.float32).sum(1), 1.0, atol=0.1)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=0.02)


@pytest.mark.slow
def test_table_and_mlflow_record_of_every_export(tiny_export, tiny_run) -> None:
    result, _ = tiny_export
    store, run_id, _ = tiny_run
    client = MlflowClient(tracking_uri=store)
    run = client.get_run(run_id)
    text = " ".join(result.output.split())

    for header in ("format", "precision", "size MB", "accuracy", "agreement", "min recall"):
        assert header in text
    for key in ("fp32_tflite", "fp16_tflite", "int8_tflite", "fp32_onnx", "int8_onnx"):
        for metric in ("accuracy", "top1_agreement", "min_recall", "size_mb", "meets_requirements"):
            assert f"export.{key}.{metric}" in run.data.metrics, (key, metric)
        assert f"export.{key}.recall_Blight" in run.data.metrics
        assert (f"export.{key}.max_abs_diff" in run.data.metrics) == (not key.startswith("int8"))
    assert run.info.status == "FINISHED"
    session = run.data.tags["edgekit.export.last_session"]
    logged = {a.path for a in client.list_artifacts(run_id, f"export/{session}")}
    assert {f"export/{session}/{name}" for name in FILES} <= logged
    assert {f"export/{session}/{name}.manifest.json" for name in FILES} <= logged


@pytest.mark.slow
def test_repeated_export_of_the_same_run_adds_a_numbered_session(
    tiny_export, tiny_training, tmp_path
) -> None:
    store, run_id = tiny_training.store, tiny_training.run_id
    client = MlflowClient(tracking_uri=store)
    args = ["export", "--run-id", run_id, "--tracking-uri", store, "--out", str(tmp_path)]

    result = CliRunner().invoke(
        app,
        [*args, "--int8", "--io", "float", "--onnx-int8", "--onnx-activations", "int8",
         "--calibration-size", "8"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output + repr(result.exception)
    history = client.get_metric_history(run_id, "export.int8_tflite.accuracy")
    assert [m.step for m in history] == [1, 2]
    assert client.get_run(run_id).data.tags["edgekit.export.count"] == "2"
    sessions = {a.path for a in client.list_artifacts(run_id, "export")}
    assert len(sessions) == 2
    manifest = read_manifest(tmp_path / tiny_training.run_name / f"{FILES[2]}.manifest.json")
    assert manifest.input.dtype == "float32" and manifest.calibration.num_images == 8
    onnx_int8 = read_manifest(tmp_path / tiny_training.run_name / f"{FILES[4]}.manifest.json")
    assert onnx_int8.converter.options["activation_type"] == "QInt8"  # as TensorRT wants


@pytest.mark.slow
def test_failed_export_of_a_model_file_leaves_no_file_under_a_final_name(
    reference, tiny_run, tmp_path, monkeypatch
) -> None:
    _, _, keras_file, split, _ = reference
    _, _, data = tiny_run
    (tmp_path / "split.csv").write_text(split.to_csv())
    # A tolerance no float conversion can meet: the fp32 file is written, run, then refused.
    monkeypatch.setitem(parity.FLOAT_TOLERANCE, "fp32", 0.0)
    args = ["export", "--model-path", str(keras_file), "--data", str(data), "--fp32"]

    result = CliRunner().invoke(
        app, [*args, "--split-manifest", str(tmp_path / "split.csv"), "--out", str(tmp_path)]
    )

    assert isinstance(result.exception, ExportError)
    message = str(result.exception)
    assert "\n" not in message and "fp32_tflite does not match Keras: max |p - p_keras|" in message
    assert list((tmp_path / "mobilenetv3small").iterdir()) == []
    assert "failed" in result.output and "MLflow run" not in result.output


def test_export_needs_exactly_one_model() -> None:
    result = CliRunner().invoke(app, ["export", "--run-id", "x", "--model-path", "m.keras"])

    assert "name exactly one model to export (got 2)" in str(result.exception)
