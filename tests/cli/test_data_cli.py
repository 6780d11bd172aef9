"""Tests for `edgekit data check`, through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from image_folders import make_image_folder
from typer.testing import CliRunner

from edgekit.cli.main import app

runner = CliRunner()


@pytest.fixture
def small_folder(tmp_path: Path) -> Path:
    return make_image_folder(tmp_path / "corn", per_class=3)


def test_check_passes_and_summarises_a_trainable_folder(small_folder: Path) -> None:
    result = runner.invoke(app, ["data", "check", str(small_folder)])

    assert result.exit_code == 0, result.output
    for class_name in ("Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy"):
        assert class_name in result.stdout
    assert "imbalance ratio: 1.67" in result.stdout
    assert "Blight/mpo.jpg: .jpg holds MPO" in result.stdout
    assert "Blight/rgba png.jpg: .jpg holds PNG" in result.stdout
    assert "README.txt" in result.stdout
    assert "cannot train" not in result.stdout


def test_check_highlights_cross_class_duplicates(small_folder: Path) -> None:
    data = (small_folder / "Healthy" / "img_002.jpg").read_bytes()
    (small_folder / "Blight" / "dup.jpg").write_bytes(data)

    result = runner.invoke(app, ["data", "check", str(small_folder)])

    assert result.exit_code == 0, result.output
    assert "(1 across classes)" in result.stdout
    assert "different classes: Blight/dup.jpg, Healthy/img_002.jpg" in result.stdout


def test_check_writes_the_audit_as_json_to_a_file(small_folder: Path, tmp_path: Path) -> None:
    json_path = tmp_path / "audit.json"

    result = runner.invoke(app, ["data", "check", str(small_folder), "--json", str(json_path)])

    assert result.exit_code == 0, result.output
    data = json.loads(json_path.read_text())
    assert data["class_counts"] == {
        "Blight": 5,
        "Common_Rust": 5,
        "Gray_Leaf_Spot": 3,
        "Healthy": 3,
    }
    assert {m["relpath"] for m in data["mismatched"]} == {"Blight/mpo.jpg", "Blight/rgba png.jpg"}
    assert data["problems"] == []


def test_check_json_to_stdout_keeps_the_summary_off_stdout(small_folder: Path) -> None:
    result = runner.invoke(app, ["data", "check", str(small_folder), "--json", "-"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["num_images"] == 16
    assert "imbalance ratio" in result.stderr


def test_check_exits_1_and_names_an_empty_class(small_folder: Path) -> None:
    (small_folder / "Empty").mkdir()

    result = runner.invoke(app, ["data", "check", str(small_folder)])

    assert result.exit_code == 1, result.output
    assert "cannot train: class folder 'Empty' holds no images" in result.stdout
    assert "imbalance ratio: undefined" in result.stdout


def test_check_help_explains_checks_and_exit_status() -> None:
    result = runner.invoke(app, ["data", "check", "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    assert "byte-identical duplicates" in result.stdout
    assert "Exit status" in result.stdout


def _run_edgekit(*args: str) -> subprocess.CompletedProcess[str]:
    # main() is the wrapper that turns EdgekitError into one line; CliRunner on `app` bypasses it.
    code = "import sys; from edgekit.cli.main import main; sys.argv[0] = 'edgekit'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )


def test_check_of_a_missing_folder_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    result = _run_edgekit("data", "check", str(tmp_path / "nowhere"))

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "error:" in result.stderr
    assert "nowhere' does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_refuses_an_unwritable_json_path_before_reading_images(tmp_path: Path) -> None:
    result = _run_edgekit("data", "check", str(tmp_path), "--json", str(tmp_path / "no" / "a.json"))

    assert result.returncode == 2
    assert "cannot write --json file" in result.stderr
    assert "Checking images" not in result.stderr
