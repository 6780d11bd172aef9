"""Result tables keep every value whole in a narrow terminal."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from edgekit.cli.tables import print_whole


def _table() -> Table:
    table = Table(title="edgekit bench")
    for column in ("device", "model", "accuracy", "p90 ms"):
        table.add_column(column)
    table.add_row("jetson-orin-nano", "efficientnet-lite2", "93.79%", "12.34")
    return table


def test_a_narrow_terminal_gets_the_table_whole() -> None:
    narrow = io.StringIO()
    squeezed = io.StringIO()

    print_whole(_table(), Console(file=narrow, width=30))
    Console(file=squeezed, width=30).print(_table())

    for value in ("jetson-orin-nano", "efficientnet-lite2", "93.79%", "12.34"):
        assert value in narrow.getvalue()
    assert "efficientnet-lite2" not in squeezed.getvalue()  # what rich alone would print


def test_a_wide_terminal_prints_as_rich_does() -> None:
    ours, rich = io.StringIO(), io.StringIO()

    print_whole(_table(), Console(file=ours, width=120))
    Console(file=rich, width=120).print(_table())

    assert ours.getvalue() == rich.getvalue()
