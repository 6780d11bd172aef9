"""Benchmark: how fast `edgekit --help` starts, next to the cost of importing TensorFlow."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# The libraries the CLI must not load just to print help (see STYLE.md, "Heavy imports").
HEAVY_MODULES = ("tensorflow", "keras", "mlflow", "matplotlib", "onnx")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7, help="Timed runs of each command.")
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1; got {args.rounds}")
    return args


def commands() -> dict[str, list[str]]:
    """The venv's own console script and interpreter, whichever venv runs this script."""
    script = Path(sys.executable).parent / "edgekit"
    if not script.exists():
        sys.exit(f"no console script at {script}; install edgekit in this venv (pip install -e .)")
    return {
        "edgekit --help": [str(script), "--help"],
        "import tensorflow": [sys.executable, "-c", "import tensorflow"],
    }


def run_seconds(command: list[str]) -> float:
    """Wall time of one fresh process; a failing command is an error, not a fast sample."""
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}")
    return elapsed


def time_commands(named: dict[str, list[str]], rounds: int) -> dict[str, list[float]]:
    """One untimed run each (warms the page cache), then the commands alternate every round."""
    for command in named.values():
        run_seconds(command)

    samples: dict[str, list[float]] = {name: [] for name in named}
    for index in range(rounds):
        # Flip the order each round so neither command always follows the other.
        order = list(named) if index % 2 == 0 else list(reversed(named))
        for name in order:
            samples[name].append(run_seconds(named[name]))
    return samples


def heavy_modules_loaded() -> list[str]:
    """Which heavy libraries a fresh interpreter holds after importing `edgekit.cli.main`."""
    code = (
        "import json, sys, edgekit.cli.main; "
        f"print(json.dumps([m for m in {HEAVY_MODULES!r} if m in sys.modules]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"importing edgekit.cli.main failed:\n{result.stderr}")
    return json.loads(result.stdout)


def print_report(
    samples: dict[str, list[float]], loaded: list[str], load_average: list[float]
) -> None:
    medians = {name: statistics.median(values) for name, values in samples.items()}
    rounds = len(next(iter(samples.values())))
    print(f"{rounds} rounds, alternating; load average at start {load_average}")
    print(f"{'command':<18} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, values in samples.items():
        print(f"{name:<18} {medians[name]:>9.2f} {min(values):>7.2f} {max(values):>7.2f}")
    print(f"heavy modules loaded by 'import edgekit.cli.main': {', '.join(loaded) or 'none'}")

    help_s, tf_s = medians["edgekit --help"], medians["import tensorflow"]
    summary = f"edgekit --help: {help_s:.2f} s, import tensorflow: {tf_s:.2f} s"
    print(f"\n{summary} (ratio {help_s / tf_s:.2f})")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    named = commands()
    load_average = [round(x, 2) for x in os.getloadavg()]

    samples = time_commands(named, args.rounds)
    loaded = heavy_modules_loaded()
    print_report(samples, loaded, load_average)

    if args.json:
        medians = {name: statistics.median(values) for name, values in samples.items()}
        record = {
            "samples_s": samples,
            "median_s": medians,
            "ratio": medians["edgekit --help"] / medians["import tensorflow"],
            "heavy_modules_loaded": loaded,
            "load_average": load_average,
        }
        args.json.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
