"""Image-folder datasets on disk: which file belongs to which class, and decoding files to RGB."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from edgekit.errors import DatasetError

logger = logging.getLogger(__name__)

# Extensions taken as images. Anything else in a class folder is ignored with a note.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})

# The Pillow formats each extension promises; a file whose content differs is flagged.
EXTENSION_FORMATS = {
    ".jpg": {"JPEG"},
    ".jpeg": {"JPEG"},
    ".png": {"PNG"},
    ".bmp": {"BMP"},
    ".gif": {"GIF"},
    ".webp": {"WEBP"},
    ".tif": {"TIFF"},
    ".tiff": {"TIFF"},
}

# NOTE: bilinear in Pillow is area-aware when shrinking, so 3264x2448 field photos and
# 256x256 PlantVillage tiles end up equally smooth. Export and bench must resize the same way.
RESIZE_METHOD = "pillow-bilinear"

# Everything decode_rgb does before the resize, in order, for the saved model's metadata.
DECODE_STEPS = (
    "Pillow decode (first frame of MPO)",
    "JPEG draft: libjpeg DCT scaling to the smallest scale >= the target size",
    "EXIF orientation applied",
    "alpha composited on black; CMYK, P, L and other modes converted to RGB",
)

# What Pillow raises for content it cannot read; anything else is a bug and should surface.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


class ImageDecodeError(DatasetError):
    """A file with an image extension whose content cannot be decoded."""


@dataclass(frozen=True)
class ImageFile:
    """One image of the dataset: where it is and which class its folder names."""

    path: Path
    relpath: str
    class_name: str


@dataclass(frozen=True)
class DatasetListing:
    """The classes and image files of an image-folder dataset, sorted for reproducibility."""

    root: Path
    class_names: tuple[str, ...]
    files: tuple[ImageFile, ...]
    ignored: tuple[str, ...]

    def count(self, class_name: str) -> int:
        return sum(1 for f in self.files if f.class_name == class_name)


def list_dataset(root: str | Path) -> DatasetListing:
    """List the class folders of `root` and the image files under each (recursively).

    Class order is the sorted folder names. Hidden entries are skipped; files in the root and
    files without an image extension are returned in `ignored`, not raised about.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(
            f"dataset folder '{root}' does not exist or is not a folder; expected a "
            "folder that holds one sub-folder per class (folder name = class name)"
        )

    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    ignored = [p.name for p in sorted(root.iterdir()) if p.is_file() and not p.name.startswith(".")]
    files: list[ImageFile] = []
    for class_dir in class_dirs:
        for path in sorted(class_dir.rglob("*")):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                files.append(ImageFile(path, relative.as_posix(), class_dir.name))
            else:
                ignored.append(relative.as_posix())

    return DatasetListing(root, tuple(d.name for d in class_dirs), tuple(files), tuple(ignored))


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode (CMYK, RGBA, P, L, I;16 ...) as 8-bit RGB, upright per its EXIF tag."""
    image = ImageOps.exif_transpose(image)
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Transparent pixels become black rather than whatever colour they happened to store.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def decode_rgb(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode one file, whatever its extension claims, into a uint8 array (H, W, 3).

    `size` is (height, width); when given the image is resized (not cropped) to it.
    """
    try:
        with Image.open(path) as image:
            if size is not None and image.format in ("JPEG", "MPO"):
                # Let libjpeg decode at a reduced scale: big field photos decode ~8x faster.
                image.draft("RGB", (size[1], size[0]))
            rgb = to_rgb(image)
            if size is not None and rgb.size != (size[1], size[0]):
                rgb = rgb.resize((size[1], size[0]), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except DECODE_ERRORS as exc:
        raise ImageDecodeError(f"cannot decode '{path}': {describe_decode_error(exc)}") from exc


def describe_decode_error(exc: Exception) -> str:
    """Pillow's reason without the file object it names ('<_io.BytesIO object at 0x..>')."""
    reason = re.sub(r"\s*<_io\.\w+[^>]*>", "", str(exc)).strip()
    return f"{type(exc).__name__}: {reason}" if reason else type(exc).__name__


@dataclass(frozen=True)
class DecodedImages:
    """Images decoded to one array, with the files that could not be decoded set apart."""

    pixels: np.ndarray
    files: tuple[ImageFile, ...]
    failures: tuple[tuple[ImageFile, str], ...]


def decode_images(
    files: Sequence[ImageFile],
    size: tuple[int, int],
    *,
    num_workers: int = 4,
    on_progress: Callable[[int], None] | None = None,
) -> DecodedImages:
    """Decode and resize `files` once, in threads (Pillow releases the GIL while decoding).

    `on_progress(n)` is called after every file. Undecodable files are returned in
    `failures` with the reason and left out of `pixels` and `files`.
    """

    def decode(file: ImageFile) -> np.ndarray | str:
        try:
            return decode_rgb(file.path, size)
        except ImageDecodeError as exc:
            return str(exc.__cause__ or exc)

    pixels, kept, failures = [], [], []
    with ThreadPoolExecutor(max_workers=num_workers) as pool:
        for file, result in zip(files, pool.map(decode, files), strict=True):
            if isinstance(result, str):
                failures.append((file, result))
            else:
                pixels.append(result)
                kept.append(file)
            if on_progress is not None:
                on_progress(1)

    array = np.stack(pixels) if pixels else np.zeros((0, *size, 3), dtype=np.uint8)
    return DecodedImages(array, tuple(kept), tuple(failures))
