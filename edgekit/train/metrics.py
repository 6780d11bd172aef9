"""Classification scores from predictions: confusion matrix, recall per class, requirements."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Requirements:
    """What a model must reach to be deployable; `max_size_mb` None means no size cap."""

    min_accuracy: float = 0.85
    min_recall: float = 0.80
    max_size_mb: float | None = None

    def met_by(self, accuracy: float, min_recall: float, size_mb: float) -> bool:
        return not self.shortfalls(accuracy, min_recall, size_mb)

    def shortfalls(self, accuracy: float, min_recall: float, size_mb: float) -> list[str]:
        """One phrase per requirement missed, e.g. 'min recall 78.00% < 80.00%'."""
        missed = []
        if accuracy < self.min_accuracy:
            missed.append(f"accuracy {accuracy:.2%} < {self.min_accuracy:.2%}")
        if min_recall < self.min_recall:
            missed.append(f"min recall {min_recall:.2%} < {self.min_recall:.2%}")
        if self.max_size_mb is not None and size_mb > self.max_size_mb:
            missed.append(f"size {size_mb:.2f} MB > {self.max_size_mb:.2f} MB")
        return missed


@dataclass(frozen=True)
class ClassificationScores:
    """Scores of one model on one labelled set. `recall` follows the class order."""

    class_names: tuple[str, ...]
    accuracy: float
    recall: tuple[float, ...]
    min_recall: float
    confusion: tuple[tuple[int, ...], ...]
    loss: float | None = None

    def recall_by_class(self) -> dict[str, float]:
        return dict(zip(self.class_names, self.recall, strict=True))

    def to_dict(self) -> dict:
        return asdict(self) | {"recall_by_class": self.recall_by_class()}


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts with rows = true class, columns = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return matrix


def recall_per_class(matrix: np.ndarray) -> np.ndarray:
    """Diagonal over row sums; NaN for a class with no true examples (undefined, not zero)."""
    support = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(matrix) / np.maximum(support, 1), np.nan)


def score_predictions(
    y_true: np.ndarray,
    probabilities: np.ndarray,
    class_names: tuple[str, ...],
) -> ClassificationScores:
    """Accuracy, recall per class, min recall and cross-entropy loss of softmax outputs."""
    y_true = np.asarray(y_true, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    matrix = confusion_matrix(y_true, probabilities.argmax(axis=1), len(class_names))

    recall = recall_per_class(matrix)
    defined = recall[~np.isnan(recall)]
    picked = probabilities[np.arange(len(y_true)), y_true]
    return ClassificationScores(
        class_names=tuple(class_names),
        accuracy=float(np.trace(matrix) / max(matrix.sum(), 1)),
        recall=tuple(float(r) for r in recall),
        min_recall=float(defined.min()) if defined.size else float("nan"),
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        loss=float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0)))) if len(y_true) else None,
    )
