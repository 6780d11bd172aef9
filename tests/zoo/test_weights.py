"""A local weights file either lands in every kernel of the backbone or stops the command."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from edgekit.errors import WeightsError
from edgekit.zoo import get_backbone
from edgekit.zoo.weights import load_weights_file


def _backbone() -> keras.Model:
    return get_backbone("mobilenetv3small").builder((32, 32, 3), None)


def test_a_file_of_the_same_backbone_loads_every_weight(tmp_path: Path) -> None:
    source = _backbone()
    path = tmp_path / "small.weights.h5"
    source.save_weights(path)
    target = _backbone()

    load_weights_file(target, str(path), "mobilenetv3small")

    for loaded, saved in zip(target.weights, source.weights, strict=True):
        np.testing.assert_array_equal(np.array(loaded), np.array(saved))


def test_a_file_of_another_model_is_refused(tmp_path: Path) -> None:
    inputs = keras.Input((8,))
    other = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    path = tmp_path / "other.weights.h5"
    other.save_weights(path)

    with pytest.raises(WeightsError, match=r"could not load weights file .* --weights none"):
        load_weights_file(_backbone(), str(path), "mobilenetv3small")


def test_a_file_keras_skips_silently_is_refused(tmp_path: Path, monkeypatch) -> None:
    # Keras only warns when a file's groups match no layer; edgekit checks the kernels moved.
    target = _backbone()
    path = tmp_path / "skipped.weights.h5"
    target.save_weights(path)
    monkeypatch.setattr(target, "load_weights", lambda _path: None)

    with pytest.raises(WeightsError, match=r"left \d+ of \d+ kernels of mobilenetv3small"):
        load_weights_file(target, str(path), "mobilenetv3small")
