"""The tiny exports, shared with the bench tests (built once per session)."""

from __future__ import annotations

import pytest
from tiny_exports import TinyExports, build_tiny_exports


@pytest.fixture(scope="session")
def tiny_exports(tmp_path_factory) -> TinyExports:
    return build_tiny_exports(tmp_path_factory.getbasetemp() / "tiny-exports")
