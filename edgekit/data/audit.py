"""Auditing an image-folder dataset before training: counts, broken files, duplicates, sizes."""

from __future__ import annotations

import hashlib
import io
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from edgekit.data.images import (
    DECODE_ERRORS,
    EXTENSION_FORMATS,
    ImageFile,
    describe_decode_error,
    list_dataset,
)
from edgekit.data.split import MIN_IMAGES_PER_CLASS
from edgekit.errors import ConfigError

logger = logging.getLogger(__name__)

# How many of the most common image sizes the audit keeps; the rest only count in num_sizes.
NUM_COMMON_SIZES = 5


@dataclass(frozen=True)
class UndecodableFile:
    """A file with an image extension that Pillow cannot fully decode."""

    relpath: str
    reason: str


@dataclass(frozen=True)
class ExtensionMismatch:
    """A file whose content is another format than its extension promises."""

    relpath: str
    extension: str
    actual_format: str


@dataclass(frozen=True)
class DuplicateGroup:
    """Files with byte-identical content; across classes they are contradicting labels."""

    sha256: str
    relpaths: tuple[str, ...]
    class_names: tuple[str, ...]

    @property
    def cross_class(self) -> bool:
        return len(set(self.class_names)) > 1


@dataclass(frozen=True)
class SizeCount:
    """How many decodable images have one (width, height)."""

    width: int
    height: int
    count: int


@dataclass(frozen=True)
class SizeSpread:
    """The spread of image sizes (in pixels) over the decodable images."""

    num_sizes: int
    min_width: int | None
    max_width: int | None
    min_height: int | None
    max_height: int | None
    most_common: tuple[SizeCount, ...]


@dataclass(frozen=True)
class DatasetAudit:
    """What `audit_dataset` found; `problems` lists what makes training impossible."""

    root: Path
    class_counts: dict[str, int]
    # None when a class is empty: the ratio is undefined and `problems` already says why.
    imbalance_ratio: float | None
    undecodable: tuple[UndecodableFile, ...]
    mismatched: tuple[ExtensionMismatch, ...]
    duplicates: tuple[DuplicateGroup, ...]
    sizes: SizeSpread
    modes: dict[str, int]
    formats: dict[str, int]
    ignored: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def num_images(self) -> int:
        return sum(self.class_counts.values())

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: paths as strings, tuples as lists, cross-class flags spelled out."""
        data = asdict(self)
        data["root"] = str(self.root)
        data["num_images"] = self.num_images
        data["duplicates"] = [
            {**asdict(group), "cross_class": group.cross_class} for group in self.duplicates
        ]
        return data


@dataclass(frozen=True)
class _FileFacts:
    """What one read of a file tells: its hash, and what Pillow made of its content."""

    sha256: str
    format: str | None
    size: tuple[int, int] | None
    mode: str | None
    error: str | None


def audit_dataset(
    root: str | Path,
    *,
    num_workers: int = 4,
    on_progress: Callable[[int], None] | None = None,
) -> DatasetAudit:
    """Read every image of the dataset at `root` once and report what would hurt training.

    Raises DatasetError when `root` is not a folder. `on_progress(1)` is called per file.
    """
    if num_workers < 1:
        raise ConfigError(f"num_workers must be at least 1, got {num_workers}; pass 1 or more")
    listing = list_dataset(root)
    logger.info(
        "checking %d images in %d classes under %s",
        len(listing.files),
        len(listing.class_names),
        listing.root,
    )

    # Pillow and hashlib release the GIL on large buffers, so threads overlap I/O and decoding.
    with ThreadPoolExecutor(max_workers=num_workers) as pool:
        facts = []
        for fact in pool.map(_inspect, listing.files):
            facts.append(fact)
            if on_progress is not None:
                on_progress(1)

    class_counts = {name: listing.count(name) for name in listing.class_names}
    decodable = [fact for fact in facts if fact.error is None]
    return DatasetAudit(
        root=listing.root,
        class_counts=class_counts,
        imbalance_ratio=_imbalance_ratio(class_counts),
        undecodable=tuple(
            UndecodableFile(file.relpath, fact.error)
            for file, fact in zip(listing.files, facts, strict=True)
            if fact.error is not None
        ),
        mismatched=_mismatches(listing.files, facts),
        duplicates=_duplicates(listing.files, facts),
        sizes=_size_spread([fact.size for fact in decodable if fact.size is not None]),
        modes=dict(Counter(fact.mode for fact in decodable if fact.mode).most_common()),
        formats=dict(Counter(fact.format for fact in decodable if fact.format).most_common()),
        ignored=listing.ignored,
        problems=_problems(listing.root, class_counts, listing.files, facts),
    )


def _inspect(file: ImageFile) -> _FileFacts:
    # One read: the same bytes are hashed and decoded, so a big folder is read from disk once.
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        return _FileFacts("", None, None, None, f"cannot read: {exc.strerror}")
    digest = hashlib.sha256(data).hexdigest()

    image_format = size = mode = None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, size, mode = image.format, image.size, image.mode
            # Headers can be fine while the pixel data is truncated; only a full load tells.
            image.load()
    except DECODE_ERRORS as exc:
        logger.debug("cannot decode %s: %s", file.relpath, exc)
        return _FileFacts(digest, image_format, size, mode, describe_decode_error(exc))
    return _FileFacts(digest, image_format, size, mode, None)


def _imbalance_ratio(class_counts: dict[str, int]) -> float | None:
    counts = list(class_counts.values())
    if not counts or min(counts) == 0:
        return None
    return max(counts) / min(counts)


def _mismatches(
    files: Sequence[ImageFile], facts: Sequence[_FileFacts]
) -> tuple[ExtensionMismatch, ...]:
    mismatched = []
    for file, fact in zip(files, facts, strict=True):
        extension = file.path.suffix.lower()
        # An unidentified format is reported as undecodable, not as a mismatch.
        if fact.format is not None and fact.format not in EXTENSION_FORMATS[extension]:
            mismatched.append(ExtensionMismatch(file.relpath, extension, fact.format))
    return tuple(mismatched)


def _duplicates(
    files: Sequence[ImageFile], facts: Sequence[_FileFacts]
) -> tuple[DuplicateGroup, ...]:
    by_hash: dict[str, list[ImageFile]] = defaultdict(list)
    for file, fact in zip(files, facts, strict=True):
        if fact.sha256:  # unreadable files have no hash and are reported as undecodable
            by_hash[fact.sha256].append(file)

    groups = [
        DuplicateGroup(digest, tuple(f.relpath for f in group), tuple(f.class_name for f in group))
        for digest, group in by_hash.items()
        if len(group) > 1
    ]
    return tuple(sorted(groups, key=lambda group: group.relpaths))


def _size_spread(sizes: Sequence[tuple[int, int]]) -> SizeSpread:
    if not sizes:
        return SizeSpread(0, None, None, None, None, ())
    widths = [width for width, _ in sizes]
    heights = [height for _, height in sizes]
    counts = Counter(sizes)
    most_common = tuple(SizeCount(w, h, n) for (w, h), n in counts.most_common(NUM_COMMON_SIZES))
    return SizeSpread(
        len(counts), min(widths), max(widths), min(heights), max(heights), most_common
    )


def _problems(
    root: Path,
    class_counts: dict[str, int],
    files: Sequence[ImageFile],
    facts: Sequence[_FileFacts],
) -> tuple[str, ...]:
    problems = []
    if len(class_counts) < 2:
        found = ", ".join(f"'{name}'" for name in class_counts) or "none"
        problems.append(
            f"training needs at least 2 class folders, found {len(class_counts)} ({found}) "
            f"under '{root}'; add one sub-folder of images per class"
        )

    decodable = Counter(
        file.class_name for file, fact in zip(files, facts, strict=True) if fact.error is None
    )
    for name, count in class_counts.items():
        if count == 0:
            problems.append(
                f"class folder '{name}' holds no images; every class needs at least "
                f"{MIN_IMAGES_PER_CLASS} ({', '.join(sorted(EXTENSION_FORMATS))}); add images or "
                "remove the folder"
            )
        elif decodable[name] < MIN_IMAGES_PER_CLASS:
            problems.append(
                f"class folder '{name}' holds {decodable[name]} decodable image(s) of {count}; "
                f"training needs at least {MIN_IMAGES_PER_CLASS} per class (one each for train, "
                "val and test): add readable images or remove the folder"
            )
    return tuple(problems)
