"""The classifier edgekit saves: its head, its metadata and what is left out of it."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest

from edgekit.errors import ModelError, WeightsError
from edgekit.train.model import (
    BYTES_PER_MB,
    build_classifier,
    read_model_metadata,
    save_model,
    set_batchnorm_momentum,
)


@pytest.fixture(scope="module")
def classifier():
    return build_classifier(
        "mobilenetv3small", 4, (32, 32), weights=None, dropout=0.3, fine_tune=True
    )


def test_head_is_dropout_then_softmax_over_the_classes(classifier) -> None:
    model = classifier.model

    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 4)
    assert model.get_layer("head_dropout").rate == 0.3
    assert model.get_layer("predictions").activation.__name__ == "softmax"


def test_backbone_size_is_fp32_bytes_of_backbone_weights(classifier) -> None:
    head_params = classifier.model.get_layer("predictions").count_params()

    assert classifier.backbone_params == classifier.model.count_params() - head_params
    assert classifier.backbone_size_mb == classifier.backbone_params * 4 / BYTES_PER_MB


def test_saved_model_carries_class_order_and_loads_in_keras(classifier, tmp_path: Path) -> None:
    metadata = {"class_names": ["b", "a", "c", "d"], "preprocessing": {"size": [32, 32]}}

    path = save_model(classifier.model, tmp_path / "m.keras", metadata)
    loaded = keras.saving.load_model(path)

    assert read_model_metadata(path) == metadata
    assert loaded.output_shape == (None, 4)
    assert not list(tmp_path.glob("*.partial.keras"))


def test_metadata_of_a_foreign_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x.keras").write_bytes(b"nope")

    with pytest.raises(ModelError, match=r"not a \.keras file saved by edgekit"):
        read_model_metadata(tmp_path / "x.keras")


def test_batchnorm_momentum_reaches_every_batchnorm_layer(classifier) -> None:
    changed = set_batchnorm_momentum(classifier.model, 0.9)
    norms = [x for x in classifier.model.layers if isinstance(x, keras.layers.BatchNormalization)]

    assert changed == len(norms) > 10
    assert {x.momentum for x in norms} == {0.9}


def test_missing_weights_file_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="does not exist; pass --weights imagenet, none"):
        build_classifier(
            "mobilenetv3small",
            4,
            (32, 32),
            weights=str(tmp_path / "w.h5"),
            dropout=0.2,
            fine_tune=True,
        )


def test_unknown_model_lists_the_registered_ones() -> None:
    with pytest.raises(ModelError, match=r"expected one of efficientnet-lite0, .*, pmvt$"):
        build_classifier("resnet9000", 4, (32, 32), weights=None, dropout=0.2, fine_tune=True)
