"""The tf.data input of training: decoded pixels in memory, augmented on the fly, prefetched."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from edgekit.data.dataset import SplitArrays

if TYPE_CHECKING:
    import tensorflow as tf

# Leaves have no up or down: any flip and rotation keeps the label. Zoom stands in for the
# framing of field photos, contrast and brightness for their light.
MAX_ROTATION_RAD = 0.2 * math.pi
ZOOM_RANGE = (0.85, 1.15)
CONTRAST_FACTOR = 0.2
BRIGHTNESS_FACTOR = 0.15


def random_geometry(images: tf.Tensor, seed: int) -> tf.Tensor:
    """Random flips, rotation and zoom of a batch (B, H, W, 3) in one affine resampling.

    NOTE: Keras' RandomFlip, RandomRotation and RandomZoom each resample the whole batch; on
    a 2-core board-sized machine those three passes cost ~8 % of training throughput. One
    composed transform does the same geometry in a single pass (and one interpolation).
    """
    import keras
    import tensorflow as tf

    batch = tf.shape(images)[0]
    height, width = (
        tf.cast(tf.shape(images)[1], tf.float32),
        tf.cast(tf.shape(images)[2], tf.float32),
    )
    angle = tf.random.uniform([batch], -MAX_ROTATION_RAD, MAX_ROTATION_RAD, seed=seed)
    zoom = tf.random.uniform([batch], *ZOOM_RANGE, seed=seed + 1)
    flips = tf.sign(tf.random.uniform([batch, 2], -1.0, 1.0, seed=seed + 2))

    # Output pixel p samples input C + M (p - C), M = zoom * rotation * diag(flip_x, flip_y).
    cos, sin = tf.cos(angle) * zoom, tf.sin(angle) * zoom
    m00, m01 = cos * flips[:, 0], -sin * flips[:, 1]
    m10, m11 = sin * flips[:, 0], cos * flips[:, 1]
    cx, cy = (width - 1) / 2, (height - 1) / 2
    zeros = tf.zeros([batch])
    transform = tf.stack(
        [m00, m01, cx - m00 * cx - m01 * cy, m10, m11, cy - m10 * cx - m11 * cy, zeros, zeros],
        axis=1,
    )
    return keras.ops.image.affine_transform(
        images,
        transform,
        interpolation="bilinear",
        fill_mode="reflect",
        data_format="channels_last",
    )


def photometric(seed: int):
    """Random contrast and brightness: Keras layers, cheap per pixel."""
    import keras

    return keras.Sequential(
        [
            keras.layers.RandomContrast(CONTRAST_FACTOR, value_range=(0, 255), seed=seed),
            keras.layers.RandomBrightness(BRIGHTNESS_FACTOR, value_range=(0, 255), seed=seed + 1),
        ],
        name="photometric",
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
    never kept waiting. Augmentation lives here, never in the saved model.
    """
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((arrays.pixels, arrays.labels))
    if training:
        dataset = dataset.shuffle(len(arrays), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda x, y: (tf.cast(x, tf.float32), y), tf.data.AUTOTUNE)
    if training and augment:
        light = photometric(seed + 3)

        def augment_batch(x, y):
            x = light(random_geometry(x, seed), training=True)
            return tf.clip_by_value(x, 0.0, 255.0), y

        dataset = dataset.map(augment_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
