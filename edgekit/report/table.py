"""The comparison table: one row per training run, one per exported or benched artifact."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from edgekit.errors import ConfigError
from edgekit.tracking.runs import RunRecord

DEFAULT_SORT = "test_accuracy"
HEADLINE_METRICS = ("test_accuracy", "min_recall", "backbone_size_mb", "meets_requirements")
# What tells two runs of one model apart in the table, shown only when it differs.
SETTING_PARAMS = ("image_size", "epochs", "class_weight", "weights", "learning_rate")
CSV_PARAMS = ("learning_rate", "dropout_rate", "epochs", "batch_size", "image_size", "weights")
# Measures shown first, in this order; any other measure follows, sorted.
MEASURE_ORDER = (
    "p50_ms",
    "p90_ms",
    "peak_mb",
    "accuracy",
    "min_recall",
    "top1_agreement",
    "agreement",
    "size_mb",
    "meets_requirements",
)

# bench.<device>.<precision>_<format>.<measure> and export.<precision>_<format>.<measure>
_BENCH_KEY = re.compile(r"^bench\.(?P<device>[^.]+)\.(?P<artifact>[^.]+)\.(?P<measure>.+)$")
_EXPORT_KEY = re.compile(r"^export\.(?P<artifact>[^.]+)\.(?P<measure>.+)$")
_LOWER_IS_BETTER = ("_ms", "_mb", "_s", "loss")
_NUMERIC = re.compile(r"^(-|[-+\d.e]+%?)$")

Stage = Literal["export", "bench"]


@dataclass(frozen=True)
class ModelRow:
    """One training run: its label in tables and plots, every metric, every param."""

    run_id: str
    run_name: str
    model_name: str
    label: str
    metrics: Mapping[str, float]
    params: Mapping[str, str]

    def number(self, key: str) -> float | None:
        """A metric, or a param that reads as a number (learning_rate); None if neither."""
        if key in self.metrics:
            return self.metrics[key]
        try:
            return float(self.params[key])
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class Measurement:
    """One exported artifact (e.g. int8_tflite) measured on the host (export) or a device."""

    row: ModelRow
    stage: Stage
    device: str
    artifact: str
    values: Mapping[str, float]


@dataclass(frozen=True)
class Comparison:
    """The rows sorted as asked, and the export and bench measurements found among them."""

    rows: tuple[ModelRow, ...]
    measurements: tuple[Measurement, ...]
    sort_key: str
    descending: bool

    def devices(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.device for m in self.measurements if m.stage == "bench"))

    def has_stage(self, stage: Stage) -> bool:
        return any(m.stage == stage for m in self.measurements)


def build_comparison(runs: Sequence[RunRecord], sort: str | None = None) -> Comparison:
    """Rows from runs, sorted by `sort` (a metric key, `model` or `run`, optional :asc/:desc)."""
    counts = Counter(run.params.get("model_name", run.run_name) for run in runs)
    rows = [_row(run, counts) for run in runs]
    key, descending = parse_sort(sort, rows)

    rows = sort_rows(rows, key, descending)
    measurements = tuple(m for row in rows for m in measurements_of(row))
    return Comparison(tuple(rows), measurements, key, descending)


def parse_sort(sort: str | None, rows: Sequence[ModelRow]) -> tuple[str, bool]:
    """The key and direction of `--sort`; best first unless :asc or :desc says otherwise."""
    text = (sort or DEFAULT_SORT).strip().removeprefix("metrics.")
    key, _, direction = text.partition(":")
    metrics = {k for row in rows for k in row.metrics}
    if key not in {"model", "run", *metrics} or direction not in ("", "asc", "desc"):
        headline = [k for k in HEADLINE_METRICS if k in metrics]
        others = sorted(metrics - set(headline))
        shown = ", ".join(["model", "run", *headline])
        more = f" or one of {len(others)} other metrics (e.g. {others[0]})" if others else ""
        raise ConfigError(
            f"unknown --sort '{sort}'; expected KEY, KEY:asc or KEY:desc with KEY {shown}"
            f"{more}; e.g. --sort min_recall"
        )
    if direction:
        return key, direction == "desc"
    lower_is_better = key in ("model", "run") or key.endswith(_LOWER_IS_BETTER)
    return key, not lower_is_better


def sort_rows(rows: Sequence[ModelRow], key: str, descending: bool) -> list[ModelRow]:
    """Stable sort on one key; rows without it go last whatever the direction."""
    if key in ("model", "run"):
        text = (lambda r: r.label) if key == "model" else (lambda r: r.run_name)
        return sorted(rows, key=text, reverse=descending)
    present = [r for r in rows if key in r.metrics]
    missing = [r for r in rows if key not in r.metrics]
    return sorted(present, key=lambda r: r.metrics[key], reverse=descending) + missing


def measurements_of(row: ModelRow) -> list[Measurement]:
    """Group a run's export.* and bench.* metrics by (stage, device, artifact)."""
    groups: dict[tuple[Stage, str, str], dict[str, float]] = {}
    for key, value in sorted(row.metrics.items()):
        if bench := _BENCH_KEY.match(key):
            group = ("bench", bench["device"], bench["artifact"])
            groups.setdefault(group, {})[bench["measure"]] = value
        elif export := _EXPORT_KEY.match(key):
            group = ("export", "", export["artifact"])
            groups.setdefault(group, {})[export["measure"]] = value
    return [
        Measurement(row, stage, device, artifact, values)
        for (stage, device, artifact), values in groups.items()
    ]


def measure_names(measurements: Sequence[Measurement], shown_only: bool = False) -> list[str]:
    """Measures in display order; `shown_only` drops per-class recalls (min_recall sums them)."""
    names = {name for m in measurements for name in m.values}
    if shown_only:
        names = {n for n in names if not n.startswith("recall_")}
    first = [n for n in MEASURE_ORDER if n in names]
    return first + sorted(names - set(first))


# --- cells: the same text in the console, the Markdown and the HTML page ------------------


def model_table(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    """The seed's table: model, run, accuracy, min recall, size MB, meets requirements; and
    between run and accuracy, the training settings that differ from run to run."""
    varying = [
        key for key in SETTING_PARAMS if len({row.params.get(key) for row in comparison.rows}) > 1
    ]
    headers = ["model", "run", *(key.replace("_", " ") for key in varying)]
    headers += ["accuracy", "min recall", "size MB", "meets req."]
    cells = [
        [
            row.model_name,
            row.run_name,
            *(row.params.get(key, "-") for key in varying),
            format_value("test_accuracy", row.metrics.get("test_accuracy")),
            format_value("min_recall", row.metrics.get("min_recall")),
            format_value("backbone_size_mb", row.metrics.get("backbone_size_mb")),
            format_value("meets_requirements", row.metrics.get("meets_requirements")),
        ]
        for row in comparison.rows
    ]
    return headers, cells


def measurement_table(
    comparison: Comparison, max_measures: int | None = None
) -> tuple[list[str], list[list[str]]]:
    """One line per model, place (a device, or the host for an export) and artifact.

    `max_measures` keeps the first measures only (a terminal is narrow; the CSV has them all).
    """
    names = measure_names(comparison.measurements, shown_only=True)[:max_measures]
    headers = ["model", "measured on", "artifact", *(header_of(n) for n in names)]
    cells = [
        [m.row.label, m.device if m.stage == "bench" else "host (export)", m.artifact]
        + [format_value(n, m.values.get(n)) for n in names]
        for m in comparison.measurements
    ]
    return headers, cells


def header_of(measure: str) -> str:
    """p50_ms -> p50 ms, peak_mb -> peak MB, min_recall -> min recall."""
    if measure == "meets_requirements":
        return "meets req."
    text = re.sub(r"_mb$", " MB", measure)
    return text.replace("_", " ")


def format_value(key: str, value: float | None) -> str:
    """Shares as percentages, milliseconds and megabytes with a sensible number of digits."""
    if value is None:
        return "-"
    if key.rsplit(".", 1)[-1] == "meets_requirements":
        return _verdict(value)
    if is_share(key):
        return f"{value:.2%}"
    if key.endswith("_ms"):
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"
    if key.endswith("_mb"):
        return f"{value:.2f}"
    return f"{value:.4g}"


def is_share(key: str) -> bool:
    """Accuracy-like values between 0 and 1."""
    name = key.rsplit(".", 1)[-1]
    return (
        name in ("accuracy", "min_recall", "agreement")
        or name.endswith(("_accuracy", "_agreement"))
        or name.startswith("recall_")
    )


def to_markdown(comparison: Comparison) -> str:
    """The model table, then the export and bench table when there is one."""
    parts = ["## Models\n", _markdown(*model_table(comparison))]
    if comparison.measurements:
        parts += ["\n## Exports and benches\n", _markdown(*measurement_table(comparison))]
    return "\n".join(parts)


def to_csv(comparison: Comparison) -> str:
    """Wide CSV: one line per run, headline metrics, main params, then every other metric."""
    rest = sorted({k for r in comparison.rows for k in r.metrics} - set(HEADLINE_METRICS))
    header = ["model", "run_name", "run_id", *HEADLINE_METRICS, *CSV_PARAMS, *rest]
    lines = [
        [row.model_name, row.run_name, row.run_id]
        + [_csv_number(row.metrics.get(k)) for k in HEADLINE_METRICS]
        + [row.params.get(k, "") for k in CSV_PARAMS]
        + [_csv_number(row.metrics.get(k)) for k in rest]
        for row in comparison.rows
    ]
    return _csv([header, *lines])


def measurements_to_csv(comparison: Comparison) -> str:
    """Long CSV of exports and benches: one line per model, stage, device and artifact."""
    names = measure_names(comparison.measurements)
    header = ["model", "run_name", "run_id", "stage", "device", "artifact", *names]
    lines = [
        [m.row.model_name, m.row.run_name, m.row.run_id, m.stage, m.device, m.artifact]
        + [_csv_number(m.values.get(n)) for n in names]
        for m in comparison.measurements
    ]
    return _csv([header, *lines])


def _row(run: RunRecord, counts: Counter) -> ModelRow:
    model = run.params.get("model_name", run.run_name)
    # Two runs of one model need their run name to tell them apart in a plot.
    # Two runs of one model are told apart by run name, which edgekit starts with the model.
    if counts[model] == 1:
        label = model
    elif run.run_name.startswith(model):
        label = run.run_name
    else:
        label = f"{model} ({run.run_name})"
    return ModelRow(run.run_id, run.run_name, model, label, run.metrics, run.params)


def is_number_cell(text: str) -> bool:
    """A formatted number or the '-' of a missing one: right-aligned in every table."""
    return bool(_NUMERIC.match(text))


def _verdict(value: float | None) -> str:
    if value is None:
        return "-"
    return "yes" if value >= 0.5 else "no"


def _markdown(headers: list[str], cells: list[list[str]]) -> str:
    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    numeric = [
        bool(cells) and all(is_number_cell(row[i]) for row in cells) for i in range(len(headers))
    ]
    align = ["---:" if right else "---" for right in numeric]
    return "\n".join([line(headers), "|" + "|".join(align) + "|", *map(line, cells)]) + "\n"


def _csv(lines: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    return buffer.getvalue()


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))
