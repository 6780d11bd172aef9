"""The converted graph: no training-only layers, and hard-swish that XNNPACK can run in int8."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest

from edgekit.export.graph import count_hard_swish, inference_model, training_only_layers


def _model_with_training_layers():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.RandomFlip()(inputs)
    x = keras.layers.GaussianNoise(0.5)(x)
    x = keras.layers.Conv2D(4, 3, activation="hard_swish")(x)
    x = keras.layers.Dropout(0.5)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))


@pytest.mark.slow
def test_training_only_layers_leave_the_graph_and_the_onnx_export_works(tmp_path: Path) -> None:
    import onnx

    from edgekit.export.onnx import convert_onnx

    model = _model_with_training_layers()
    pixels = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype(np.float32)

    graph = inference_model(model)
    convert_onnx(graph, tmp_path / "m.onnx")

    assert training_only_layers(model) == ["random_flip", "gaussian_noise", "dropout"]
    assert training_only_layers(graph) == []
    np.testing.assert_array_equal(graph(pixels), model(pixels, training=False))
    ops = {node.op_type for node in onnx.load(str(tmp_path / "m.onnx")).graph.node}
    assert not {op for op in ops if "Random" in op or op == "Dropout"}


@pytest.mark.slow
def test_split_hard_swish_keeps_the_function_and_leaves_no_int8_hard_swish_op() -> None:
    from ai_edge_litert.interpreter import Interpreter

    from edgekit.export.tflite import convert_tflite
    from edgekit.train.model import build_classifier

    model = build_classifier(
        "mobilenetv3small", 2, (32, 32), weights=None, dropout=0.2, fine_tune=True, seed=0
    ).model
    pixels = np.random.default_rng(0).uniform(0, 255, (8, 32, 32, 3)).astype(np.float32)

    split = inference_model(model, split_hard_swish=True)
    content, _ = convert_tflite(split, "int8", calibration=pixels)
    interpreter = Interpreter(model_content=content)
    interpreter.allocate_tensors()
    ops = collections.Counter(op["op_name"] for op in interpreter._get_ops_details())

    assert count_hard_swish(model) > 0 and count_hard_swish(split) == 0
    np.testing.assert_allclose(split(pixels), model(pixels, training=False), atol=1e-6)
    assert ops["HARD_SWISH"] == 0 and ops["CONV_2D"] > 0
