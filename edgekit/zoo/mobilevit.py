"""MobileViT XXS, XS and S (Mehta and Rastegari, 'MobileViT', ICLR 2022), in plain Keras layers.

The configurations are the paper's (Table 4 and Figure 1), as released in apple/ml-cvnets:

| model | stem | MV2 expansion | stage channels (1-5) | transformer dim (3-5) | last 1x1 |
|---|---|---|---|---|---|
| xxs | 16 | 2 | 16, 24, 48, 64, 80 | 64, 80, 96 | 320 |
| xs | 16 | 4 | 32, 48, 64, 80, 96 | 96, 120, 144 | 384 |
| s | 16 | 4 | 32, 64, 96, 128, 160 | 144, 192, 240 | 640 |

Stages 1 and 2 are MV2 blocks (1 and 3 of them); stages 3, 4 and 5 are a stride-2 MV2 block then
a MobileViT block with 2, 4 and 3 transformer layers, 2x2 patches, 4 heads and a feed-forward
width of twice the transformer dim. Activations are SiLU; inputs [0, 255] are scaled to [0, 1]
inside the model, as the released models expect.

A MobileViT block: 3x3 conv and 1x1 conv to the transformer dim (local representation), unfold
into 2x2 patches, transformer layers (pre-norm, attention across the patches that share a pixel
position), LayerNorm, fold, 1x1 conv back to the stage channels, concatenation with the block
input and a 3x3 fusion conv.

NOTE: the unfold needs the feature map of every MobileViT stage to divide into 2x2 patches, and
the last one sits at 1/32 of the input, so height and width must be multiples of 64. ml-cvnets
instead resizes such feature maps on the fly; edgekit refuses the size, so that the exported
graph is the trained one with no hidden resampling.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from edgekit.zoo.layers import cbam, conv_bn, inverted_residual, make_divisible
from edgekit.zoo.registry import register_from_scratch

if TYPE_CHECKING:
    import keras

_SOURCE = "edgekit, plain Keras (Mehta and Rastegari, 'MobileViT', ICLR 2022)"
_PUBLISHED = "Mehta and Rastegari 2022, Table 1 (ImageNet-1k)"
PATCH_SIZE = 2
NUM_HEADS = 4
# Five stride-2 steps bring the last MobileViT stage to 1/32; its 2x2 patches double that.
INPUT_MULTIPLE = 32 * PATCH_SIZE
LAYERNORM_EPSILON = 1e-5


@dataclass(frozen=True)
class MobileViTConfig:
    """One MobileViT scale, plus the knobs PMVT changes (depthwise kernel, CBAM)."""

    channels: tuple[int, int, int, int, int]
    transformer_dims: tuple[int, int, int]
    last_filters: int
    expansion: int
    dropout: float
    stem_filters: int = 16
    num_transformer_layers: tuple[int, int, int] = (2, 4, 3)
    depthwise_kernel: int = 3
    cbam: bool = False


CONFIGS = {
    "mobilevit-xxs": MobileViTConfig((16, 24, 48, 64, 80), (64, 80, 96), 320, 2, 0.05),
    "mobilevit-xs": MobileViTConfig((32, 48, 64, 80, 96), (96, 120, 144), 384, 4, 0.1),
    "mobilevit-s": MobileViTConfig((32, 64, 96, 128, 160), (144, 192, 240), 640, 4, 0.1),
}
# name: (published parameters with the ImageNet-1k head, edgekit's backbone parameters)
_COUNTS = {
    "mobilevit-xxs": (1_300_000, 955_136),
    "mobilevit-xs": (2_300_000, 1_941_296),
    "mobilevit-s": (5_600_000, 4_949_888),
}
DEFAULT_SIZE = 256  # the paper's training and evaluation resolution


def mobilevit(
    input_shape: tuple[int, int, int], config: MobileViTConfig, name: str = "mobilevit"
) -> keras.Model:
    """The headless MobileViT of `config`, ending in global average pooling."""
    import keras

    # NOTE: at 64x64 the last stage holds a single patch, so its attention softmax runs over
    # one token and Keras warns (when the graph is traced) that it is constant; it is, rightly.
    warnings.filterwarnings("ignore", "You are using a softmax over axis", UserWarning)

    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Rescaling(1 / 255, name="normalize")(inputs)
    x = conv_bn(x, config.stem_filters, 3, strides=2, activation="silu", name="stem")

    x = _mv2(x, config, config.channels[0], strides=1, name="stage1_mv2a")
    x = _mv2(x, config, config.channels[1], strides=2, name="stage2_mv2a")
    x = _mv2(x, config, config.channels[1], strides=1, name="stage2_mv2b")
    x = _mv2(x, config, config.channels[1], strides=1, name="stage2_mv2c")
    for stage in range(3):
        filters, name_ = config.channels[stage + 2], f"stage{stage + 3}"
        x = _mv2(x, config, filters, strides=2, name=f"{name_}_mv2")
        x = mobilevit_block(
            x,
            config.transformer_dims[stage],
            config.num_transformer_layers[stage],
            config,
            name=f"{name_}_mvit",
        )

    x = conv_bn(x, config.last_filters, 1, activation="silu", name="last")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, x, name=name)


def _mv2(x, config: MobileViTConfig, filters: int, *, strides: int, name: str):
    hidden = make_divisible(x.shape[-1] * config.expansion)
    return inverted_residual(
        x,
        hidden,
        filters,
        kernel_size=config.depthwise_kernel,
        strides=strides,
        activation="silu",
        name=name,
    )


def mobilevit_block(x, dim: int, num_layers: int, config: MobileViTConfig, *, name: str):
    """Local 3x3 + 1x1 convs, transformer over unfolded patches, fold, fuse with the input."""
    import keras

    inputs = x
    filters, height, width = x.shape[-1], x.shape[1], x.shape[2]
    x = conv_bn(x, filters, 3, activation="silu", name=f"{name}_local")
    x = keras.layers.Conv2D(dim, 1, use_bias=False, name=f"{name}_to_dim")(x)

    x = unfold(x, name=f"{name}_unfold")
    for layer in range(num_layers):
        x = transformer_layer(x, dim, config, height=height, width=width, name=f"{name}_t{layer}")
    x = keras.layers.LayerNormalization(epsilon=LAYERNORM_EPSILON, name=f"{name}_norm")(x)
    x = fold(x, height, width, name=f"{name}_fold")

    x = conv_bn(x, filters, 1, activation="silu", name=f"{name}_from_dim")
    x = keras.layers.Concatenate(name=f"{name}_concat")([inputs, x])
    return conv_bn(x, filters, 3, activation="silu", name=f"{name}_fuse")


def transformer_layer(x, dim: int, config: MobileViTConfig, *, height: int, width: int, name: str):
    """Pre-norm encoder layer on (batch, pixels per patch, patches, dim) tokens.

    Attention runs over the patches (axis 2) for each pixel position, as in MobileViT. With
    `config.cbam` the attention output is refined by CBAM on its image layout (PMVT).
    """
    import keras

    y = keras.layers.LayerNormalization(epsilon=LAYERNORM_EPSILON, name=f"{name}_norm1")(x)
    y = keras.layers.MultiHeadAttention(
        NUM_HEADS, dim // NUM_HEADS, attention_axes=(2,), name=f"{name}_attention"
    )(y, y)
    if config.cbam:
        y = fold(y, height, width, name=f"{name}_cbam_fold")
        y = cbam(y, name=f"{name}_cbam")
        y = unfold(y, name=f"{name}_cbam_unfold")
    y = keras.layers.Dropout(config.dropout, name=f"{name}_drop1")(y)
    x = keras.layers.Add(name=f"{name}_add1")([x, y])

    y = keras.layers.LayerNormalization(epsilon=LAYERNORM_EPSILON, name=f"{name}_norm2")(x)
    y = keras.layers.Dense(2 * dim, activation="silu", name=f"{name}_ffn1")(y)
    y = keras.layers.Dense(dim, name=f"{name}_ffn2")(y)
    y = keras.layers.Dropout(config.dropout, name=f"{name}_drop2")(y)
    return keras.layers.Add(name=f"{name}_add2")([x, y])


def unfold(x, *, name: str):
    """(B, H, W, C) -> (B, P*P, H*W/(P*P), C): one row of patches per pixel position.

    FIXME: with the dynamic batch of edgekit's exports, these reshapes (and the attention's)
    convert to SHAPE/PACK/STRIDED_SLICE ops that XNNPACK does not take: MobileViT-XS's TFLite
    file runs as 49 delegate partitions, PMVT's as 112 (182 in int8, which then runs slower
    than fp32: 12.96 against 9.22 ms here). A TFLite export at a fixed batch of 1 (what a
    board runs) should make them one partition; not done yet.
    """
    import keras

    height, width, channels = x.shape[1], x.shape[2], x.shape[3]
    rows, cols = height // PATCH_SIZE, width // PATCH_SIZE
    x = keras.layers.Reshape((rows, PATCH_SIZE, cols, PATCH_SIZE, channels), name=f"{name}_r1")(x)
    x = keras.layers.Permute((2, 4, 1, 3, 5), name=f"{name}_perm")(x)
    return keras.layers.Reshape((PATCH_SIZE * PATCH_SIZE, rows * cols, channels), name=name)(x)


def fold(x, height: int, width: int, *, name: str):
    """The inverse of `unfold`, back to (B, H, W, C)."""
    import keras

    rows, cols, channels = height // PATCH_SIZE, width // PATCH_SIZE, x.shape[-1]
    x = keras.layers.Reshape((PATCH_SIZE, PATCH_SIZE, rows, cols, channels), name=f"{name}_r1")(x)
    x = keras.layers.Permute((3, 1, 4, 2, 5), name=f"{name}_perm")(x)
    return keras.layers.Reshape((height, width, channels), name=name)(x)


for _name, (_published, _counted) in _COUNTS.items():
    register_from_scratch(
        _name,
        partial(mobilevit, config=CONFIGS[_name], name=_name.replace("-", "_")),
        source=_SOURCE,
        published_params=_published,
        published_source=_PUBLISHED,
        default_size=DEFAULT_SIZE,
        input_multiple=INPUT_MULTIPLE,
        backbone_params=_counted,
        num_features=CONFIGS[_name].last_filters,
    )
