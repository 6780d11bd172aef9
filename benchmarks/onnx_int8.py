"""Benchmark: which onnxruntime quantization settings make an int8 ONNX file fast on a CPU.

edgekit's ONNX int8 export ran slower than its fp32 file on onnxruntime's CPU provider. This
quantizes one fp32 ONNX export (from `edgekit export`) several ways with onnxruntime's own
`quantize_static`, all calibrated on the same images of the dataset, then, in one run:

- agreement: the share of held-out images where the int8 file gives the fp32 file's top-1;
- latency: median and p90 ms of one image per call, the files alternating round by round
  (`time_files` of export_latency.py), so a load change hits them all alike.

Variants: activations int8 or uint8 (onnxruntime's x86 kernels are built around u8 x s8);
every op quantized, or only Conv/MatMul/Gemm (elementwise ops such as hard-swish and
squeeze-excite stay float, with no QDQ pairs around them); QDQ or QOperator format.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from export_latency import time_files
from input_pipeline import DEFAULT_DATA

# name: (quant_format, activation type, op types to quantize; None = every supported op)
VARIANTS = {
    "s8s8 qdq all ops (edgekit < 12-04)": ("QDQ", "QInt8", None),
    "u8s8 qdq all ops (edgekit)": ("QDQ", "QUInt8", None),
    "s8s8 qdq conv+matmul": ("QDQ", "QInt8", ("Conv", "MatMul", "Gemm")),
    "u8s8 qdq conv+matmul": ("QDQ", "QUInt8", ("Conv", "MatMul", "Gemm")),
    "u8s8 qoperator all ops": ("QOperator", "QUInt8", None),
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--onnx", type=Path, required=True, help="An fp32 .onnx from export.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Image folder.")
    parser.add_argument("--calibration-size", type=int, default=100)
    parser.add_argument("--eval-size", type=int, default=300, help="Held-out images.")
    parser.add_argument("--threads", type=int, default=1, help="Runtime threads.")
    parser.add_argument("--invokes", type=int, default=30, help="Timed invokes per round.")
    parser.add_argument("--rounds", type=int, default=7, help="Rounds over all files.")
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    return parser.parse_args(argv)


def images(data: Path, size: tuple[int, int], count: int) -> np.ndarray:
    """`count` images spread over the dataset, decoded and resized as edgekit does."""
    from edgekit.data.images import decode_rgb, list_dataset

    files = list_dataset(data).files
    chosen = files[:: max(1, len(files) // count)][:count]
    return np.stack([decode_rgb(f.path, size) for f in chosen]).astype(np.float32)


def quantize(fp32: Path, out: Path, variant: tuple, calibration: np.ndarray) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from edgekit.export.onnx import calibration_reader, onnx_input_name

    quant_format, activation, op_types = variant
    prepared = out.with_suffix(".prepared.onnx")
    quant_pre_process(str(fp32), str(prepared), skip_optimization=True, skip_symbolic_shape=True)
    quantize_static(
        str(prepared),
        str(out),
        calibration_reader(calibration, onnx_input_name(prepared)),
        quant_format=getattr(QuantFormat, quant_format),
        activation_type=getattr(QuantType, activation),
        weight_type=QuantType.QInt8,
        per_channel=True,
        calibrate_method=CalibrationMethod.MinMax,
        op_types_to_quantize=list(op_types) if op_types else None,
    )


def agreement(fp32: Path, int8: Path, held_out: np.ndarray) -> float:
    from edgekit.export.runtime import load_runner

    reference, candidate = load_runner(fp32, 1), load_runner(int8, 1)
    same = [
        reference.predict_one(x[None]).argmax() == candidate.predict_one(x[None]).argmax()
        for x in held_out
    ]
    return float(np.mean(same))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    from edgekit.export.runtime import load_runner

    size = tuple(load_runner(args.onnx, 1).input.shape[1:3])
    pictures = images(args.data, size, args.calibration_size + args.eval_size)
    calibration, held_out = pictures[: args.calibration_size], pictures[args.calibration_size :]

    with tempfile.TemporaryDirectory(prefix="edgekit-onnx-int8-") as tmp:
        rows = [{"name": "fp32", "path": str(args.onnx), "agreement": 1.0}]
        for index, (name, variant) in enumerate(VARIANTS.items()):
            print(f"[onnx_int8] quantizing: {name}", file=sys.stderr)
            path = Path(tmp) / f"variant{index}.onnx"
            quantize(args.onnx, path, variant, calibration)
            rows.append({"name": name, "path": str(path)})
            rows[-1]["agreement"] = agreement(args.onnx, path, held_out)
        for row in rows:
            row["size_mb"] = Path(row["path"]).stat().st_size / 2**20
        time_files(rows, args.threads, args.invokes, args.rounds)
    report(args, rows)


def report(args: argparse.Namespace, rows: list[dict]) -> None:
    setup = {
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "platform": platform.platform(),
        "model": str(args.onnx),
        "threads": args.threads,
        "calibration_size": args.calibration_size,
        "eval_size": args.eval_size,
    }
    print(" ".join(f"{k}={v}" for k, v in setup.items()))
    fp32_ms = rows[0]["latency_ms_median"]
    print(f"{'variant':30} {'MB':>6} {'agree':>7} {'p50 ms':>8} {'p90 ms':>8} {'/fp32':>6}")
    for row in rows:
        print(
            f"{row['name']:30} {row['size_mb']:6.2f} {row['agreement']:7.2%} "
            f"{row['latency_ms_median']:8.2f} {row['latency_ms_p90']:8.2f} "
            f"{row['latency_ms_median'] / fp32_ms:6.2f}"
        )
    if args.json:
        for row in rows:
            row.pop("path")
        args.json.write_text(json.dumps({"setup": setup, "results": rows}, indent=1))


if __name__ == "__main__":
    main()
