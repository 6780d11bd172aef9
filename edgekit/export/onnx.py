"""Keras -> ONNX float32 (NHWC, dynamic batch), and static int8 (QDQ) with onnxruntime."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)


def convert_onnx(model: keras.Model, path: Path) -> dict[str, Any]:
    """Write `model` (an inference graph) as ONNX float32 to `path`; returns the options.

    Keras' own exporter (tf2onnx underneath, patched by Keras for NumPy 2) traces the model
    with training=False; onnxruntime's basic, hardware-independent optimizer then folds the
    graph, so the file on disk is the graph every runtime will actually execute.
    """
    import tensorflow as tf

    # A cloned model was never called, so Keras cannot infer the signature: give it, with
    # the batch dimension left dynamic.
    signature = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="pixels")]
    with tempfile.TemporaryDirectory(prefix="edgekit-onnx-") as tmp:
        raw = Path(tmp) / "keras.onnx"
        with _tf2onnx_quiet():
            model.export(str(raw), format="onnx", input_signature=signature, verbose=False)
        _optimize_basic(raw, path)
    return {"api": "keras.Model.export(format='onnx')", "ort_optimization": "basic"}


def onnx_opset(path: Path) -> int:
    """The default-domain opset of an ONNX file."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def _optimize_basic(source: Path, target: Path) -> None:
    """Constant folding, redundant-node and transpose elimination, saved as a plain model.

    NOTE: tf2onnx 1.17's own transpose optimizer crashes on MobileNetV3's scalar `x + 3`
    after a Conv (ValueError in `_add_handler`) and leaves ~100 NHWC<->NCHW Transposes in
    the file. onnxruntime's basic level removes all but the two at the graph's edges; basic
    optimizations use standard ONNX ops only, so the saved file stays portable.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])


def quantize_onnx(
    fp32_path: Path,
    path: Path,
    calibration: np.ndarray,
    on_calibration_image: Callable[[int], None] | None = None,
    activations: str = "uint8",
) -> dict[str, Any]:
    """Static int8 QDQ of an fp32 ONNX file, calibrated with min/max on `calibration`.

    Weights are int8 per channel; `activations` uint8 or int8. onnxruntime's CPU kernels are
    built around uint8 activations times int8 weights: on this project's x86 machine int8
    activations made MobileNetV3Large 2.8x slower than fp32, uint8 0.7x, at the same
    agreement (benchmarks/onnx_int8.py). TensorRT takes only symmetric int8 activations.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    activation_type = {"uint8": QuantType.QUInt8, "int8": QuantType.QInt8}[activations]
    with tempfile.TemporaryDirectory(prefix="edgekit-onnx-int8-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(
            str(fp32_path), str(prepared), skip_optimization=True, skip_symbolic_shape=True
        )
        quantize_static(
            str(prepared),
            str(path),
            calibration_reader(calibration, onnx_input_name(prepared), on_calibration_image),
            quant_format=QuantFormat.QDQ,
            activation_type=activation_type,
            weight_type=QuantType.QInt8,
            per_channel=True,
            calibrate_method=CalibrationMethod.MinMax,
        )
    return {
        "api": "onnxruntime.quantization.quantize_static",
        "quant_format": "QDQ",
        "activation_type": activation_type.name,
        "weight_type": "QInt8",
        "per_channel": True,
        "calibrate_method": "MinMax",
        "num_calibration_images": len(calibration),
    }


def calibration_reader(
    calibration: np.ndarray,
    input_name: str,
    on_image: Callable[[int], None] | None = None,
):
    """onnxruntime's calibration feed: one float32 image per call, then None."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.rows = iter(calibration)

        def get_next(self):
            image = next(self.rows, None)
            if image is None:
                return None
            if on_image is not None:
                on_image(1)
            return {input_name: image[None].astype(np.float32)}

    return Reader()


def onnx_input_name(path: Path) -> str:
    import onnx

    return onnx.load(str(path), load_external_data=False).graph.input[0].name


@contextlib.contextmanager
def _tf2onnx_quiet() -> Iterator[None]:
    """tf2onnx logs a traceback per failed optimizer pass (see `_optimize_basic`)."""
    tf2onnx_logger = logging.getLogger("tf2onnx")
    level = tf2onnx_logger.level
    tf2onnx_logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        tf2onnx_logger.setLevel(level)
