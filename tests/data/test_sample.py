"""The sample dataset shipped in the package: shape, size, the kept trap and decodability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekit.data.images import decode_rgb, list_dataset, sha256_file
from edgekit.data.sample import sample_dataset_path

CLASSES = ("Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy")
MAX_TOTAL_BYTES = 3 * 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sample_files() -> list[Path]:
    return sorted(p for p in sample_dataset_path().rglob("*") if p.is_file())


def test_sample_has_four_classes_of_forty_images() -> None:
    listing = list_dataset(sample_dataset_path())

    assert listing.class_names == CLASSES
    assert [listing.count(name) for name in CLASSES] == [40, 40, 40, 40]
    assert listing.ignored == ()


def test_sample_files_match_the_package_data_glob(sample_files: list[Path]) -> None:
    # pyproject ships "sample/*/*"; a file deeper or shallower would be left out of the wheel.
    assert sample_files
    assert all(len(p.relative_to(sample_dataset_path()).parts) == 2 for p in sample_files)


def test_sample_is_at_most_three_mb(sample_files: list[Path]) -> None:
    assert sum(p.stat().st_size for p in sample_files) <= MAX_TOTAL_BYTES


def test_sample_keeps_a_png_named_jpg(sample_files: list[Path]) -> None:
    png_named_jpg = [
        p
        for p in sample_files
        if p.suffix.lower() == ".jpg" and p.read_bytes()[:8] == PNG_SIGNATURE
    ]

    assert png_named_jpg


def test_sample_has_no_image_under_two_classes(sample_files: list[Path]) -> None:
    classes_by_hash: dict[str, set[str]] = {}
    for path in sample_files:
        classes_by_hash.setdefault(sha256_file(path), set()).add(path.parent.name)

    assert all(len(classes) == 1 for classes in classes_by_hash.values())


def test_every_sample_file_decodes_to_rgb_uint8(sample_files: list[Path]) -> None:
    for path in sample_files:
        pixels = decode_rgb(path)

        assert pixels.dtype == np.uint8, path
        assert pixels.ndim == 3 and pixels.shape[2] == 3, path
