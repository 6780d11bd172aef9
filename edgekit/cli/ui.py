"""`edgekit ui`: the MLflow UI on the store edgekit writes to, so the runs are really there."""

from __future__ import annotations

import os
import signal
import subprocess

import typer
from rich.console import Console
from rich.markup import escape

from edgekit.cli.signals import sigterm_as_interrupt

console = Console(stderr=True)
STOP_TIMEOUT_S = 15.0


def ui(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on; 0.0.0.0 for all."),
    port: int = typer.Option(5000, min=1, max=65535, help="Port to listen on."),
    tracking_uri: str | None = typer.Option(
        None,
        help="Store to show. Default: $MLFLOW_TRACKING_URI, else "
        "sqlite:///models/mlruns/mlflow.db in the current folder (where edgekit train writes).",
    ),
) -> None:
    """Start the MLflow UI on the store edgekit writes to; Ctrl-C stops it.

    A UI opened on another store shows no runs: this one resolves the store exactly as
    `edgekit train` does and refuses to start on a store that does not exist yet.
    """
    from edgekit.errors import TrackingError
    from edgekit.tracking.server import check_port_free, local_url, server_command
    from edgekit.tracking.store import existing_store_uri

    uri = existing_store_uri(tracking_uri)
    if uri.startswith(("http://", "https://")):
        raise TrackingError(
            f"the store {uri} is a tracking server, which has its own UI: open {uri} in a "
            "browser (edgekit ui serves a local store)"
        )
    check_port_free(host, port)

    url = local_url(host, port)
    # A session of its own: Ctrl-C reaches edgekit only, which then stops the whole server.
    process = subprocess.Popen(server_command(uri, host, port), start_new_session=True)
    try:
        with sigterm_as_interrupt():
            code = _serve(process, url, uri)
    except KeyboardInterrupt:
        code = 0
    finally:
        _stop(process)
    console.print("MLflow UI stopped")
    raise typer.Exit(code)


def _serve(process: subprocess.Popen, url: str, uri: str) -> int:
    from edgekit.tracking.server import wait_until_ready

    with console.status(f"Starting the MLflow UI on {url} ..."):
        wait_until_ready(url, process)
    Console().print(f"MLflow UI: {url}  (store {escape(uri)})")
    console.print("Press Ctrl-C to stop it.")
    return process.wait()


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (its workers too), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
