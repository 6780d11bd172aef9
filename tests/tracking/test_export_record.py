"""Finding the training run to export: never a bench or report run of the same model."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient

from edgekit.errors import TrackingError
from edgekit.tracking.export import RunQuery, find_run


def _finished_run(client: MlflowClient, experiment_id: str, name: str, stage: str) -> str:
    run = client.create_run(experiment_id, run_name=name, tags={"edgekit.stage": stage})
    client.log_param(run.info.run_id, "model_name", "pmvt")
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def test_latest_of_a_model_is_the_newest_training_run_not_a_later_bench_run(
    tmp_path: Path,
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("edge_models_comparison")
    trained = _finished_run(client, experiment_id, "pmvt-1", "train")
    _finished_run(client, experiment_id, "bench-local-pmvt.int8.tflite-t1", "bench")

    latest = find_run(client, RunQuery(latest_model="pmvt"), uri)
    by_name = find_run(client, RunQuery(run_name="pmvt-1"), uri)

    assert latest.info.run_id == trained
    assert by_name.info.run_id == trained


@pytest.mark.parametrize(
    ("status", "advice"), [("RUNNING", "wait for it to finish"), ("FAILED", "train it again")]
)
def test_a_run_that_is_not_finished_is_refused_with_what_to_do(tmp_path, status, advice) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    run = client.create_run(client.create_experiment("edge_models_comparison"), run_name="r")
    if status != "RUNNING":
        client.set_terminated(run.info.run_id, status)

    with pytest.raises(TrackingError, match=f"is {status}; .*: {advice}, or pick another run"):
        find_run(client, RunQuery(run_id=run.info.run_id), uri)
