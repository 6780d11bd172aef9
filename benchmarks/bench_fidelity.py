"""Benchmark: does edgekit's local bench measure what LiteRT's own benchmark tool measures?

Alternates, for several rounds, edgekit's runner (timing pass, a fresh process, as
`edgekit bench --device local` runs it) and `ai_edge_litert/tools/benchmark_litert_model.py`
(the tool shipped in the ai-edge-litert wheel, also a fresh process) on the same .tflite file
with the same thread count and run counts. Reports the per-round ratio of edgekit's p50 to
LiteRT's median (goal 0.97-1.03) and the runner's own overhead per inference (loop time not
spent in `invoke()`, goal < 1 % of the mean latency).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import ai_edge_litert

from edgekit.bench.targets import LocalTarget
from edgekit.devices.config import Device

LITERT_TOOL = Path(ai_edge_litert.__file__).parent / "tools" / "benchmark_litert_model.py"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", type=Path, help=".tflite file. Default: MobileNetV3-Small.")
    parser.add_argument("--image-size", type=int, default=224, help="Of the default model.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=200, help="Timed runs per measurement.")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    return parser.parse_args(argv)


def default_model(folder: Path, size: int) -> Path:
    """An untrained MobileNetV3-Small classifier (4 classes) converted to fp32 .tflite."""
    import tensorflow as tf

    from edgekit.train.model import build_classifier

    classifier = build_classifier(
        "mobilenetv3small", 4, (size, size), weights=None, dropout=0.0, fine_tune=True, seed=0
    )
    path = folder / f"mobilenetv3small-{size}.fp32.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(classifier.model).convert())
    return path


def edgekit_p50(model: Path, args: argparse.Namespace) -> tuple[float, float, float]:
    """(p50 ms, mean ms, runner overhead per run ms) of one timing pass."""
    target = LocalTarget(Device(name="local", target="local"))
    target.open()
    timing = target.runner(
        "timing",
        ["--model", str(model), "--format", "tflite", "--runtime", "litert",
         "--threads", str(args.threads), "--runs", str(args.runs), "--warmup",
         str(args.warmup), "--min-seconds", "0", "--warmup-seconds", "0"],
        timeout_s=600,
    )  # fmt: skip
    latency = timing["latency"]
    return latency["p50_ms"], latency["mean_ms"], timing["overhead_per_run_ms"]


def litert_median(model: Path, args: argparse.Namespace, folder: Path) -> float:
    out = folder / "litert.json"
    subprocess.run(
        [sys.executable, str(LITERT_TOOL), f"--model={model}", f"--num_runs={args.runs}",
         f"--warmup_runs={args.warmup}", f"--num_threads={args.threads}",
         f"--result_json={out}"],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return json.loads(out.read_text())["latency"]["median_ms"]


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if not LITERT_TOOL.exists():
        sys.exit(f"{LITERT_TOOL} is not in this ai-edge-litert wheel")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = args.model or default_model(folder, args.image_size)
        rounds = []
        for index in range(args.rounds):
            # Alternate which goes first so drift (heat, other load) hits both alike.
            if index % 2 == 0:
                ours = edgekit_p50(model, args)
                theirs = litert_median(model, args, folder)
            else:
                theirs = litert_median(model, args, folder)
                ours = edgekit_p50(model, args)
            p50, mean, overhead = ours
            rounds.append(
                {
                    "edgekit_p50_ms": p50,
                    "litert_median_ms": theirs,
                    "ratio": p50 / theirs,
                    "overhead_pct": 100 * overhead / mean,
                }
            )
            print(
                f"round {index + 1}: edgekit p50 {p50:.3f} ms, LiteRT median {theirs:.3f} ms, "
                f"ratio {p50 / theirs:.3f}, runner overhead {100 * overhead / mean:.3f} %"
            )

    ratio = statistics.median(r["ratio"] for r in rounds)
    overhead = statistics.median(r["overhead_pct"] for r in rounds)
    machine = f"{platform.node()} {platform.machine()} {platform.processor() or ''}".strip()
    print(
        f"{machine}, {args.threads} thread(s), {args.runs} runs x {args.rounds} rounds: median "
        f"ratio edgekit p50 / LiteRT median {ratio:.3f} (goal 0.97-1.03), runner overhead "
        f"{overhead:.3f} % per inference (goal < 1 %)"
    )
    if args.json:
        summary = {"ratio": ratio, "overhead_pct": overhead, "machine": machine}
        args.json.write_text(json.dumps({"rounds": rounds, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
