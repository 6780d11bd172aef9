"""The model registry: one place mapping a backbone name to the function that builds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgekit.errors import ModelError

if TYPE_CHECKING:
    import keras

# builder(input_shape (H, W, 3), weights: "imagenet" | None | path) -> backbone whose output is
# a pooled feature vector and whose input is float32 RGB in [0, 255].
BackboneBuilder = Callable[[tuple[int, int, int], "str | None"], "keras.Model"]


@dataclass(frozen=True)
class BackboneSpec:
    """A registered backbone: its builder and what is known about it."""

    name: str
    builder: BackboneBuilder
    has_imagenet_weights: bool
    source: str


_REGISTRY: dict[str, BackboneSpec] = {}


def register_backbone(
    name: str, *, has_imagenet_weights: bool, source: str
) -> Callable[[BackboneBuilder], BackboneBuilder]:
    """Decorator adding a backbone builder to the registry under `name`."""

    def add(builder: BackboneBuilder) -> BackboneBuilder:
        if name in _REGISTRY:
            raise ValueError(f"backbone '{name}' is registered twice")
        _REGISTRY[name] = BackboneSpec(name, builder, has_imagenet_weights, source)
        return builder

    return add


def list_backbones() -> list[str]:
    _load_builtin_backbones()
    return sorted(_REGISTRY)


def get_backbone(name: str) -> BackboneSpec:
    """The spec registered as `name`; the error lists the valid names."""
    _load_builtin_backbones()
    key = name.strip().lower()
    if key not in _REGISTRY:
        raise ModelError(f"unknown model '{name}'; expected one of {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[key]


def _load_builtin_backbones() -> None:
    # Importing the family modules registers them; kept lazy so the registry stays cheap.
    import edgekit.zoo.mobilenetv3  # noqa: F401
