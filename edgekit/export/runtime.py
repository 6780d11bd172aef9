"""Run an exported file as a board would: LiteRT for TFLite, onnxruntime for ONNX.

Both runners take float32 pixels in [0, 255] (the Keras model's input) and return float32
probabilities; an int8 input or output is quantized and dequantized here with the file's own
scale and zero point, so callers never see the integer domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.export.manifest import Quantization, TensorSpec

DEFAULT_NUM_THREADS = 2

_INT_RANGES = {np.dtype(np.int8): (-128, 127), np.dtype(np.uint8): (0, 255)}


def quantize(values: np.ndarray, quantization: Quantization, dtype: np.dtype) -> np.ndarray:
    """real -> integer: round(real / scale) + zero_point, clipped to the integer range."""
    low, high = _INT_RANGES[np.dtype(dtype)]
    scaled = np.round(np.asarray(values, np.float32) / quantization.scale) + quantization.zero_point
    return np.clip(scaled, low, high).astype(dtype)


def dequantize(values: np.ndarray, quantization: Quantization) -> np.ndarray:
    """integer -> real: scale * (q - zero_point)."""
    return (quantization.scale * (values.astype(np.float32) - quantization.zero_point)).astype(
        np.float32
    )


@dataclass(frozen=True)
class Runner:
    """A loaded artifact: `predict(batch)` maps float pixels to float probabilities."""

    input: TensorSpec
    output: TensorSpec
    runtime: str
    runtime_version: str
    predict_one: Callable[[np.ndarray], np.ndarray]

    def predict(
        self, pixels: np.ndarray, on_progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Probabilities (N, num_classes), one image per call as on a board (batch 1)."""
        rows = []
        for image in pixels:
            rows.append(self.predict_one(image[None]))
            if on_progress is not None:
                on_progress(1)
        return np.concatenate(rows) if rows else np.zeros((0, self.output.shape[-1]), np.float32)


def load_runner(path: Path, num_threads: int = DEFAULT_NUM_THREADS) -> Runner:
    """A Runner for a .tflite or .onnx file, chosen by its extension."""
    path = Path(path)
    if path.suffix == ".tflite":
        return _litert_runner(path, num_threads)
    if path.suffix == ".onnx":
        return _onnxruntime_runner(path, num_threads)
    raise ValueError(f"no runtime for '{path.name}'; expected a .tflite or .onnx file")


def _litert_runner(path: Path, num_threads: int) -> Runner:
    from importlib.metadata import version

    from ai_edge_litert import interpreter as litert

    interpreter = litert.Interpreter(model_path=str(path), num_threads=num_threads)
    interpreter.allocate_tensors()
    in_detail = interpreter.get_input_details()[0]
    out_detail = interpreter.get_output_details()[0]
    in_spec, out_spec = _litert_spec(in_detail), _litert_spec(out_detail)
    in_dtype = np.dtype(in_detail["dtype"])

    def predict_one(batch: np.ndarray) -> np.ndarray:
        if in_spec.quantization is not None:
            batch = quantize(batch, in_spec.quantization, in_dtype)
        interpreter.set_tensor(in_detail["index"], batch.astype(in_dtype, copy=False))
        interpreter.invoke()
        result = interpreter.get_tensor(out_detail["index"])
        if out_spec.quantization is not None:
            return dequantize(result, out_spec.quantization)
        return result.astype(np.float32)

    return Runner(in_spec, out_spec, "litert", version("ai-edge-litert"), predict_one)


def _litert_spec(detail: dict) -> TensorSpec:
    scale, zero_point = detail["quantization"]
    quantization = Quantization(float(scale), int(zero_point)) if scale else None
    shape = tuple(None if d == -1 else int(d) for d in detail["shape_signature"])
    layout = "NHWC" if len(shape) == 4 else None
    return TensorSpec(detail["name"], shape, np.dtype(detail["dtype"]).name, layout, quantization)


def _onnxruntime_runner(path: Path, num_threads: int) -> Runner:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    in_meta, out_meta = session.get_inputs()[0], session.get_outputs()[0]
    in_spec, out_spec = _onnx_spec(in_meta), _onnx_spec(out_meta)

    def predict_one(batch: np.ndarray) -> np.ndarray:
        (result,) = session.run([out_meta.name], {in_meta.name: batch.astype(np.float32)})
        return np.asarray(result, np.float32)

    return Runner(in_spec, out_spec, "onnxruntime", ort.__version__, predict_one)


def _onnx_spec(meta) -> TensorSpec:
    shape = tuple(d if isinstance(d, int) else None for d in meta.shape)
    layout = "NHWC" if len(shape) == 4 else None
    dtype = meta.type.removeprefix("tensor(").removesuffix(")")
    return TensorSpec(meta.name, shape, "float32" if dtype == "float" else dtype, layout)
