"""How an export compares with its Keras model on the test split, and whether that is enough."""

from __future__ import annotations

import numpy as np

from edgekit.export.manifest import Parity
from edgekit.train.metrics import ClassificationScores, Requirements, score_predictions

# Max absolute difference of probabilities a float export may show against Keras. fp32 only
# reorders float sums (seen: ~1e-6); fp16 rounds every weight to 11 significant bits, which
# moves near-tied probabilities most (seen: 1.1e-2 on a tiny model trained for 3 epochs).
FLOAT_TOLERANCE = {"fp32": 1e-4, "fp16": 5e-2}

# An int8 export may lose at most this much against Keras, or it misses requirements.
INT8_MAX_ACCURACY_DROP = 0.01
INT8_MAX_RECALL_DROP = 0.03
# ...and must give Keras' answer on this share of the test images: the limits above are one-
# sided, and an int8 file that wins some images and loses others can keep its accuracy while
# no longer being the model that was validated.
INT8_MIN_AGREEMENT = 0.97


def compare_with_keras(
    precision: str,
    probabilities: np.ndarray,
    keras_probabilities: np.ndarray,
    labels: np.ndarray,
    keras_scores: ClassificationScores,
    requirements: Requirements,
    size_mb: float,
) -> Parity:
    """Agreement, scores and the verdict: run requirements, plus the int8 loss limits."""
    scores = score_predictions(labels, probabilities, keras_scores.class_names)
    agreement = float(np.mean(probabilities.argmax(1) == keras_probabilities.argmax(1)))
    max_diff = float(np.abs(probabilities - keras_probabilities).max()) if len(labels) else 0.0

    shortfalls = requirements.shortfalls(scores.accuracy, scores.min_recall, size_mb)
    if precision == "int8":
        shortfalls += int8_shortfalls(scores, keras_scores, agreement)
    return Parity(
        split="test",
        num_images=len(labels),
        accuracy=scores.accuracy,
        recall_by_class=scores.recall_by_class(),
        min_recall=scores.min_recall,
        top1_agreement=agreement,
        max_abs_diff=None if precision == "int8" else max_diff,
        keras_accuracy=keras_scores.accuracy,
        keras_recall_by_class=keras_scores.recall_by_class(),
        meets_requirements=not shortfalls,
        shortfalls=tuple(shortfalls),
        max_abs_diff_tolerance=FLOAT_TOLERANCE.get(precision),
    )


def int8_shortfalls(
    scores: ClassificationScores, keras: ClassificationScores, agreement: float
) -> list[str]:
    """One phrase per limit an int8 export breaks against its Keras model."""
    missed = []
    if agreement < INT8_MIN_AGREEMENT:
        missed.append(
            f"top-1 agreement with Keras {agreement:.2%} is below {INT8_MIN_AGREEMENT:.0%}"
        )
    if scores.accuracy < keras.accuracy - INT8_MAX_ACCURACY_DROP:
        missed.append(
            f"accuracy {scores.accuracy:.2%} is more than {INT8_MAX_ACCURACY_DROP:.0%} "
            f"below Keras' {keras.accuracy:.2%}"
        )
    for name, recall, reference in zip(
        scores.class_names, scores.recall, keras.recall, strict=True
    ):
        if recall < reference - INT8_MAX_RECALL_DROP:
            missed.append(
                f"recall of {name} {recall:.2%} is more than {INT8_MAX_RECALL_DROP:.0%} "
                f"below Keras' {reference:.2%}"
            )
    return missed


def float_mismatch(precision: str, parity: Parity) -> str | None:
    """Why a float export disagrees with Keras beyond its tolerance, or None when it agrees."""
    tolerance = FLOAT_TOLERANCE.get(precision)
    if tolerance is None or parity.max_abs_diff is None or parity.max_abs_diff <= tolerance:
        return None
    return (
        f"max |p - p_keras| {parity.max_abs_diff:.2e} exceeds the {precision} tolerance "
        f"{tolerance:.0e} (top-1 agreement {parity.top1_agreement:.2%})"
    )
