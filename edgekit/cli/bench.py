"""`edgekit bench`: measure exported models on devices and record them under the training run."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import get_args

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgekit.cli.devices import DEVICES_FILE_HELP
from edgekit.cli.signals import sigterm_as_interrupt
from edgekit.cli.tables import print_whole
from edgekit.errors import EdgekitError

logger = logging.getLogger(__name__)
console = Console(stderr=True)

_DEFAULT_EXPORT_ROOT = Path("export")


def bench(
    device: str = typer.Option(
        ..., "--device", help="Device name(s) from devices.yaml, comma separated: rpi4,rpi5."
    ),
    run_id: str | None = typer.Option(
        None,
        "--run-id",
        help="Training run to bench: its exports (`export/<run-name>/` unless --export-dir) and "
        "its test split; results nest under it in MLflow.",
    ),
    export_dir: Path | None = typer.Option(
        None,
        "--export-dir",
        help="Folder of exported files with manifests (searched recursively). Without "
        "--run-id the run is taken from the manifests.",
    ),
    formats: str | None = typer.Option(None, help="Only these formats: tflite,onnx."),
    precisions: str | None = typer.Option(None, help="Only these precisions: fp32,fp16,int8."),
    threads: str | None = typer.Option(
        None, help="Thread counts, e.g. 1,4. Default: each device's `threads` list."
    ),
    runs: int = typer.Option(100, min=1, help="Timed runs, at least (and --min-seconds)."),
    warmup: int = typer.Option(
        10, min=0, help="Warm-up runs, at least (and 1/5 of --min-seconds)."
    ),
    min_seconds: float = typer.Option(10.0, min=0, help="Timed seconds, at least."),
    timeout_s: float = typer.Option(
        300.0, min=1, help="Longest one pass may take on a board before it is stopped."
    ),
    cooldown_s: float = typer.Option(0.0, min=0, help="Pause between models on one board."),
    accuracy: bool = typer.Option(
        True, "--accuracy/--no-accuracy", help="Score the test split on the board (needs the run)."
    ),
    devices_file: Path | None = typer.Option(None, help=DEVICES_FILE_HELP),
    results_dir: Path | None = typer.Option(
        None, help="Where each measurement's JSON goes. Default: `bench/<run-name>-<time>/`."
    ),
    tracking_uri: str | None = typer.Option(
        None,
        help="MLflow tracking URI of the training run. Default: $MLFLOW_TRACKING_URI, else "
        "sqlite:///models/mlruns/mlflow.db in the current folder.",
    ),
) -> None:
    """Run exported models on devices: latency, memory and accuracy, into MLflow.

    Each pass runs in a fresh process of the board runner (locally, or copied over SSH into a
    per-bench folder that is removed afterwards). Boards run in parallel, one measurement at a
    time per board. Results are written as JSON first, then as nested MLflow runs under the
    training run, with headline metrics `bench.<device>.<precision>_<format>.*` on it.
    Exits 1 when a measurement failed (the table names why), 2 on a usage mistake.
    """
    from edgekit.bench.harness import BenchSettings, find_artifacts
    from edgekit.cli.paths import check_output_dir
    from edgekit.devices.config import load_devices, select_devices
    from edgekit.export.manifest import Format, Precision

    if results_dir is not None:
        check_output_dir(results_dir, "--results-dir")
    chosen = select_devices(load_devices(devices_file), device)
    settings = BenchSettings(
        runs=runs,
        warmup=warmup,
        min_seconds=min_seconds,
        warmup_seconds=min_seconds / 5,
        threads=_ints(threads, "--threads"),
        timeout_s=timeout_s,
        cooldown_s=cooldown_s,
    )
    wanted_formats = _choices(formats, "--formats", get_args(Format))
    wanted_precisions = _choices(precisions, "--precisions", get_args(Precision))
    record = _record(run_id, tracking_uri) if run_id else None
    folder = export_dir or _DEFAULT_EXPORT_ROOT / (record.parent.run_name if record else "")
    artifacts = find_artifacts(folder, wanted_formats, wanted_precisions)
    if record is None:
        record = _record_from_manifests(artifacts, tracking_uri)
    else:
        artifacts = _of_run(artifacts, record.parent.run_id, folder)

    arrays = _test_arrays(record, artifacts) if accuracy and record else {}
    run_name = record.parent.run_name if record else "bench"
    out = results_dir or Path("bench") / f"{run_name}-{datetime.now():%Y%m%d-%H%M%S}"
    try:
        with sigterm_as_interrupt() as interruption:
            measurements = _run_with_progress(chosen, artifacts, arrays, settings, out)
    except KeyboardInterrupt:
        console.print(
            f"[yellow]interrupted:[/] nothing recorded in MLflow; the measurements that "
            f"finished are in {escape(str(out))}"
        )
        raise typer.Exit(interruption.exit_code) from None
    verdicts = _record_results(record, chosen, measurements, out)
    print_table(measurements, verdicts)
    console.print(f"results in {escape(str(out))}")
    if any(m.errors for m in measurements):
        raise typer.Exit(1)


def _run_with_progress(devices, artifacts, arrays, settings, out):
    from edgekit.bench.harness import bench_devices, num_steps
    from edgekit.cli.progress import step_progress

    with step_progress(console) as progress:
        advance = {
            d.name: progress(f"bench {d.name}", num_steps(d, artifacts, settings)) for d in devices
        }
        return bench_devices(devices, artifacts, arrays, settings, out, lambda d, s: advance[d](1))


def _record(run_id: str, tracking_uri: str | None):
    from edgekit.tracking.bench import BenchRecord

    return BenchRecord(tracking_uri, run_id)


def _record_from_manifests(artifacts, tracking_uri: str | None):
    """The run the manifests came from, if they name one; else results stay on disk only."""
    ids = {
        a.manifest.source.get("run_id") or a.manifest.source.get("mlflow_run_id") for a in artifacts
    }
    ids.discard(None)
    if len(ids) != 1:
        logger.warning(
            "the manifests name %s training runs; pass --run-id to record in MLflow. "
            "Results are written to disk only",
            len(ids) or "no",
        )
        return None
    # The exporter records the store it read the run from; an explicit --tracking-uri wins.
    stores = {a.manifest.source.get("tracking_uri") for a in artifacts} - {None}
    return _record(ids.pop(), tracking_uri or (stores.pop() if len(stores) == 1 else None))


def _source_run(artifact) -> str | None:
    source = artifact.manifest.source
    return source.get("run_id") or source.get("mlflow_run_id")


def _of_run(artifacts, run_id: str, folder: Path) -> list:
    """Only the exports of `run_id` when --export-dir holds several runs' exports."""
    kept = [a for a in artifacts if _source_run(a) in (None, run_id)]
    if not kept:
        raise EdgekitError(
            f"no export of run {run_id} under '{folder}' (the manifests name other runs); "
            f"run 'edgekit export --run-id {run_id}' or pass its --export-dir"
        )
    return kept


def _test_arrays(record, artifacts) -> dict:
    """One .npz per input size used by the artifacts, rebuilt from the run's split manifest."""
    from edgekit.bench.testset import build_test_arrays
    from edgekit.cli.progress import step_progress

    data_path = record.parent.data_path
    if data_path is None:
        raise EdgekitError(f"run {record.parent.run_id} has no data_path param; pass --no-accuracy")
    split = record.split()
    sizes = sorted({a.input_size for a in artifacts})
    class_names = artifacts[0].manifest.class_names
    arrays = {}
    with step_progress(console) as progress:
        for size in sizes:
            advance = progress(f"test split {size[0]}x{size[1]}", len(split.part("test")))
            arrays[size] = build_test_arrays(
                split, data_path, class_names, size, on_progress=advance
            )
    return arrays


def _record_results(record, devices, measurements, out: Path) -> list:
    """Verdicts for every measurement; nested runs and parent headlines when there is a run."""
    from edgekit.bench.verdict import judge
    from edgekit.train.metrics import Requirements

    by_name = {d.name: d for d in devices}
    requirements = record.parent.requirements if record else Requirements()
    verdicts = [judge(m, requirements, by_name[m.device].requirements) for m in measurements]
    if record is None:
        return verdicts

    best: dict = {}
    for m, v in zip(measurements, verdicts, strict=True):
        if not m.reached:  # a board never reached has nothing to compare: no nested run
            continue
        path = out / m.device / f"{m.artifact}.t{m.threads}.json"
        record.log_measurement(m, v, path)
        key = (m.device, m.precision, m.format)
        if v.p50_ms is not None and (key not in best or v.p50_ms < best[key][1].p50_ms):
            best[key] = (m, v)
    record.log_headlines(best)
    unreached = sorted({m.device for m in measurements if not m.reached})
    if unreached:
        console.print(f"not reached, nothing recorded in MLflow: {', '.join(unreached)}")
    recorded = sum(m.reached for m in measurements)
    console.print(
        f"{recorded} nested runs under {escape(record.parent.run_name)} "
        f"({record.parent.run_id}) in {escape(record.uri)}"
    )
    return verdicts


def print_table(measurements, verdicts) -> None:
    """The seed's table, one row per measurement, then every error and missed requirement."""
    table = Table(title="edgekit bench")
    for column in ("device", "model", "format", "threads"):
        table.add_column(column)
    for column in (
        "accuracy",
        "min recall",
        "size MB",
        "p50 ms",
        "p90 ms",
        "peak MB",
        "meets req.",
    ):
        table.add_column(column, justify="right")
    for m, v in zip(measurements, verdicts, strict=True):
        table.add_row(
            escape(m.device),
            escape(m.model_name),
            f"{m.precision} {m.format}",
            str(m.threads),
            _pct(v.accuracy),
            _pct(v.min_recall),
            f"{m.size_mb:.2f}",
            _num(v.p50_ms, 2),
            _num(v.p90_ms, 2),
            _num(v.peak_mb, 0),
            "[green]yes[/]" if v.meets_requirements else "[red]no[/]",
        )
    print_whole(table)
    for m, v in zip(measurements, verdicts, strict=True):
        for line in v.shortfalls:
            Console().print(f"{escape(m.device)} {escape(m.artifact)} t{m.threads}: {escape(line)}")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _words(value: str | None) -> tuple[str, ...] | None:
    return tuple(w.strip() for w in value.split(",") if w.strip()) if value else None


def _choices(value: str | None, option: str, allowed: tuple[str, ...]) -> tuple[str, ...] | None:
    """The comma-separated words of `value`, each one of `allowed` (a typo is named)."""
    words = _words(value)
    unknown = [w for w in words or () if w not in allowed]
    if unknown:
        raise EdgekitError(
            f"{option}: unknown value '{unknown[0]}'; expected one or more of "
            f"{', '.join(allowed)}, comma separated"
        )
    return words


def _ints(value: str | None, option: str) -> tuple[int, ...] | None:
    words = _words(value)
    if not words:
        return None
    if not all(w.isdigit() and int(w) > 0 for w in words):
        raise EdgekitError(f"{option} '{value}' must be counts >= 1, comma separated, e.g. 1,4")
    return tuple(int(w) for w in words)
