"""The entry point: help that starts fast (no TensorFlow) and one-line errors."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

HEAVY = (
    "tensorflow",
    "keras",
    "mlflow",
    "matplotlib",
    "plotly",
    "onnx",
    "onnxruntime",
    "ai_edge_litert",
)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["train", "--help"],
        ["data", "check", "--help"],
        ["models", "--help"],
        ["export", "--help"],
        ["report", "--help"],
        ["ui", "--help"],
        ["bench", "--help"],
        ["devices", "--help"],
        ["devices", "check", "--help"],
    ],
)
def test_help_imports_no_heavy_library(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from edgekit.cli.main import app\n"
        f"result = CliRunner().invoke(app, {args!r})\n"
        "assert result.exit_code == 0, result.output\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_train_help_lists_the_options_scripts_rely_on() -> None:
    from typer.testing import CliRunner

    from edgekit.cli.main import app

    result = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    words = set(re.findall(r"--[a-z-]+", result.output))
    for option in (
        "--data",
        "--model",
        "--epochs",
        "--batch-size",
        "--image-size",
        "--learning-rate",
        "--dropout",
        "--fine-tune",
        "--no-fine-tune",
        "--weights",
        "--seed",
        "--tracking-uri",
        "--experiment",
        "--run-name",
        "--config",
    ):
        assert option in words, option


def test_version_prints_and_exits() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "edgekit", "--version"], capture_output=True, text=True
    )

    assert result.returncode == 0
    assert result.stdout.startswith("edgekit ")
