"""A real sshd on 127.0.0.1 with throw-away keys, for the ssh target's tests."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from edgekit.devices.config import Device

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class Sshd:
    port: int
    folder: Path
    user_key: Path
    known_hosts: Path
    wrong_known_hosts: Path

    def device(self, **fields) -> Device:
        """A device reaching this sshd with the venv's Python (numpy and runtimes in it)."""
        options = {"UserKnownHostsFile": str(self.known_hosts), "IdentitiesOnly": "yes"}
        values = {
            "name": "loopback",
            "target": "ssh",
            "host": "127.0.0.1",
            "port": self.port,
            "user": getpass.getuser(),
            "identity_file": self.user_key,
            "ssh_options": options | fields.pop("ssh_options", {}),
            "python": sys.executable,
            "work_dir": str(self.folder / "remote work (it's here)"),
            "runtimes": ["litert", "onnxruntime"],
            "threads": [1],
        }
        return Device(**(values | fields))


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sshd(folder: Path) -> tuple[Sshd, subprocess.Popen]:
    folder.mkdir(parents=True, exist_ok=True)
    host_public = _keygen(folder / "host_key")
    user_public = _keygen(folder / "user_key")
    wrong_public = _keygen(folder / "other_host_key")
    (folder / "authorized_keys").write_text(user_public + "\n")
    port = _free_port()
    (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_public}\n")
    (folder / "wrong_known_hosts").write_text(f"[127.0.0.1]:{port} {wrong_public}\n")
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\n"
        f"PidFile {folder / 'sshd.pid'}\nAuthorizedKeysFile {folder / 'authorized_keys'}\n"
        "StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nLogLevel ERROR\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation folder
    with open(folder / "sshd.log", "wb") as log:
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError as exc:
            if process.poll() is not None:
                raise RuntimeError((folder / "sshd.log").read_text()) from exc
            time.sleep(0.1)
    known = Sshd(port, folder, folder / "user_key", folder / "known_hosts",
                 folder / "wrong_known_hosts")  # fmt: skip
    return known, process


def sshd_available() -> bool:
    return os.path.exists(SSHD) and shutil.which("ssh") is not None and os.geteuid() == 0
