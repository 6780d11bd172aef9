"""`edgekit ui`: a real MLflow server on the store edgekit train writes to, stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient
from servers import free_port, port_closed, stop_group, wait_for_run
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.errors import TrackingError
from edgekit.tracking.store import default_tracking_uri, get_or_create_experiment


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, str, str]:
    """A project folder whose default store holds one finished run: (folder, experiment, run)."""
    folder = tmp_path_factory.mktemp("project")
    (folder / "models" / "mlruns").mkdir(parents=True)
    uri = default_tracking_uri(folder)
    client = MlflowClient(tracking_uri=uri)
    experiment_id = get_or_create_experiment(client, "edge_models_comparison", uri)
    run = client.create_run(experiment_id, run_name="mobilenetv3large-x")
    client.log_param(run.info.run_id, "model_name", "mobilenetv3large")
    client.log_metric(run.info.run_id, "test_accuracy", 0.93)
    client.set_terminated(run.info.run_id)
    return folder, experiment_id, run.info.run_id


@pytest.mark.slow
def test_ui_serves_the_default_store_and_stops_on_ctrl_c(project, tmp_path: Path) -> None:
    folder, experiment_id, run_id = project
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    stdout, stderr = (tmp_path / "out.txt").open("w+"), (tmp_path / "err.txt").open("w+")
    command = [sys.executable, "-m", "edgekit", "ui", "--port", str(port)]
    # Own session, like a terminal's foreground job: SIGINT goes to edgekit alone.
    ui = subprocess.Popen(command, cwd=folder, env=env, stdout=stdout, stderr=stderr,
                          start_new_session=True)  # fmt: skip
    try:
        served = wait_for_run(port, experiment_id, ui, timeout_s=240)
        ui.send_signal(signal.SIGINT)
        ui.wait(timeout=40)
    finally:
        stop_group(ui)

    stdout.seek(0)
    stderr.seek(0)
    out, err = stdout.read(), stderr.read()
    assert served == {run_id}
    assert ui.returncode == 0, err
    assert f"MLflow UI: http://127.0.0.1:{port}" in out
    assert str(folder.resolve() / "models" / "mlruns" / "mlflow.db") in out
    assert "Press Ctrl-C to stop it." in err and "MLflow UI stopped" in err
    assert port_closed(port)


def test_ui_refuses_a_store_that_does_not_exist_yet(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    result = CliRunner().invoke(app, ["ui"])

    assert isinstance(result.exception, TrackingError)
    message = str(result.exception)
    assert "no MLflow store at" in message and "train a model first" in message
    assert "\n" not in message
    assert not (tmp_path / "models").exists()


def test_ui_refuses_a_port_in_use(project) -> None:
    folder, _, _ = project
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["ui", "--port", str(port), "--tracking-uri", default_tracking_uri(folder)]
        result = CliRunner().invoke(app, args)

    assert isinstance(result.exception, TrackingError)
    assert f"port {port} on 127.0.0.1 is in use" in str(result.exception)


def test_ui_sends_a_server_uri_to_the_browser() -> None:
    result = CliRunner().invoke(app, ["ui", "--tracking-uri", "http://127.0.0.1:5000"])

    assert isinstance(result.exception, TrackingError)
    assert "open http://127.0.0.1:5000 in a browser" in str(result.exception)
