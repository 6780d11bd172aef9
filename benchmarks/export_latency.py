"""Benchmark: conversion time, file size and host latency of every export format, in one run.

Exports one trained model (an MLflow run, read only: nothing is logged to it) to every
format with edgekit's own exporter into a temporary folder, plus a "naive" int8 TFLite
(hard-swish left to the converter, so it fuses into HARD_SWISH ops), then times each file
with the runtime a board uses: median of a short invoke loop at --threads threads, the files
alternating round by round so that a load change on the machine hits them all alike.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-id", required=True, help="MLflow run id of an edgekit train run.")
    parser.add_argument("--tracking-uri", default=None, help="MLflow store of that run.")
    parser.add_argument("--data", type=Path, default=None, help="Dataset, if it moved.")
    parser.add_argument("--threads", type=int, default=2, help="Runtime threads.")
    parser.add_argument("--invokes", type=int, default=30, help="Timed invokes per round.")
    parser.add_argument("--rounds", type=int, default=5, help="Rounds over all files.")
    parser.add_argument("--calibration-size", type=int, default=300)
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    return parser.parse_args(argv)


def export_all(args, workdir: Path) -> tuple[list[dict], float]:
    """Every format through ExportSession, and the naive int8 TFLite beside them."""
    from edgekit.export.exporter import ALL_TARGETS, ExportOptions, ExportSession
    from edgekit.tracking.export import RunQuery, fetch_source, find_run, open_client

    client, uri = open_client(args.tracking_uri)
    run = find_run(client, RunQuery(run_id=args.run_id), uri)
    source = fetch_source(client, run, workdir / "source", args.data, uri)
    options = ExportOptions(
        ALL_TARGETS, calibration_size=args.calibration_size, out_dir=workdir / "out"
    )
    session = ExportSession(source, options, lambda name, total: lambda n: None)

    rows = []
    for target in ALL_TARGETS:
        result = session.export(target)
        rows.append(
            {
                "name": f"{target.format} {target.precision}",
                "path": str(result.path),
                "conversion_s": result.conversion_time_s,
                "size_mb": result.size_mb,
                "accuracy": result.parity.accuracy,
                "top1_agreement": result.parity.top1_agreement,
            }
        )
    rows.append(naive_int8(session, workdir / "out"))
    return rows, session.keras.size_mb


def naive_int8(session, folder: Path) -> dict:
    """Full-int8 TFLite of the same model and calibration set, hard-swish left fused."""
    from edgekit.export.graph import inference_model
    from edgekit.export.runtime import load_runner
    from edgekit.export.tflite import convert_tflite

    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its SavedModel
        content, _ = convert_tflite(
            inference_model(session.model), "int8", calibration=session.calibration.pixels
        )
    conversion_s = time.perf_counter() - started
    path = folder / "naive.int8.tflite"
    path.write_bytes(content)
    probabilities = load_runner(path).predict(session.test.pixels)
    predicted = probabilities.argmax(1)
    return {
        "name": "tflite int8 naive (fused HARD_SWISH)",
        "path": str(path),
        "conversion_s": conversion_s,
        "size_mb": path.stat().st_size / 2**20,
        "accuracy": float(np.mean(predicted == session.test.labels)),
        "top1_agreement": float(np.mean(predicted == session.keras.probabilities.argmax(1))),
    }


def delegate_partitions(path: str, threads: int) -> str:
    """How many XNNPACK partitions LiteRT cut the graph into (1 = fully delegated)."""
    if not path.endswith(".tflite"):
        return "-"
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=threads)
    interpreter.allocate_tensors()
    ops = collections.Counter(op["op_name"] for op in interpreter._get_ops_details())
    return str(ops["DELEGATE"])


def time_files(rows: list[dict], threads: int, invokes: int, rounds: int) -> None:
    """Median ms of one invoke per file; rounds alternate the file order."""
    from edgekit.export.runtime import load_runner

    runners = {row["name"]: load_runner(Path(row["path"]), threads) for row in rows}
    inputs = {}
    for name, runner in runners.items():
        shape = [1, *runner.input.shape[1:]]
        inputs[name] = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
        for _ in range(5):  # warm-up: first invokes allocate and pack weights
            runner.predict_one(inputs[name])

    samples: dict[str, list[float]] = {name: [] for name in runners}
    for index in range(rounds):
        order = list(runners) if index % 2 == 0 else list(reversed(runners))
        for name in order:
            for _ in range(invokes):
                started = time.perf_counter()
                runners[name].predict_one(inputs[name])
                samples[name].append((time.perf_counter() - started) * 1000)
    for row in rows:
        row["latency_ms_median"] = statistics.median(samples[row["name"]])
        row["latency_ms_p90"] = float(np.percentile(samples[row["name"]], 90))
        row["partitions"] = delegate_partitions(row["path"], threads)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory(prefix="edgekit-bench-export-") as tmp:
        rows, keras_mb = export_all(args, Path(tmp))
        time_files(rows, args.threads, args.invokes, args.rounds)

    print(f"host {platform.node()} {platform.machine()}, {os.cpu_count()} cores, load average ")
    print(f"{os.getloadavg()[0]:.2f}; threads {args.threads}; Keras fp32 weights {keras_mb:.2f} MB")
    header = ("file", "conv. s", "size MB", "x Keras", "acc.", "agree", "ms p50", "ms p90", "parts")
    print(" | ".join(header))
    fp32_ms = next(r["latency_ms_median"] for r in rows if r["name"] == "tflite fp32")
    for r in rows:
        print(
            f"{r['name']} | {r['conversion_s']:.1f} | {r['size_mb']:.2f} | "
            f"{r['size_mb'] / keras_mb:.2f} | {r['accuracy']:.2%} | {r['top1_agreement']:.2%} | "
            f"{r['latency_ms_median']:.2f} | {r['latency_ms_p90']:.2f} | {r['partitions']}"
        )
    int8_ms = next(r["latency_ms_median"] for r in rows if r["name"] == "tflite int8")
    naive_ms = rows[-1]["latency_ms_median"]
    print(
        f"summary: tflite int8 / fp32 latency = {int8_ms / fp32_ms:.2f} "
        f"(goal <= 1.00); naive int8 / fp32 = {naive_ms / fp32_ms:.2f}"
    )
    if args.json:
        args.json.write_text(json.dumps({"keras_size_mb": keras_mb, "rows": rows}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
