"""Which layers an int8 TFLite conversion hurts most, for an export that loses accuracy."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayerError:
    """One quantized op: its Keras layer, its op type and RMSE in units of its int8 step."""

    layer: str
    op: str
    rmse_over_scale: float


def int8_layer_errors(
    model: keras.Model, images: np.ndarray, num_images: int = 16, top: int = 5
) -> tuple[LayerError, ...]:
    """The `top` ops whose int8 output differs most from float, per step of their scale.

    TFLite's QuantizationDebugger runs each quantized op and its float twin on the same
    input; an error of a few quantization steps or more marks a layer worth keeping float.
    """
    import tensorflow as tf

    sample = images[:num_images]

    def representative():
        for image in sample:
            yield [image[None].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=representative
    )
    debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)

    errors = [
        LayerError(
            _keras_layer(row["tensor_name"]),
            row["op_name"],
            float(np.sqrt(float(row["mean_squared_error"])) / float(row["scale"])),
        )
        for row in csv.DictReader(io.StringIO(dump.getvalue()))
        if float(row["scale"]) > 0
    ]
    return tuple(sorted(errors, key=lambda e: -e.rmse_over_scale)[:top])


def _keras_layer(tensor_name: str) -> str:
    """'model_1/expanded_conv_3_project_1/convolution;...' -> 'expanded_conv_3_project'."""
    parts = tensor_name.split(";")[0].split("/")
    name = parts[1] if len(parts) > 1 else parts[0]
    return name.removesuffix("_1")
