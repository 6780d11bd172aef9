"""MobileNetV3 Large and Small (Howard et al., 2019) from keras.applications."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edgekit.errors import WeightsError
from edgekit.zoo.registry import register_backbone

if TYPE_CHECKING:
    import keras

_SOURCE = "keras.applications (Howard et al., 'Searching for MobileNetV3', ICCV 2019)"


@register_backbone("mobilenetv3large", has_imagenet_weights=True, source=_SOURCE)
def mobilenetv3large(input_shape: tuple[int, int, int], weights: str | None) -> keras.Model:
    import keras

    return _build(keras.applications.MobileNetV3Large, "mobilenetv3large", input_shape, weights)


@register_backbone("mobilenetv3small", has_imagenet_weights=True, source=_SOURCE)
def mobilenetv3small(input_shape: tuple[int, int, int], weights: str | None) -> keras.Model:
    import keras

    return _build(keras.applications.MobileNetV3Small, "mobilenetv3small", input_shape, weights)


def _build(constructor, name: str, input_shape, weights: str | None) -> keras.Model:
    """Headless backbone with global average pooling; it rescales [0, 255] input itself."""
    if weights not in (None, "imagenet") and not Path(weights).is_file():
        raise WeightsError(
            f"weights file '{weights}' does not exist; pass --weights imagenet, none, or the path "
            "of a Keras weights file for this backbone"
        )
    try:
        return constructor(
            input_shape=input_shape,
            include_top=False,
            weights=weights,
            pooling="avg",
            include_preprocessing=True,
        )
    except Exception as exc:
        if weights is None:
            raise
        raise WeightsError(_weights_failure(name, weights, exc)) from exc


def _weights_failure(name: str, weights: str, exc: Exception) -> str:
    reason = " ".join(str(exc).split())[:300]
    if weights == "imagenet":
        return (
            f"could not get ImageNet weights for {name} ({reason}); without internet access, "
            "train from scratch with --weights none, or download the Keras weights file on "
            "another machine and pass --weights /path/to/weights.h5"
        )
    return (
        f"could not load weights file '{weights}' into {name} ({reason}); it must be a Keras "
        "weights file of the headless backbone (include_top=False), or use --weights none"
    )
