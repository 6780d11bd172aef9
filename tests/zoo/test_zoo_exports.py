"""Every zoo family converts to TFLite fp32/fp16/int8 and ONNX, and each file agrees with Keras.

One model per hand-written family (the smallest), untrained, at 64x64 (the smallest size
MobileViT and PMVT take): the point is that the graph converts to builtin ops and that the
runtime a board uses computes what Keras computes, not accuracy. MobileNetV3 is left out here
because `tests/cli/test_export_cli.py` round-trips it through every format already, trained
and calibrated on a real split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekit.export.graph import inference_model
from edgekit.export.onnx import convert_onnx
from edgekit.export.parity import FLOAT_TOLERANCE
from edgekit.export.runtime import load_runner
from edgekit.export.tflite import convert_tflite
from edgekit.train.model import build_classifier

FAMILIES = ("efficientnet-lite0", "mobilevit-xxs", "pmvt")
SIZE = 64
NUM_CLASSES = 4

# An untrained head gives near-uniform probabilities; int8 output steps are 1/256, and
# activations are rounded at every layer, so int8 is held to a looser bound than fp16.
INT8_TOLERANCE = 0.08


@pytest.fixture(scope="module", params=FAMILIES)
def family(request, tmp_path_factory):
    """(name, inference graph, Keras probabilities, images, folder) for one family."""
    name = request.param
    classifier = build_classifier(
        name, NUM_CLASSES, (SIZE, SIZE), weights=None, dropout=0.2, fine_tune=True, seed=0
    )
    graph = inference_model(classifier.model, split_hard_swish=True)
    images = np.random.default_rng(0).uniform(0, 255, (16, SIZE, SIZE, 3)).astype(np.float32)
    expected = np.asarray(graph(images, training=False))
    return name, graph, expected, images, tmp_path_factory.mktemp(name)


def _probabilities(path: Path, images: np.ndarray) -> np.ndarray:
    return load_runner(path, num_threads=2).predict(images)


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_tflite_export_of_every_family_agrees_with_keras(family, precision: str) -> None:
    name, graph, expected, images, folder = family
    path = folder / f"{name}.{precision}.tflite"

    content, _ = convert_tflite(graph, precision, calibration=images, io="int8")
    path.write_bytes(content)
    got = _probabilities(path, images)

    tolerance = FLOAT_TOLERANCE.get(precision, INT8_TOLERANCE)
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= tolerance, f"{name} {precision}"


@pytest.mark.slow
def test_onnx_export_of_every_family_agrees_with_keras(family) -> None:
    name, graph, expected, images, folder = family
    path = folder / f"{name}.fp32.onnx"

    convert_onnx(graph, path)
    got = _probabilities(path, images)

    assert np.abs(got - expected).max() <= FLOAT_TOLERANCE["fp32"], name
