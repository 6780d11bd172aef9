"""Maintainer tool that regenerates the sample dataset shipped in `edgekit/data/sample`.

`edgekit train` falls back to that sample when `--data` is not given, so the README's main
command runs anywhere in a few minutes. Regenerate it from the full corn dataset with

    python -m edgekit.data.make_sample /path/to/corn-maize-leaf-disease edgekit/data/sample

The pick is deterministic: per class, evenly spaced files from the sorted listing, skipping
images that appear byte-identical under two classes. Images are shrunk to a longest side of
128 px and re-encoded as RGB JPEG under their original names, except `KEEP_AS_PNG`.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageOps

from edgekit.data.images import ImageFile, list_dataset, sha256_file, to_rgb

NUM_PER_CLASS = 40
MAX_SIDE_PX = 128
JPEG_QUALITY = 85

# NOTE: the real dataset has RGBA PNGs named .jpg. One stays a PNG with alpha under its .jpg
# name so every run on the sample meets that trap, not only runs on the full dataset.
KEEP_AS_PNG = frozenset({"Common_Rust/Corn_Common_Rust (1275).jpg"})


def cross_class_duplicates(files: Sequence[ImageFile]) -> set[str]:
    """Relpaths of files whose bytes also appear under another class: label noise to skip."""
    classes_by_hash: dict[str, set[str]] = defaultdict(set)
    relpaths_by_hash: dict[str, list[str]] = defaultdict(list)
    for file in files:
        digest = sha256_file(file.path)
        classes_by_hash[digest].add(file.class_name)
        relpaths_by_hash[digest].append(file.relpath)

    return {
        relpath
        for digest, classes in classes_by_hash.items()
        if len(classes) > 1
        for relpath in relpaths_by_hash[digest]
    }


def pick_files(files: Sequence[ImageFile], num: int, skip: set[str]) -> list[ImageFile]:
    """The `KEEP_AS_PNG` files of this class plus evenly spaced others, `num` in all."""
    forced = [f for f in files if f.relpath in KEEP_AS_PNG]
    rest = [f for f in files if f.relpath not in KEEP_AS_PNG and f.relpath not in skip]
    num_rest = num - len(forced)
    if len(rest) < num_rest:
        raise SystemExit(f"need {num_rest} usable images per class, found {len(rest)}")

    spaced = [rest[i * len(rest) // num_rest] for i in range(num_rest)]
    return sorted(forced + spaced, key=lambda f: f.relpath)


def write_small(file: ImageFile, dest: Path) -> None:
    """Shrink one image to `MAX_SIDE_PX` and save it under its original name in `dest`."""
    target = dest / file.relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(file.path) as image:
        if file.relpath in KEEP_AS_PNG:
            small = ImageOps.exif_transpose(image)
            small.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
            small.save(target, format="PNG", optimize=True)
            return
        small = to_rgb(image)
        small.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
        small.save(target, format="JPEG", quality=JPEG_QUALITY, optimize=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m edgekit.data.make_sample", description=__doc__)
    parser.add_argument("src", type=Path, help="the full image-folder dataset")
    parser.add_argument("dest", type=Path, help="where to write the sample; must be empty")
    parser.add_argument("--num-per-class", type=int, default=NUM_PER_CLASS)
    args = parser.parse_args(argv)
    if args.dest.exists() and any(args.dest.iterdir()):
        # Stale files from an earlier pick would ship silently, so start from nothing.
        parser.error(f"destination '{args.dest}' is not empty; remove it first")

    listing = list_dataset(args.src)
    skip = cross_class_duplicates(listing.files)
    for class_name in listing.class_names:
        class_files = [f for f in listing.files if f.class_name == class_name]
        for file in pick_files(class_files, args.num_per_class, skip):
            write_small(file, args.dest)

    print(f"wrote {args.num_per_class} images x {len(listing.class_names)} classes to {args.dest}")


if __name__ == "__main__":
    main()
