"""The int8 verdict against Keras: losses beyond the limits, and answers that drift."""

from __future__ import annotations

import numpy as np

from edgekit.export.parity import compare_with_keras
from edgekit.train.metrics import Requirements, score_predictions

CLASSES = ("Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy")


def _one_hot(predicted: list[int]) -> np.ndarray:
    return np.eye(len(CLASSES), dtype="float32")[predicted]


def _int8_parity(keras_predicted: list[int], int8_predicted: list[int], labels: list[int]):
    keras = _one_hot(keras_predicted)
    scores = score_predictions(np.array(labels), keras, CLASSES)
    return compare_with_keras(
        "int8", _one_hot(int8_predicted), keras, np.array(labels), scores, Requirements(0, 0), 1.0
    )


def test_an_int8_file_that_gives_keras_answers_meets_requirements() -> None:
    labels = [0, 1, 2, 3] * 25

    parity = _int8_parity(labels, labels, labels)

    assert parity.top1_agreement == 1.0 and parity.meets_requirements


def test_same_scores_but_other_answers_is_a_shortfall() -> None:
    # Every class, every other image: Keras right on the even ones, int8 on the odd ones.
    labels = [0, 1, 2, 3] * 50
    even = [(i // 4) % 2 == 0 for i in range(len(labels))]
    keras = [c if e else (c + 1) % 4 for c, e in zip(labels, even, strict=True)]
    int8 = [(c + 1) % 4 if e else c for c, e in zip(labels, even, strict=True)]

    parity = _int8_parity(keras, int8, labels)

    assert parity.accuracy == parity.keras_accuracy == 0.5
    assert parity.recall_by_class == parity.keras_recall_by_class
    assert parity.shortfalls == ("top-1 agreement with Keras 0.00% is below 97%",)


def test_a_class_recall_drop_beyond_three_points_is_a_shortfall() -> None:
    labels = [0, 1, 2, 3] * 25
    int8 = [1, 1, 2, 3, *labels[4:]]  # one Blight image lost: -1 point, -4 points of recall

    parity = _int8_parity(labels, int8, labels)

    assert parity.top1_agreement == 0.99  # agreement and accuracy are within their limits
    assert not any("accuracy" in s for s in parity.shortfalls)
    assert any("recall of Blight 96.00% is more than 3%" in s for s in parity.shortfalls)
