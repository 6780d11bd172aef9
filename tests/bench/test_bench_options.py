"""`edgekit bench` options: a typo is named before anything is looked up or measured."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.errors import EdgekitError


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--formats", "tflit", "--formats: unknown value 'tflit'; expected one or more of tflite"),
        ("--precisions", "fp32,int4", "--precisions: unknown value 'int4'; expected one or more"),
    ],
)
def test_an_unknown_format_or_precision_is_named(tmp_path, option, value, expected) -> None:
    args = ["bench", "--device", "local", "--export-dir", str(tmp_path), option, value]

    result = CliRunner().invoke(app, args)

    assert isinstance(result.exception, EdgekitError)
    assert expected in str(result.exception)
