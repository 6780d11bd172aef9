"""What `edgekit models` lists: every registered backbone with its counted and published size."""

from __future__ import annotations

from dataclasses import dataclass

from edgekit.zoo.registry import IMAGENET_CLASSES, MIN_INPUT_SIZE, get_backbone, list_backbones


@dataclass(frozen=True)
class BackboneFacts:
    """One row of the catalog; parameter counts include BatchNorm statistics."""

    name: str
    backbone_params: int
    num_features: int
    published_params: int | None
    published_source: str
    default_size: int
    size_rule: str
    has_imagenet_weights: bool
    source: str

    @property
    def imagenet_params(self) -> int:
        """Backbone plus edgekit's head (a dense layer) for the 1000 ImageNet classes."""
        return self.backbone_params + self.num_features * IMAGENET_CLASSES + IMAGENET_CLASSES


def backbone_facts(name: str, *, count: bool = False) -> BackboneFacts:
    """The facts of `name`; its counts as recorded at registration, or counted on a build with
    `count` (also when none were recorded)."""
    spec = get_backbone(name)
    if count or spec.backbone_params is None or spec.num_features is None:
        params, features = count_backbone(name)
    else:
        params, features = spec.backbone_params, spec.num_features
    return BackboneFacts(
        spec.name,
        params,
        features,
        spec.published_params,
        spec.published_source,
        spec.default_size,
        spec.size_rule,
        spec.has_imagenet_weights,
        spec.source,
    )


def count_backbone(name: str) -> tuple[int, int]:
    """(parameters, features) of `name` built at its smallest size: counts do not depend on it."""
    import keras

    spec = get_backbone(name)
    size = max(MIN_INPUT_SIZE, spec.input_multiple)
    backbone = spec.build((size, size, 3), None)
    counted = (backbone.count_params(), int(backbone.output_shape[-1]))
    keras.backend.clear_session()  # a dozen graphs would otherwise pile up
    return counted


def catalog(*, count: bool = False) -> list[BackboneFacts]:
    return [backbone_facts(name, count=count) for name in list_backbones()]
