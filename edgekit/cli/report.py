"""`edgekit report`: compare the training runs of an experiment in a table, charts and a page."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgekit.cli.tables import print_whole
from edgekit.errors import TrackingError

logger = logging.getLogger(__name__)
console = Console(stderr=True)

DEFAULT_EXPERIMENT = "edge_models_comparison"
DEFAULT_OUT = Path("reports")


def report(
    experiment: str = typer.Option(DEFAULT_EXPERIMENT, help="MLflow experiment to compare."),
    filter_expr: str | None = typer.Option(
        None,
        "--filter",
        help='MLflow search filter, e.g. "metrics.test_accuracy >= 0.85 and '
        'metrics.backbone_size_mb <= 30". Numeric compares on params that are also metrics '
        "(params.backbone_size_mb <= 30) are turned into the metric form, with a warning.",
    ),
    sort: str | None = typer.Option(
        None,
        help="Row order: model, run or a metric key (test_accuracy, min_recall, "
        "backbone_size_mb, bench.rpi4.int8_tflite.p50_ms ...), best first; add :asc or :desc "
        "to choose. Default: test_accuracy.",
    ),
    out: Path = typer.Option(
        DEFAULT_OUT, help="Folder for the CSV, Markdown, PNG charts and report.html."
    ),
    tracking_uri: str | None = typer.Option(
        None,
        help="MLflow tracking URI. Default: $MLFLOW_TRACKING_URI, else "
        "sqlite:///models/mlruns/mlflow.db in the current folder (where edgekit train writes).",
    ),
    log: bool = typer.Option(
        True,
        "--log/--no-log",
        help="Also store the report as a run tagged edgekit.stage=report in the experiment; "
        "--no-log leaves the store untouched.",
    ),
) -> None:
    """Compare the finished training runs: table, charts (PNG and one HTML page), CSV, Markdown.

    One row per run tagged edgekit.stage=train. Export and bench results (metrics under
    export.* and bench.DEVICE.*) add a table of their own and a latency chart per device.
    """
    from edgekit.cli.paths import check_output_dir
    from edgekit.report.table import build_comparison
    from edgekit.tracking.runs import metric_histories
    from edgekit.tracking.store import existing_store_uri

    check_output_dir(out, "--out")
    uri = existing_store_uri(tracking_uri)
    found = _find_runs(uri, experiment, filter_expr)
    comparison = build_comparison(found.runs, sort)
    histories = metric_histories(uri, [row.run_id for row in comparison.rows])

    print_tables(comparison)
    files = _write_files(comparison, histories, out, _meta(uri, experiment, found.filter_used))
    for note in files.notes:
        console.print(escape(note), highlight=False)
    if log:
        _log_report(uri, found.experiment_id, files, comparison, found.filter_used)
    _print_paths(files)


def _find_runs(uri: str, experiment: str, filter_expr: str | None):
    """The finished training runs to compare; none at all is an error that says why."""
    from edgekit.tracking.runs import find_training_runs

    found = find_training_runs(uri, experiment, filter_expr)
    if found.num_unfinished:
        logger.info(
            "left out %d training run(s) not FINISHED (running, failed or killed)",
            found.num_unfinished,
        )
    if not found.runs:
        shown = f" matching --filter '{filter_expr}'" if filter_expr else ""
        raise TrackingError(
            f"no FINISHED training run in experiment '{experiment}' of {uri}{shown}; "
            "train first (edgekit train) or loosen --filter"
        )
    return found


def print_tables(comparison) -> None:
    """The model table on stdout, then the export and bench table when there is one."""
    from edgekit.report.table import measurement_table, model_table

    out = Console()
    order = "descending" if comparison.descending else "ascending"
    _print_table(
        out, f"edgekit report: by {comparison.sort_key}, {order}", *model_table(comparison)
    )
    if comparison.measurements:
        title = "Exports and benches (all measures: measurements.csv)"
        _print_table(out, title, *measurement_table(comparison, max_measures=5))


def _print_table(out: Console, title: str, headers: list[str], cells: list[list[str]]) -> None:
    from edgekit.report.table import is_number_cell

    table = Table(title=escape(title))
    for index, header in enumerate(headers):
        # Names are what a reader looks for: never cut; numbers are short anyway.
        numeric = bool(cells) and all(is_number_cell(row[index]) for row in cells)
        widest = None if numeric else max((len(row[index]) for row in cells), default=None)
        table.add_column(escape(header), justify="right" if numeric else "left", min_width=widest)
    colours = {"yes": "[green]yes[/]", "no": "[red]no[/]"}
    for row in cells:
        table.add_row(*(colours.get(cell, escape(cell)) for cell in row))
    print_whole(table, out)


def _write_files(comparison, histories, out: Path, meta: str):
    from edgekit.cli.progress import step_progress
    from edgekit.report.writer import expected_file_count, write_report

    with step_progress(console) as progress:
        advance = progress("Writing the report", expected_file_count(comparison))
        return write_report(comparison, histories, out.resolve(), meta, advance)


def _log_report(uri: str, experiment_id: str, files, comparison, filter_used: str) -> None:
    from edgekit.tracking.runs import log_report_files, report_run
    from edgekit.tracking.store import _first_line

    params = {
        "filter": filter_used or "(none)",
        "sort": f"{comparison.sort_key}:{'desc' if comparison.descending else 'asc'}",
        "num_runs": str(len(comparison.rows)),
    }
    try:
        with report_run(uri, experiment_id, params) as run_id:
            log_report_files(uri, run_id, files.files, [row.run_id for row in comparison.rows])
    except Exception as exc:  # the files are written; say what failed and how to skip it
        raise TrackingError(
            f"report written to {files.folder} but not logged to MLflow ({_first_line(exc)}); "
            "pass --no-log to skip logging"
        ) from exc
    console.print(f"Report logged to MLflow run {run_id} (tag edgekit.stage=report)")


def _print_paths(files) -> None:
    out = Console()
    out.print(f"Wrote {len(files.files)} files to {escape(str(files.folder))}")
    out.print(f"Scatter: {escape(str(files.scatter_png))}")
    out.print(f"Page: {escape(str(files.html_page))} (self-contained, works offline)")


def _meta(uri: str, experiment: str, filter_used: str) -> str:
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    shown = f", filter: {filter_used}" if filter_used else ""
    return f"Experiment '{experiment}' in {uri}, {stamp}{shown}"
