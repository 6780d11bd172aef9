"""The confusion-matrix picture logged with every training run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def plot_confusion_matrix(
    matrix: Sequence[Sequence[int]], class_names: Sequence[str], path: Path, title: str
) -> Path:
    """Counts in each cell, rows shaded by recall so a weak class stands out at a glance."""
    # A Figure of its own, not pyplot: no global backend switch, nothing left open.
    from matplotlib.figure import Figure

    counts = np.asarray(matrix, dtype=float)
    row_share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 1.2 + 0.9 * len(class_names)
    figure = Figure(figsize=(size + 1.5, size), layout="tight")
    axes = figure.add_subplot()
    image = axes.imshow(row_share, cmap="Blues", vmin=0, vmax=1)
    for (row, col), value in np.ndenumerate(counts):
        colour = "white" if row_share[row, col] > 0.5 else "black"
        axes.text(col, row, f"{int(value)}", ha="center", va="center", color=colour)

    # Class names are user data: '$' must not switch matplotlib into maths mode.
    ticks = range(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=30, ha="right", parse_math=False)
    axes.set_yticks(ticks, class_names, parse_math=False)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title, parse_math=False)
    figure.colorbar(image, ax=axes, label="share of the true class")
    figure.savefig(path, dpi=120)
    return path
