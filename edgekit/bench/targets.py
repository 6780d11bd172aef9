"""How a device is reached: this machine (a fresh process per pass) or SSH (system OpenSSH).

The SSH target never builds a shell string by hand: every remote command is an argument list
joined with `shlex.join`, so file names with spaces, quotes or parentheses arrive intact.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgekit.data.images import sha256_file
from edgekit.devices.config import Device
from edgekit.errors import EdgekitError
from edgekit.runner import RUNNER_PATH, RUNNER_SCHEMA_VERSION

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
# Exit codes of board_runner.py and of the tools around it.
RUNTIME_MISSING_EXIT = 3
REMOTE_TIMEOUT_EXIT = 124  # coreutils `timeout`
COMMAND_NOT_FOUND_EXIT = 127
SSH_FAILED_EXIT = 255


class TargetError(EdgekitError):
    """A device that cannot be reached, refused us, or did not answer in time."""


class TargetTimeout(TargetError):
    """A pass that did not finish within its timeout (hung board or lost connection)."""


class RunnerFailed(EdgekitError):
    """The runner ran but reported a failure (missing runtime, unloadable model ...)."""

    def __init__(self, message: str, result: dict[str, Any] | None = None):
        super().__init__(message)
        self.result = result or {}


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


class Target:
    """Copies files to a device and runs the runner there; `close` removes what it copied."""

    def __init__(self, device: Device):
        self.device = device
        self._runner: str | None = None

    def open(self) -> None:
        self._runner = self.put(RUNNER_PATH)

    def close(self) -> None:
        pass

    def put(self, path: Path) -> str:
        """The path the device sees `path` under."""
        raise NotImplementedError

    def run(self, argv: list[str], timeout_s: float, limit: bool = False) -> Completed:
        """Run `argv` on the device; `limit`: the device itself stops it at the timeout."""
        raise NotImplementedError

    def runner(self, pass_name: str, args: list[str], timeout_s: float) -> dict[str, Any]:
        """Run one pass of the runner in a fresh process and return its JSON object."""
        argv = [self.python, self._runner or str(RUNNER_PATH), pass_name, *args]
        done = self.run(argv, timeout_s, limit=True)
        result = _parse_result(done.stdout)
        if result is None:
            raise RunnerFailed(self._no_result(done))
        if result.get("schema_version") != RUNNER_SCHEMA_VERSION:
            raise RunnerFailed(
                f"{self.device.name}: runner answered schema_version "
                f"{result.get('schema_version')!r}, expected {RUNNER_SCHEMA_VERSION}"
            )
        if not result.get("ok"):
            error = result.get("error", {})
            hint = f"; fix: {error['hint']}" if error.get("hint") else ""
            raise RunnerFailed(f"{self.device.name}: {error.get('message')}{hint}", result)
        return result

    @property
    def python(self) -> str:
        return self.device.python

    def _no_result(self, done: Completed) -> str:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        if done.returncode == COMMAND_NOT_FOUND_EXIT:
            return (
                f"{self.device.name}: '{self.python}' not found on the device ({last}); "
                "install Python 3 there or set 'python:' in devices.yaml"
            )
        return f"{self.device.name}: runner exited {done.returncode} without a result: {last}"


class LocalTarget(Target):
    """This machine: files stay where they are, each pass is a new Python process."""

    @property
    def python(self) -> str:
        # An explicit `python:` wins; else the interpreter edgekit runs in (its venv's runtimes).
        return self.device.python if "python" in self.device.model_fields_set else sys.executable

    def put(self, path: Path) -> str:
        return str(Path(path).resolve())

    def run(self, argv: list[str], timeout_s: float, limit: bool = False) -> Completed:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise TargetTimeout(
                f"{self.device.name}: no answer within {timeout_s:.0f} s (process killed); "
                "raise --timeout-s or bench fewer runs"
            ) from exc
        except FileNotFoundError as exc:
            raise TargetError(
                f"{self.device.name}: cannot start '{argv[0]}'; set 'python:' in devices.yaml"
            ) from exc
        return Completed(done.returncode, done.stdout, done.stderr)


class SshTarget(Target):
    """A board over the system `ssh`: BatchMode (no prompts), host keys checked, own folder."""

    def __init__(self, device: Device, grace_s: float = 15.0):
        super().__init__(device)
        self.folder = f"{device.work_dir.rstrip('/')}/run-{uuid.uuid4().hex[:12]}"
        self.grace_s = grace_s
        self._copied: dict[str, str] = {}
        self._opened = False
        # One TCP connection and one login for every command of the bench (ControlMaster):
        # each pass would otherwise pay a full ssh handshake, seconds on a Pi.
        self._control_dir = tempfile.mkdtemp(prefix="edgekit-ssh-")

    def ssh_args(self) -> list[str]:
        """The ssh command line up to the destination; `--` so no host reads as an option."""
        d = self.device
        args = [
            "ssh",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}",
            "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=3",
            "-o", "ControlMaster=auto",
            # One target, one destination: a fixed socket name. ssh's %C (40 hex digits)
            # would pass the 104-108 byte socket-path limit under a long TMPDIR (macOS).
            "-o", f"ControlPath={self._control_dir}/s",
            "-o", "ControlPersist=120",
        ]  # fmt: skip
        if d.port:
            args += ["-p", str(d.port)]
        if d.identity_file:
            args += ["-i", str(d.identity_file.expanduser())]
        for key, value in d.ssh_options.items():
            args += ["-o", f"{key}={value}"]
        return [*args, "--", d.destination]

    def open(self) -> None:
        self.run(["mkdir", "-p", "--", self.folder], CONNECT_TIMEOUT_S * 3)
        self._opened = True
        super().open()

    def close(self) -> None:
        try:
            if self._opened:
                self.run(["rm", "-rf", "--", self.folder], CONNECT_TIMEOUT_S * 3)
        except TargetError as exc:
            logger.warning("could not remove %s on %s: %s", self.folder, self.device.name, exc)
        finally:
            self._stop_master()

    def _stop_master(self) -> None:
        exit_master = [*self.ssh_args()[:-2], "-O", "exit", "--", self.device.destination]
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(exit_master, capture_output=True, timeout=10)
        shutil.rmtree(self._control_dir, ignore_errors=True)

    def put(self, path: Path) -> str:
        """Copy by content: a file whose hash is already in the folder is not sent again."""
        digest = sha256_file(path)
        if digest in self._copied:
            return self._copied[digest]
        remote = f"{self.folder}/{digest[:16]}/{Path(path).name}"
        if self.run(["test", "-f", remote], CONNECT_TIMEOUT_S * 3).returncode != 0:
            # $1 is the remote path, passed as an argument: the script itself is constant.
            script = (
                'mkdir -p -- "$(dirname -- "$1")" && cat > "$1.partial" && mv -- "$1.partial" "$1"'
            )
            with open(path, "rb") as stream:
                done = self.run(["sh", "-c", script, "sh", remote], 600, stdin=stream)
            if done.returncode != 0:
                raise TargetError(
                    f"{self.device.name}: copying {Path(path).name} failed: {done.stderr.strip()}"
                )
        self._copied[digest] = remote
        return remote

    def run(self, argv: list[str], timeout_s: float, stdin=None, limit: bool = False) -> Completed:
        # The board kills the pass itself at the timeout (coreutils timeout, then SIGKILL 5 s
        # later); the local timeout, a little longer, catches a hung board or a lost link.
        remote = ["timeout", "-k", "5", str(max(int(timeout_s), 1)), *argv] if limit else argv
        command = [*self.ssh_args(), shlex.join(remote)]
        try:
            done = subprocess.run(
                command,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout_s + self.grace_s,
            )
        except subprocess.TimeoutExpired as exc:
            raise TargetTimeout(
                f"{self.device.name}: no answer within {timeout_s:.0f} s over ssh (board hung "
                "or connection lost); check the board, or raise --timeout-s"
            ) from exc
        stderr = done.stderr.decode(errors="replace")
        if done.returncode == SSH_FAILED_EXIT:
            raise TargetError(_ssh_failure(self.device, stderr))
        if limit and done.returncode == REMOTE_TIMEOUT_EXIT:
            raise TargetTimeout(
                f"{self.device.name}: the pass ran past {timeout_s:.0f} s and was stopped on the "
                "board; raise --timeout-s or lower --runs/--min-seconds"
            )
        return Completed(done.returncode, done.stdout.decode(errors="replace"), stderr)


def _ssh_failure(device: Device, stderr: str) -> str:
    """ssh's own failure (exit 255) as one line with the fix."""
    text = stderr.strip()
    where = f"{device.name} ({device.destination})"
    if "Host key verification failed" in text or "HOST IDENTIFICATION HAS CHANGED" in text:
        return (
            f"{where}: host key not trusted (unknown or changed); verify the board's "
            f"fingerprint, then add it: ssh {device.destination} once, or ssh-keyscan into "
            "known_hosts. edgekit never trusts a host key silently"
        )
    if "Permission denied" in text:
        return (
            f"{where}: authentication refused; load your key in ssh-agent or set "
            "identity_file in devices.yaml (password prompts are off: BatchMode=yes)"
        )
    last = text.splitlines()[-1] if text else "no message"
    return f"{where}: ssh failed: {last}; check the host, port and that sshd runs"


def _parse_result(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.strip().splitlines()):
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def make_target(device: Device) -> Target:
    return SshTarget(device) if device.target == "ssh" else LocalTarget(device)
