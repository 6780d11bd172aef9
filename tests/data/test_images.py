"""Decoding every kind of file the real dataset holds into RGB, whatever its extension says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgekit.data.images import ImageDecodeError, decode_images, decode_rgb, list_dataset


@pytest.mark.parametrize(
    "relpath", ["Blight/rgba png.jpg", "Common_Rust/cmyk (1).jpg", "Blight/mpo.jpg"]
)
def test_awkward_files_decode_to_rgb_uint8(image_folder: Path, relpath: str) -> None:
    pixels = decode_rgb(image_folder / relpath, (32, 24))

    assert pixels.shape == (32, 24, 3)
    assert pixels.dtype == np.uint8


def test_cmyk_jpeg_keeps_its_colour(image_folder: Path) -> None:
    # Common_Rust is drawn reddish-brown; a wrong CMYK conversion inverts or greys it out.
    red, green, blue = decode_rgb(image_folder / "Common_Rust/cmyk (1).jpg").mean(axis=(0, 1))

    assert red > green + 40 and red > blue + 40


def test_listing_sorts_classes_and_ignores_non_images(image_folder: Path) -> None:
    listing = list_dataset(image_folder)

    assert listing.class_names == ("Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy")
    assert "README.txt" in listing.ignored
    assert "Blight/notes.txt" in listing.ignored
    assert "Common_Rust/UPPER.JPG" in {f.relpath for f in listing.files}


def test_undecodable_files_are_set_apart_with_a_reason(image_folder: Path) -> None:
    (image_folder / "Healthy" / "broken.jpg").write_bytes(b"not a jpeg at all")
    listing = list_dataset(image_folder)

    decoded = decode_images(listing.files, (16, 16), num_workers=2)

    assert [f.relpath for f, _ in decoded.failures] == ["Healthy/broken.jpg"]
    assert len(decoded.files) == len(listing.files) - 1
    assert decoded.pixels.shape == (len(decoded.files), 16, 16, 3)
    with pytest.raises(ImageDecodeError, match=r"broken\.jpg"):
        decode_rgb(image_folder / "Healthy" / "broken.jpg")
