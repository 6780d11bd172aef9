"""The test split as one compact .npz (uint8 pixels + labels) at a model's input size, cached."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgekit.data.images import ImageFile, decode_images
from edgekit.data.split import Split
from edgekit.errors import DatasetError

logger = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "edgekit" / "bench"


def test_arrays_key(split: Split, class_names: tuple[str, ...], size: tuple[int, int]) -> str:
    """Content hash of what the arrays hold: the test images' bytes, class order and size."""
    digest = hashlib.sha256(f"{size[0]}x{size[1]}|{'|'.join(class_names)}".encode())
    for entry in sorted(split.part("test"), key=lambda e: e.relpath):
        digest.update(f"\n{entry.sha256} {entry.class_name}".encode())
    return digest.hexdigest()


def build_test_arrays(
    split: Split,
    data_root: Path,
    class_names: tuple[str, ...],
    size: tuple[int, int],
    cache_dir: Path = DEFAULT_CACHE_DIR,
    on_progress: Callable[[int], None] | None = None,
) -> Path:
    """Decode the test part once per (content, size); later calls return the cached file."""
    key = test_arrays_key(split, class_names, size)
    path = Path(cache_dir) / f"test-{key[:16]}-{size[0]}x{size[1]}.npz"
    if path.exists():
        logger.info("test arrays from cache %s", path)
        return path

    entries = split.part("test")
    unknown = sorted({e.class_name for e in entries} - set(class_names))
    if unknown:
        raise DatasetError(
            f"test split has classes {unknown} the model does not know "
            f"(model classes: {', '.join(class_names)}); bench the exports of this run"
        )
    files = [ImageFile(Path(data_root) / e.relpath, e.relpath, e.class_name) for e in entries]
    missing = [f.relpath for f in files if not f.path.is_file()]
    if missing:
        raise DatasetError(
            f"{len(missing)} test images of the split manifest are missing under '{data_root}' "
            f"(first: '{missing[0]}'); restore the dataset or bench with --no-accuracy"
        )
    decoded = decode_images(files, size, on_progress=on_progress)
    if decoded.failures:
        file, reason = decoded.failures[0]
        raise DatasetError(f"cannot decode test image '{file.relpath}': {reason}")

    labels = np.array([class_names.index(f.class_name) for f in decoded.files], dtype=np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as stream:
        np.savez_compressed(stream, pixels=decoded.pixels, labels=labels)
    os.replace(partial, path)
    logger.info("test arrays: %d images at %dx%d in %s", len(labels), *size, path)
    return path
