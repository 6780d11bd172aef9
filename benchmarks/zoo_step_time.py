"""Benchmark: seconds per training step of each zoo model, on one in-memory batch of real images."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from input_pipeline import DEFAULT_DATA, compiled_model, timed_fit

SEED_MODELS = "mobilenetv3large,efficientnet-lite2,mobilevit-xs,pmvt"
# The full corn dataset's train part (70 % of 4185 images), for the per-epoch estimate.
NUM_TRAIN = 2929
BUDGET_S = 25 * 60


@dataclass(frozen=True)
class StepTime:
    """One model at one size: seconds per train step and what that implies per epoch."""

    model: str
    image_size: int
    step_s: float
    cpu_step_s: float
    images_per_s: float
    epoch_s: float
    epochs_in_budget: int


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Image folder.")
    parser.add_argument("--models", default=SEED_MODELS, help="Comma-separated backbone names.")
    parser.add_argument("--image-size", default="128", help="Square sizes, comma-separated.")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=3, help="Untimed steps (tracing).")
    parser.add_argument("--steps", type=int, default=10, help="Timed steps, one fit each.")
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    return parser.parse_args(argv)


def real_batch(data: Path, size: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """`batch_size` images of the dataset spread over its classes, decoded as edgekit does."""
    from edgekit.data.images import decode_rgb, list_dataset

    listing = list_dataset(data)
    step = max(1, len(listing.files) // batch_size)
    files = listing.files[::step][:batch_size]
    pixels = np.stack([decode_rgb(f.path, (size, size)) for f in files]).astype("float32")
    labels = np.array([listing.class_names.index(f.class_name) for f in files])
    return pixels, labels


def time_model(name: str, size: int, args: argparse.Namespace) -> StepTime:
    """Mean seconds per step of one `fit` of --steps steps, after an untimed warm-up fit."""
    import keras
    import tensorflow as tf

    from edgekit.config import TrainConfig

    pixels, labels = real_batch(args.data, size, args.batch_size)
    config = TrainConfig(model=name, image_size=size, batch_size=args.batch_size, weights="none")
    model = compiled_model(config, 4, -(-NUM_TRAIN // args.batch_size))
    batch = tf.data.Dataset.from_tensors((pixels, labels)).repeat()

    timed_fit(model, batch, args.warmup, None)
    # One fit of N steps: the per-fit set-up is paid once, as in an epoch of training. CPU
    # seconds (all threads) say what the step costs whatever else runs on the machine.
    cpu_started = time.process_time()
    step_s = timed_fit(model, batch, args.steps, None) / args.steps
    cpu_step_s = (time.process_time() - cpu_started) / args.steps
    keras.backend.clear_session()

    epoch_s = step_s * -(-NUM_TRAIN // args.batch_size)
    return StepTime(
        name, size, step_s, cpu_step_s, args.batch_size / step_s, epoch_s, int(BUDGET_S // epoch_s)
    )


def print_report(setup: dict, results: list[StepTime]) -> None:
    print(" ".join(f"{k}={v}" for k, v in setup.items()))
    header = ("s/step", "cpu s", "img/s", "epoch s", "epochs/25min")
    print(f"{'model':20s} {'size':>5s} " + " ".join(f"{h:>8s}" for h in header))
    for r in results:
        print(
            f"{r.model:20s} {r.image_size:5d} {r.step_s:8.3f} {r.cpu_step_s:8.3f} "
            f"{r.images_per_s:8.1f} "
            f"{r.epoch_s:8.1f} {r.epochs_in_budget:8d}"
        )
    slowest = max(results, key=lambda r: r.step_s)
    print(
        f"summary: slowest {slowest.model} at {slowest.image_size}: {slowest.step_s:.3f} s/step, "
        f"{slowest.epochs_in_budget} epochs in 25 min (train steps only)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    setup = {
        "cpu_count": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "batch_size": args.batch_size,
        "warmup": args.warmup,
        "steps": args.steps,
    }
    sizes = [int(s) for s in args.image_size.split(",")]
    results = []
    for size in sizes:
        for name in args.models.split(","):
            print(f"[zoo_step_time] {name} at {size}...", file=sys.stderr, flush=True)
            results.append(time_model(name.strip(), size, args))
    setup["load_average_after"] = [round(x, 2) for x in os.getloadavg()]

    print_report(setup, results)
    if args.json:
        args.json.write_text(json.dumps({"setup": setup, "results": [asdict(r) for r in results]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
