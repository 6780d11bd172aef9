"""Result tables printed whole, whatever the terminal's width."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_whole(table: Table, console: Console | None = None) -> None:
    """Print `table` at its natural width, wider than the terminal if need be.

    Rich would otherwise squeeze every column of a wide table in a narrow terminal and cut
    names and numbers with an ellipsis ("mobilen…", "93.…"). A line longer than the terminal
    wraps there, but every value stays whole, and a redirected output stays a clean table.
    """
    console = console or Console()
    natural = console.measure(table, options=console.options.update_width(10_000)).maximum
    if natural <= console.width:
        console.print(table)
        return
    wide = Console(
        file=console.file,
        width=natural,
        force_terminal=console.is_terminal,
        color_system=console.color_system,
        no_color=console.no_color,
    )
    wide.print(table)
