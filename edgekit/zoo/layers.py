"""Building blocks shared by the zoo's hand-written families, in plain Keras layers.

Every layer used here converts to a TFLite builtin op (no Flex ops), so whatever is built from
these blocks exports as is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import keras

Activation = Literal["relu6", "silu"] | None

# Keras' defaults (momentum 0.99, epsilon 1e-3) are those of the TensorFlow references;
# from-scratch training adjusts the momentum later (see set_batchnorm_momentum).
BN_EPSILON = 1e-3
# CBAM's defaults (Woo et al. 2018): MLP reduction ratio and spatial-attention kernel.
CBAM_REDUCTION = 16
CBAM_KERNEL = 7


def activation_layer(kind: Activation, name: str) -> keras.layers.Layer:
    import keras

    if kind == "relu6":
        return keras.layers.ReLU(max_value=6.0, name=name)
    return keras.layers.Activation(kind or "linear", name=name)


def conv_bn(
    x,
    filters: int,
    kernel_size: int,
    *,
    strides: int = 1,
    activation: Activation,
    name: str,
):
    """Conv (no bias) -> BatchNorm -> activation, 'same' padding so any input size works."""
    import keras

    x = keras.layers.Conv2D(
        filters, kernel_size, strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    if activation is not None:
        x = activation_layer(activation, f"{name}_act")(x)
    return x


def inverted_residual(
    x,
    hidden: int,
    filters: int,
    *,
    kernel_size: int,
    strides: int,
    activation: Activation,
    name: str,
    drop_rate: float = 0.0,
):
    """MobileNetV2's block: 1x1 expand, depthwise, 1x1 project, residual when shapes agree.

    No expansion conv when `hidden` equals the input channels (expansion ratio 1). `drop_rate`
    is stochastic depth on the residual branch (EfficientNet's drop connect).
    """
    import keras

    inputs = x
    in_filters = x.shape[-1]
    if hidden != in_filters:
        x = conv_bn(x, hidden, 1, activation=activation, name=f"{name}_expand")
    x = keras.layers.DepthwiseConv2D(
        kernel_size, strides, padding="same", use_bias=False, name=f"{name}_dw_conv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_dw_bn")(x)
    x = activation_layer(activation, f"{name}_dw_act")(x)
    x = conv_bn(x, filters, 1, activation=None, name=f"{name}_project")

    if strides == 1 and in_filters == filters:
        if drop_rate > 0:
            x = keras.layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}_drop")(x)
        x = keras.layers.Add(name=f"{name}_add")([x, inputs])
    return x


def cbam(x, *, name: str):
    """Convolutional Block Attention Module: channel attention, then spatial attention."""
    import keras

    channels = x.shape[-1]
    hidden = max(channels // CBAM_REDUCTION, 1)
    mlp_in = keras.layers.Dense(hidden, activation="relu", name=f"{name}_mlp1")
    mlp_out = keras.layers.Dense(channels, name=f"{name}_mlp2")
    average = mlp_out(mlp_in(keras.layers.GlobalAveragePooling2D(name=f"{name}_avg")(x)))
    maximum = mlp_out(mlp_in(keras.layers.GlobalMaxPooling2D(name=f"{name}_max")(x)))
    weights = keras.layers.Add(name=f"{name}_channel_sum")([average, maximum])
    weights = keras.layers.Activation("sigmoid", name=f"{name}_channel_gate")(weights)
    weights = keras.layers.Reshape((1, 1, channels), name=f"{name}_channel_shape")(weights)
    x = keras.layers.Multiply(name=f"{name}_channel")([x, weights])

    # Mean and max over channels with plain layers (no Lambda, so the .keras file loads in
    # safe mode): pooling "channels_first" over (B, H*W, C) reduces the last axis.
    height, width = x.shape[1], x.shape[2]
    flat = keras.layers.Reshape((height * width, channels), name=f"{name}_flat")(x)
    pooled = [
        keras.layers.Reshape((height, width, 1), name=f"{name}_{kind}_map")(
            pool(data_format="channels_first", name=f"{name}_{kind}")(flat)
        )
        for kind, pool in (
            ("mean", keras.layers.GlobalAveragePooling1D),
            ("peak", keras.layers.GlobalMaxPooling1D),
        )
    ]
    gate = keras.layers.Concatenate(name=f"{name}_pooled")(pooled)
    gate = keras.layers.Conv2D(
        1, CBAM_KERNEL, padding="same", use_bias=False, name=f"{name}_spatial_conv"
    )(gate)
    gate = keras.layers.BatchNormalization(name=f"{name}_spatial_bn")(gate)
    gate = keras.layers.Activation("sigmoid", name=f"{name}_spatial_gate")(gate)
    return keras.layers.Multiply(name=f"{name}_spatial")([x, gate])


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round channels to a multiple of `divisor`, never more than 10 % below `value`."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded
