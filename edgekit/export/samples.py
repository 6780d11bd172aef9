"""The images an export is calibrated and checked on, rebuilt from the run's own split.

Both sets come from the split manifest of the training run and go through the training
preprocessing (`decode_rgb` at the model's size, float32 pixels in [0, 255]), so the int8
ranges and the parity numbers describe the inputs the model was trained for.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.data.images import ImageFile, decode_images
from edgekit.data.split import Split
from edgekit.errors import DatasetError
from edgekit.export.manifest import Calibration

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledImages:
    """Decoded float32 pixels (N, H, W, 3) in [0, 255], their labels and relative paths."""

    pixels: np.ndarray
    labels: np.ndarray
    relpaths: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def stratified_sample(split: Split, part: str, size: int, seed: int) -> tuple[str, ...]:
    """`size` relpaths of `part`, spread over classes in proportion to their counts.

    Every class gets at least one image when `size` allows; the pick is seeded, and
    sorted so that the same arguments give the same set on every machine.
    """
    entries = sorted(split.part(part), key=lambda e: e.relpath)
    by_class: dict[str, list[str]] = {}
    for entry in entries:
        by_class.setdefault(entry.class_name, []).append(entry.relpath)
    if size >= len(entries):
        return tuple(e.relpath for e in entries)

    quotas = _quotas({name: len(paths) for name, paths in by_class.items()}, size)
    rng = np.random.default_rng(seed)
    picked: list[str] = []
    for name in sorted(by_class):
        paths = by_class[name]
        picked.extend(paths[i] for i in sorted(rng.choice(len(paths), quotas[name], False)))
    return tuple(sorted(picked))


def _quotas(counts: dict[str, int], size: int) -> dict[str, int]:
    """Largest-remainder shares of `size`, with one per class first when size allows."""
    total = sum(counts.values())
    floor = 1 if size >= len(counts) else 0
    quotas = {name: min(count, floor) for name, count in counts.items()}
    left = size - sum(quotas.values())
    exact = {name: left * count / total for name, count in counts.items()}
    for name in counts:
        quotas[name] = min(counts[name], quotas[name] + int(exact[name]))
    by_remainder = sorted(counts, key=lambda n: (-(exact[n] - int(exact[n])), n))
    for name in by_remainder:
        if sum(quotas.values()) >= size:
            break
        if quotas[name] < counts[name]:
            quotas[name] += 1
    return quotas


def load_images(
    root: Path,
    split: Split,
    relpaths: tuple[str, ...],
    class_names: tuple[str, ...],
    image_size: tuple[int, int],
    *,
    on_progress: Callable[[int], None] | None = None,
    num_workers: int = 4,
) -> LabelledImages:
    """Decode `relpaths` under `root` exactly as training did; refuse missing files."""
    class_of = {e.relpath: e.class_name for e in split.entries}
    files = [ImageFile(Path(root) / p, p, class_of[p]) for p in relpaths]
    missing = [f.relpath for f in files if not f.path.is_file()]
    if missing:
        raise DatasetError(
            f"{len(missing)} image(s) of the run's split manifest are missing under '{root}' "
            f"(first: {missing[0]}); pass --data with the dataset the run was trained on"
        )

    decoded = decode_images(files, image_size, num_workers=num_workers, on_progress=on_progress)
    for file, reason in decoded.failures:
        logger.warning("skipped undecodable %s: %s", file.relpath, reason)
    index_of = {name: i for i, name in enumerate(class_names)}
    labels = np.array([index_of[f.class_name] for f in decoded.files], dtype=np.int64)
    kept = tuple(f.relpath for f in decoded.files)
    return LabelledImages(decoded.pixels.astype(np.float32), labels, kept)


def describe_calibration(images: LabelledImages, class_names: tuple[str, ...], seed: int):
    """The manifest's record of a calibration set: counts per class and a digest of paths."""
    counts = np.bincount(images.labels, minlength=len(class_names))
    digest = hashlib.sha256("\n".join(images.relpaths).encode()).hexdigest()
    return Calibration(
        split="train",
        num_images=len(images),
        num_by_class={name: int(c) for name, c in zip(class_names, counts, strict=True)},
        seed=seed,
        relpaths_sha256=digest,
    )


def recompute_split(root: Path, seed: int = 42) -> Split:
    """The split `edgekit train` makes of `root` with `seed` (default fractions).

    It matches the training split only when every file decodes (training splits the
    decodable files); the run's own split manifest is the exact record.
    """
    from edgekit.data.images import list_dataset, sha256_file
    from edgekit.data.split import split_dataset

    logger.warning(
        "no split manifest given: recomputing the split of %s with seed %d; pass "
        "--split-manifest with the run's data/split_manifest.csv to use the exact one",
        root,
        seed,
    )
    listing = list_dataset(root)
    hashes = [sha256_file(f.path) for f in listing.files]
    return split_dataset(listing.files, hashes, seed=seed)
