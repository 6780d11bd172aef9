"""Keras -> TFLite: float32, float16 weights, and full-integer int8 calibrated on real images."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

IoType = Literal["int8", "float"]


def convert_tflite(
    model: keras.Model,
    precision: str,
    *,
    calibration: np.ndarray | None = None,
    io: IoType = "int8",
    on_calibration_image: Callable[[int], None] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """The .tflite bytes of `model` (already an inference graph) and the converter options.

    int8 is full-integer: int8 weights and activations, no float fallback; `io` "int8" makes
    the input and output tensors int8 too, "float" keeps them float32 (the file then
    quantizes and dequantizes at its edges). `calibration` is float32 pixels in [0, 255].
    """
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    options: dict[str, Any] = {"api": "TFLiteConverter.from_keras_model"}
    if precision == "fp16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
        options |= {"optimizations": ["DEFAULT"], "supported_types": ["float16"]}
    elif precision == "int8":
        if calibration is None or not len(calibration):
            raise ValueError("int8 conversion needs calibration images")
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = _representative(calibration, on_calibration_image)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if io == "int8":
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        options |= {
            "optimizations": ["DEFAULT"],
            "supported_ops": ["TFLITE_BUILTINS_INT8"],
            "inference_input_type": "int8" if io == "int8" else "float32",
            "inference_output_type": "int8" if io == "int8" else "float32",
            "num_calibration_images": len(calibration),
        }
    elif precision != "fp32":
        raise ValueError(f"unknown TFLite precision {precision!r}")
    return converter.convert(), options


def _representative(images: np.ndarray, on_image: Callable[[int], None] | None):
    """The converter's calibration feed: one image per step, as the board will see them."""

    def generate():
        for image in images:
            yield [image[None].astype(np.float32)]
            if on_image is not None:
                on_image(1)

    return generate
