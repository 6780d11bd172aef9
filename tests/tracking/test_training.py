"""The MLflow record of a training: its verdict, its status however it ends, its log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from edgekit.tracking.training import training_run
from edgekit.train.metrics import Requirements, score_predictions

NAMES = ("Blight", "Gray Leaf (spot)")


def _scores(accuracy_pattern: list[int]):
    # Two classes, four test images each; 1 = predicted right.
    y_true = np.array([0] * 4 + [1] * 4)
    predicted = np.where(np.array(accuracy_pattern) == 1, y_true, 1 - y_true)
    return score_predictions(y_true, np.eye(2)[predicted], NAMES)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def _only_run(store: str):
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("exp")
    [run] = client.search_runs([experiment.experiment_id])
    return client, run


@pytest.mark.parametrize(
    ("pattern", "rules", "size_mb", "expected"),
    [
        ([1, 1, 1, 1, 1, 1, 1, 0], Requirements(0.85, 0.70), 5.0, 1.0),
        ([1, 1, 1, 1, 1, 1, 0, 0], Requirements(0.70, 0.60), 5.0, 0.0),  # recall 0.5
        ([1, 1, 1, 1, 1, 1, 1, 0], Requirements(0.85, 0.70, max_size_mb=4), 5.0, 0.0),
    ],
)
def test_verdict_follows_accuracy_worst_recall_and_size(store, pattern, rules, size_mb, expected):
    with training_run(store, "exp", "r") as run:
        assert run.log_test_scores(_scores(pattern), rules, size_mb) == bool(expected)

    _, logged = _only_run(store)
    metrics = logged.data.metrics
    assert metrics["meets_requirements"] == expected
    assert metrics["min_recall"] == min(
        metrics["recall_Blight"], metrics["recall_Gray_Leaf__spot_"]
    )
    assert logged.info.status == "FINISHED"


def test_failure_ends_failed_with_the_error_in_the_run_log(store, tmp_path) -> None:
    with pytest.raises(RuntimeError), training_run(store, "exp", "r"):
        raise RuntimeError("disk on fire")

    client, run = _only_run(store)
    log = Path(client.download_artifacts(run.info.run_id, "logs/train.log", str(tmp_path)))
    assert run.info.status == "FAILED"
    assert "disk on fire" in log.read_text()


def test_interrupt_ends_killed(store) -> None:
    with pytest.raises(KeyboardInterrupt), training_run(store, "exp", "r"):
        raise KeyboardInterrupt

    assert _only_run(store)[1].info.status == "KILLED"


def test_interrupt_wrapped_by_tensorflow_still_ends_killed(store) -> None:
    # Ctrl-C while TensorFlow traces a graph has been seen to surface as a SystemError.
    def traced_step():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise SystemError("error return without exception set") from None

    with pytest.raises(KeyboardInterrupt), training_run(store, "exp", "r"):
        traced_step()

    assert _only_run(store)[1].info.status == "KILLED"
