"""`edgekit devices`: list the boards of devices.yaml and check one over its target."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgekit.cli.tables import print_whole

app = typer.Typer(
    help="The boards of devices.yaml: list them, or check one.", invoke_without_command=True
)

DEVICES_FILE_HELP = (
    "The devices file. Default: ./devices.yaml; without one, only the built-in device 'local'."
)


@app.callback()
def devices(
    ctx: typer.Context,
    devices_file: Path | None = typer.Option(None, help=DEVICES_FILE_HELP),
) -> None:
    """List the devices of devices.yaml: target, host, board, runtimes, thread counts."""
    if ctx.invoked_subcommand is not None:
        return
    from edgekit.devices.config import DEFAULT_DEVICES_FILE, load_devices

    source = devices_file or DEFAULT_DEVICES_FILE
    title = f"devices in {source}" if Path(source).exists() else "built-in devices"
    table = Table(title=escape(title))
    for column in ("device", "target", "host", "board", "runtimes", "threads"):
        table.add_column(column)
    for d in load_devices(devices_file).values():
        table.add_row(
            escape(d.name),
            d.target,
            escape(d.destination) if d.target == "ssh" else "-",
            escape(d.board or "-"),
            ", ".join(d.runtimes),
            ", ".join(str(t) for t in d.threads),
        )
    print_whole(table)


@app.command("check")
def check(
    name: str = typer.Argument(..., help="Device name from devices.yaml."),
    devices_file: Path | None = typer.Option(None, help=DEVICES_FILE_HELP),
    timeout_s: float = typer.Option(60.0, min=1, help="Longest the check may take."),
) -> None:
    """Connect to a device and report OS, CPU, RAM, Python, runtimes, temperature, throttling.

    Says what to install when a runtime (or numpy) the device lists is missing. Exits 1 when
    one is missing, 2 when the device cannot be reached.
    """
    from edgekit.bench.targets import make_target
    from edgekit.devices.config import load_devices, select_devices

    [device] = select_devices(load_devices(devices_file), name)
    target = make_target(device)
    try:
        target.open()  # inside the try: a failed connect still removes the ssh control folder
        board = target.runner("probe", [], timeout_s)["board"]
    finally:
        target.close()
    missing = print_board(device, board)
    if missing:
        raise typer.Exit(1)


def print_board(device, board: dict) -> list[str]:
    """The probe as a table; returns the install hints of what the device needs but lacks."""
    out = Console()
    table = Table(title=f"{escape(device.name)} ({device.target})", show_header=False)
    ram = board["ram"]
    rows = {
        "os": board["os"],
        "kernel / machine": f"{board['kernel']} / {board['machine']}",
        "cpu": f"{board['cpu']} ({board['num_cpus']} cores)",
        "ram": f"{ram['total_mb']} MB, {ram['available_mb']} MB available",
        "python": f"{board['python']} ({board['python_executable']})",
        "numpy": board["numpy"].get("version", "missing"),
    }
    for name, status in board["runtimes"].items():
        wanted = "" if name in device.runtimes else " (not listed for this device)"
        if status["importable"]:
            providers = (
                f", providers {', '.join(status['providers'])}" if "providers" in status else ""
            )
            rows[name] = f"[green]{escape(status['version'])}[/]{providers}{wanted}"
        else:
            rows[name] = f"[red]missing[/]{wanted}"
    temps = board["temperature_c"]
    rows["temperature"] = ", ".join(f"{k} {v:.1f} C" for k, v in temps.items()) or "not exposed"
    throttling = board["throttling"]
    rows["throttling"] = (
        "not exposed (no vcgencmd)" if throttling is None
        else ", ".join(k for k, v in throttling.items() if v is True) or "none"
    )  # fmt: skip
    for key, value in rows.items():
        table.add_row(key, value if key in board["runtimes"] else escape(str(value)))
    print_whole(table, out)

    hints = [board["numpy"]["install"]] if not board["numpy"]["importable"] else []
    hints += [
        board["runtimes"][name]["install"]
        for name in device.runtimes
        if not board["runtimes"][name]["importable"]
    ]
    for hint in hints:
        out.print(f"[yellow]install on {escape(device.name)}:[/] {escape(hint)}")
    return hints
