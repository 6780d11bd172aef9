"""MobileNetV3 Large and Small (Howard et al., 2019) from keras.applications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgekit.errors import WeightsError
from edgekit.zoo.registry import register_backbone
from edgekit.zoo.weights import load_weights_file

if TYPE_CHECKING:
    import keras

_SOURCE = "keras.applications (Howard et al., 'Searching for MobileNetV3', ICCV 2019)"
# NOTE: the published counts (paper, Table 3) include the 1x1 conv to 1280 (1024 for Small)
# that Keras builds only with include_top=True; edgekit's headless backbone ends before it, so
# its classifier with a 1000-class head is smaller than the published model.
_PUBLISHED = "Howard et al. 2019, Table 3"


@register_backbone(
    "mobilenetv3large",
    has_imagenet_weights=True,
    source=_SOURCE,
    published_params=5_400_000,
    published_source=_PUBLISHED,
    backbone_params=2_996_352,
    num_features=960,
)
def mobilenetv3large(input_shape: tuple[int, int, int], weights: str | None) -> keras.Model:
    import keras

    return _build(keras.applications.MobileNetV3Large, "mobilenetv3large", input_shape, weights)


@register_backbone(
    "mobilenetv3small",
    has_imagenet_weights=True,
    source=_SOURCE,
    published_params=2_500_000,
    published_source=_PUBLISHED,
    backbone_params=939_120,
    num_features=576,
)
def mobilenetv3small(input_shape: tuple[int, int, int], weights: str | None) -> keras.Model:
    import keras

    return _build(keras.applications.MobileNetV3Small, "mobilenetv3small", input_shape, weights)


def _build(constructor, name: str, input_shape, weights: str | None) -> keras.Model:
    """Headless backbone with global average pooling; it rescales [0, 255] input itself."""
    from_file = weights not in (None, "imagenet")
    try:
        backbone = constructor(
            input_shape=input_shape,
            include_top=False,
            weights=None if from_file else weights,
            pooling="avg",
            include_preprocessing=True,
        )
    except Exception as exc:
        if weights is None:
            raise
        raise WeightsError(_imagenet_failure(name, exc)) from exc
    if from_file:
        load_weights_file(backbone, weights, name)
    return backbone


def _imagenet_failure(name: str, exc: Exception) -> str:
    reason = " ".join(str(exc).split())[:300]
    return (
        f"could not get ImageNet weights for {name} ({reason}); without internet access, "
        "train from scratch with --weights none, or download the Keras weights file on "
        "another machine and pass --weights /path/to/weights.h5"
    )
