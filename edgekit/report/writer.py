"""Writes a whole report folder: the tables as CSV and Markdown, the PNG charts, the HTML page."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from edgekit.report.atomic import write_text
from edgekit.report.figures import (
    History,
    latency_trade_off,
    parallel_axes,
    size_trade_off,
    training_curves,
)
from edgekit.report.html import Page, write_html_report
from edgekit.report.plots import plot_parallel_coordinates, plot_trade_off, plot_training_curves
from edgekit.report.table import (
    Comparison,
    measurement_table,
    measurements_to_csv,
    model_table,
    to_csv,
    to_markdown,
)

SCATTER_PNG = "size_vs_accuracy.png"
HTML_PAGE = "report.html"

Advance = Callable[[int], None]


@dataclass(frozen=True)
class ReportFiles:
    """What was written, and the one-line notes about charts that could not be drawn yet."""

    folder: Path
    files: tuple[Path, ...]
    notes: tuple[str, ...]

    @property
    def scatter_png(self) -> Path:
        return self.folder / SCATTER_PNG

    @property
    def html_page(self) -> Path:
        return self.folder / HTML_PAGE


def report_notes(comparison: Comparison) -> list[str]:
    """One line per missing kind of result, so an empty chart is never a surprise."""
    notes = []
    if not comparison.has_stage("export"):
        notes.append(
            "No export results yet (no export.<precision>_<format>.* metrics): "
            "quantized accuracy appears after `edgekit export`."
        )
    if not comparison.has_stage("bench"):
        notes.append(
            "No bench results yet (no bench.<device>.* metrics): on-board latency columns "
            "and the latency charts appear after `edgekit bench`."
        )
    labels, _ = parallel_axes(comparison.rows)
    if len(labels) < len(comparison.rows):
        notes.append(
            f"Parallel coordinates show {len(labels)} of {len(comparison.rows)} runs: the others "
            "lack one of learning_rate, dropout_rate, test_accuracy, min_recall, backbone_size_mb."
        )
    return notes


def write_report(
    comparison: Comparison,
    histories: Mapping[str, History],
    folder: Path,
    meta: str,
    advance: Advance | None = None,
) -> ReportFiles:
    """Every file of the report in `folder` (created); `advance(1)` after each file."""
    folder.mkdir(parents=True, exist_ok=True)
    step = advance or (lambda n: None)
    notes = report_notes(comparison)
    files: list[Path] = []

    def done(path: Path) -> None:
        files.append(path)
        step(1)

    done(write_text(folder / "comparison.csv", to_csv(comparison)))
    done(write_text(folder / "comparison.md", to_markdown(comparison)))
    if comparison.measurements:
        done(write_text(folder / "measurements.csv", measurements_to_csv(comparison)))

    trade_offs = [size_trade_off(comparison)]
    trade_offs += [latency_trade_off(comparison, device) for device in comparison.devices()]
    done(plot_trade_off(trade_offs[0], folder / SCATTER_PNG))
    for device, trade_off in zip(comparison.devices(), trade_offs[1:], strict=True):
        if trade_off.points:
            done(plot_trade_off(trade_off, folder / f"latency_vs_accuracy_{_safe(device)}.png"))
    curves = training_curves(comparison.rows, histories)
    if curves:
        done(plot_training_curves(curves, folder / "training_curves.png"))
    labels, axes = parallel_axes(comparison.rows)
    if labels:
        done(plot_parallel_coordinates(labels, axes, folder / "parallel_coordinates.png"))

    tables = [("Models", *model_table(comparison))]
    if comparison.measurements:
        tables.append(("Exports and benches", *measurement_table(comparison)))
    page = Page(
        "edgekit report",
        meta,
        tuple(notes),
        tuple(tables),
        tuple(trade_offs),
        tuple(curves),
        tuple(labels),
        tuple(axes),
    )
    done(write_html_report(page, folder / HTML_PAGE))
    return ReportFiles(folder, tuple(files), tuple(notes))


def expected_file_count(comparison: Comparison) -> int:
    """An upper bound of the files write_report writes, for a progress bar."""
    return 6 + (1 if comparison.measurements else 0) + len(comparison.devices())


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
