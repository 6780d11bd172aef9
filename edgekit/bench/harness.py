"""The bench plan: which exported files, on which devices, and one measurement per thread count.

Devices run in parallel, measurements on one device one after the other. Each measurement's
result is written as JSON to disk as soon as the model is done; MLflow comes after (cli).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from edgekit.bench.targets import RunnerFailed, Target, TargetError, make_target
from edgekit.devices.config import Device
from edgekit.errors import EdgekitError
from edgekit.export.manifest import MANIFEST_SUFFIX, Manifest, read_manifest
from edgekit.runner.board_runner import FORMAT_RUNTIMES

logger = logging.getLogger(__name__)

# Set when the user interrupts a bench: worker threads stop before their next pass.
_STOP = threading.Event()

RESULT_SCHEMA_VERSION = 1


class BenchError(EdgekitError):
    """Nothing to bench, or a bench that cannot start as asked."""


@dataclass(frozen=True)
class Artifact:
    """One exported file and its manifest."""

    path: Path
    manifest: Manifest

    @property
    def label(self) -> str:
        return f"{self.manifest.model_name}.{self.manifest.artifact.precision}.{self.format}"

    @property
    def format(self) -> str:
        return self.manifest.artifact.format

    @property
    def input_size(self) -> tuple[int, int]:
        shape = self.manifest.input.shape
        if self.manifest.input.layout == "NCHW":
            return (int(shape[2]), int(shape[3]))
        return (int(shape[1]), int(shape[2]))


@dataclass(frozen=True)
class BenchSettings:
    """Timing parameters; the defaults suit a Raspberry Pi (at least 100 runs and 10 s)."""

    runs: int = 100
    warmup: int = 10
    min_seconds: float = 10.0
    warmup_seconds: float = 2.0
    threads: tuple[int, ...] | None = None  # None: each device's own list
    timeout_s: float = 300.0
    cooldown_s: float = 0.0


@dataclass(frozen=True)
class Measurement:
    """One (device, artifact, threads): what the runner measured, or why it could not."""

    device: str
    target: str
    board: dict[str, Any]
    artifact: str
    file: str
    model_name: str
    format: str
    precision: str
    size_mb: float
    sha256: str
    threads: int
    settings: dict[str, Any]
    timing: dict[str, Any] | None = None
    memory: dict[str, Any] | None = None
    accuracy: dict[str, Any] | None = None
    thermal_before: dict[str, Any] | None = None
    thermal_after: dict[str, Any] | None = None
    errors: tuple[str, ...] = ()
    # False when the device could not be reached at all: nothing was tried on it.
    reached: bool = True
    class_names: tuple[str, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)
    schema_version: int = RESULT_SCHEMA_VERSION

    @property
    def ok(self) -> bool:
        return self.timing is not None and not self.errors

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_artifacts(
    folder: Path, formats: tuple[str, ...] | None = None, precisions: tuple[str, ...] | None = None
) -> list[Artifact]:
    """Every exported file of `folder` (or of its sub-folders) that has a manifest beside it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BenchError(
            f"export folder '{folder}' does not exist; run 'edgekit export' first or pass "
            "--export-dir"
        )
    artifacts = []
    for manifest_file in sorted(folder.rglob(f"*{MANIFEST_SUFFIX}")):
        manifest = read_manifest(manifest_file)
        path = manifest_file.with_name(manifest.artifact.file)
        if not path.is_file():
            raise BenchError(f"'{manifest_file}' names '{path.name}', which is not beside it")
        if formats and manifest.artifact.format not in formats:
            continue
        if precisions and manifest.artifact.precision not in precisions:
            continue
        artifacts.append(Artifact(path, manifest))
    if not artifacts:
        wanted = f" of formats {list(formats)}" if formats else ""
        raise BenchError(
            f"no exported file{wanted} with a manifest under '{folder}'; run 'edgekit export'"
        )
    return artifacts


ProgressCallback = Callable[[str, str], None]  # (device name, what just finished)


def bench_devices(
    devices: list[Device],
    artifacts: list[Artifact],
    test_arrays: dict[tuple[int, int], Path],
    settings: BenchSettings,
    results_dir: Path,
    on_step: ProgressCallback | None = None,
) -> list[Measurement]:
    """Every device in its own thread; a device that fails does not stop the others.

    On Ctrl-C every device stops before its next pass (the pass under way was interrupted
    with it: runner and ssh share the terminal's process group) and closes its target.
    """
    on_step = on_step or (lambda device, step: None)
    _STOP.clear()
    with ThreadPoolExecutor(max_workers=max(len(devices), 1)) as pool:
        futures = [
            pool.submit(bench_device, d, artifacts, test_arrays, settings, results_dir, on_step)
            for d in devices
        ]
        try:
            return [m for future in futures for m in future.result()]
        except KeyboardInterrupt:
            _STOP.set()
            raise


def num_steps(device: Device, artifacts: list[Artifact], settings: BenchSettings) -> int:
    """Progress units of a device: per model, accuracy + timing and memory per thread count."""
    return len(artifacts) * (1 + 2 * len(settings.threads or device.threads))


def bench_device(
    device: Device,
    artifacts: list[Artifact],
    test_arrays: dict[tuple[int, int], Path],
    settings: BenchSettings,
    results_dir: Path,
    on_step: ProgressCallback,
) -> list[Measurement]:
    """All artifacts on one device, one at a time; the remote folder is removed however it ends."""
    target = make_target(device)
    measurements: list[Measurement] = []
    try:
        target.open()
    except EdgekitError as exc:
        logger.error("%s", exc)
        target.close()  # what open() made before failing: the folder, the ssh master
        failed = [
            replace(_failed(device, a, t, settings, str(exc)), reached=False)
            for a in artifacts
            for t in _threads(device, settings)
        ]
        return [_write(m, results_dir) for m in failed]
    try:
        for index, artifact in enumerate(artifacts):
            if index and settings.cooldown_s:
                logger.info("%s: cooling down %g s", device.name, settings.cooldown_s)
                time.sleep(settings.cooldown_s)
            arrays = test_arrays.get(artifact.input_size)
            batch = _bench_artifact(target, device, artifact, arrays, settings, on_step)
            measurements += [_write(m, results_dir) for m in batch]
    finally:
        target.close()
    return measurements


def _bench_artifact(
    target: Target,
    device: Device,
    artifact: Artifact,
    arrays: Path | None,
    settings: BenchSettings,
    on_step: ProgressCallback,
) -> list[Measurement]:
    """Thermal state, accuracy once, timing and memory per thread count, thermal state again."""
    threads_list = _threads(device, settings)
    base = [_failed(device, artifact, t, settings, None) for t in threads_list]
    try:
        model = target.put(artifact.path)
        remote_arrays = target.put(arrays) if arrays else None
    except EdgekitError as exc:
        return [replace(m, errors=(str(exc),)) for m in base]
    common = _runner_args(device, artifact, model)
    before = _thermal(target, settings)

    # Accuracy does not depend on the thread count: one pass per model, shared by its rows.
    accuracy, accuracy_error = None, None
    if remote_arrays:
        args = [*common, "--threads", str(max(threads_list)), "--test-arrays", remote_arrays,
                "--num-classes", str(len(artifact.manifest.class_names))]  # fmt: skip
        accuracy, accuracy_error = _pass(target, "accuracy", args, settings)
    on_step(device.name, f"{artifact.label} accuracy")

    done = []
    for m in base:
        args = [*common, "--threads", str(m.threads), *_timing_args(settings)]
        timing, timing_error = _pass(target, "timing", args, settings)
        on_step(device.name, f"{artifact.label} timing, {m.threads} threads")
        memory, memory_error = _pass(target, "memory", args, settings)
        on_step(device.name, f"{artifact.label} memory, {m.threads} threads")
        errors = tuple(e for e in (accuracy_error, timing_error, memory_error) if e)
        done.append(replace(m, timing=timing, memory=memory, accuracy=accuracy, errors=errors,
                            thermal_before=before))  # fmt: skip
    after = _thermal(target, settings)
    return [replace(m, thermal_after=after) for m in done]


def _pass(target: Target, name: str, args: list[str], settings: BenchSettings):
    """(result, None) or (None, the one-line error): one failure never stops the bench."""
    if _STOP.is_set():
        raise KeyboardInterrupt  # in a worker thread: ends this device, its target is closed
    try:
        return target.runner(name, args, settings.timeout_s), None
    except (RunnerFailed, TargetError) as exc:
        logger.error("%s pass: %s", name, exc)
        return None, f"{name}: {exc}"


def _thermal(target: Target, settings: BenchSettings) -> dict[str, Any] | None:
    result, _ = _pass(target, "thermal", [], settings)
    return {k: result.get(k) for k in ("temperature_c", "throttling")} if result else None


def _runner_args(device: Device, artifact: Artifact, remote_model: str) -> list[str]:
    runtimes = [r for r in device.runtimes if r in FORMAT_RUNTIMES[artifact.format]]
    # NOTE: a device that lists no runtime for this format still gets one, so the runner
    # itself reports what is missing with the install hint.
    runtimes = runtimes or list(FORMAT_RUNTIMES[artifact.format])
    return [
        "--model", remote_model,
        "--format", artifact.format,
        "--runtime", ",".join(runtimes),
        "--providers", ",".join(device.onnx_providers),
    ]  # fmt: skip


def _timing_args(settings: BenchSettings) -> list[str]:
    return [
        "--runs", str(settings.runs),
        "--warmup", str(settings.warmup),
        "--min-seconds", str(settings.min_seconds),
        "--warmup-seconds", str(settings.warmup_seconds),
    ]  # fmt: skip


def _threads(device: Device, settings: BenchSettings) -> tuple[int, ...]:
    return settings.threads or device.threads


def _failed(
    device: Device, artifact: Artifact, threads: int, settings: BenchSettings, error: str | None
) -> Measurement:
    a = artifact.manifest.artifact
    return Measurement(
        device=device.name,
        target=device.target,
        board=device.model_dump(include={"board", "soc", "ram_mb", "os"}),
        artifact=artifact.label,
        file=str(artifact.path),
        model_name=artifact.manifest.model_name,
        format=a.format,
        precision=a.precision,
        size_mb=a.size_mb,
        sha256=a.sha256,
        threads=threads,
        settings=asdict(settings) | {"threads": threads},
        errors=(error,) if error else (),
        class_names=artifact.manifest.class_names,
        source=dict(artifact.manifest.source),
    )


def _write(measurement: Measurement, results_dir: Path) -> Measurement:
    """<results>/<device>/<model>.<precision>.<format>.t<threads>.json, atomically."""
    folder = Path(results_dir) / measurement.device
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{measurement.artifact}.t{measurement.threads}.json"
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(measurement.to_dict(), indent=2, default=str) + "\n")
    os.replace(partial, path)
    return measurement
