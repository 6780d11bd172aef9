"""The MLflow tracking server edgekit starts for `edgekit ui`: its command line and readiness."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from edgekit.errors import TrackingError
from edgekit.tracking.store import artifact_root_for

READY_TIMEOUT_S = 120.0


def server_command(uri: str, host: str, port: int) -> list[str]:
    """`mlflow server` on the store; new experiments keep their artifacts beside the database."""
    command = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", uri]
    command += ["--host", host, "--port", str(port)]
    # One worker: a UI for one person, on a machine that is often also training.
    command += ["--workers", "1"]
    root = artifact_root_for(uri)
    if root is not None:
        command += ["--default-artifact-root", root]
    return command


def local_url(host: str, port: int) -> str:
    """The address to open: a server bound to every interface answers on loopback too."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def check_port_free(host: str, port: int) -> None:
    """Refuse a port someone listens on, before MLflow fails with a page of traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Like the server will: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise TrackingError(
                f"port {port} on {host} is in use ({exc.strerror}); stop what listens there "
                f"(another MLflow UI?) or pass another --port, e.g. --port {port + 1}"
            ) from exc


def wait_until_ready(url: str, process: subprocess.Popen, timeout_s: float = READY_TIMEOUT_S):
    """Poll GET /health until the server answers; fail if it exits or takes too long."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise TrackingError(
                f"mlflow server exited with code {code} before answering on {url}; its output "
                "is above"
            )
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise TrackingError(f"mlflow server did not answer on {url} within {timeout_s:.0f} s")
