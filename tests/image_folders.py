"""Tiny image folders with every trap of the real corn dataset, for tests and fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy")

# One colour per class so a tiny model can tell them apart after an epoch or two.
CLASS_COLOURS = {
    "Blight": (170, 120, 60),
    "Common_Rust": (150, 60, 30),
    "Gray_Leaf_Spot": (120, 120, 120),
    "Healthy": (40, 160, 50),
}


def _image(class_name: str, rng: np.random.Generator, size: int) -> Image.Image:
    colour = CLASS_COLOURS.get(class_name, (int(rng.integers(256)), 128, 64))
    base = np.array(colour, dtype=np.int16)
    noise = rng.integers(-25, 26, size=(size, size, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def make_image_folder(
    root: Path, per_class: int = 12, size: int = 40, classes=CLASSES, seed: int = 0
) -> Path:
    """Write an image folder whose files include every trap of the real dataset.

    Per class: `per_class` plain JPEGs (one with spaces and parentheses in its name). Also a PNG
    with alpha named `.jpg`, a CMYK JPEG, an MPO named `.jpg`, a `.JPG` upper-case file, a stray
    text file in the root and a non-image file in a class folder.
    """
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for class_name in classes:
        folder = root / class_name
        folder.mkdir(exist_ok=True)
        for index in range(per_class):
            name = f"{class_name} ({index}).jpg" if index == 0 else f"img_{index:03d}.jpg"
            _image(class_name, rng, size).save(folder / name, "JPEG", quality=92)

    first, second = classes[0], classes[1 % len(classes)]
    _image(first, rng, size).convert("RGBA").save(root / first / "rgba png.jpg", "PNG")
    _image(second, rng, size).convert("CMYK").save(root / second / "cmyk (1).jpg", "JPEG")
    frames = [_image(first, rng, size), _image(first, rng, size)]
    frames[0].save(root / first / "mpo.jpg", "MPO", save_all=True, append_images=frames[1:])
    _image(second, rng, size).save(root / second / "UPPER.JPG", "JPEG")
    (root / "README.txt").write_text("stray file in the root\n")
    (root / first / "notes.txt").write_text("not an image\n")
    return root
