"""What each report chart shows, as plain data: both the PNGs and the HTML page draw from it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from edgekit.report.pareto import pareto_front
from edgekit.report.table import Comparison, ModelRow, format_value

History = Mapping[str, Sequence[tuple[int, float]]]

# The axes of the parallel-coordinates chart, as the issue lists them.
PARALLEL_KEYS = ("learning_rate", "dropout_rate", "test_accuracy", "min_recall", "backbone_size_mb")


@dataclass(frozen=True)
class TradeOffPoint:
    """One model (or artifact on a device) in a trade-off chart: small x and large y win."""

    label: str
    x: float
    y: float
    min_recall: float | None
    meets: bool | None
    on_front: bool
    hover: str


@dataclass(frozen=True)
class TradeOff:
    """A scatter: its points, axis titles and the requirement lines to draw."""

    title: str
    x_title: str
    y_title: str
    points: tuple[TradeOffPoint, ...]
    min_accuracy: float | None
    max_x: float | None

    def front(self) -> list[TradeOffPoint]:
        return sorted((p for p in self.points if p.on_front), key=lambda p: (p.x, -p.y))


@dataclass(frozen=True)
class Curve:
    """One model's epoch curve of one metric."""

    label: str
    key: str
    epochs: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class Axis:
    """One axis of the parallel-coordinates chart; `log` for learning rates."""

    key: str
    values: tuple[float, ...]
    log: bool


def size_trade_off(comparison: Comparison) -> TradeOff:
    """x = backbone_size_mb, y = test_accuracy, one point per training run."""
    rows = [r for r in comparison.rows if _has(r.metrics, "backbone_size_mb", "test_accuracy")]
    raw = [
        (
            row.label,
            row.metrics["backbone_size_mb"],
            row.metrics["test_accuracy"],
            row.metrics.get("min_recall"),
            _flag(row.metrics.get("meets_requirements")),
        )
        for row in rows
    ]
    return TradeOff(
        "Size against test accuracy (upper left is best)",
        "backbone size (MB, fp32 weights)",
        "test accuracy",
        _points(raw, "size", "MB"),
        _common_param(rows, "requirement_min_accuracy"),
        _common_param(rows, "requirement_max_size_mb"),
    )


def latency_trade_off(comparison: Comparison, device: str) -> TradeOff:
    """x = on-board p50 latency on `device`, y = the artifact's accuracy there (else Keras')."""
    raw = []
    for m in comparison.measurements:
        if m.stage != "bench" or m.device != device or "p50_ms" not in m.values:
            continue
        accuracy = m.values.get("accuracy", m.row.metrics.get("test_accuracy"))
        if accuracy is None:
            continue
        recall = m.values.get("min_recall", m.row.metrics.get("min_recall"))
        meets = m.values.get("meets_requirements", m.row.metrics.get("meets_requirements"))
        raw.append((m.row, m.artifact, m.values["p50_ms"], accuracy, recall, _flag(meets)))
    rows = [m.row for m in comparison.measurements if m.device == device]
    # One run benched: its name goes in the title and each point is just its artifact.
    one_run = len({row.run_id for row, *_ in raw}) == 1
    subject = f"\n{raw[0][0].label}" if one_run else ""
    raw = [
        (artifact if one_run else f"{row.label} {artifact}", *rest) for row, artifact, *rest in raw
    ]
    return TradeOff(
        f"{device}: p50 latency against accuracy (upper left is best){subject}",
        f"p50 latency on {device} (ms)",
        "accuracy on the test split",
        _points(raw, "p50", "ms"),
        _common_param(rows, "requirement_min_accuracy"),
        None,
    )


def training_curves(rows: Sequence[ModelRow], histories: Mapping[str, History]) -> list[Curve]:
    """Every model's train/val accuracy and loss per epoch, from the metric history."""
    curves = []
    for row in rows:
        for key, points in histories.get(row.run_id, {}).items():
            if points:
                epochs, values = zip(*points, strict=True)
                curves.append(Curve(row.label, key, tuple(epochs), tuple(values)))
    return curves


def parallel_axes(rows: Sequence[ModelRow]) -> tuple[list[str], list[Axis]]:
    """The labels of the runs that have every axis value, and the axes over them."""
    complete = [r for r in rows if all(r.number(k) is not None for k in PARALLEL_KEYS)]
    axes = [
        Axis(key, tuple(float(r.number(key)) for r in complete), log=key == "learning_rate")
        for key in PARALLEL_KEYS
    ]
    return [r.label for r in complete], axes


def marker_area(min_recall: float | None, largest: float = 600.0) -> float:
    """Marker area grows with min_recall squared, so a weak worst class shows as a small dot."""
    share = 0.5 if min_recall is None or math.isnan(min_recall) else min(max(min_recall, 0), 1)
    return 30.0 + (largest - 30.0) * share**2


def padded_limits(trade_off: TradeOff) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Axis ranges with room for labels right of the last point; accuracy never past 100 %."""
    xs = [p.x for p in trade_off.points]
    ys = [p.y for p in trade_off.points]
    if not xs:
        return None
    # The requirement lines stay in view: how far a model is from them is the point.
    xs += [trade_off.max_x] if trade_off.max_x is not None else []
    ys += [trade_off.min_accuracy] if trade_off.min_accuracy is not None else []
    span_x = max(xs) - min(xs) or max(abs(max(xs)), 1.0)
    span_y = max(ys) - min(ys) or 0.05
    return (
        (max(min(xs) - 0.1 * span_x, 0.0), max(xs) + 0.3 * span_x),
        (max(min(ys) - 0.25 * span_y, 0.0), min(max(ys) + 0.25 * span_y, 1.02)),
    )


def _points(raw, x_name: str, x_unit: str) -> tuple[TradeOffPoint, ...]:
    front = set(pareto_front([(x, y) for _, x, y, _, _ in raw]))
    return tuple(
        TradeOffPoint(
            label,
            x,
            y,
            recall,
            meets,
            i in front,
            f"{label}<br>{x_name} {x:.2f} {x_unit}<br>accuracy {format_value('accuracy', y)}"
            f"<br>min recall {format_value('min_recall', recall)}",
        )
        for i, (label, x, y, recall, meets) in enumerate(raw)
    )


def _has(metrics: Mapping[str, float], *keys: str) -> bool:
    return all(k in metrics and not math.isnan(metrics[k]) for k in keys)


def _flag(value: float | None) -> bool | None:
    return None if value is None else value >= 0.5


def _common_param(rows: Sequence[ModelRow], key: str) -> float | None:
    """A requirement drawn as a line only when every run used the same one."""
    values = {r.number(key) for r in rows}
    if len(values) != 1:
        return None
    return values.pop()
