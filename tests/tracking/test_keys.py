"""Metric keys made from class names are valid for MLflow and unique."""

from __future__ import annotations

from mlflow.utils.validation import validate_param_and_metric_name

from edgekit.tracking.keys import metric_keys


def test_plain_class_names_are_kept() -> None:
    keys = metric_keys("recall_", ["Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy"])

    assert keys["Gray_Leaf_Spot"] == "recall_Gray_Leaf_Spot"


def test_awkward_names_become_valid_and_distinct_keys() -> None:
    names = ["leaf (sick)", "leaf [sick]", "blé", "", "a/b:c"]

    keys = metric_keys("recall_", names)

    assert len(set(keys.values())) == len(names)
    assert all(validate_param_and_metric_name(k) for k in keys.values())
    assert keys["leaf (sick)"] == "recall_leaf__sick_"
    assert keys["leaf [sick]"] == "recall_leaf__sick__2"
