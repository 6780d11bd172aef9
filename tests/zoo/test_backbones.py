"""Every registered backbone builds at its smallest size, has its published size, and says no
clearly to what it cannot do."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from edgekit.errors import ModelError, WeightsError
from edgekit.zoo import get_backbone, list_backbones
from edgekit.zoo.pmvt import PUBLISHED_NUM_CLASSES
from edgekit.zoo.registry import IMAGENET_CLASSES, MIN_INPUT_SIZE

NEW_FAMILIES = ("efficientnet-lite", "mobilevit", "pmvt")
# MobileNetV3's published counts include a 1x1 conv that Keras builds only with its top (see
# edgekit/zoo/mobilenetv3.py), so only the hand-written families are held to them.
WITH_PUBLISHED_COUNT = [n for n in list_backbones() if n.startswith(NEW_FAMILIES)]

_built: dict[str, keras.Model] = {}


def _smallest(name: str) -> keras.Model:
    """Each backbone is built once per session, at the smallest size its rule allows."""
    if name not in _built:
        spec = get_backbone(name)
        size = max(MIN_INPUT_SIZE, spec.input_multiple)
        _built[name] = spec.build((size, size, 3), None)
    return _built[name]


def _published_head_classes(name: str) -> int:
    return PUBLISHED_NUM_CLASSES if name == "pmvt" else IMAGENET_CLASSES


@pytest.mark.parametrize("name", WITH_PUBLISHED_COUNT)
def test_backbone_builds_at_its_smallest_size_into_a_feature_vector(name: str) -> None:
    spec = get_backbone(name)
    backbone = _smallest(name)

    assert backbone.input_shape[1:] == (*[max(MIN_INPUT_SIZE, spec.input_multiple)] * 2, 3)
    assert backbone.output_shape == (None, spec.num_features)
    # What `edgekit models` shows without building anything.
    assert backbone.count_params() == spec.backbone_params


@pytest.mark.parametrize("name", ["efficientnet-lite0", "mobilevit-xxs", "pmvt"])
def test_one_model_per_family_runs_on_pixels_in_0_255(name: str) -> None:
    backbone = _smallest(name)
    batch = np.random.default_rng(0).uniform(0, 255, (2, *backbone.input_shape[1:]))

    out = np.asarray(backbone(batch.astype("float32"), training=False))

    assert out.shape == (2, backbone.output_shape[-1])
    assert np.isfinite(out).all() and out.std() > 0


@pytest.mark.parametrize("name", WITH_PUBLISHED_COUNT)
def test_parameter_count_is_within_two_percent_of_the_published_one(name: str) -> None:
    spec = get_backbone(name)
    backbone = _smallest(name)
    features = backbone.output_shape[-1]
    classes = _published_head_classes(name)

    with_head = backbone.count_params() + features * classes + classes

    assert with_head == pytest.approx(spec.published_params, rel=0.02), with_head


def test_parameter_count_does_not_depend_on_the_input_size() -> None:
    spec = get_backbone("pmvt")

    at_published_size = spec.build((spec.default_size, spec.default_size, 3), None)

    assert at_published_size.count_params() == _smallest("pmvt").count_params()


@pytest.mark.parametrize(("name", "size"), [("mobilevit-xs", 96), ("pmvt", 160)])
def test_mobilevit_sizes_off_the_patch_grid_are_refused_with_the_rule(name, size) -> None:
    with pytest.raises(ModelError, match=rf"divisible by 64; got {size}x{size}; pass e.g. --image"):
        get_backbone(name).build((size, size, 3), None)


@pytest.mark.parametrize("name", ["efficientnet-lite2", "mobilevit-xs", "pmvt"])
def test_imagenet_weights_where_none_exist_name_both_ways_out(name: str) -> None:
    with pytest.raises(WeightsError, match=r"--weights none.*--weights PATH"):
        get_backbone(name).build((64, 64, 3), "imagenet")


def test_a_saved_backbone_file_loads_back_into_a_new_family(tmp_path: Path) -> None:
    source = _smallest("mobilevit-xxs")
    path = tmp_path / "xxs.weights.h5"
    source.save_weights(path)

    target = get_backbone("mobilevit-xxs").build(source.input_shape[1:], str(path))

    for loaded, saved in zip(target.weights, source.weights, strict=True):
        np.testing.assert_array_equal(np.array(loaded), np.array(saved))
