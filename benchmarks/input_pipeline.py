"""Benchmark: training images/s through edgekit's input pipeline against in-memory tensors."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from edgekit.config import TrainConfig
    from edgekit.data.dataset import PreparedDataset, SplitArrays

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT / ".." / "shared" / "datasets" / "corn-maize-leaf-disease"
GOAL_RATIO = 0.95
# The decode happens once per training; it is charged to a training of edgekit's default length.
EPOCHS_FOR_DECODE = 30

ClassWeight = dict[int, float] | None


@dataclass(frozen=True)
class Round:
    """One paired measurement: the same model fed by each input, back to back."""

    index: int
    order: str
    pipeline_images_per_s: float
    memory_images_per_s: float

    @property
    def ratio(self) -> float:
        return self.pipeline_images_per_s / self.memory_images_per_s


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Image folder.")
    parser.add_argument("--model", default="mobilenetv3large", help="Backbone name.")
    parser.add_argument("--image-size", type=int, default=160, help="Square input size.")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=40, help="Timed steps per measurement.")
    parser.add_argument("--rounds", type=int, default=3, help="Paired measurements.")
    parser.add_argument("--limit", type=int, default=0, help="Use at most N images; 0 = all.")
    parser.add_argument("--json", type=Path, default=None, help="Also write results here.")
    args = parser.parse_args(argv)
    if min(args.steps, args.rounds, args.batch_size) < 1 or args.limit < 0:
        parser.error("--steps, --rounds and --batch-size must be >= 1 and --limit >= 0")
    return args


def limited_root(data: Path, limit: int, workdir: Path) -> Path:
    """A folder of symlinks to at most `limit` images, spread evenly inside each class.

    Each class keeps its share of the total, so the class imbalance and the mix of small tiles
    and large field photos (which cost the decode very differently) stay as in the full set.
    """
    from edgekit.data.images import list_dataset

    listing = list_dataset(data)
    if limit == 0 or limit >= len(listing.files):
        return data

    for class_name in listing.class_names:
        files = [f for f in listing.files if f.class_name == class_name]
        share = max(1, round(limit * len(files) / len(listing.files)))
        picks = np.linspace(0, len(files) - 1, min(share, len(files))).round().astype(int)
        for i in sorted(set(picks.tolist())):
            link = workdir / files[i].relpath
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(files[i].path.resolve())
    return workdir


def images_in_steps(num_images: int, batch_size: int, steps: int) -> int:
    """Images in the first `steps` batches of a repeated, unpadded epoch of `num_images`.

    A fresh iterator starts at an epoch start, and each epoch ends with a partial batch.
    """
    full, remainder = divmod(num_images, batch_size)
    sizes = [batch_size] * full + ([remainder] if remainder else [])
    epochs, extra = divmod(steps, len(sizes))
    return epochs * num_images + sum(sizes[:extra])


def compiled_model(config: TrainConfig, num_classes: int, steps_per_epoch: int) -> keras.Model:
    """The classifier compiled exactly as `edgekit train` compiles it."""
    from edgekit.train.model import build_classifier
    from edgekit.train.trainer import compile_classifier

    classifier = build_classifier(
        config.model,
        num_classes,
        config.image_size,
        weights=config.backbone_weights,
        dropout=config.dropout,
        fine_tune=config.fine_tune,
    )
    compile_classifier(classifier.model, config, steps_per_epoch)
    return classifier.model


def input_datasets(train: SplitArrays, config: TrainConfig) -> dict[str, tf.data.Dataset]:
    """The real pipeline, its last partial batch alone and the in-memory feed.

    The partial batch is run once in the warm-up: under XLA its shape compiles separately, and
    that one-time cost must not land in a timed round.

    NOTE: `.repeat()` lets a measurement run past one epoch (small --limit); it reshuffles at
    the boundary as `fit` over epochs does. With the full dataset --steps 40 never gets there.
    """
    import tensorflow as tf

    from edgekit.data.dataset import SplitArrays
    from edgekit.data.pipeline import make_dataset

    def pipeline(arrays: SplitArrays) -> tf.data.Dataset:
        return make_dataset(
            arrays, config.batch_size, training=True, seed=config.seed, augment=config.augment
        )

    remainder = len(train) % config.batch_size or config.batch_size
    tail = SplitArrays(train.pixels[:remainder], train.labels[:remainder])
    # One batch that went through the real pipeline, so both inputs carry the same kind of data.
    batch = next(iter(pipeline(train).take(1)))
    return {
        "pipeline": pipeline(train).repeat(),
        "tail": pipeline(tail),
        "memory": tf.data.Dataset.from_tensors(batch).repeat(),
    }


def timed_fit(
    model: keras.Model, dataset: tf.data.Dataset, steps: int, class_weight: ClassWeight
) -> float:
    """Seconds of one `fit` epoch of `steps` steps, fed and weighted as edgekit feeds it."""
    started = time.perf_counter()
    model.fit(
        dataset,
        steps_per_epoch=steps,
        epochs=1,
        class_weight=class_weight,
        shuffle=False,
        verbose=0,
    )
    return time.perf_counter() - started


def measure(
    model: keras.Model,
    datasets: dict[str, tf.data.Dataset],
    args: argparse.Namespace,
    num_train: int,
    class_weight: ClassWeight,
) -> list[Round]:
    """Warm up (tracing and compiling every batch shape), then alternate the two inputs.

    The order flips every round so neither input always runs right after the other.
    """
    warmups = [("pipeline", args.steps), ("tail", 1), ("memory", args.steps)]
    for name, steps in warmups:
        _log(f"warm-up: {name}, {steps} step(s)")
        timed_fit(model, datasets[name], steps, class_weight)

    pipeline_images = images_in_steps(num_train, args.batch_size, args.steps)
    memory_images = args.steps * min(args.batch_size, num_train)
    rounds = []
    for index in range(1, args.rounds + 1):
        order = ("pipeline", "memory") if index % 2 else ("memory", "pipeline")
        seconds = {
            name: timed_fit(model, datasets[name], args.steps, class_weight) for name in order
        }
        rounds.append(
            Round(
                index,
                " then ".join(order),
                pipeline_images / seconds["pipeline"],
                memory_images / seconds["memory"],
            )
        )
        _log(f"round {index}: ratio {rounds[-1].ratio:.3f}")
    return rounds


def summarise(rounds: list[Round], decode_s: float, num_train: int) -> dict[str, float]:
    """Medians, and the end-to-end ratio once the one-time decode is charged to epoch 1."""
    pipeline_ips = statistics.median(r.pipeline_images_per_s for r in rounds)
    memory_ips = statistics.median(r.memory_images_per_s for r in rounds)
    pipeline_epoch_s = num_train / pipeline_ips
    memory_epoch_s = num_train / memory_ips

    first_epoch = memory_epoch_s / (pipeline_epoch_s + decode_s)
    training = (EPOCHS_FOR_DECODE * memory_epoch_s) / (
        EPOCHS_FOR_DECODE * pipeline_epoch_s + decode_s
    )
    return {
        "pipeline_images_per_s": pipeline_ips,
        "memory_images_per_s": memory_ips,
        "median_ratio": statistics.median(r.ratio for r in rounds),
        "pipeline_epoch_s": pipeline_epoch_s,
        "memory_epoch_s": memory_epoch_s,
        "end_to_end_ratio_first_epoch": first_epoch,
        f"end_to_end_ratio_{EPOCHS_FOR_DECODE}_epochs": training,
    }


def print_report(setup: dict[str, Any], rounds: list[Round], summary: dict[str, float]) -> None:
    print(
        f"model {setup['model']}, {setup['image_size']}x{setup['image_size']}, batch "
        f"{setup['batch_size']}, {setup['num_train']} train images ({setup['steps_per_epoch']} "
        f"steps/epoch), {setup['steps']} timed steps x {len(rounds)} rounds, "
        f"jit_compile={setup['jit_compile']}, load average at start {setup['load_average']}"
    )
    header = f"{'round':>5}  {'order':<20} {'pipeline img/s':>15} {'in-memory img/s':>16}"
    print(f"\n{header} {'ratio':>6}")
    for r in rounds:
        print(
            f"{r.index:>5}  {r.order:<20} {r.pipeline_images_per_s:>15.1f} "
            f"{r.memory_images_per_s:>16.1f} {r.ratio:>6.3f}"
        )
    print(
        f"{'median':>5}  {'':<20} {summary['pipeline_images_per_s']:>15.1f} "
        f"{summary['memory_images_per_s']:>16.1f} {summary['median_ratio']:>6.3f}"
    )

    e2e = summary[f"end_to_end_ratio_{EPOCHS_FOR_DECODE}_epochs"]
    print(
        f"\none-time decode (prepare_dataset, {setup['num_images']} images): "
        f"{setup['decode_s']:.1f} s; one training epoch: {summary['pipeline_epoch_s']:.1f} s "
        f"(in-memory {summary['memory_epoch_s']:.1f} s)"
    )
    print(
        f"end-to-end with the decode charged to epoch 1: first epoch "
        f"{summary['end_to_end_ratio_first_epoch']:.2f}, whole {EPOCHS_FOR_DECODE}-epoch "
        f"training {e2e:.2f} (E = {EPOCHS_FOR_DECODE}, edgekit's default epochs)"
    )
    print(
        f"\npipeline/in-memory throughput: {summary['median_ratio']:.2f} (goal >= {GOAL_RATIO:.2f})"
    )


def prepare(args: argparse.Namespace, config: TrainConfig) -> tuple[PreparedDataset, float]:
    """Decode as `edgekit train` does, timed; a --limit subset is linked into a temp folder."""
    from edgekit.data.dataset import prepare_dataset

    with tempfile.TemporaryDirectory(prefix="edgekit-bench-") as workdir:
        root = limited_root(args.data, args.limit, Path(workdir))
        _log(f"decoding {root} at {args.image_size}x{args.image_size}")
        started = time.perf_counter()
        data = prepare_dataset(
            root,
            config.image_size,
            fractions=config.split.fractions(),
            seed=config.seed,
            num_workers=config.num_workers,
        )
        return data, time.perf_counter() - started


def describe_setup(
    args: argparse.Namespace, data: PreparedDataset, decode_s: float, model: keras.Model
) -> dict[str, Any]:
    """What the numbers depend on, printed above the table and kept in the JSON."""
    train = data.parts["train"]
    return {
        **{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "num_images": sum(len(p) for p in data.parts.values()),
        "num_train": len(train),
        "steps_per_epoch": -(-len(train) // args.batch_size),
        "decode_s": decode_s,
        "jit_compile": getattr(model, "jit_compile", None),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }


def run(args: argparse.Namespace) -> int:
    from edgekit.config import TrainConfig
    from edgekit.train.trainer import class_weights

    config = TrainConfig(
        data=args.data,
        model=args.model,
        batch_size=args.batch_size,
        image_size=args.image_size,
        weights="none",  # throughput does not depend on the weights; no download needed
    )
    load_average = [round(x, 2) for x in os.getloadavg()]
    data, decode_s = prepare(args, config)
    train, num_classes = data.parts["train"], len(data.class_names)

    model = compiled_model(config, num_classes, -(-len(train) // config.batch_size))
    class_weight = class_weights(train, num_classes, config.class_weight)
    rounds = measure(model, input_datasets(train, config), args, len(train), class_weight)
    summary = summarise(rounds, decode_s, len(train))

    setup = describe_setup(args, data, decode_s, model) | {"load_average": load_average}
    print_report(setup, rounds, summary)
    if args.json:
        record = {"setup": setup, "rounds": [asdict(r) | {"ratio": r.ratio} for r in rounds]}
        args.json.write_text(json.dumps(record | {"summary": summary}, indent=2) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Before TensorFlow loads: keep its C++ start-up chatter out of the report.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from edgekit.errors import EdgekitError

    try:
        return run(args)
    except EdgekitError as exc:
        # A wrong --data or --model is a user mistake: one line, as the edgekit CLI prints it.
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _log(message: str) -> None:
    print(f"[input_pipeline] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
