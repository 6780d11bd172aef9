"""`edgekit data`: commands that look at an image-folder dataset before training on it."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgekit.cli.paths import check_output_file
from edgekit.cli.progress import step_progress
from edgekit.data.audit import DatasetAudit, audit_dataset
from edgekit.data.images import list_dataset
from edgekit.data.split import MIN_IMAGES_PER_CLASS
from edgekit.errors import ConfigError

app = typer.Typer(
    help="Look at an image-folder dataset before training on it.", no_args_is_help=True
)

# Longer lists are cut in the terminal; the --json output always holds every entry.
MAX_LISTED = 20


@app.command()
def check(
    path: Path = typer.Argument(
        ..., metavar="PATH", help="Dataset folder with one sub-folder of images per class."
    ),
    json_file: str | None = typer.Option(
        None,
        "--json",
        metavar="FILE",
        help="Also write the full audit as JSON to FILE ('-': stdout).",
    ),
) -> None:
    """Check an image-folder dataset for what would stop or hurt training.

    Reads every image once and reports: images per class and the imbalance ratio (largest class
    over smallest), files that cannot be decoded, files whose content is another format than their
    extension (a PNG or MPO named .jpg), byte-identical duplicates (highlighted when they sit in
    different classes), the spread of image sizes, the colour modes, and the files ignored (not
    images, or outside a class folder).

    Exit status: 0 when the dataset can be trained on, even with warnings; 1 when it cannot (fewer
    than 2 classes, or a class with fewer than 3 decodable images); 2 when PATH is not a folder.
    """
    # With the JSON on stdout the human summary moves to stderr so the JSON stays parseable.
    # Soft wrap keeps each file path on one line, so the output can be grepped.
    console = Console(stderr=json_file == "-", highlight=False, soft_wrap=True)
    if json_file not in (None, "-"):
        check_output_file(Path(json_file), "--json")  # before the audit, which takes minutes

    audit = _audit_with_progress(path)
    _print_summary(console, audit)
    if json_file is not None:
        _write_json(audit, json_file)

    if audit.problems:
        console.print()
        for problem in audit.problems:
            console.print(f"[bold red]cannot train:[/] {escape(problem)}")
        raise typer.Exit(1)


def _audit_with_progress(path: Path) -> DatasetAudit:
    # Listing first gives the bar its total; it costs a directory walk, not a file read.
    num_files = len(list_dataset(path).files)
    with step_progress(Console(stderr=True)) as progress:
        return audit_dataset(path, on_progress=progress("check", num_files))


def _print_summary(console: Console, audit: DatasetAudit) -> None:
    console.print(
        f"[bold]{escape(str(audit.root))}[/]: {audit.num_images} images "
        f"in {len(audit.class_counts)} classes"
    )
    console.print(_class_table(audit))
    if audit.imbalance_ratio is None:
        console.print("imbalance ratio: undefined (a class has no images)")
    else:
        console.print(f"imbalance ratio: {audit.imbalance_ratio:.2f} (largest / smallest class)")
    console.print(f"formats: {_counts(audit.formats)}")
    console.print(f"colour modes: {_counts(audit.modes)}")
    _print_sizes(console, audit)

    _print_section(
        console,
        "cannot be decoded",
        [f"{escape(f.relpath)}: {escape(f.reason)}" for f in audit.undecodable],
    )
    _print_section(
        console,
        "content does not match the extension",
        [f"{escape(m.relpath)}: {m.extension} holds {m.actual_format}" for m in audit.mismatched],
    )
    _print_duplicates(console, audit)
    _print_section(
        console,
        "ignored (not an image, or outside a class folder)",
        [escape(relpath) for relpath in audit.ignored],
    )


def _class_table(audit: DatasetAudit) -> Table:
    # Image files per class; those that cannot be decoded are counted apart as well.
    undecodable = Counter(Path(f.relpath).parts[0] for f in audit.undecodable)
    table = Table("class", "images", "share", *(["undecodable"] if undecodable else []))
    for name, count in audit.class_counts.items():
        share = f"{count / audit.num_images:.1%}" if audit.num_images else "-"
        style = "bold red" if count - undecodable[name] < MIN_IMAGES_PER_CLASS else None
        extra = [str(undecodable[name])] if undecodable else []
        table.add_row(escape(name), str(count), share, *extra, style=style)
    return table


def _print_sizes(console: Console, audit: DatasetAudit) -> None:
    sizes = audit.sizes
    if sizes.num_sizes == 0:
        console.print("sizes: no decodable images")
        return
    common = ", ".join(f"{s.width}x{s.height} ({s.count})" for s in sizes.most_common)
    console.print(
        f"sizes: {sizes.num_sizes} distinct, width {sizes.min_width}-{sizes.max_width}, "
        f"height {sizes.min_height}-{sizes.max_height}; most common {common}"
    )


def _print_duplicates(console: Console, audit: DatasetAudit) -> None:
    num_cross = sum(1 for group in audit.duplicates if group.cross_class)
    lines = []
    # Cross-class groups first: the same image under two labels is the one to fix.
    for group in sorted(audit.duplicates, key=lambda g: not g.cross_class):
        files = ", ".join(escape(relpath) for relpath in group.relpaths)
        lines.append(f"[bold red]different classes:[/] {files}" if group.cross_class else files)
    title = f"byte-identical duplicates ({num_cross} across classes)"
    _print_section(console, title, lines, unit="group")


def _print_section(console: Console, title: str, lines: list[str], unit: str = "file") -> None:
    if not lines:
        return
    plural = "" if len(lines) == 1 else "s"
    console.print(f"\n[bold yellow]{title}[/]: {len(lines)} {unit}{plural}")
    for line in lines[:MAX_LISTED]:
        console.print(f"  {line}")
    if len(lines) > MAX_LISTED:
        console.print(f"  ... and {len(lines) - MAX_LISTED} more (see --json)")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


def _write_json(audit: DatasetAudit, json_file: str) -> None:
    text = json.dumps(audit.to_dict(), indent=2) + "\n"
    if json_file == "-":
        sys.stdout.write(text)
    else:
        try:
            Path(json_file).write_text(text)
        except OSError as exc:
            raise ConfigError(
                f"cannot write --json file '{json_file}' ({exc.strerror}); pass a writable path"
            ) from exc
