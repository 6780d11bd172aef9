"""EfficientNet-Lite0 to Lite4 (Tan and Le, 2019; the Lite variants of the TensorFlow TPU repo).

Written in plain Keras layers: keras.applications has no Lite variant, and keras-hub (0.32)
would bring tensorflow-text, tokenizers, sentencepiece and two model-hub clients along for a
backbone that still has to be configured by hand.

Lite differs from EfficientNet-B0..B7 in what quantizes badly on edge accelerators: no
squeeze-and-excitation, ReLU6 instead of swish, and a fixed stem (32 channels) and head (1280
channels) at every scale, whose first and last stages are not repeated more at larger scales
either. The blocks are B0's; width, depth and resolution follow the repo's
`efficientnet_lite_builder.py`:

| model | width | depth | resolution | dropout |
|---|---|---|---|---|
| lite0 | 1.0 | 1.0 | 224 | 0.2 |
| lite1 | 1.0 | 1.1 | 240 | 0.2 |
| lite2 | 1.1 | 1.2 | 260 | 0.3 |
| lite3 | 1.2 | 1.4 | 280 | 0.3 |
| lite4 | 1.4 | 1.8 | 300 | 0.3 |

The dropout is that of the published classifier; edgekit's head sets its own (`--dropout`).
Inputs are float32 RGB in [0, 255], normalized inside the model as the repo does:
(x - 127) / 128.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from edgekit.zoo.layers import conv_bn, inverted_residual, make_divisible
from edgekit.zoo.registry import register_from_scratch

if TYPE_CHECKING:
    import keras

_SOURCE = (
    "edgekit, plain Keras (Tan and Le, 'EfficientNet', ICML 2019; EfficientNet-Lite, "
    "tensorflow/tpu models/official/efficientnet/lite)"
)
_PUBLISHED = "tensorflow/tpu efficientnet/lite README"
STEM_FILTERS = 32
HEAD_FILTERS = 1280
DROP_CONNECT_RATE = 0.2


@dataclass(frozen=True)
class _Stage:
    kernel_size: int
    repeats: int
    filters: int
    expansion: int
    strides: int


# EfficientNet-B0's seven stages (Tan and Le 2019, Table 1), squeeze-and-excitation removed.
_STAGES = (
    _Stage(3, 1, 16, 1, 1),
    _Stage(3, 2, 24, 6, 2),
    _Stage(5, 2, 40, 6, 2),
    _Stage(3, 3, 80, 6, 2),
    _Stage(5, 3, 112, 6, 1),
    _Stage(5, 4, 192, 6, 2),
    _Stage(3, 1, 320, 6, 1),
)

# name: (width, depth, resolution, published parameters with the ImageNet-1k head, edgekit's
# backbone parameters: counted, checked by tests/zoo)
_VARIANTS = {
    "efficientnet-lite0": (1.0, 1.0, 224, 4_700_000, 3_413_024),
    "efficientnet-lite1": (1.0, 1.1, 240, 5_400_000, 4_189_344),
    "efficientnet-lite2": (1.1, 1.2, 260, 6_100_000, 4_869_168),
    "efficientnet-lite3": (1.2, 1.4, 280, 8_200_000, 6_992_768),
    "efficientnet-lite4": (1.4, 1.8, 300, 13_000_000, 11_837_936),
}


def efficientnet_lite(
    input_shape: tuple[int, int, int], width: float, depth: float, name: str = "efficientnet_lite"
) -> keras.Model:
    """The headless EfficientNet-Lite at one scale, ending in global average pooling."""
    import keras

    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Rescaling(1 / 128, offset=-127 / 128, name="normalize")(inputs)
    x = conv_bn(x, STEM_FILTERS, 3, strides=2, activation="relu6", name="stem")

    repeats = [_stage_repeats(stage, index, depth) for index, stage in enumerate(_STAGES)]
    num_blocks, block = sum(repeats), 0
    for index, (stage, num_repeats) in enumerate(zip(_STAGES, repeats, strict=True)):
        filters = make_divisible(stage.filters * width)
        for repeat in range(num_repeats):
            x = inverted_residual(
                x,
                x.shape[-1] * stage.expansion,
                filters,
                kernel_size=stage.kernel_size,
                strides=stage.strides if repeat == 0 else 1,
                activation="relu6",
                name=f"block{index + 1}{chr(ord('a') + repeat)}",
                drop_rate=DROP_CONNECT_RATE * block / num_blocks,
            )
            block += 1

    x = conv_bn(x, HEAD_FILTERS, 1, activation="relu6", name="head")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, x, name=name)


def _stage_repeats(stage: _Stage, index: int, depth: float) -> int:
    # Lite keeps the first and last stage at one block whatever the depth multiplier.
    if index in (0, len(_STAGES) - 1):
        return stage.repeats
    return math.ceil(depth * stage.repeats)


for _name, (_width, _depth, _size, _published, _counted) in _VARIANTS.items():
    register_from_scratch(
        _name,
        partial(efficientnet_lite, width=_width, depth=_depth, name=_name.replace("-", "_")),
        source=_SOURCE,
        published_params=_published,
        published_source=_PUBLISHED,
        default_size=_size,
        backbone_params=_counted,
        num_features=HEAD_FILTERS,
    )
