"""Where runs go: the default SQLite store under models/mlruns/, or any MLflow tracking URI."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from urllib.parse import unquote, urlsplit

from edgekit.errors import TrackingError

logger = logging.getLogger(__name__)

DEFAULT_STORE_DIR = Path("models") / "mlruns"
DEFAULT_DB_NAME = "mlflow.db"


def default_tracking_uri(cwd: Path | None = None) -> str:
    """sqlite:///<cwd>/models/mlruns/mlflow.db: absolute, so any later `cd` keeps the store."""
    store = ((cwd or Path.cwd()) / DEFAULT_STORE_DIR).resolve()
    return f"sqlite:///{store / DEFAULT_DB_NAME}"


def resolve_tracking_uri(explicit: str | None = None) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else the default SQLite store."""
    uri = _chosen_uri(explicit)
    if uri.startswith("sqlite:///"):
        folder = sqlite_path(uri).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrackingError(
                f"cannot create the folder '{folder}' of MLflow store '{uri}' ({exc.strerror}); "
                "pass --tracking-uri with a writable location"
            ) from exc
    return uri


def _chosen_uri(explicit: str | None) -> str:
    """--tracking-uri, else MLFLOW_TRACKING_URI, else the default store; never a bare path."""
    uri = explicit or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    _check_scheme(uri)
    return uri


def _check_scheme(uri: str) -> None:
    """Refuse a bare path: MLflow would take it for its file store, which it no longer opens."""
    if "://" in uri and not uri.startswith("file:"):
        return
    path = Path(unquote(uri.removeprefix("file://").removeprefix("file:"))).expanduser().resolve()
    database = path if path.suffix == ".db" else path / "mlflow.db"
    raise TrackingError(
        f"tracking URI '{uri}' is a path, and MLflow no longer opens its plain-file store; pass "
        f"a SQLite store (--tracking-uri sqlite:///{database}) or a server (http://host:5000)"
    )


def check_server_reachable(uri: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds, not after MLflow's minutes of retries, when a server does not answer."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise TrackingError(
            f"cannot reach MLflow server {uri} ({reason}); start it (mlflow server --port "
            f"{port}) or pass another --tracking-uri"
        ) from exc


def sqlite_path(uri: str) -> Path:
    """The database file of a sqlite:/// URI: sqlite:///a/b is relative, sqlite:////a/b not."""
    return Path(unquote(uri.removeprefix("sqlite:///").split("?", 1)[0]))


def artifact_root_for(uri: str) -> str | None:
    """Artifacts of a SQLite store go beside its database; servers decide for themselves."""
    if not uri.startswith("sqlite:///"):
        return None
    return (sqlite_path(uri).parent / "artifacts").resolve().as_uri()


def get_or_create_experiment(client, name: str, uri: str) -> str:
    """The id of experiment `name`, created (with artifacts beside a SQLite store) if new."""
    try:
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.lifecycle_stage == "deleted":
                raise TrackingError(
                    f"experiment '{name}' is deleted in {uri}; restore it in the MLflow UI "
                    "or pass --experiment with another name"
                )
            return experiment.experiment_id
        return client.create_experiment(name, artifact_location=artifact_root_for(uri))
    except TrackingError:
        raise
    except Exception as exc:
        raise TrackingError(f"cannot use MLflow store '{uri}': {_first_line(exc)}") from exc


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def existing_store_uri(explicit: str | None = None) -> str:
    """The store `edgekit train` writes to, resolved the same way, with an absolute SQLite path.

    Readers (report, ui) refuse a SQLite store that does not exist yet instead of creating an
    empty one: an empty store would hide the real one behind a table with no runs.
    """
    uri = _chosen_uri(explicit)
    if not uri.startswith("sqlite:///"):
        return uri
    path = sqlite_path(uri).resolve()
    if not path.is_file():
        raise TrackingError(
            f"no MLflow store at {path} ({uri}); train a model first (edgekit train) or pass "
            "--tracking-uri with the store edgekit wrote to"
        )
    return f"sqlite:///{path}"
