"""The train/val/test split: stratified, seeded, and never splitting byte-identical files."""

from __future__ import annotations

import csv
import io
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.data.images import ImageFile
from edgekit.errors import DatasetError

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")

# One image for each part: fewer and a class has no test image, so its recall is undefined.
MIN_IMAGES_PER_CLASS = 3
MANIFEST_COLUMNS = ("relpath", "class_name", "split", "sha256")


@dataclass(frozen=True)
class SplitEntry:
    """One row of the split manifest."""

    relpath: str
    class_name: str
    split: str
    sha256: str


@dataclass(frozen=True)
class Split:
    """The split manifest: every image, its class and the part of the split it belongs to."""

    entries: tuple[SplitEntry, ...]

    def part(self, name: str) -> tuple[SplitEntry, ...]:
        return tuple(e for e in self.entries if e.split == name)

    def sizes(self) -> dict[str, int]:
        return {name: len(self.part(name)) for name in SPLITS}

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for e in self.entries:
            writer.writerow((e.relpath, e.class_name, e.split, e.sha256))
        return buffer.getvalue()

    @classmethod
    def from_csv(cls, path: Path) -> Split:
        with open(path, newline="") as stream:
            rows = list(csv.DictReader(stream))
        return cls(tuple(SplitEntry(**{k: row[k] for k in MANIFEST_COLUMNS}) for row in rows))


def split_dataset(
    files: Sequence[ImageFile],
    hashes: Sequence[str],
    *,
    fractions: tuple[float, float, float] = (0.70, 0.15, 0.15),
    seed: int = 42,
) -> Split:
    """Assign every file to train, val or test, class by class.

    Byte-identical files form one group and go to the same part together, so no test image
    has a copy in train. A group whose copies sit under different classes (label noise) is
    counted with the first of its classes. Given the same files, hashes and seed, the result is
    the same on every machine.
    """
    if len(files) != len(hashes):
        raise ValueError(f"{len(files)} files but {len(hashes)} hashes")
    if abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) < 0:
        raise DatasetError(f"split fractions {fractions} must be >= 0 and sum to 1")

    groups: dict[str, list[int]] = defaultdict(list)
    for index, digest in enumerate(hashes):
        groups[digest].append(index)
    by_class: dict[str, list[str]] = defaultdict(list)
    for digest, members in groups.items():
        by_class[min(files[i].class_name for i in members)].append(digest)

    rng = np.random.default_rng(seed)
    part_of: dict[str, str] = {}
    for class_name in sorted(by_class):
        digests = sorted(by_class[class_name], key=lambda d: files[groups[d][0]].relpath)
        order = rng.permutation(len(digests))
        for rank, position in enumerate(order):
            part_of[digests[position]] = _part_for_rank(rank, len(digests), fractions)

    entries = tuple(
        SplitEntry(f.relpath, f.class_name, part_of[h], h)
        for f, h in zip(files, hashes, strict=True)
    )
    _warn_cross_class_duplicates(groups, files)
    return Split(entries)


def _part_for_rank(rank: int, count: int, fractions: tuple[float, float, float]) -> str:
    """Test first, then val, then train, so small classes still get one test image."""
    num_test = _share(count, fractions[2])
    num_val = _share(count - num_test, fractions[1] / max(fractions[0] + fractions[1], 1e-9))
    if rank < num_test:
        return "test"
    if rank < num_test + num_val:
        return "val"
    return "train"


def _share(count: int, fraction: float) -> int:
    """Round `count * fraction`, but keep at least one when the fraction is not zero."""
    if fraction <= 0 or count < 3:
        return 0 if fraction <= 0 or count < 2 else 1
    return max(1, round(count * fraction))


def _warn_cross_class_duplicates(groups: dict[str, list[int]], files: Sequence[ImageFile]) -> None:
    for members in groups.values():
        classes = {files[i].class_name for i in members}
        if len(classes) > 1:
            names = ", ".join(files[i].relpath for i in members)
            logger.warning("identical files under different classes (kept together): %s", names)
