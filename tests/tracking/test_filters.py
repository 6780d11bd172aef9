"""Numeric compares on params that are also metrics are rewritten; everything else is kept."""

from __future__ import annotations

import pytest

from edgekit.tracking.filters import rewrite_numeric_params

NUMERIC = {"backbone_size_mb", "odd.key"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("params.backbone_size_mb <= 30", "metrics.backbone_size_mb <= 30"),
        ("params.backbone_size_mb<30.5", "metrics.backbone_size_mb < 30.5"),
        ("param.`backbone_size_mb` > '2.5'", "metrics.backbone_size_mb > 2.5"),
        ('params."backbone_size_mb" >= 1e1', "metrics.backbone_size_mb >= 1e1"),
        ("params.`odd.key` != 3", "metrics.`odd.key` != 3"),
        (
            "metrics.test_accuracy >= 0.85 and params.backbone_size_mb <= 30",
            "metrics.test_accuracy >= 0.85 and metrics.backbone_size_mb <= 30",
        ),
    ],
)
def test_numeric_param_compare_becomes_a_metric_compare(given: str, expected: str) -> None:
    result = rewrite_numeric_params(given, NUMERIC)

    assert result.text == expected
    assert result.rewritten_keys in (("backbone_size_mb",), ("odd.key",))


@pytest.mark.parametrize(
    "kept",
    [
        "params.learning_rate < 0.01",  # not a metric: MLflow's own error explains it
        "params.backbone_size_mb = '11.6'",  # a valid string compare
        "params.model_name = 'params.backbone_size_mb <= 30'",  # inside a string literal
        "params.backbone_size_mb <= 30e",  # not a number
        "",
    ],
)
def test_anything_else_is_left_for_mlflow(kept: str) -> None:
    result = rewrite_numeric_params(kept, NUMERIC)

    assert result.text == kept
    assert result.rewritten_keys == ()
