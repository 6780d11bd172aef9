"""Scores and the verdict of one measurement: accuracy, recall per class, requirements met."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgekit.bench.harness import Measurement
from edgekit.devices.config import DeviceRequirements
from edgekit.train.metrics import Requirements, recall_per_class


@dataclass(frozen=True)
class Verdict:
    """The headline of a measurement, for the table, the nested run and the parent run."""

    accuracy: float | None
    recall_by_class: dict[str, float]
    min_recall: float | None
    p50_ms: float | None
    p90_ms: float | None
    peak_mb: float | None
    meets_requirements: bool
    shortfalls: tuple[str, ...]


def judge(
    m: Measurement, requirements: Requirements, device_requirements: DeviceRequirements
) -> Verdict:
    """The run's accuracy, recall and size rules on the file, plus the device's latency and
    memory rules (p90 latency, peak resident memory). A failed pass never meets them."""
    accuracy, recall, min_recall = _accuracy(m)
    p50 = m.timing["latency"]["p50_ms"] if m.timing else None
    p90 = m.timing["latency"]["p90_ms"] if m.timing else None
    peak = m.memory["peak_inference_mb"] if m.memory else None

    shortfalls = list(m.errors)
    if accuracy is None:
        shortfalls.append("no accuracy measured")
    else:
        shortfalls += requirements.shortfalls(accuracy, min_recall, m.size_mb)
    limit = device_requirements.max_latency_ms
    if limit is not None and p90 is not None and p90 > limit:
        shortfalls.append(f"p90 latency {p90:.1f} ms > {limit:g} ms")
    limit = device_requirements.max_memory_mb
    if limit is not None and peak is not None and peak > limit:
        shortfalls.append(f"peak memory {peak:.0f} MB > {limit:g} MB")
    return Verdict(accuracy, recall, min_recall, p50, p90, peak, not shortfalls, tuple(shortfalls))


def _accuracy(m: Measurement) -> tuple[float | None, dict[str, float], float | None]:
    if not m.accuracy:
        return None, {}, None
    matrix = np.asarray(m.accuracy["confusion"], dtype=np.int64)
    recall = recall_per_class(matrix)
    defined = recall[~np.isnan(recall)]
    accuracy = float(np.trace(matrix) / max(matrix.sum(), 1))
    by_class = dict(zip(m.class_names, (float(r) for r in recall), strict=True))
    return accuracy, by_class, float(defined.min()) if defined.size else None
