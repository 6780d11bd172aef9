"""Int8 I/O arithmetic: rounding, clipping and the inverse mapping."""

from __future__ import annotations

import numpy as np

from edgekit.export.manifest import Quantization
from edgekit.export.runtime import dequantize, quantize


def test_quantize_rounds_to_nearest_and_clips_to_the_int8_range() -> None:
    q = Quantization(scale=2.0, zero_point=-10)
    values = np.array([0.0, 0.9, 1.1, 3.0, -1000.0, 1000.0], np.float32)

    result = quantize(values, q, np.int8)

    assert result.dtype == np.int8
    # round(x / 2) - 10; numpy rounds halves to even: 1.5 -> 2
    assert result.tolist() == [-10, -10, -9, -8, -128, 127]


def test_dequantize_inverts_quantize_within_half_a_step() -> None:
    q = Quantization(scale=1.0, zero_point=-128)
    pixels = np.arange(256, dtype=np.float32)

    restored = dequantize(quantize(pixels, q, np.int8), q)

    assert np.array_equal(restored, pixels)


def test_uint8_range_is_respected() -> None:
    q = Quantization(scale=1 / 256, zero_point=0)

    result = quantize(np.array([-0.5, 0.5, 2.0], np.float32), q, np.uint8)

    assert result.tolist() == [0, 128, 255]
