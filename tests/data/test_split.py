"""The split: stratified, reproducible, and never separating byte-identical files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from edgekit.data.images import ImageFile
from edgekit.data.split import Split, split_dataset
from edgekit.errors import DatasetError


def _files(counts: dict[str, int]) -> list[ImageFile]:
    return [
        ImageFile(Path(f"/d/{c}/{i}.jpg"), f"{c}/{i}.jpg", c)
        for c, n in counts.items()
        for i in range(n)
    ]


def test_each_class_is_split_70_15_15() -> None:
    files = _files({"a": 100, "b": 40})
    split = split_dataset(files, [f.relpath for f in files], seed=1)

    counts = Counter((e.class_name, e.split) for e in split.entries)
    assert (counts["a", "train"], counts["a", "val"], counts["a", "test"]) == (70, 15, 15)
    assert (counts["b", "train"], counts["b", "val"], counts["b", "test"]) == (28, 6, 6)


def test_same_seed_same_split_other_seed_other_split() -> None:
    files = _files({"a": 50, "b": 50})
    hashes = [f.relpath for f in files]

    first = split_dataset(files, hashes, seed=7)
    again = split_dataset(list(reversed(files)), list(reversed(hashes)), seed=7)
    other = split_dataset(files, hashes, seed=8)

    assert {e.relpath: e.split for e in first.entries} == {
        e.relpath: e.split for e in again.entries
    }
    assert first.entries != other.entries


def test_identical_files_never_straddle_two_parts() -> None:
    files = _files({"a": 30, "b": 30})
    # Every file of class b is a copy of a file of class a: 30 cross-class pairs.
    hashes = [f"h{i % 30}" for i in range(60)]

    split = split_dataset(files, hashes, seed=3)

    part_of_hash: dict[str, set[str]] = {}
    for entry in split.entries:
        part_of_hash.setdefault(entry.sha256, set()).add(entry.split)
    assert all(len(parts) == 1 for parts in part_of_hash.values())


def test_tiny_classes_still_get_a_test_image() -> None:
    files = _files({"a": 3, "b": 8})
    split = split_dataset(files, [f.relpath for f in files], seed=0)

    assert {e.class_name for e in split.part("test")} == {"a", "b"}


def test_manifest_round_trips_through_csv(tmp_path: Path) -> None:
    files = _files({"a (1)": 5, "b, c": 5})
    split = split_dataset(files, [f"sha-{i}" for i in range(10)], seed=0)
    path = tmp_path / "manifest.csv"
    path.write_text(split.to_csv())

    assert Split.from_csv(path) == split
    assert path.read_text().splitlines()[0] == "relpath,class_name,split,sha256"


def test_fractions_must_sum_to_one() -> None:
    files = _files({"a": 5})
    with pytest.raises(DatasetError, match="sum to 1"):
        split_dataset(files, ["x"] * 5, fractions=(0.5, 0.2, 0.2))
