"""The training input: float pixels in [0, 255], every example once per epoch, eval untouched."""

from __future__ import annotations

import numpy as np

from edgekit.data.dataset import SplitArrays
from edgekit.data.pipeline import make_dataset


def _arrays(num: int = 20) -> SplitArrays:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(num, 24, 24, 3), dtype=np.uint8)
    return SplitArrays(pixels, np.arange(num, dtype=np.int32) % 4)


def test_training_batches_are_augmented_shuffled_and_complete() -> None:
    arrays = _arrays()

    batches = list(make_dataset(arrays, 8, training=True, seed=1))
    pixels = np.concatenate([x.numpy() for x, _ in batches])
    labels = np.concatenate([y.numpy() for _, y in batches])

    assert [len(y) for _, y in batches] == [8, 8, 4]
    assert pixels.dtype == np.float32
    assert pixels.min() >= 0.0 and pixels.max() <= 255.0
    assert sorted(labels.tolist()) == sorted(arrays.labels.tolist())
    assert not np.array_equal(pixels, arrays.pixels.astype(np.float32))


def test_eval_batches_are_the_pixels_as_they_are_in_order() -> None:
    arrays = _arrays()

    batches = list(make_dataset(arrays, 8, training=False))
    pixels = np.concatenate([x.numpy() for x, _ in batches])

    np.testing.assert_array_equal(pixels, arrays.pixels.astype(np.float32))
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]), arrays.labels)
