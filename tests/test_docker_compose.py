"""docker-compose.yml without a Docker engine: its structure, that every command it runs exists
in edgekit's (and MLflow's) CLI, and its server command run for real outside Docker."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import typer.main
import yaml
from mlflow import MlflowClient
from servers import free_port, port_closed, stop_group

from edgekit.cli.main import app
from edgekit.tracking.store import DEFAULT_DB_NAME, DEFAULT_STORE_DIR

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = "/workspace"
SERVERS = ("mlflow", "mlflow-postgres")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_profiles_name_the_server_its_postgres_variant_and_the_experiments(compose) -> None:
    services = compose["services"]

    assert set(services) == {"mlflow", "mlflow-postgres", "postgres", "edge-experiments"}
    assert services["mlflow"]["profiles"] == ["mlflow"]
    assert services["mlflow-postgres"]["profiles"] == ["postgres"]
    assert services["postgres"]["profiles"] == ["postgres"]
    assert set(services["edge-experiments"]["profiles"]) == {"mlflow", "postgres"}


@pytest.mark.parametrize("name", SERVERS)
def test_each_server_listens_on_5000_and_keeps_artifacts_in_the_mounted_store(
    compose, name: str
) -> None:
    service = compose["services"][name]
    command = service["command"]

    assert command[:2] == ["mlflow", "server"]
    assert service["ports"] == ["5000:5000"]
    assert (_option(command, "--host"), _option(command, "--port")) == ("0.0.0.0", "5000")
    mounts = dict(volume.rsplit(":", 1) for volume in service["volumes"])
    store_dir = f"{WORKSPACE}/{DEFAULT_STORE_DIR.as_posix()}"
    assert mounts == {f"./{DEFAULT_STORE_DIR.as_posix()}": store_dir}
    assert _option(command, "--artifacts-destination") == f"{store_dir}/artifacts"
    allowed = _option(command, "--allowed-hosts").split(",")
    assert "mlflow:5000" in allowed and "localhost:*" in allowed  # the job, and the browser


def test_sqlite_server_uses_the_store_edgekit_train_writes_by_default(compose) -> None:
    command = compose["services"]["mlflow"]["command"]

    expected = f"sqlite:///{WORKSPACE}/{DEFAULT_STORE_DIR.as_posix()}/{DEFAULT_DB_NAME}"
    assert _option(command, "--backend-store-uri") == expected


def test_postgres_server_reaches_the_postgres_service_with_the_driver_in_the_image(
    compose,
) -> None:
    services = compose["services"]
    uri = _option(services["mlflow-postgres"]["command"], "--backend-store-uri")
    match = re.fullmatch(r"postgresql\+psycopg://(\w+):(\w+)@(\w+):5432/(\w+)", uri)

    assert match, uri
    user, password, host, database = match.groups()
    environment = services["postgres"]["environment"]
    assert host == "postgres"
    assert (environment["POSTGRES_USER"], environment["POSTGRES_PASSWORD"]) == (user, password)
    assert environment["POSTGRES_DB"] == database
    assert services["mlflow-postgres"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # postgresql+psycopg is SQLAlchemy's dialect for psycopg 3, installed by the extra.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(requirement.startswith("psycopg[binary]") for requirement in extras["postgres"])
    assert 'pip install ".[postgres]"' in (ROOT / "Dockerfile").read_text()


def test_edgekit_services_share_the_image_built_from_the_dockerfile(compose) -> None:
    services = compose["services"]
    dockerfile = (ROOT / "Dockerfile").read_text()

    images = {services[n]["image"] for n in (*SERVERS, "edge-experiments")}
    assert images == {"edgekit:local"}
    assert all(services[n]["build"] == "." for n in (*SERVERS, "edge-experiments"))
    assert f"WORKDIR {WORKSPACE}" in dockerfile
    assert services["postgres"]["image"].startswith("postgres:")


def test_experiments_log_to_whichever_server_runs(compose) -> None:
    services = compose["services"]
    job = services["edge-experiments"]

    assert job["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    # Reached as "mlflow" in both profiles: the service name, or the postgres variant's alias.
    assert services["mlflow-postgres"]["networks"]["default"]["aliases"] == ["mlflow"]
    for server in SERVERS:
        assert job["depends_on"][server] == {"condition": "service_healthy", "required": False}
    targets = {volume.rsplit(":", 2)[1] for volume in job["volumes"]}
    assert {f"{WORKSPACE}/data", f"{WORKSPACE}/reports"} <= targets


def _edgekit_lines(compose) -> list[list[str]]:
    command = compose["services"]["edge-experiments"]["command"]
    assert command[:2] == ["sh", "-euc"]
    lines = [shlex.split(line) for line in command[2].splitlines() if line.strip()]
    return [line for line in lines if line and not line[0].startswith("#")]


def _resolve(group, words: list[str]) -> tuple[object, list[str]]:
    """Follow sub-command names down a click tree; the rest are that command's arguments.

    Duck-typed: typer ships its own copy of click, MLflow uses click itself.
    """
    command = group
    while words and words[0] in getattr(command, "commands", {}):
        command, words = command.commands[words[0]], words[1:]
    return command, words


def _unknown_options(command, words: list[str]) -> list[str]:
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    return [w.split("=")[0] for w in words if w.startswith("--") and w.split("=")[0] not in known]


def test_experiments_run_train_and_report_with_real_edgekit_commands_and_options(
    compose,
) -> None:
    cli = typer.main.get_command(app)
    lines = _edgekit_lines(compose)

    assert all(line[0] == "edgekit" for line in lines)
    seen = []
    for line in lines:
        command, rest = _resolve(cli, line[1:])
        assert not hasattr(command, "commands"), f"not a command: {line}"
        assert _unknown_options(command, rest) == [], line
        seen.append(command.name)
    assert seen == ["check", "train", "report"]
    train = lines[1]
    assert _option(train, "--model").split(",") == [
        "mobilenetv3large",
        "efficientnet-lite2",
        "mobilevit-xs",
        "pmvt",
    ]


@pytest.mark.parametrize("name", SERVERS)
def test_server_commands_use_real_mlflow_server_options(compose, name: str) -> None:
    from mlflow.cli import cli as mlflow_cli

    command, rest = _resolve(mlflow_cli, compose["services"][name]["command"][1:])

    assert command.name == "server"
    assert _unknown_options(command, rest) == []


@pytest.mark.slow
def test_the_compose_server_command_serves_runs_logged_by_edgekit(compose, tmp_path: Path) -> None:
    """The mlflow service's command outside Docker: the mount becomes tmp_path, the port free."""
    from edgekit.tracking.server import wait_until_ready
    from edgekit.tracking.training import training_run

    port = free_port()
    store_dir = f"{WORKSPACE}/{DEFAULT_STORE_DIR.as_posix()}"
    command = [
        word.replace(store_dir, str(tmp_path)) for word in compose["services"]["mlflow"]["command"]
    ]
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", *command], stdout=log, stderr=log, start_new_session=True
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(uri, server, timeout_s=240)
        with training_run(uri, "edge_models_comparison", "compose-check") as run:
            run.log_params({"model_name": "mobilenetv3large"})
            run.log_metrics({"test_accuracy": 0.9})
            run.log_text("evaluation/note.txt", "through the proxy")
        client = MlflowClient(tracking_uri=uri)
        found = client.search_runs(
            [client.get_experiment_by_name("edge_models_comparison").experiment_id]
        )
        artifacts = [a.path for a in client.list_artifacts(run.run_id, "evaluation")]
    finally:
        stop_group(server)

    assert [r.info.run_id for r in found] == [run.run_id]
    assert found[0].info.status == "FINISHED"
    assert found[0].data.params["model_name"] == "mobilenetv3large"
    assert found[0].data.metrics["test_accuracy"] == 0.9
    assert "evaluation/note.txt" in artifacts
    assert (tmp_path / DEFAULT_DB_NAME).is_file()
    assert list((tmp_path / "artifacts").rglob("note.txt"))  # in the mounted folder
    assert port_closed(port)
