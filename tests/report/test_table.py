"""The comparison table from realistic run records: rows, sort, bench grouping, CSV, Markdown."""

from __future__ import annotations

import csv
import io

import pytest
from comparison_runs import SyntheticRun, seed_runs

from edgekit.errors import ConfigError
from edgekit.report.table import (
    build_comparison,
    measurement_table,
    model_table,
    to_csv,
    to_markdown,
)


def _records(runs: list[SyntheticRun]):
    return [run.record(f"run{i}") for i, run in enumerate(runs)]


def test_rows_are_sorted_by_test_accuracy_best_first_by_default() -> None:
    comparison = build_comparison(_records(seed_runs()))

    assert [r.model_name for r in comparison.rows] == [
        "efficientnet-lite2",
        "mobilenetv3large",
        "pmvt",
        "mobilevit-xs",
    ]
    assert (comparison.sort_key, comparison.descending) == ("test_accuracy", True)


def test_latency_sorts_fastest_first_and_runs_without_it_go_last() -> None:
    comparison = build_comparison(_records(seed_runs()), "bench.rpi4.int8_tflite.p50_ms")

    assert [r.model_name for r in comparison.rows][:2] == ["mobilenetv3large", "efficientnet-lite2"]
    assert not comparison.descending
    assert build_comparison(_records(seed_runs()), "metrics.min_recall:asc").rows[0].model_name == (
        "mobilevit-xs"
    )


def test_unknown_sort_key_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown --sort 'accuracy'.*test_accuracy"):
        build_comparison(_records(seed_runs()), "accuracy")


def test_bench_and_export_metrics_become_one_line_per_stage_device_and_artifact() -> None:
    comparison = build_comparison(_records(seed_runs()))

    lines = {(m.row.model_name, m.stage, m.device, m.artifact) for m in comparison.measurements}
    assert lines == {
        ("mobilenetv3large", "export", "", "int8_tflite"),
        ("mobilenetv3large", "bench", "rpi4", "int8_tflite"),
        ("mobilenetv3large", "bench", "rpi4", "fp32_tflite"),
        ("mobilenetv3large", "bench", "jetson-orin-nano", "fp16_onnx"),
        ("efficientnet-lite2", "export", "", "int8_tflite"),
        ("efficientnet-lite2", "bench", "rpi4", "int8_tflite"),
    }
    assert set(comparison.devices()) == {"rpi4", "jetson-orin-nano"}
    headers, cells = measurement_table(comparison)
    assert headers[3:8] == ["p50 ms", "p90 ms", "peak MB", "accuracy", "min recall"]
    assert "recall Blight" not in headers  # per-class recalls stay in the CSV
    rpi4_int8 = next(c for c in cells if c[:3] == ["mobilenetv3large", "rpi4", "int8_tflite"])
    assert rpi4_int8[3] == "38.0" and rpi4_int8[6] == "92.50%"
    export = next(c for c in cells if c[:2] == ["efficientnet-lite2", "host (export)"])
    assert export[3:] == ["-", "-", "-", "94.00%", "88.00%", "99.00%", "4.20", "yes", "31"]
    assert headers[8:] == ["top1 agreement", "size MB", "meets req.", "conversion time s"]


def test_no_bench_metrics_means_no_measurements() -> None:
    comparison = build_comparison(_records(seed_runs(with_bench=False)))

    assert comparison.measurements == ()
    assert "Exports and benches" not in to_markdown(comparison)


def test_csv_has_one_line_per_run_with_every_metric() -> None:
    runs = seed_runs()
    rows = list(csv.DictReader(io.StringIO(to_csv(build_comparison(_records(runs))))))

    assert rows[0]["model"] == "efficientnet-lite2"
    assert len(rows) == len(runs)
    first = rows[0]
    assert float(first["test_accuracy"]) == 0.95
    assert first["learning_rate"] == "0.0005"
    assert float(first["bench.rpi4.int8_tflite.p50_ms"]) == 71.0
    assert rows[-1]["bench.rpi4.int8_tflite.p50_ms"] == ""


def test_markdown_escapes_pipes_and_two_runs_of_one_model_are_told_apart() -> None:
    runs = [
        SyntheticRun("a|b", 1.0, 0.9, 0.9, 1e-3, 0.2),
        SyntheticRun("a|b", 2.0, 0.8, 0.7, 1e-3, 0.2),
    ]
    records = [runs[0].record("x"), runs[1].record("y")]
    records[1] = type(records[1])(**{**records[1].__dict__, "run_name": "second"})

    text = to_markdown(build_comparison(records))

    # The run column tells them apart; the model column keeps the plain name.
    assert "| a\\|b | a\\|b-run |" in text and "| a\\|b | second |" in text
    assert "| 90.00% | 90.00% | 1.00 | yes |" in text


def test_settings_that_differ_between_runs_get_a_column() -> None:
    runs = [
        SyntheticRun("mobilenetv3large", 11.4, 0.93, 0.84, 1e-3, 0.2),
        SyntheticRun("mobilenetv3large", 11.4, 0.91, 0.76, 1e-3, 0.2),
    ]
    records = [runs[0].record("x"), runs[1].record("y")]
    for record, size in zip(records, ("160x160", "128x128"), strict=True):
        record.params.update({"image_size": size, "epochs": "12"})

    headers, cells = model_table(build_comparison(records))

    assert headers[:3] == ["model", "run", "image size"]  # epochs are the same: no column
    assert sorted(row[2] for row in cells) == ["128x128", "160x160"]
