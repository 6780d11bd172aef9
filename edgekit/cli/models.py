"""`edgekit models`: the zoo's backbones, their sizes and where their weights come from."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from edgekit.cli.tables import print_whole

console = Console()


def models(
    count: bool = typer.Option(
        False,
        "--count",
        help="Build every backbone and count its parameters (needs TensorFlow, ~a minute) "
        "instead of reading the counts recorded in the zoo.",
    ),
    json_path: Path | None = typer.Option(
        None, "--json", help="Also write the table as JSON to this file."
    ),
) -> None:
    """List the backbones `edgekit train --model` takes.

    For each: the parameter count of the backbone (what `backbone_params` records in a run) and
    with a 1000-class ImageNet head (comparable to the published figure), the published count,
    the published input resolution, the input sizes it takes, and whether `--weights imagenet`
    can download pretrained weights; below the table, where each published figure and
    implementation comes from. Counts include BatchNorm statistics.
    """
    from edgekit.cli.paths import check_output_file
    from edgekit.zoo.catalog import backbone_facts
    from edgekit.zoo.registry import list_backbones

    if json_path is not None:
        check_output_file(json_path, "--json")
    names = list_backbones()
    if count:
        from edgekit.cli.progress import step_progress

        with step_progress(Console(stderr=True)) as progress:
            advance = progress("Counting parameters", len(names))
            rows = []
            for name in names:
                rows.append(backbone_facts(name, count=True))
                advance(1)
    else:
        rows = [backbone_facts(name) for name in names]

    print_whole(_table(rows), console)
    sources: dict[str, list[str]] = {}
    for r in rows:
        published = f"published count: {r.published_source}; " if r.published_source else ""
        sources.setdefault(f"{published}built with {r.source}", []).append(r.name)
    for text, names_ in sources.items():
        console.print(f"[bold]{', '.join(names_)}[/]: {text}", soft_wrap=True)
    if json_path is not None:
        payload = [{**asdict(r), "imagenet_params": r.imagenet_params} for r in rows]
        partial = json_path.with_name(json_path.name + ".partial")
        partial.write_text(json.dumps(payload, indent=2))
        partial.replace(json_path)


def _table(rows) -> Table:
    table = Table(
        title="edgekit models",
        caption="parameters in millions; H, W: the input sizes taken (>= 32, or multiples of 64)",
    )
    table.add_column("model", no_wrap=True)
    for column in ("backbone", "+ImageNet head", "published", "size", "H, W"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("ImageNet weights")
    for r in rows:
        published = "-" if r.published_params is None else f"{r.published_params / 1e6:.2f}"
        table.add_row(
            r.name,
            f"{r.backbone_params / 1e6:.2f}",
            f"{r.imagenet_params / 1e6:.2f}",
            published,
            str(r.default_size),
            r.size_rule,
            "[green]yes[/]" if r.has_imagenet_weights else "no",
        )
    return table
