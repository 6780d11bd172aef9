"""Helpers for tests that start a real MLflow server on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def search_runs(port: int, experiment_id: str) -> list[dict]:
    """POST /api/2.0/mlflow/runs/search, as the UI does."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/search",
        data=json.dumps({"experiment_ids": [experiment_id]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response).get("runs", [])


def wait_for_run(port: int, experiment_id: str, process: subprocess.Popen, timeout_s: float):
    """The run ids the server lists, once it lists any; fails if the process dies first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode} before serving"
        try:
            runs = search_runs(port, experiment_id)
            if runs:
                return {run["info"]["run_id"] for run in runs}
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"no run served on port {port} within {timeout_s} s")


def port_closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


def stop_group(process: subprocess.Popen) -> None:
    """End a server started with start_new_session=True, workers included."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
