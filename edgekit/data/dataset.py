"""A dataset ready to train on: listed, hashed, decoded once at the model's size, and split."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgekit.data.images import (
    DECODE_STEPS,
    RESIZE_METHOD,
    DatasetListing,
    decode_images,
    list_dataset,
    sha256_file,
)
from edgekit.data.split import MIN_IMAGES_PER_CLASS, SPLITS, Split, split_dataset
from edgekit.errors import DatasetError

logger = logging.getLogger(__name__)

# (step name, total) -> advance(n); the CLI turns it into a progress bar.
ProgressFactory = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True)
class SplitArrays:
    """The decoded pixels (N, H, W, 3) uint8 and integer labels of one part of the split."""

    pixels: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class PreparedDataset:
    """Everything training needs from the data, and what the run must record about it."""

    root: Path
    class_names: tuple[str, ...]
    image_size: tuple[int, int]
    split: Split
    parts: dict[str, SplitArrays]
    undecodable: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...]

    @property
    def preprocessing(self) -> dict:
        """How a raw image becomes model input; export and bench must do the same."""
        return {
            "decode": DECODE_STEPS,
            "color": "RGB",
            "resize": RESIZE_METHOD,
            "size": list(self.image_size),
            "crop": None,
            "pixel_range": [0, 255],
            "dtype": "float32",
            "reference": "edgekit.data.images.decode_rgb(path, size)",
        }


def check_classes(listing: DatasetListing, images: str = "images") -> None:
    """Refuse datasets that cannot be trained on: fewer than two classes or an empty class."""
    if len(listing.class_names) < 2:
        raise DatasetError(
            f"'{listing.root}' has {len(listing.class_names)} class folder(s); training needs at "
            "least 2: put each class's images in a sub-folder named after the class"
        )
    small = [c for c in listing.class_names if listing.count(c) < MIN_IMAGES_PER_CLASS]
    if small:
        counts = ", ".join(f"{c} ({listing.count(c)})" for c in small)
        raise DatasetError(
            f"every class needs at least {MIN_IMAGES_PER_CLASS} {images} (one each for train, "
            f"val and test); in '{listing.root}': {counts}; add images or remove the folder "
            "(run 'edgekit data check' for a full audit)"
        )


def prepare_dataset(
    root: str | Path,
    image_size: tuple[int, int],
    *,
    fractions: tuple[float, float, float] = (0.70, 0.15, 0.15),
    seed: int = 42,
    num_workers: int = 4,
    progress: ProgressFactory | None = None,
) -> PreparedDataset:
    """List, hash, decode and split `root` (one sub-folder per class) at `image_size` (H, W).

    Undecodable files are skipped with one warning and reported in `undecodable`.
    """
    listing = list_dataset(root)
    check_classes(listing)
    check_memory(len(listing.files), image_size)
    progress = progress or (lambda name, total: lambda n: None)

    decoded = decode_images(
        listing.files,
        image_size,
        num_workers=num_workers,
        on_progress=progress("decode", len(listing.files)),
    )
    undecodable = tuple((f.relpath, reason) for f, reason in decoded.failures)
    if undecodable:
        logger.warning(
            "skipped %d undecodable file(s): %s",
            len(undecodable),
            "; ".join(f"{p} ({r})" for p, r in undecodable),
        )
    decodable = DatasetListing(listing.root, listing.class_names, decoded.files, ())
    check_classes(decodable, images="decodable images")

    advance = progress("hash", len(decoded.files))
    with ThreadPoolExecutor(max_workers=num_workers) as pool:
        hashes = list(pool.map(lambda f: (sha256_file(f.path), advance(1))[0], decoded.files))
    split = split_dataset(decoded.files, hashes, fractions=fractions, seed=seed)

    parts = _split_arrays(decoded.pixels, decoded.files, split, listing.class_names)
    logger.info(
        "dataset %s: %d classes, %s",
        listing.root,
        len(listing.class_names),
        ", ".join(f"{name} {len(parts[name])}" for name in SPLITS),
    )
    return PreparedDataset(
        listing.root, listing.class_names, image_size, split, parts, undecodable, listing.ignored
    )


def check_memory(num_images: int, image_size: tuple[int, int]) -> None:
    """Refuse, before any decoding, a dataset whose decoded pixels would not fit in memory."""
    # FIXME: the decoded dataset is held in memory (uint8, plus a copy inside tf.data), which
    # suits datasets of tens of thousands of images; larger ones need a cache on disk
    # (tf.data's file cache). This check can go when that cache exists.
    needed = 2 * num_images * image_size[0] * image_size[1] * 3
    available = _available_memory()
    if available is not None and needed > 0.8 * available:
        raise DatasetError(
            f"{num_images} images at {image_size[0]}x{image_size[1]} need about "
            f"{needed / 2**30:.1f} GiB in memory but {available / 2**30:.1f} GiB are available; "
            "use a smaller --image-size or a subset of the dataset"
        )


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _split_arrays(pixels, files, split: Split, class_names) -> dict[str, SplitArrays]:
    index_of = {name: i for i, name in enumerate(class_names)}
    part_of = {e.relpath: e.split for e in split.entries}
    parts = {}
    for name in SPLITS:
        rows = [i for i, f in enumerate(files) if part_of[f.relpath] == name]
        labels = np.array([index_of[files[i].class_name] for i in rows], dtype=np.int32)
        parts[name] = SplitArrays(pixels[rows], labels)
    return parts
