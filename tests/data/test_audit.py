"""Tests for the dataset audit behind `edgekit data check`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from image_folders import make_image_folder
from PIL import Image

from edgekit.data.audit import audit_dataset
from edgekit.errors import ConfigError, DatasetError


@pytest.fixture
def small_folder(tmp_path: Path) -> Path:
    # Three plain images per class keep each audit to a few dozen tiny files.
    return make_image_folder(tmp_path / "corn", per_class=3)


def test_counts_images_per_class_and_imbalance_ratio(small_folder: Path) -> None:
    audit = audit_dataset(small_folder)

    # Blight gets the PNG and MPO traps, Common_Rust the CMYK and .JPG ones.
    assert audit.class_counts == {"Blight": 5, "Common_Rust": 5, "Gray_Leaf_Spot": 3, "Healthy": 3}
    assert audit.num_images == 16
    assert audit.imbalance_ratio == pytest.approx(5 / 3)
    assert audit.problems == ()


def test_flags_png_and_mpo_named_jpg_but_not_upper_case_jpg(small_folder: Path) -> None:
    audit = audit_dataset(small_folder)

    found = {(m.relpath, m.extension, m.actual_format) for m in audit.mismatched}
    assert found == {("Blight/rgba png.jpg", ".jpg", "PNG"), ("Blight/mpo.jpg", ".jpg", "MPO")}


def test_reports_colour_modes_formats_and_size_spread(tmp_path: Path) -> None:
    root = make_image_folder(tmp_path / "corn", per_class=2, size=40)
    Image.new("RGB", (64, 48), (40, 160, 50)).save(root / "Healthy" / "wide.jpg", "JPEG")

    audit = audit_dataset(root)

    assert audit.modes == {"RGB": 11, "RGBA": 1, "CMYK": 1}
    assert audit.formats == {"JPEG": 11, "PNG": 1, "MPO": 1}
    assert audit.sizes.num_sizes == 2
    assert (audit.sizes.min_width, audit.sizes.max_width) == (40, 64)
    assert (audit.sizes.min_height, audit.sizes.max_height) == (40, 48)
    assert [(s.width, s.height, s.count) for s in audit.sizes.most_common] == [
        (40, 40, 12),
        (64, 48, 1),
    ]


def test_garbage_and_truncated_files_are_undecodable_not_mismatched(small_folder: Path) -> None:
    (small_folder / "Healthy" / "x.jpg").write_bytes(b"not an image at all" * 10)
    jpeg = (small_folder / "Healthy" / "img_001.jpg").read_bytes()
    # A valid header with half the scan data: only a full decode notices.
    (small_folder / "Healthy" / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])

    audit = audit_dataset(small_folder)

    assert {f.relpath for f in audit.undecodable} == {"Healthy/x.jpg", "Healthy/cut.jpg"}
    assert all(f.reason and " at 0x" not in f.reason for f in audit.undecodable)
    assert "Healthy/x.jpg" not in {m.relpath for m in audit.mismatched}
    assert audit.class_counts["Healthy"] == 5
    assert sum(audit.modes.values()) == 16
    assert audit.problems == ()


def test_finds_duplicates_within_and_across_classes(small_folder: Path) -> None:
    shutil.copy(
        small_folder / "Gray_Leaf_Spot" / "img_001.jpg", small_folder / "Gray_Leaf_Spot" / "dup.jpg"
    )
    shutil.copy(small_folder / "Healthy" / "img_002.jpg", small_folder / "Blight" / "dup.jpg")

    audit = audit_dataset(small_folder)

    groups = {group.relpaths: group.cross_class for group in audit.duplicates}
    assert groups == {
        ("Blight/dup.jpg", "Healthy/img_002.jpg"): True,
        ("Gray_Leaf_Spot/dup.jpg", "Gray_Leaf_Spot/img_001.jpg"): False,
    }
    assert all(len(group.sha256) == 64 for group in audit.duplicates)


def test_lists_ignored_non_images_and_root_files(small_folder: Path) -> None:
    audit = audit_dataset(small_folder)

    assert set(audit.ignored) == {"README.txt", "Blight/notes.txt"}


def test_one_class_is_a_problem(tmp_path: Path) -> None:
    root = make_image_folder(tmp_path / "corn", per_class=2, classes=("Blight",))

    audit = audit_dataset(root)

    assert len(audit.problems) == 1
    assert "at least 2 class folders, found 1 ('Blight')" in audit.problems[0]
    assert not audit.ok


def test_empty_class_is_a_problem_and_leaves_imbalance_undefined(small_folder: Path) -> None:
    (small_folder / "Northern_Leaf_Blight").mkdir()

    audit = audit_dataset(small_folder)

    assert audit.class_counts["Northern_Leaf_Blight"] == 0
    assert audit.imbalance_ratio is None
    assert len(audit.problems) == 1
    assert "'Northern_Leaf_Blight' holds no images" in audit.problems[0]


def test_class_of_only_undecodable_files_is_a_problem(small_folder: Path) -> None:
    (small_folder / "Broken").mkdir()
    (small_folder / "Broken" / "a.jpg").write_bytes(b"garbage")

    audit = audit_dataset(small_folder)

    assert len(audit.problems) == 1
    assert "'Broken' holds 0 decodable image(s) of 1" in audit.problems[0]


def test_reports_progress_once_per_file(small_folder: Path) -> None:
    steps: list[int] = []

    audit = audit_dataset(small_folder, num_workers=2, on_progress=steps.append)

    assert steps == [1] * audit.num_images


def test_to_dict_is_json_with_cross_class_flags(small_folder: Path) -> None:
    shutil.copy(small_folder / "Healthy" / "img_002.jpg", small_folder / "Blight" / "dup.jpg")
    (small_folder / "Empty").mkdir()

    data = json.loads(json.dumps(audit_dataset(small_folder).to_dict(), allow_nan=False))

    assert data["root"] == str(small_folder)
    assert data["imbalance_ratio"] is None
    assert data["class_counts"]["Empty"] == 0
    assert data["duplicates"][0]["cross_class"] is True
    assert data["duplicates"][0]["relpaths"] == ["Blight/dup.jpg", "Healthy/img_002.jpg"]
    assert data["sizes"]["most_common"][0] == {"width": 40, "height": 40, "count": 17}
    assert len(data["problems"]) == 1


def test_missing_folder_raises_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        audit_dataset(tmp_path / "nowhere")


def test_zero_workers_is_a_config_error(small_folder: Path) -> None:
    with pytest.raises(ConfigError, match="num_workers must be at least 1, got 0"):
        audit_dataset(small_folder, num_workers=0)
