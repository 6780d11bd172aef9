"""The training input: float pixels in [0, 255], every example once per epoch, eval untouched."""

from __future__ import annotations

import numpy as np

from edgekit.data.dataset import SplitArrays
from edgekit.data.pipeline import make_dataset


def _arrays(num: int = 20) -> SplitArrays:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(num, 24, 24, 3), dtype=np.uint8)
    return SplitArrays(pixels, np.arange(num, dtype=np.int32) % 4)


def _epoch(arrays: SplitArrays, **kwargs) -> tuple[np.ndarray, np.ndarray, list[int]]:
    batches = list(make_dataset(arrays, 8, training=True, seed=1, **kwargs))
    pixels = np.concatenate([x.numpy() for x, _ in batches])
    labels = np.concatenate([y.numpy() for _, y in batches])
    return pixels, labels, [len(y) for _, y in batches]


def test_training_batches_are_shuffled_and_complete() -> None:
    arrays = _arrays()
    # Labels that identify each example, so order and completeness are both visible.
    arrays = SplitArrays(arrays.pixels, np.arange(len(arrays), dtype=np.int32))

    pixels, labels, sizes = _epoch(arrays, augment=False)

    assert sizes == [8, 8, 4]
    assert sorted(labels.tolist()) == list(range(len(arrays)))
    assert labels.tolist() != list(range(len(arrays)))
    np.testing.assert_array_equal(pixels, arrays.pixels[labels].astype(np.float32))


def test_augmentation_changes_pixels_but_keeps_the_range() -> None:
    arrays = SplitArrays(_arrays().pixels, np.arange(20, dtype=np.int32))

    pixels, labels, _ = _epoch(arrays, augment=True)

    assert pixels.dtype == np.float32
    assert pixels.min() >= 0.0 and pixels.max() <= 255.0
    changed = [not np.array_equal(p, arrays.pixels[i]) for p, i in zip(pixels, labels, strict=True)]
    assert sum(changed) >= len(arrays) - 2


def test_eval_batches_are_the_pixels_as_they_are_in_order() -> None:
    arrays = _arrays()

    batches = list(make_dataset(arrays, 8, training=False))
    pixels = np.concatenate([x.numpy() for x, _ in batches])

    np.testing.assert_array_equal(pixels, arrays.pixels.astype(np.float32))
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]), arrays.labels)
