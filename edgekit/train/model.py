"""The classifier edgekit trains and ships: a zoo backbone, dropout and a softmax head."""

from __future__ import annotations

import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgekit.errors import ModelError
from edgekit.zoo import get_backbone

if TYPE_CHECKING:
    import keras

logger = logging.getLogger(__name__)

# The saved .keras file is a zip; edgekit adds this member beside Keras' own config and
# weights, so class order and preprocessing travel with the model wherever it is copied.
METADATA_MEMBER = "edgekit.json"
BYTES_PER_MB = 1024 * 1024


@dataclass(frozen=True)
class Classifier:
    """A built classifier and the facts about its backbone that every run records."""

    model: keras.Model
    backbone_name: str
    backbone_params: int

    @property
    def backbone_size_mb(self) -> float:
        """fp32 size of every backbone weight (BatchNorm statistics included, head excluded)."""
        return self.backbone_params * 4 / BYTES_PER_MB


def build_classifier(
    backbone_name: str,
    num_classes: int,
    image_size: tuple[int, int],
    *,
    weights: str | None,
    dropout: float,
    fine_tune: bool,
    seed: int | None = None,
) -> Classifier:
    """Backbone -> Dropout -> Dense(softmax), taking float32 RGB in [0, 255] of `image_size`.

    With `fine_tune` False the backbone is frozen (its BatchNorm layers then run in inference
    mode too, which is what a pretrained backbone needs). `seed` seeds Python, NumPy and the
    backend, so the same seed gives the same initial weights and the same training order.
    """
    import keras

    spec = get_backbone(backbone_name)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    backbone = spec.build((*image_size, 3), weights)
    backbone.trainable = fine_tune

    features = keras.layers.Dropout(dropout, name="head_dropout")(backbone.output)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(features)
    model = keras.Model(backbone.input, outputs, name=f"{spec.name}_classifier")
    return Classifier(model, spec.name, backbone.count_params())


def set_batchnorm_momentum(model: keras.Model, momentum: float) -> int:
    """Set the momentum of every BatchNormalization layer; returns how many were changed.

    NOTE: keras.applications builds MobileNetV3 with momentum 0.999, tuned for ImageNet's
    ~1M images. From scratch on a few thousand images that average trails the fast-changing
    weights by ~1000 steps, so evaluation sees stale statistics and predicts the majority class
    while training accuracy climbs.
    """
    import keras

    num_changed = 0
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
            num_changed += 1
    return num_changed


def _all_layers(model: keras.Model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def save_model(model: keras.Model, path: Path, metadata: dict[str, Any]) -> Path:
    """Write `model` as .keras with edgekit's metadata inside; atomically, via a temp name."""
    path = Path(path)
    partial = path.with_name(path.stem + ".partial.keras")
    model.save(partial)
    with zipfile.ZipFile(partial, "a") as archive:
        archive.writestr(METADATA_MEMBER, json.dumps(metadata, indent=2, sort_keys=True))
    partial.replace(path)
    return path


def read_model_metadata(path: Path) -> dict[str, Any]:
    """The metadata edgekit stored inside a saved .keras file."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read(METADATA_MEMBER))
    except (KeyError, zipfile.BadZipFile, FileNotFoundError) as exc:
        raise ModelError(
            f"'{path}' is not a .keras file saved by edgekit train (no {METADATA_MEMBER} inside)"
        ) from exc
