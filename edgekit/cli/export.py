"""`edgekit export`: a trained model to TFLite fp32/fp16/int8 and ONNX fp32/int8, each
proven against Keras on the run's test split and recorded on the training run."""

from __future__ import annotations

import logging
import tempfile
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgekit.cli.tables import print_whole
from edgekit.config import DEFAULT_EXPERIMENT
from edgekit.errors import ConfigError, ExportError

logger = logging.getLogger(__name__)
console = Console(stderr=True)


class IoType(str, Enum):
    int8 = "int8"
    float = "float"


class OnnxActivations(str, Enum):
    uint8 = "uint8"
    int8 = "int8"


def export(
    run_id: str | None = typer.Option(None, help="MLflow run id of an 'edgekit train' run."),
    run_name: str | None = typer.Option(None, help="Or: the run's name (the newest if several)."),
    latest: bool = typer.Option(
        False, "--latest", help="Or: the newest FINISHED run of the backbone given by --model."
    ),
    model: str | None = typer.Option(None, help="Backbone name, with --latest."),
    model_path: Path | None = typer.Option(
        None, help="Or: a .keras file saved by 'edgekit train' (needs --data); no MLflow record."
    ),
    data: Path | None = typer.Option(
        None, help="Image folder the model was trained on. Default: the run's data_path param."
    ),
    split_manifest: Path | None = typer.Option(
        None,
        help="With --model-path: the run's split_manifest.csv. Default: the split recomputed "
        "from --data with --seed, as 'edgekit train' makes it.",
    ),
    fp32: bool = typer.Option(False, "--fp32", help="TFLite float32."),
    fp16: bool = typer.Option(False, "--fp16", help="TFLite with float16 weights."),
    int8: bool = typer.Option(
        False, "--int8", help="TFLite full-integer int8, calibrated on the train split."
    ),
    onnx: bool = typer.Option(False, "--onnx", help="ONNX float32 (NHWC, dynamic batch)."),
    onnx_int8: bool = typer.Option(
        False, "--onnx-int8", help="ONNX static int8 (QDQ) on the same calibration set."
    ),
    io: IoType = typer.Option(
        IoType.int8, "--io", help="TFLite int8 input/output tensors: int8, or float (kept float32)."
    ),
    onnx_activations: OnnxActivations = typer.Option(
        OnnxActivations.uint8,
        help="ONNX int8 activations: uint8 (fast on onnxruntime's CPU kernels: 0.7x the fp32 "
        "latency here, where int8 ran 2.8x) or int8 (symmetric, for TensorRT).",
    ),
    calibration_size: int = typer.Option(
        300, min=1, help="Calibration images, drawn stratified from the train split."
    ),
    seed: int = typer.Option(42, help="Seed of the calibration draw."),
    out: Path = typer.Option(
        Path("export"),
        help="Output folder; files go to OUT/RUN-NAME/MODEL.PRECISION.FORMAT.",
    ),
    threads: int = typer.Option(2, min=1, help="Runtime threads while verifying each file."),
    tracking_uri: str | None = typer.Option(
        None,
        help="MLflow tracking URI. Default: $MLFLOW_TRACKING_URI, else "
        "sqlite:///models/mlruns/mlflow.db in the current folder.",
    ),
    experiment: str = typer.Option(
        DEFAULT_EXPERIMENT, help="Experiment searched by --run-name and --latest."
    ),
) -> None:
    """Export a trained model and prove every file against Keras.

    With no format flag, all five are written. Each file is run on the run's test split with
    the runtime a board uses (LiteRT for TFLite, onnxruntime for ONNX) and compared with
    Keras: top-1 agreement, accuracy, recall per class, and for float formats the largest
    probability difference (beyond tolerance the export fails). A manifest JSON sits beside
    each file; with a run, metrics and files are also logged to it (metrics
    export.PRECISION_FORMAT.*, files under export/NNN-TIMESTAMP/).
    """
    from edgekit.cli.paths import check_output_dir
    from edgekit.export.exporter import ALL_TARGETS, ExportOptions

    check_output_dir(out, "--out")
    chosen = [fp32, fp16, int8, onnx, onnx_int8]
    targets = tuple(t for t, on in zip(ALL_TARGETS, chosen, strict=True) if on) or ALL_TARGETS
    options = ExportOptions(
        targets, io.value, calibration_size, seed, out, threads, onnx_activations.value
    )
    ways = [bool(run_id), bool(run_name), latest, model_path is not None]
    if sum(ways) != 1:
        raise ConfigError(
            f"name exactly one model to export (got {sum(ways)}): --run-id ID, --run-name NAME, "
            "--latest --model NAME or --model-path FILE.keras"
        )
    if latest and not model:
        raise ConfigError("--latest needs --model NAME, the backbone whose newest run to export")

    if model_path is not None:
        results, failures, keras = _export_file(model_path, data, split_manifest, seed, options)
        record_note = None
    else:
        results, failures, keras, record_note = _export_run(
            run_id, run_name, model if latest else None, experiment, tracking_uri, data, options
        )
    print_table(results, failures, keras, record_note)
    if failures:
        reasons = "; ".join(f.reason for f in failures)
        raise ExportError(f"{len(failures)} of {len(targets)} exports failed: {reasons}")


def _export_run(run_id, run_name, latest_model, experiment, tracking_uri, data, options):
    from edgekit.tracking.export import ExportRecord, RunQuery, fetch_source, find_run, open_client

    client, uri = open_client(tracking_uri)
    run = find_run(client, RunQuery(run_id, run_name, latest_model, experiment), uri)
    with tempfile.TemporaryDirectory(prefix="edgekit-export-") as workdir:
        source = fetch_source(client, run, Path(workdir), data, uri)
        record = ExportRecord(client, run)
        results, failures, keras = _run_session(source, options, record.log_result)
    note = f"MLflow run {run.info.run_name} ({run.info.run_id}), step {record.step}, files in "
    return results, failures, keras, note + f"artifacts {record.artifact_dir}/ of store {uri}"


def _export_file(model_path: Path, data, split_manifest, seed: int, options):
    from edgekit.data.split import Split
    from edgekit.export.samples import recompute_split
    from edgekit.tracking.export import source_from_metadata
    from edgekit.train.metrics import Requirements
    from edgekit.train.model import read_model_metadata

    if data is None:
        raise ConfigError(
            "--model-path needs --data, the image folder the model was trained on (its test "
            "images check the export, its train images calibrate int8)"
        )
    metadata = read_model_metadata(model_path)
    split = Split.from_csv(split_manifest) if split_manifest else recompute_split(data, seed)
    info = {"keras_file": str(Path(model_path).resolve()), "data_path": str(data)}
    source = source_from_metadata(
        Path(model_path), Path(model_path).stem, metadata, split, data, Requirements(), info
    )
    return _run_session(source, options, on_result=None)


def _run_session(source, options, on_result):
    from edgekit.cli.progress import step_progress
    from edgekit.export.exporter import ExportFailure, ExportSession

    results, failures = [], []
    with step_progress(console) as progress:
        session = ExportSession(source, options, progress)
        for target in options.targets:
            try:
                result = session.export(target)
            except ExportError as exc:
                logger.error("%s", exc)
                failures.append(ExportFailure(target, str(exc)))
                continue
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results, failures, session.keras


def print_table(results, failures, keras, record_note: str | None) -> None:
    """The closing table: one row per export and Keras' own row to compare with."""
    from edgekit.export.exporter import ALL_TARGETS

    out = Console()
    table = Table(title="edgekit export: test split")
    for column in ("format", "precision", "size MB", "accuracy", "agreement", "min recall"):
        table.add_column(column, justify="left" if column in ("format", "precision") else "right")
    table.add_column("meets req.")
    keras_row = ["keras", "fp32", f"{keras.size_mb:.2f}", f"{keras.scores.accuracy:.2%}"]
    table.add_row(*keras_row, "-", f"{keras.scores.min_recall:.2%}", "")
    rows = {r.target: _row(r) for r in results}
    for f in failures:
        rows[f.target] = [f.target.format, f.target.precision, "-", "-", "-", "-", "[red]failed[/]"]
    for target in sorted(rows, key=ALL_TARGETS.index):
        table.add_row(*rows[target])
    print_whole(table, out)
    for r in results:
        for shortfall in r.parity.shortfalls:
            out.print(f"{r.target.key} misses requirements: {escape(shortfall)}")
        for note in r.manifest.notes:
            if note.startswith("layers with"):
                out.print(f"{r.target.key}: {escape(note)}")
        out.print(f"{r.target.key}: {escape(str(r.path))}")
    if record_note:
        out.print(escape(record_note))


def _row(result) -> list[str]:
    p = result.parity
    return [
        result.target.format,
        result.target.precision,
        f"{result.size_mb:.2f}",
        f"{p.accuracy:.2%}",
        f"{p.top1_agreement:.2%}",
        f"{p.min_recall:.2%}",
        "[green]yes[/]" if p.meets_requirements else "[red]no[/]",
    ]
