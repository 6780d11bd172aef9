"""devices.yaml: the boards edgekit benches on, validated strictly on load."""

from __future__ import annotations

import difflib
import logging
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edgekit.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_DEVICES_FILE = Path("devices.yaml")

# This machine needs no configuration: without a devices.yaml in the current folder (and no
# --devices-file), `local` is still there, so `edgekit bench --device local` works anywhere.
BUILTIN_LOCAL = {"target": "local", "board": "this machine", "threads": [1, 2]}
RuntimeName = Literal["litert", "tflite-runtime", "onnxruntime"]

# Options that would turn off what the ssh target relies on: no prompts, no silent trust.
_FORBIDDEN_SSH_OPTIONS = {"batchmode", "stricthostkeychecking", "passwordauthentication"}


class DeviceError(ConfigError):
    """A devices.yaml that cannot be used, or a device name it does not hold."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceRequirements(_Strict):
    """What this deployment needs from a model on this board (p90 latency, peak memory)."""

    max_latency_ms: float | None = Field(None, gt=0)
    max_memory_mb: float | None = Field(None, gt=0)


class Device(_Strict):
    """One board: how to reach it, what it is, which runtimes and thread counts to bench."""

    name: str = ""
    target: Literal["local", "ssh"]
    host: str | None = None
    user: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    identity_file: Path | None = None
    ssh_options: dict[str, str] = Field(default_factory=dict)
    python: str = "python3"
    work_dir: str = "/tmp/edgekit-bench"
    board: str | None = None
    soc: str | None = None
    ram_mb: int | None = Field(None, gt=0)
    os: str | None = None
    runtimes: tuple[RuntimeName, ...] = ("litert", "onnxruntime")
    onnx_providers: tuple[str, ...] = ("CPUExecutionProvider",)
    threads: tuple[int, ...] = (1,)
    requirements: DeviceRequirements = Field(default_factory=DeviceRequirements)
    notes: str | None = None

    @field_validator("threads")
    @classmethod
    def _threads(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or min(value) < 1:
            raise ValueError("threads must be a non-empty list of counts >= 1, e.g. [1, 4]")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("-") or not value.strip()):
            raise ValueError("must be a host name, address or ~/.ssh/config alias")
        return value

    @field_validator("ssh_options")
    @classmethod
    def _ssh_options(cls, value: dict[str, str]) -> dict[str, str]:
        forbidden = sorted(k for k in value if k.lower() in _FORBIDDEN_SSH_OPTIONS)
        if forbidden:
            raise ValueError(
                f"{', '.join(forbidden)} cannot be set: edgekit always runs ssh with "
                "BatchMode=yes and StrictHostKeyChecking=yes; add the board's host key to "
                "known_hosts instead (ssh to it once, or ssh-keyscan and check the fingerprint)"
            )
        return value

    @model_validator(mode="after")
    def _ssh_needs_host(self) -> Device:
        if self.target == "ssh" and not self.host:
            raise ValueError(
                "host: required for target ssh; add 'host: <name or address>' "
                "(a Host alias of ~/.ssh/config works too)"
            )
        return self

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else str(self.host)


class DevicesFile(_Strict):
    devices: dict[str, Device]


def load_devices(path: Path | None = None) -> dict[str, Device]:
    """Every device of devices.yaml by name; any mistake is one line naming device and field.

    Without `path`, ./devices.yaml; when that does not exist either, only the built-in `local`.
    """
    if path is None and not DEFAULT_DEVICES_FILE.exists():
        logger.info("no devices.yaml in this folder: only the built-in device 'local' is known")
        return {"local": Device(name="local", **BUILTIN_LOCAL)}
    path = Path(path or DEFAULT_DEVICES_FILE)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DeviceError(
            f"no devices file at '{path}'; create it (see devices.yaml in the edgekit repo) "
            "or pass --devices-file"
        ) from exc
    except (OSError, yaml.YAMLError) as exc:
        raise DeviceError(f"cannot read '{path}': {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("devices"), dict):
        raise DeviceError(f"{path}: expected a top-level 'devices:' mapping of name -> device")

    devices = {}
    for name, entry in raw["devices"].items():
        if not isinstance(entry, dict):
            raise DeviceError(f"{path}: device '{name}' must be a mapping of fields")
        try:
            devices[str(name)] = Device(**{"name": str(name), **_underscored(entry)})
        except ValidationError as exc:
            raise DeviceError(f"{path}: device '{name}': {_describe(exc)}") from exc
    return devices


def select_devices(devices: dict[str, Device], names: str) -> list[Device]:
    """`rpi4,rpi5` -> those devices, in that order; an unknown name lists the known ones."""
    chosen = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        if name not in devices:
            close = difflib.get_close_matches(name, devices, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise DeviceError(
                f"unknown device '{name}'; {hint}expected one of {', '.join(devices)} "
                "(add it to devices.yaml)"
            )
        chosen.append(devices[name])
    if not chosen:
        raise DeviceError("no device given; pass --device NAME[,NAME...]")
    return chosen


def _underscored(entry: dict[str, Any]) -> dict[str, Any]:
    return {str(k).replace("-", "_"): v for k, v in entry.items()}


def _describe(exc: ValidationError) -> str:
    """'field: problem (got value); fix' for each problem, with the closest known field."""
    problems = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        field = ".".join(loc)
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            model = DeviceRequirements if loc[0] == "requirements" else Device
            known = [f for f in model.model_fields if f != "name"]
            close = difflib.get_close_matches(loc[-1], known, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"expected one of {', '.join(known)}"
            message = f"unknown field; {fix}"
        elif error["type"] == "missing":
            message = "required field is missing"
        elif "input" in error and not isinstance(error["input"], dict):
            message += f" (got {error['input']!r})"
        problems.append(f"{field}: {message}" if loc else message)
    return "; ".join(problems)
