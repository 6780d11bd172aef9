"""Reading training runs back, and the report's own run, on a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient

from edgekit.errors import TrackingError
from edgekit.tracking.runs import find_training_runs, report_run
from edgekit.tracking.store import get_or_create_experiment


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[str, str]:
    uri = f"sqlite:///{tmp_path_factory.mktemp('runs') / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = get_or_create_experiment(client, "exp", uri)
    for name, size in (("small", 4.0), ("large", 40.0)):
        run = client.create_run(experiment_id, run_name=name, tags={"edgekit.stage": "train"})
        client.log_param(run.info.run_id, "backbone_size_mb", str(size))
        client.log_param(run.info.run_id, "learning_rate", "0.001")
        client.log_metric(run.info.run_id, "backbone_size_mb", size)
        client.set_terminated(run.info.run_id)
    return uri, experiment_id


def test_only_params_also_logged_as_metrics_are_rewritten(store) -> None:
    uri, _ = store

    found = find_training_runs(uri, "exp", "params.backbone_size_mb < 10")

    assert [r.run_name for r in found.runs] == ["small"]
    assert found.rewritten_keys == ("backbone_size_mb",)
    with pytest.raises(TrackingError, match=r"invalid --filter .*quoted string.*example"):
        find_training_runs(uri, "exp", "params.learning_rate < 0.01")


def test_unknown_experiment_lists_the_existing_ones(store) -> None:
    uri, _ = store

    with pytest.raises(TrackingError, match=r"no experiment 'nope' .*experiments: .*exp"):
        find_training_runs(uri, "nope")


def test_report_run_ends_failed_when_its_body_fails(store, tmp_path: Path) -> None:
    uri, experiment_id = store

    with pytest.raises(RuntimeError), report_run(uri, experiment_id, {"num_runs": "2"}) as run_id:
        raise RuntimeError("upload broke")

    run = MlflowClient(tracking_uri=uri).get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.data.tags["edgekit.stage"] == "report"
    assert find_training_runs(uri, "exp").runs[0].run_name in ("small", "large")
    assert len(find_training_runs(uri, "exp").runs) == 2  # the report run is no row
