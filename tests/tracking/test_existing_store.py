"""Readers of the store (report, ui) resolve it like train, absolute, and never create one."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.errors import TrackingError
from edgekit.tracking.store import existing_store_uri


def test_relative_sqlite_store_is_made_absolute(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "models" / "mlruns").mkdir(parents=True)
    (tmp_path / "models" / "mlruns" / "mlflow.db").touch()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    expected = f"sqlite:///{tmp_path.resolve()}/models/mlruns/mlflow.db"
    assert existing_store_uri(None) == expected
    assert existing_store_uri("sqlite:///models/mlruns/mlflow.db") == expected


def test_missing_store_is_refused_without_creating_its_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/new/mlflow.db")

    with pytest.raises(TrackingError, match=r"no MLflow store at .*train a model first"):
        existing_store_uri(None)
    assert not (tmp_path / "new").exists()


def test_server_uris_pass_through() -> None:
    assert existing_store_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"
