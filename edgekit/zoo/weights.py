"""Loading a local weights file into a backbone, and proving it actually landed."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edgekit.errors import WeightsError

if TYPE_CHECKING:
    import keras


def load_weights_file(backbone: keras.Model, path: str, name: str) -> None:
    """Load `path` into `backbone`, or raise WeightsError naming what did not match.

    Keras skips groups of a `.weights.h5` file that match no layer with only a warning, so a
    file of another model can leave most of the backbone at its random initialization. Every
    kernel (conv, depthwise and dense kernels: randomly initialized) must therefore change on
    loading. Biases are left out even when of rank 2 (attention's per-head biases): they start
    at zero, so a file of a freshly built model would leave them equal.
    """
    if not Path(path).is_file():
        raise WeightsError(
            f"weights file '{path}' does not exist; pass --weights imagenet, none, or the path "
            "of a Keras weights file for this backbone"
        )
    kernels = [w for w in backbone.weights if w.path.endswith("kernel")]
    before = [np.array(w) for w in kernels]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the count below says what matters, in one line
            backbone.load_weights(path)
    except Exception as exc:
        raise WeightsError(_load_failure(name, path, exc)) from exc

    missed = [
        w.path for w, old in zip(kernels, before, strict=True) if np.array_equal(np.array(w), old)
    ]
    if missed:
        raise WeightsError(
            f"weights file '{path}' left {len(missed)} of {len(kernels)} kernels of {name} "
            f"untouched (first: {missed[0]}); it must hold this backbone's weights, saved "
            "from edgekit or with include_top=False, or use --weights none"
        )


def _load_failure(name: str, path: str, exc: Exception) -> str:
    reason = " ".join(str(exc).split())[:300]
    return (
        f"could not load weights file '{path}' into {name} ({reason}); it must be a Keras "
        "weights file of the headless backbone (include_top=False), or use --weights none"
    )


def apply_weights(backbone: keras.Model, weights: str | None, name: str) -> keras.Model:
    """Random initialization (None) or a local weights file, for backbones without downloads."""
    if weights == "imagenet":
        # BackboneSpec.build refuses this first; a direct builder call must not train randomly.
        raise WeightsError(f"{name} has no ImageNet weights; use --weights none or --weights PATH")
    if weights is not None:
        load_weights_file(backbone, weights, name)
    return backbone
