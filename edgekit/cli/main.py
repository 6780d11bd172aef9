"""The `edgekit` entry point: joins the command groups and turns EdgekitError into one line."""

from __future__ import annotations

import logging
import os
import sys

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from edgekit import __version__
from edgekit.cli import bench, data, devices, export, models, report, train, ui
from edgekit.errors import EdgekitError

app = typer.Typer(
    name="edgekit",
    help="Choose and ship an image classifier to an edge board: train, export, bench, report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.add_typer(data.app, name="data")
app.command(name="train")(train.train)
app.command(name="models")(models.models)
app.command(name="export")(export.export)
app.command(name="bench")(bench.bench)
app.add_typer(devices.app, name="devices")
app.command(name="report")(report.report)
app.command(name="ui")(ui.ui)

_debug = False
stderr = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        print(f"edgekit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logging."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    global _debug
    _debug = debug or os.environ.get("EDGEKIT_DEBUG") == "1"
    configure_logging(logging.DEBUG if _debug else logging.INFO)


def configure_logging(level: int) -> None:
    """Send edgekit's log to stderr through rich; keep TensorFlow's C++ chatter down."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    handler = RichHandler(console=stderr, show_path=False, show_time=False, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(lambda record: not getattr(record, "file_only", False))
    root = logging.getLogger("edgekit")
    root.handlers = [handler]
    root.setLevel(level)
    root.propagate = False


def main() -> None:
    """Run the CLI; a user mistake prints one red line and exits 2, not a traceback."""
    try:
        app()
    except EdgekitError as exc:
        if _debug:
            stderr.print_exception()
        stderr.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
