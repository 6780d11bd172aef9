"""Preparing a dataset: refusals that name the class and the rule, and what is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from image_folders import make_image_folder

from edgekit.data.dataset import prepare_dataset
from edgekit.errors import DatasetError


def test_a_class_too_small_for_three_parts_is_refused(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "corn", per_class=4, classes=("Blight", "Healthy"))
    for image in sorted((data / "Healthy").iterdir())[2:]:
        image.unlink()

    with pytest.raises(DatasetError, match=r"at least 3 images .* Healthy \(2\)"):
        prepare_dataset(data, (16, 16))


def test_every_class_has_an_image_in_every_part(tmp_path: Path) -> None:
    data = make_image_folder(tmp_path / "corn", per_class=3, classes=("a", "b", "c"))

    prepared = prepare_dataset(data, (16, 16), seed=5)

    for part in ("train", "val", "test"):
        assert set(prepared.parts[part].labels.tolist()) == {0, 1, 2}, part
    assert prepared.preprocessing["size"] == [16, 16]
    assert "EXIF orientation applied" in prepared.preprocessing["decode"]
