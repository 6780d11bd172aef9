"""The tiny exports, shared with the bench tests (built once per session)."""

from __future__ import annotations

import pytest
from tiny_exports import TinyExports, build_tiny_exports


@pytest.fixture(scope="session")
def tiny_exports(tmp_path_factory) -> TinyExports:
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
