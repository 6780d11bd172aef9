"""The fit loop: from a prepared dataset and a built classifier to a trained model and scores."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

import keras
import numpy as np

from edgekit.config import TrainConfig
from edgekit.data.dataset import PreparedDataset, SplitArrays
from edgekit.data.pipeline import make_dataset
from edgekit.train.metrics import ClassificationScores, score_predictions
from edgekit.train.model import Classifier, set_batchnorm_momentum

logger = logging.getLogger(__name__)

# Keras' log names -> the names edgekit records.
_EPOCH_METRICS = {
    "loss": "train_loss",
    "accuracy": "train_accuracy",
    "val_loss": "val_loss",
    "val_accuracy": "val_accuracy",
}


class TrainingObserver(Protocol):
    """Told about progress; the CLI draws bars with it and tracking logs epochs to MLflow."""

    def on_train_begin(self, num_epochs: int, steps_per_epoch: int) -> None: ...

    def on_batch_end(self, step: int, logs: dict[str, float]) -> None: ...

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None: ...


@dataclass(frozen=True)
class TrainResult:
    """What a finished training returns: the model with its best weights, history and scores."""

    model: keras.Model
    history: tuple[dict[str, float], ...]
    test: ClassificationScores
    best_epoch: int
    batchnorm_momentum: float | None
    epoch_times_s: tuple[float, ...] = field(default=())


def batchnorm_momentum_for(steps_per_epoch: int) -> float:
    """A BatchNorm momentum whose running average spans about a quarter of an epoch.

    Clipped to [0.5, 0.99]: with ~90 steps an epoch (3k images, batch 32) that gives ~0.96.
    """
    return float(np.clip(1.0 - 4.0 / max(steps_per_epoch, 1), 0.5, 0.99))


def train_classifier(
    classifier: Classifier,
    data: PreparedDataset,
    config: TrainConfig,
    observer: TrainingObserver | None = None,
) -> TrainResult:
    """Train on the train part, pick the epoch with the best val accuracy, score on test."""
    train, val = data.parts["train"], data.parts["val"]
    steps_per_epoch = max(1, -(-len(train) // config.batch_size))
    momentum = _adapt_batchnorm(classifier, config, steps_per_epoch)

    model = classifier.model
    compile_classifier(model, config, steps_per_epoch)
    monitor = "val_accuracy" if len(val) else "accuracy"
    if not len(val):
        logger.warning(
            "the val part is empty: the epoch kept is the one with the best "
            "(augmented) train accuracy; give the split a val fraction"
        )
    callbacks = _callbacks(config.epochs, steps_per_epoch, monitor, observer)
    model.fit(
        make_dataset(
            train, config.batch_size, training=True, seed=config.seed, augment=config.augment
        ),
        validation_data=_eval_dataset(val, config) if len(val) else None,
        epochs=config.epochs,
        class_weight=class_weights(train, len(data.class_names), config.class_weight),
        callbacks=callbacks,
        shuffle=False,  # the dataset reshuffles itself every epoch
        verbose=0,
    )

    recorder: _EpochRecorder = callbacks[0]
    test = evaluate(model, data.parts["test"], data.class_names, config.batch_size)
    return TrainResult(
        model=model,
        history=tuple(recorder.history),
        test=test,
        best_epoch=recorder.best_epoch(),
        batchnorm_momentum=momentum,
        epoch_times_s=tuple(recorder.epoch_times_s),
    )


def _adapt_batchnorm(classifier: Classifier, config: TrainConfig, steps: int) -> float | None:
    """From scratch, make BatchNorm statistics follow the weights (see set_batchnorm_momentum)."""
    if config.weights != "none":
        return None
    momentum = batchnorm_momentum_for(steps)
    changed = set_batchnorm_momentum(classifier.model, momentum)
    if changed:
        logger.warning(
            "training from scratch: BatchNorm momentum set to %.3f on %d layers "
            "(stale running statistics otherwise make eval predict one class)",
            momentum,
            changed,
        )
    return momentum


def evaluate(
    model: keras.Model, arrays: SplitArrays, class_names: tuple[str, ...], batch_size: int = 32
) -> ClassificationScores:
    """Scores of `model` on one part of the split (no augmentation)."""
    probabilities = model.predict(make_dataset(arrays, batch_size, training=False), verbose=0)
    return score_predictions(arrays.labels, probabilities, class_names)


def _eval_dataset(arrays: SplitArrays, config: TrainConfig):
    return make_dataset(arrays, config.batch_size, training=False)


def compile_classifier(model: keras.Model, config: TrainConfig, steps_per_epoch: int) -> None:
    """The optimizer, loss and metrics of every edgekit training (benchmarks use it too)."""
    model.compile(
        optimizer=make_optimizer(config, steps_per_epoch),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """AdamW on a cosine schedule with one epoch of linear warm-up."""
    total = config.epochs * steps_per_epoch
    warmup = min(steps_per_epoch, total // 2)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.learning_rate / 10,
        decay_steps=max(total - warmup, 1),
        warmup_target=config.learning_rate,
        warmup_steps=warmup,
        alpha=0.01,
    )
    return keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4)


def class_weights(train: SplitArrays, num_classes: int, mode: str) -> dict[int, float] | None:
    """'balanced': each class weighs as much in the loss as any other, whatever its count."""
    if mode == "none":
        return None
    counts = np.bincount(train.labels, minlength=num_classes).astype(float)
    weights = len(train) / (num_classes * np.maximum(counts, 1))
    return {i: float(w) for i, w in enumerate(weights)}


def _callbacks(num_epochs, steps_per_epoch, monitor, observer) -> list[keras.callbacks.Callback]:
    return [
        _EpochRecorder(observer, num_epochs, steps_per_epoch, monitor),
        # Patience of every epoch: never stops early, only restores the best epoch at the end.
        keras.callbacks.EarlyStopping(
            monitor=monitor, mode="max", patience=num_epochs, restore_best_weights=True
        ),
    ]


class _EpochRecorder(keras.callbacks.Callback):
    """Times each epoch, keeps the history under edgekit's names and feeds the observer."""

    def __init__(self, observer, num_epochs: int, steps_per_epoch: int, monitor: str):
        super().__init__()
        self.observer = observer
        self.num_epochs = num_epochs
        self.steps_per_epoch = steps_per_epoch
        self.monitor = monitor
        self.history: list[dict[str, float]] = []
        self.epoch_times_s: list[float] = []
        self._started = 0.0

    def on_train_begin(self, logs=None):
        if self.observer:
            self.observer.on_train_begin(self.num_epochs, self.steps_per_epoch)

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self.observer:
            self.observer.on_batch_end(batch + 1, {k: float(v) for k, v in (logs or {}).items()})

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._started
        metrics = {new: float(logs[old]) for old, new in _EPOCH_METRICS.items() if old in logs}
        metrics["epoch_time_s"] = elapsed
        self.history.append(metrics)
        self.epoch_times_s.append(elapsed)
        logger.info(
            "epoch %d/%d: %s",
            epoch + 1,
            self.num_epochs,
            ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()),
        )
        if self.observer:
            self.observer.on_epoch_end(epoch + 1, metrics)

    def best_epoch(self) -> int:
        """1-based epoch whose weights were kept (first of the best, as EarlyStopping keeps)."""
        key = _EPOCH_METRICS.get(self.monitor, self.monitor)
        scores = [h.get(key, float("-inf")) for h in self.history]
        return int(np.argmax(scores)) + 1 if scores else 0
