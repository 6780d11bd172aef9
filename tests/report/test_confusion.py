"""The confusion-matrix picture copes with any class name."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from edgekit.report.confusion import plot_confusion_matrix


def test_plot_writes_a_png_even_for_names_with_markup(tmp_path: Path) -> None:
    names = ["$x^2$ leaf", "[bold]rust[/]", "a_b", "Gray Leaf Spot"]
    matrix = [[5, 1, 0, 0], [0, 6, 0, 0], [1, 0, 4, 1], [0, 0, 0, 7]]

    path = plot_confusion_matrix(matrix, names, tmp_path / "cm.png", "test $split$")

    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width > 300 and image.height > 300
