"""The model registry: one place mapping a backbone name to the function that builds it."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edgekit.errors import ModelError, WeightsError

if TYPE_CHECKING:
    import keras

# builder(input_shape (H, W, 3), weights: "imagenet" | None | path) -> backbone whose output is
# a pooled feature vector and whose input is float32 RGB in [0, 255].
BackboneBuilder = Callable[[tuple[int, int, int], "str | None"], "keras.Model"]

# Below this Keras' MobileNetV3 refuses to build, and the config refuses it for every model.
MIN_INPUT_SIZE = 32
IMAGENET_CLASSES = 1000


@dataclass(frozen=True)
class BackboneSpec:
    """A registered backbone: its builder and what is known about it.

    `published_params` is the parameter count of the published ImageNet-1k classifier and
    `published_source` where that figure comes from; `default_size` is the published input
    resolution; height and width must be multiples of `input_multiple`. `backbone_params`
    (BatchNorm statistics included) and `num_features` are what the built backbone counts,
    recorded so that `edgekit models` need not build twelve graphs; tests/zoo checks them.
    """

    name: str
    builder: BackboneBuilder
    has_imagenet_weights: bool
    source: str
    published_params: int | None = None
    published_source: str = ""
    default_size: int = 224
    input_multiple: int = 1
    backbone_params: int | None = None
    num_features: int | None = None

    def check_input_shape(self, input_shape: tuple[int, int, int]) -> None:
        """Raise ModelError when this architecture cannot take `input_shape`."""
        height, width = input_shape[0], input_shape[1]
        if min(height, width) < MIN_INPUT_SIZE:
            raise ModelError(
                f"{self.name} needs an input of at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}; got "
                f"{height}x{width}; pass a larger --image-size"
            )
        step = self.input_multiple
        if height % step or width % step:
            raise ModelError(
                f"{self.name} needs height and width divisible by {step}; got {height}x{width}; "
                f"pass e.g. --image-size {_nearest_multiple(height, step)}"
            )

    @property
    def size_rule(self) -> str:
        if self.input_multiple == 1:
            return f">= {MIN_INPUT_SIZE}"
        return f"x {self.input_multiple}"

    def check_weights(self, weights: str | None) -> None:
        """Raise WeightsError for --weights imagenet on a backbone that has none."""
        if weights == "imagenet" and not self.has_imagenet_weights:
            raise WeightsError(
                f"{self.name} has no ImageNet weights that edgekit can download; train from "
                "scratch with --weights none, or pass a Keras weights file of this backbone "
                "with --weights PATH"
            )

    def build(self, input_shape: tuple[int, int, int], weights: str | None) -> keras.Model:
        """The backbone, after checking the input size and the weights it was asked for."""
        self.check_input_shape(input_shape)
        self.check_weights(weights)
        return self.builder(input_shape, weights)


_REGISTRY: dict[str, BackboneSpec] = {}


def register_backbone(
    name: str,
    *,
    has_imagenet_weights: bool,
    source: str,
    published_params: int | None = None,
    published_source: str = "",
    default_size: int = 224,
    input_multiple: int = 1,
    backbone_params: int | None = None,
    num_features: int | None = None,
) -> Callable[[BackboneBuilder], BackboneBuilder]:
    """Decorator adding a backbone builder to the registry under `name`."""

    def add(builder: BackboneBuilder) -> BackboneBuilder:
        if name in _REGISTRY:
            raise ValueError(f"backbone '{name}' is registered twice")
        _REGISTRY[name] = BackboneSpec(
            name,
            builder,
            has_imagenet_weights,
            source,
            published_params,
            published_source,
            default_size,
            input_multiple,
            backbone_params,
            num_features,
        )
        return builder

    return add


def register_from_scratch(
    name: str, make: Callable[[tuple[int, int, int]], keras.Model], **facts: Any
) -> None:
    """Register a backbone edgekit writes itself: no ImageNet download, so the builder starts
    from random weights or loads `--weights PATH`. `facts` are register_backbone's keywords."""
    from edgekit.zoo.weights import apply_weights

    def build(input_shape: tuple[int, int, int], weights: str | None) -> keras.Model:
        return apply_weights(make(input_shape), weights, name)

    build.__name__ = name.replace("-", "_")
    register_backbone(name, has_imagenet_weights=False, **facts)(build)


def list_backbones() -> list[str]:
    _load_builtin_backbones()
    return sorted(_REGISTRY)


def get_backbone(name: str) -> BackboneSpec:
    """The spec registered as `name`; the error lists the valid names."""
    _load_builtin_backbones()
    key = name.strip().lower()
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, _REGISTRY, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ModelError(
            f"unknown model '{name}'; {hint}expected one of {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[key]


def _nearest_multiple(value: int, step: int) -> int:
    return max(step, round(value / step) * step)


def _load_builtin_backbones() -> None:
    # Importing the family modules registers them; kept lazy so the registry stays cheap (the
    # modules import Keras only inside their builders).
    import edgekit.zoo.efficientnet_lite
    import edgekit.zoo.mobilenetv3
    import edgekit.zoo.mobilevit
    import edgekit.zoo.pmvt  # noqa: F401
