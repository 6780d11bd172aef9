"""The report's PNG charts (matplotlib, no pyplot: no global backend, nothing left open)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from edgekit.report.atomic import atomic_path
from edgekit.report.figures import Axis, Curve, TradeOff, marker_area, padded_limits

MEETS_COLOURS = {True: "#2a9d8f", False: "#e76f51", None: "#8d99ae"}
MEETS_LABELS = {True: "meets requirements", False: "misses requirements", None: "not scored"}
CURVE_PANELS = (("accuracy", "train_accuracy", "val_accuracy"), ("loss", "train_loss", "val_loss"))


def plot_trade_off(trade_off: TradeOff, path: Path) -> Path:
    """Scatter with labels, point area = min recall, the Pareto front as a dashed staircase."""
    return _save(trade_off_figure(trade_off), path)


def trade_off_figure(trade_off: TradeOff):
    """The figure `plot_trade_off` saves (a matplotlib Figure, not yet drawn to a file)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    figure = Figure(figsize=(10.5, 6), layout="constrained")
    axes = figure.add_subplot()
    labels = []
    for point in trade_off.points:
        axes.scatter(
            point.x,
            point.y,
            s=marker_area(point.min_recall),
            color=MEETS_COLOURS[point.meets],
            alpha=0.8,
            edgecolors="black" if point.on_front else "white",
            linewidths=1.6 if point.on_front else 0.8,
            zorder=3,
        )
        label = axes.text(point.x, point.y, point.label, fontsize=9)
        label.set_in_layout(False)  # the layout fits the axes; _spread keeps labels inside
        labels.append(label)
    front = trade_off.front()
    if front:
        axes.step(
            [p.x for p in front],
            [p.y for p in front],
            where="post",
            linestyle="--",
            color="#264653",
            linewidth=1.2,
            zorder=2,
        )

    _requirement_lines(axes, trade_off)
    _pad_limits(axes, trade_off)
    axes.set_title(trade_off.title, parse_math=False)
    axes.set_xlabel(trade_off.x_title)
    axes.set_ylabel(trade_off.y_title)
    axes.yaxis.set_major_formatter(_percent())
    axes.grid(alpha=0.3)
    axes.annotate(
        "better",
        xy=(0.04, 0.96),
        xytext=(0.14, 0.86),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "->", "color": "#555555"},
        color="#555555",
        fontsize=9,
    )

    colours = {p.meets for p in trade_off.points}
    handles = [
        Line2D([], [], marker="o", linestyle="", color=MEETS_COLOURS[m], label=MEETS_LABELS[m])
        for m in (True, False, None)
        if m in colours
    ]
    handles.append(Line2D([], [], linestyle="--", color="#264653", label="Pareto front"))
    handles += [
        Line2D(
            [], [], marker="o", linestyle="", color="#bbbbbb",
            markersize=math.sqrt(marker_area(r)), label=f"min recall {r:.0%}",
        )
        for r in (0.5, 0.8, 1.0)
    ]  # fmt: skip
    figure.legend(handles=handles, loc="outside right upper", fontsize=8, labelspacing=1.3)
    _spread(figure, axes, labels, trade_off)
    return figure


def plot_training_curves(curves: Sequence[Curve], path: Path) -> Path:
    """Accuracy and loss per epoch, all models together: val solid, train dashed."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    figure = Figure(figsize=(12, 5), layout="constrained")
    labels = list(dict.fromkeys(c.label for c in curves))
    colours = {label: f"C{i % 10}" for i, label in enumerate(labels)}
    for index, (title, train_key, val_key) in enumerate(CURVE_PANELS):
        axes = figure.add_subplot(1, 2, index + 1)
        for curve in curves:
            if curve.key in (train_key, val_key):
                style = "-" if curve.key == val_key else "--"
                axes.plot(curve.epochs, curve.values, style, color=colours[curve.label], marker=".")
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        axes.xaxis.get_major_locator().set_params(integer=True)
        if title == "accuracy":
            axes.yaxis.set_major_formatter(_percent())

    handles = [Line2D([], [], color=colours[label], label=label) for label in labels]
    handles += [
        Line2D([], [], color="black", linestyle="-", label="val"),
        Line2D([], [], color="black", linestyle="--", label="train"),
    ]
    figure.legend(handles=handles, loc="outside right upper", fontsize=9)
    figure.suptitle("Training curves")
    return _save(figure, path)


def plot_parallel_coordinates(labels: Sequence[str], axes_data: Sequence[Axis], path: Path) -> Path:
    """One line per run across the five axes, each axis scaled to its own min and max."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 5.5), layout="constrained")
    axes = figure.add_subplot()
    scaled = [_scale(axis) for axis in axes_data]
    positions = range(len(axes_data))
    for run, label in enumerate(labels):
        axes.plot(
            positions, [s[run] for s in scaled], marker="o", color=f"C{run % 10}", label=label
        )
    for position, axis in zip(positions, axes_data, strict=True):
        axes.axvline(position, color="#999999", linewidth=0.8, zorder=0)
        low, high = min(axis.values), max(axis.values)
        # A constant axis sits in the middle: one tick, not a min and max that are equal.
        ticks = [(0.5, low, 8)] if low == high else [(1.0, high, 8), (0.0, low, -14)]
        for height, value, offset in ticks:
            axes.annotate(
                _tick(axis.key, value),
                (position, height),
                xytext=(0, offset),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )

    axes.set_xticks(list(positions), [a.key + (" (log)" if a.log else "") for a in axes_data])
    axes.set_yticks([])
    axes.set_ylim(-0.12, 1.12)
    for side in ("left", "right", "top"):
        axes.spines[side].set_visible(False)
    axes.set_title("Hyper-parameters and scores, one line per run (each axis min to max)")
    figure.legend(loc="outside right upper", fontsize=9)
    return _save(figure, path)


def _requirement_lines(axes, trade_off: TradeOff) -> None:
    if trade_off.min_accuracy is not None:
        axes.axhline(trade_off.min_accuracy, color="#999999", linestyle=":", linewidth=1)
        label = axes.annotate(
            f"min accuracy {trade_off.min_accuracy:.0%}",
            (1.0, trade_off.min_accuracy),
            xycoords=("axes fraction", "data"),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="#777777",
        )
        label.set_in_layout(False)
    if trade_off.max_x is not None:
        axes.axvline(trade_off.max_x, color="#999999", linestyle=":", linewidth=1)


def _spread(figure, axes, labels: list, trade_off: TradeOff) -> None:
    """Move the labels apart and off the points (the exports of one model often sit within a
    millisecond and a percent of each other), each tied to its point by a thin line.

    The layout is settled first and then frozen: a later constrained-layout pass would resize
    the axes and bring the moved labels back together.
    """
    from adjustText import adjust_text

    if not labels:
        return
    figure.draw_without_rendering()
    figure.set_layout_engine("none")
    adjust_text(
        labels,
        x=[p.x for p in trade_off.points],
        y=[p.y for p in trade_off.points],
        ax=axes,
        expand=(1.1, 1.4),
        force_static=(0.6, 1.2),
        min_arrow_len=0,
        arrowprops={"arrowstyle": "-", "color": "#777777", "linewidth": 0.7},
    )


def _pad_limits(axes, trade_off: TradeOff) -> None:
    limits = padded_limits(trade_off)
    if limits is not None:
        axes.set_xlim(*limits[0])
        axes.set_ylim(*limits[1])


def _scale(axis: Axis) -> list[float]:
    values = [math.log10(v) if axis.log and v > 0 else v for v in axis.values]
    low, high = min(values), max(values)
    if high == low:
        return [0.5] * len(values)
    return [(v - low) / (high - low) for v in values]


def _tick(key: str, value: float) -> str:
    if key in ("test_accuracy", "min_recall"):
        return f"{value:.1%}"
    return f"{value:.3g}"


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _save(figure, path: Path) -> Path:
    with atomic_path(path) as partial:
        figure.savefig(partial, dpi=120, format="png")
    return path
