"""The tf.data input of training: decoded pixels in memory, augmented on the fly, prefetched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgekit.data.dataset import SplitArrays

if TYPE_CHECKING:
    import keras
    import tensorflow as tf


def augmentation(seed: int) -> keras.Sequential:
    """Training-only augmentation. It lives in the input pipeline, never in the saved model.

    Leaves have no up or down, so flips both ways and rotations are label-preserving; zoom,
    contrast and brightness stand in for the field photos' framing and light.
    """
    import keras

    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal_and_vertical", seed=seed),
            keras.layers.RandomRotation(0.1, fill_mode="reflect", seed=seed + 1),
            keras.layers.RandomZoom((-0.15, 0.15), fill_mode="reflect", seed=seed + 2),
            keras.layers.RandomContrast(0.2, value_range=(0, 255), seed=seed + 3),
            keras.layers.RandomBrightness(0.15, value_range=(0, 255), seed=seed + 4),
        ],
        name="augmentation",
    )


def make_dataset(
    arrays: SplitArrays,
    batch_size: int,
    *,
    training: bool,
    seed: int = 42,
    augment: bool = True,
) -> tf.data.Dataset:
    """Batches of (float32 pixels in [0, 255], int labels).

    Decoding already happened once (see `prepare_dataset`); here the uint8 arrays are only
    shuffled, cast, augmented in parallel on whole batches and prefetched, so the model is
    never kept waiting.
    """
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((arrays.pixels, arrays.labels))
    if training:
        dataset = dataset.shuffle(len(arrays), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32), y), tf.data.AUTOTUNE)
    if training and augment:
        layers = augmentation(seed)
        dataset = dataset.map(
            lambda x, y: (tf.clip_by_value(layers(x, training=True), 0.0, 255.0), y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return dataset.prefetch(tf.data.AUTOTUNE)
