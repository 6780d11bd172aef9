"""Tiny real exported files with their manifests, and a real training run they came from.

Built once per test session (the build is cached by folder) and shared by the runner, bench
and CLI tests: a 32x32 Keras classifier (rescale, conv, BatchNorm, pool, softmax head; a
MobileNet takes a minute to convert on the shared CI machine) converted with TFLiteConverter to fp32
and to int8 (int8 input and output, so the runner's quantization path runs), a hand-built
ONNX classifier, and an MLflow training run in a real SQLite store whose split manifest
points at a tiny image folder.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from image_folders import CLASS_COLOURS, CLASSES, make_image_folder

from edgekit.export.manifest import (
    ArtifactInfo,
    Manifest,
    Parity,
    Quantization,
    TensorSpec,
    ToolInfo,
    manifest_path,
    write_manifest,
)

SIZE = (32, 32)
MODEL = "mobilenetv3small"
RUN_NAME = "tiny-run"


@dataclass(frozen=True)
class TinyExports:
    folder: Path  # export/<run-name>/ holding the files and manifests
    files: dict[str, Path]  # "fp32.tflite" -> path
    store: str  # sqlite URI of the store holding the training run
    run_id: str
    data_root: Path
    keras_model: object  # the Keras model every file was made from


def _tflite(model, int8: bool, samples: np.ndarray) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([s[None].astype(np.float32)] for s in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def centroid_weights() -> tuple[np.ndarray, np.ndarray]:
    """A nearest-class-colour classifier on the mean pixel in [0, 1]: logits = W x + b.

    The fixture images are one colour per class plus noise, so it classifies them correctly,
    and every format built from these weights must give the same predictions.
    """
    centroids = np.array([CLASS_COLOURS[c] for c in CLASSES], dtype=np.float32) / 255
    weights = (SHARPNESS * centroids).T  # (3, classes)
    bias = -SHARPNESS * (centroids**2).sum(axis=1) / 2
    return weights.astype(np.float32), bias.astype(np.float32)


SHARPNESS = 60.0


def _keras_model():
    import keras

    weights, bias = centroid_weights()
    model = keras.Sequential(
        [
            keras.Input((*SIZE, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(len(CLASSES), activation="softmax"),
        ]
    )
    model.layers[-1].set_weights([weights, bias])
    return model


def _onnx() -> bytes:
    """The same classifier hand-built in ONNX: NHWC float input in [0, 255]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights, bias = centroid_weights()
    initializers = {
        "axes": np.array([1, 2], dtype=np.int64),
        "scale": np.array(1 / 255, dtype=np.float32),
        "w": weights,
        "b": bias,
    }
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input", "axes"], ["pooled"], keepdims=0),
            helper.make_node("Mul", ["pooled", "scale"], ["scaled"]),
            helper.make_node("MatMul", ["scaled", "w"], ["product"]),
            helper.make_node("Add", ["product", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        ],
        "centroids",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *SIZE, 3])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(CLASSES)])],
        [numpy_helper.from_array(v, k) for k, v in initializers.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _quant(details) -> Quantization | None:
    scale, zero_point = details["quantization"]
    return Quantization(float(scale), int(zero_point)) if scale else None


def _manifest(path: Path, fmt: str, precision: str, run_id: str) -> Manifest:
    data = path.read_bytes()
    if fmt == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path))
        inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        in_spec = TensorSpec(
            inp["name"], (None, *SIZE, 3), inp["dtype"].__name__, "NHWC", _quant(inp)
        )
        out_spec = TensorSpec(out["name"], (None, 4), out["dtype"].__name__, None, _quant(out))
    else:
        in_spec = TensorSpec("input", (None, *SIZE, 3), "float32", "NHWC")
        out_spec = TensorSpec("probabilities", (None, 4), "float32")
    scores = {name: 0.25 for name in CLASSES}
    return Manifest(
        artifact=ArtifactInfo(
            path.name,
            fmt,
            precision,
            len(data),
            len(data) / 2**20,
            hashlib.sha256(data).hexdigest(),
        ),
        model_name=MODEL,
        class_names=CLASSES,
        input=in_spec,
        output=out_spec,
        preprocessing={"size": list(SIZE), "pixel_range": [0, 255]},
        converter=ToolInfo("test fixture", "0"),
        runtime=ToolInfo("litert" if fmt == "tflite" else "onnxruntime", "0"),
        source={"run_id": run_id, "run_name": RUN_NAME},
        parity=Parity("test", 8, 0.25, scores, 0.25, 1.0, None, 0.25, scores, False),
    )


def _training_run(store: str, data_root: Path) -> str:
    """A finished run as `edgekit train` leaves it: the params and artifacts bench reads."""
    from mlflow import MlflowClient

    from edgekit.data.images import list_dataset, sha256_file
    from edgekit.data.split import split_dataset

    listing = list_dataset(data_root)
    split = split_dataset(listing.files, [sha256_file(f.path) for f in listing.files], seed=0)
    client = MlflowClient(tracking_uri=store)
    experiment = client.create_experiment(
        "exp", artifact_location=(data_root.parent / "art").as_uri()
    )
    run = client.create_run(experiment, run_name=RUN_NAME, tags={"edgekit.stage": "train"})
    run_id = run.info.run_id
    for key, value in {
        "model_name": MODEL,
        "data_path": str(data_root),
        "image_size": "32x32",
        "requirement_min_accuracy": "0.1",
        "requirement_min_recall": "0.0",
        "requirement_max_size_mb": "None",
    }.items():
        client.log_param(run_id, key, value)
    client.log_metric(run_id, "backbone_size_mb", 3.5)
    client.log_text(run_id, split.to_csv(), "data/split_manifest.csv")
    client.set_terminated(run_id)
    return run_id


@functools.cache
def build_tiny_exports(base: Path) -> TinyExports:
    data_root = make_image_folder(base / "corn", per_class=8, size=36)
    store = f"sqlite:///{base / 'mlflow.db'}"
    run_id = _training_run(store, data_root)

    folder = base / "export" / RUN_NAME
    folder.mkdir(parents=True)
    classifier = _keras_model()
    # Calibrate on the class colours so the int8 ranges cover what the test images hold.
    rng = np.random.default_rng(1)
    colours = np.array([CLASS_COLOURS[c] for c in CLASSES] * 2, dtype=np.float32)
    samples = np.clip(colours[:, None, None, :] + rng.normal(0, 20, (8, *SIZE, 3)), 0, 255)
    blobs = {
        ("fp32", "tflite"): _tflite(classifier, False, samples),
        ("int8", "tflite"): _tflite(classifier, True, samples),
        ("fp32", "onnx"): _onnx(),
    }
    files = {}
    for (precision, fmt), blob in blobs.items():
        path = folder / f"{MODEL}.{precision}.{fmt}"
        path.write_bytes(blob)
        write_manifest(_manifest(path, fmt, precision, run_id), manifest_path(path))
        files[f"{precision}.{fmt}"] = path
    return TinyExports(folder, files, store, run_id, data_root, classifier)


def copy_with_awkward_name(exports: TinyExports, key: str, dest: Path) -> Path:
    """The export and its manifest copied under a name with spaces, quotes and parentheses."""
    dest.mkdir(parents=True, exist_ok=True)
    source = exports.files[key]
    name = f'it\'s a "model" (v1) {source.name}'
    shutil.copy(source, dest / name)
    manifest = manifest_path(source).read_text().replace(f'"{source.name}"', json_str(name))
    manifest_path(dest / name).write_text(manifest)
    return dest / name


def json_str(text: str) -> str:
    import json

    return json.dumps(text)
