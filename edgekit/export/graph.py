"""The Keras graph that gets converted: training-only layers gone, int8-friendly activations.

Both rewrites clone the model layer by layer and copy every weight over, so the float
function is unchanged (a test checks the outputs are identical).
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

# Layers that only act while training. At inference they are identities, but some
# converters still trace their random ops (tf2onnx has no kernel for several of them).
TRAINING_ONLY_LAYERS = (
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ActivityRegularization",
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomContrast",
    "RandomBrightness",
    "RandomCrop",
    "RandomHeight",
    "RandomWidth",
)

HARD_SWISH_NAMES = ("hard_swish", "hard_silu")


def inference_model(model: keras.Model, *, split_hard_swish: bool = False) -> keras.Model:
    """A copy of `model` without training-only layers, optionally with split hard-swish.

    `split_hard_swish` writes hard-swish as `(x / 6) * relu6(x + 3)`: the same function, but
    one the TFLite converter does not fuse into a HARD_SWISH op (see the NOTE below).
    """
    import keras

    def clone(layer):
        if type(layer).__name__ in TRAINING_ONLY_LAYERS:
            return keras.layers.Identity(name=layer.name)
        if split_hard_swish and _is_hard_swish(layer):
            return _split_hard_swish_class()(name=layer.name)
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone, recursive=True)
    copy.set_weights(model.get_weights())
    return copy


def training_only_layers(model: keras.Model) -> list[str]:
    """Names of the training-only layers anywhere in `model` (nested models included)."""
    return [layer.name for layer in _walk(model) if type(layer).__name__ in TRAINING_ONLY_LAYERS]


def count_hard_swish(model: keras.Model) -> int:
    return sum(1 for layer in _walk(model) if _is_hard_swish(layer))


def _is_hard_swish(layer) -> bool:
    import keras

    if not isinstance(layer, keras.layers.Activation):
        return False
    return layer.get_config().get("activation") in HARD_SWISH_NAMES


def _walk(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _walk(layer)


@functools.cache
def _split_hard_swish_class():
    import keras

    class SplitHardSwish(keras.layers.Layer):
        """hard_swish(x) = x * relu6(x + 3) / 6, written so no converter fuses it.

        NOTE: LiteRT's XNNPACK delegate has no int8 HARD_SWISH kernel. In a full-int8
        MobileNetV3Large each of its 20 HARD_SWISH ops falls back to LiteRT's own kernel and
        cuts the delegated graph into 21 partitions (measured with
        `interpreter._get_ops_details()`: 21 DELEGATE nodes in int8, 1 in fp32; every op
        left outside a partition is a HARD_SWISH). Split into ADD (fused RELU6) and two
        MULs, every op stays on XNNPACK, which runs them int8: on the corn model int8 went
        from 1.42x to 0.67x the fp32 latency (benchmarks/export_latency.py).
        """

        def call(self, inputs):
            return (inputs * (1.0 / 6.0)) * keras.ops.relu6(inputs + 3.0)

    return SplitHardSwish
