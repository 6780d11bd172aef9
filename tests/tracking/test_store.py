"""Where runs go: flag, then MLFLOW_TRACKING_URI, then the SQLite store under models/mlruns."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from mlflow import MlflowClient

from edgekit.errors import TrackingError
from edgekit.tracking.store import (
    artifact_root_for,
    get_or_create_experiment,
    resolve_tracking_uri,
    sqlite_path,
)
from edgekit.tracking.training import training_run


def test_default_store_is_sqlite_under_models_mlruns(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    uri = resolve_tracking_uri(None)

    assert uri == f"sqlite:///{tmp_path.resolve()}/models/mlruns/mlflow.db"
    assert (tmp_path / "models" / "mlruns").is_dir()


def test_flag_wins_over_environment_which_wins_over_default(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")

    assert resolve_tracking_uri(None) == "http://127.0.0.1:5000"
    assert resolve_tracking_uri(f"sqlite:///{tmp_path}/x.db") == f"sqlite:///{tmp_path}/x.db"


def test_sqlite_paths_stay_relative_or_absolute_as_written() -> None:
    assert sqlite_path("sqlite:///models/mlruns/mlflow.db") == Path("models/mlruns/mlflow.db")
    assert sqlite_path("sqlite:////tmp/store/mlflow.db") == Path("/tmp/store/mlflow.db")


def test_new_experiment_keeps_artifacts_beside_the_sqlite_database(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)

    experiment_id = get_or_create_experiment(client, "edge_models_comparison", uri)

    assert get_or_create_experiment(client, "edge_models_comparison", uri) == experiment_id
    location = client.get_experiment(experiment_id).artifact_location
    assert location == artifact_root_for(uri) == (tmp_path / "artifacts").as_uri()


def test_deleted_experiment_is_named_with_the_fix(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    client.delete_experiment(get_or_create_experiment(client, "gone", uri))

    with pytest.raises(TrackingError, match="experiment 'gone' is deleted"):
        get_or_create_experiment(client, "gone", uri)


def test_a_server_that_does_not_answer_is_named_with_the_fix() -> None:
    with socket.socket() as probe:  # a free loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    unreachable = f"http://127.0.0.1:{port}"
    with pytest.raises(TrackingError, match=f"cannot reach MLflow server .*:{port}"):  # noqa: SIM117
        with training_run(unreachable, "exp", "r"):
            pass


@pytest.mark.parametrize("given", ["{tmp}/runs/mlflow.db", "file://{tmp}/mlruns"])
def test_a_bare_path_is_refused_with_the_sqlite_uri_to_use(tmp_path: Path, given: str) -> None:
    uri = given.format(tmp=tmp_path)
    expected = "runs/mlflow.db" if uri.endswith(".db") else "mlruns/mlflow.db"

    with pytest.raises(TrackingError, match=f"sqlite:///{tmp_path}/{expected}"):
        resolve_tracking_uri(uri)
