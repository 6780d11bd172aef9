"""Confusion matrix, recall per class, min recall and the requirements verdict."""

from __future__ import annotations

import math

import numpy as np

from edgekit.train.metrics import Requirements, confusion_matrix, score_predictions


def _one_hot(predicted: list[int], num_classes: int) -> np.ndarray:
    return np.eye(num_classes)[predicted] * 0.9 + 0.1 / num_classes


def test_confusion_rows_are_true_columns_predicted() -> None:
    matrix = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)

    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_scores_give_recall_per_class_and_its_minimum() -> None:
    y_true = [0, 0, 0, 0, 1, 1, 2, 2]
    predicted = [0, 0, 0, 1, 1, 1, 2, 0]

    scores = score_predictions(np.array(y_true), _one_hot(predicted, 3), ("a", "b", "c"))

    assert scores.accuracy == 6 / 8
    assert scores.recall == (0.75, 1.0, 0.5)
    assert scores.min_recall == min(scores.recall) == 0.5
    assert scores.recall_by_class() == {"a": 0.75, "b": 1.0, "c": 0.5}


def test_loss_is_mean_cross_entropy_of_the_true_class() -> None:
    probabilities = np.array([[0.5, 0.5], [0.25, 0.75]])

    scores = score_predictions(np.array([0, 1]), probabilities, ("a", "b"))

    assert math.isclose(scores.loss, -(math.log(0.5) + math.log(0.75)) / 2)


def test_a_class_absent_from_the_labels_has_undefined_recall_not_zero() -> None:
    scores = score_predictions(np.array([0, 0]), _one_hot([0, 1], 3), ("a", "b", "c"))

    assert math.isnan(scores.recall[1]) and math.isnan(scores.recall[2])
    assert scores.min_recall == 0.5


def test_requirements_need_accuracy_recall_and_size() -> None:
    rules = Requirements(min_accuracy=0.85, min_recall=0.80, max_size_mb=10)

    assert rules.met_by(0.85, 0.80, 10)
    assert not rules.met_by(0.849, 0.9, 5)
    assert not rules.met_by(0.9, 0.79, 5)
    assert not rules.met_by(0.9, 0.9, 10.5)
    assert Requirements().met_by(0.9, 0.9, 1e6)


def test_shortfalls_name_each_requirement_missed() -> None:
    rules = Requirements(min_accuracy=0.85, min_recall=0.80, max_size_mb=10)

    assert rules.shortfalls(0.9, 0.78, 12) == [
        "min recall 78.00% < 80.00%",
        "size 12.00 MB > 10.00 MB",
    ]
    assert rules.shortfalls(0.85, 0.80, 10) == []
