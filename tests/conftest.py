"""Shared fixtures: tiny image folders, one tiny trained run and its exports, a real sshd."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest
from image_folders import make_image_folder
from tiny_exports import TinyExports, build_tiny_exports

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A small image folder with four classes and the real dataset's awkward files."""
    return make_image_folder(tmp_path / "corn")


class TinyTraining(NamedTuple):
    """What one real `edgekit train` left: its store, run, data folder and printed output."""

    store: str
    run_id: str
    run_name: str
    data: Path
    output: str


@pytest.fixture(scope="session")
def tiny_training(tmp_path_factory) -> TinyTraining:
    """One real `edgekit train` run (mobilenetv3small, 32x32, 3 epochs) in a SQLite store,
    trained once for every test that needs a trained model. Its folder holds the real
    dataset's traps plus one undecodable file, which the run must skip and record."""
    from mlflow import MlflowClient
    from typer.testing import CliRunner

    from edgekit.cli.main import app

    root = tmp_path_factory.mktemp("tiny-run")
    data = make_image_folder(root / "corn", per_class=14)
    (data / "Healthy" / "broken (copy).jpg").write_bytes(b"\xff\xd8 truncated")
    store = f"sqlite:///{root / 'mlflow.db'}"
    args = ["train", "--data", str(data), "--model", "mobilenetv3small", "--weights", "none"]
    args += ["--image-size", "32", "--batch-size", "8", "--epochs", "3", "--tracking-uri", store]
    result = CliRunner().invoke(app, [*args, "--min-accuracy", "0.5"])
    assert result.exit_code == 0, result.output + repr(result.exception)

    client = MlflowClient(tracking_uri=store)
    (run,) = client.search_runs(
        [client.get_experiment_by_name("edge_models_comparison").experiment_id]
    )
    return TinyTraining(store, run.info.run_id, run.info.run_name, data, result.output)


@pytest.fixture(scope="session")
def tiny_run(tiny_training: TinyTraining) -> tuple[str, str, Path]:
    """(tracking URI, run id, dataset root) of `tiny_training`."""
    return tiny_training.store, tiny_training.run_id, tiny_training.data


@pytest.fixture(scope="session")
def tiny_export(tiny_training, tmp_path_factory):
    """`edgekit export` of `tiny_run` to every format, once; returns (CLI result, folder)."""
    from typer.testing import CliRunner

    from edgekit.cli.main import app

    store, run_id = tiny_training.store, tiny_training.run_id
    out = tmp_path_factory.mktemp("export")
    args = ["export", "--run-id", run_id, "--tracking-uri", store, "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--calibration-size", "24"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result, out / tiny_training.run_name


@pytest.fixture(scope="session")
def tiny_exports(tmp_path_factory) -> TinyExports:
    """Hand-made exports with known predictions, for the runner and bench tests (built once)."""
    return build_tiny_exports(tmp_path_factory.getbasetemp() / "tiny-exports")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """A real sshd on 127.0.0.1 for the session (root only, as in CI)."""
    from sshd import sshd_available, start_sshd

    if not sshd_available():
        pytest.skip("needs root, /usr/sbin/sshd (openssh-server) and ssh")
    server, process = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    process.terminate()
    process.wait(timeout=10)
