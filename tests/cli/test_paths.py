"""Output paths are refused before any work, with the option named."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.cli.paths import check_output_dir, check_output_file
from edgekit.errors import ConfigError


def test_an_output_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("")

    with pytest.raises(ConfigError, match=r"--out '.*taken' is a file"):
        check_output_dir(taken, "--out")
    with pytest.raises(ConfigError, match="cannot be created in"):
        check_output_dir(taken / "below", "--out")
    check_output_dir(tmp_path / "new" / "deeper", "--out")  # created later, by the writer


def test_an_output_file_needs_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot write --json file"):
        check_output_file(tmp_path / "missing" / "a.json", "--json")
    with pytest.raises(ConfigError, match="cannot write --json file"):
        check_output_file(tmp_path, "--json")
    check_output_file(tmp_path / "a.json", "--json")


def test_models_json_into_a_missing_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["models", "--json", str(tmp_path / "no" / "zoo.json")])

    assert isinstance(result.exception, ConfigError)
    assert not (tmp_path / "no").exists()
