"""`edgekit train`: train one or several models on an image folder, one MLflow run each."""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from edgekit.cli.signals import sigterm_as_interrupt
from edgekit.cli.tables import print_whole
from edgekit.config import TrainConfig, resolve_configs
from edgekit.errors import EdgekitError
from edgekit.zoo import get_backbone, list_backbones

logger = logging.getLogger(__name__)
console = Console(stderr=True)

_DEFAULTS = TrainConfig()


class ClassWeight(str, Enum):
    balanced = "balanced"
    none = "none"


@dataclass(frozen=True)
class TrainOutcome:
    """The headline of a finished run, for the summary table."""

    run_id: str
    run_name: str
    model_name: str
    test_accuracy: float
    min_recall: float
    backbone_size_mb: float
    meets_requirements: bool
    shortfalls: tuple[str, ...]
    recall: dict[str, float]
    tracking_uri: str
    mean_epoch_time_s: float | None = None


@dataclass(frozen=True)
class TrainFailure:
    """A model of a multi-model command that did not train, and why."""

    model_name: str
    message: str


def train(
    data: Path | None = typer.Option(
        None, help="Image folder, one sub-folder per class. Default: the built-in corn sample."
    ),
    model: str | None = typer.Option(
        None,
        help=f"Backbone, or a comma-separated list trained one after another on the same split: "
        f"{', '.join(list_backbones())}. Default: {_DEFAULTS.model}. See `edgekit models`.",
    ),
    epochs: int | None = typer.Option(None, min=1, help=f"Default: {_DEFAULTS.epochs}."),
    batch_size: int | None = typer.Option(None, min=1, help=f"Default: {_DEFAULTS.batch_size}."),
    image_size: str | None = typer.Option(
        None,
        help="Input size: one int (square) or HxW, e.g. 160x128. Default: each model's "
        "published size (224 for MobileNetV3, 224-300 for EfficientNet-Lite, 256 for MobileViT "
        "and PMVT; `edgekit models`).",
    ),
    learning_rate: float | None = typer.Option(
        None, help=f"Peak learning rate of the cosine schedule. Default: {_DEFAULTS.learning_rate}."
    ),
    dropout: float | None = typer.Option(
        None, help=f"Dropout before the classifier head. Default: {_DEFAULTS.dropout}."
    ),
    fine_tune: bool | None = typer.Option(
        None,
        "--fine-tune/--no-fine-tune",
        help="Train the backbone too, or freeze it (needs pretrained weights). Default: fine-tune.",
    ),
    weights: str | None = typer.Option(
        None,
        help="Backbone weights: imagenet (Keras download; MobileNetV3 only), none (from "
        "scratch) or a file path. Default: imagenet.",
    ),
    seed: int | None = typer.Option(
        None, help=f"Seed of the split and training. Default: {_DEFAULTS.seed}."
    ),
    class_weight: ClassWeight | None = typer.Option(
        None, help="balanced: each class weighs the same in the loss. Default: balanced."
    ),
    augment: bool | None = typer.Option(
        None, "--augment/--no-augment", help="Random flips, rotation, zoom, light. Default: on."
    ),
    min_accuracy: float | None = typer.Option(
        None, help="Test accuracy a model needs to meet requirements. Default: 0.85."
    ),
    min_recall: float | None = typer.Option(
        None, help="Recall every class needs to meet requirements. Default: 0.80."
    ),
    max_size_mb: float | None = typer.Option(
        None, help="Optional cap on backbone_size_mb to meet requirements."
    ),
    tracking_uri: str | None = typer.Option(
        None,
        help="MLflow tracking URI. Default: $MLFLOW_TRACKING_URI, else "
        "sqlite:///models/mlruns/mlflow.db in the current folder.",
    ),
    experiment: str | None = typer.Option(
        None, help=f"MLflow experiment. Default: {_DEFAULTS.experiment}."
    ),
    run_name: str | None = typer.Option(
        None, help="Run name. Default: the model name and a timestamp."
    ),
    config: Path | None = typer.Option(
        None,
        "--config",
        exists=False,
        help="YAML file of these options, and optionally `models:`, a list of models with "
        "their own settings; flags override it.",
    ),
) -> None:
    """Train a classifier and log everything about it to MLflow.

    With several models (`--model a,b,c` or a `models:` list in the config file) they train one
    after another on the same split, one run each; a model that fails is reported and the
    others go on, the comparison table closes the command, and the exit code is 1 if any
    model failed.

    Decodes the dataset once (JPEG, PNG, CMYK, MPO and RGBA files alike, whatever their
    extension), splits it 70/15/15 stratified and seeded, trains with augmentation, keeps the
    epoch with the best val accuracy and scores it on the test split: accuracy, recall per class,
    min recall and whether it meets the requirements. Each epoch appears in MLflow as it ends.
    """
    requirements = {
        "min_accuracy": min_accuracy,
        "min_recall": min_recall,
        "max_size_mb": max_size_mb,
    }
    flags = {
        "data": data,
        "model": model,
        "epochs": epochs,
        "batch_size": batch_size,
        "image_size": image_size,
        "learning_rate": learning_rate,
        "dropout": dropout,
        "fine_tune": fine_tune,
        "weights": weights,
        "seed": seed,
        "class_weight": class_weight.value if class_weight else None,
        "augment": augment,
        "tracking_uri": tracking_uri,
        "experiment": experiment,
        "run_name": run_name,
        "requirements": {k: v for k, v in requirements.items() if v is not None} or None,
    }
    configs = resolve_configs(config, flags)
    # A typo in a model name or in --data, a size a model cannot take or ImageNet weights it
    # does not have: each stops the command before the first training, not after an hour.
    specs = [get_backbone(resolved.model) for resolved in configs]  # every name first
    for spec, resolved in zip(specs, configs, strict=True):
        spec.check_input_shape((*resolved.image_size, 3))
        spec.check_weights(resolved.backbone_weights)
    root, _ = _checked_dataset(configs[0])
    if configs[0].data is None:
        logger.info("no --data given: training on the built-in corn sample at %s", root)

    with sigterm_as_interrupt() as interruption:
        try:
            if len(configs) == 1:
                outcomes, failures = [train_one(configs[0])], []
            else:
                outcomes, failures = train_many(configs)
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            raise typer.Exit(interruption.exit_code) from None
    print_summary(outcomes, failures)
    if failures:
        raise typer.Exit(1)


def train_many(configs: list[TrainConfig]) -> tuple[list[TrainOutcome], list[TrainFailure]]:
    """Train each config in turn; a failure is reported and recorded, and the next one starts."""
    import keras

    outcomes: list[TrainOutcome] = []
    failures: list[TrainFailure] = []
    datasets: dict = {}
    for index, config in enumerate(configs, start=1):
        console.rule(f"[bold]model {index}/{len(configs)}: {escape(config.model)}")
        try:
            outcomes.append(train_one(config, datasets=datasets, record_build_failure=True))
        except Exception as exc:
            message = str(exc) if isinstance(exc, EdgekitError) else f"{type(exc).__name__}: {exc}"
            logger.debug("%s failed:\n%s", config.model, traceback.format_exc())
            console.print(
                f"[bold red]error:[/] {escape(config.model)} failed: {escape(message)}",
                highlight=False,
                soft_wrap=True,
            )
            failures.append(TrainFailure(config.model, message))
        finally:
            keras.backend.clear_session()  # the next model starts from a clean graph
    return outcomes, failures


def train_one(
    config: TrainConfig, *, datasets: dict | None = None, record_build_failure: bool = False
) -> TrainOutcome:
    """Build, train, score and record one model; the MLflow run ends however this ends.

    `datasets` caches the decoded dataset across the models of one command (same data, seed
    and size: decoded once). With `record_build_failure` a model that cannot be built still
    gets its run, ended FAILED, so that every model of a comparison has one.
    """
    root, listing = _checked_dataset(config)

    # TensorFlow loads here, after the cheap checks, so a typo in --data fails at once.
    from edgekit.tracking.training import default_run_name, training_run
    from edgekit.train.model import build_classifier

    # Built before the run starts, so a weights download that fails leaves no run behind.
    run_name = config.run_name or default_run_name(config.model)
    try:
        classifier = build_classifier(
            config.model,
            len(listing.class_names),
            config.image_size,
            weights=config.backbone_weights,
            dropout=config.dropout,
            fine_tune=config.fine_tune,
            seed=config.seed,
        )
    except EdgekitError:
        if not record_build_failure:
            raise
        with training_run(config.tracking_uri, config.experiment, run_name, _host_tags()) as run:
            run.log_params({"model_name": config.model, "weights": config.weights})
            run.log_text("config/resolved_config.yaml", _config_yaml(config))
            raise  # inside the run, which therefore ends FAILED with the error in its log

    with training_run(config.tracking_uri, config.experiment, run_name, tags=_host_tags()) as run:
        return _train_and_record(
            config, root, classifier, run, {} if datasets is None else datasets
        )


def _checked_dataset(config: TrainConfig):
    """The dataset root and its listing, after the checks that need no TensorFlow."""
    from edgekit.data.dataset import check_classes, check_memory
    from edgekit.data.images import list_dataset

    root = _dataset_root(config)
    listing = list_dataset(root)
    check_classes(listing)
    check_memory(len(listing.files), config.image_size)
    return root, listing


def _config_yaml(config: TrainConfig) -> str:
    import yaml

    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def _prepare(config: TrainConfig, root: Path, datasets: dict):
    """The decoded, split dataset; reused when the previous model had the same data and size."""
    from edgekit.cli.progress import step_progress
    from edgekit.data.dataset import prepare_dataset

    key = (str(root.resolve()), config.image_size, config.split.fractions(), config.seed)
    if key not in datasets:
        datasets.clear()  # keep one decoded dataset in memory, not one per size
        with step_progress(console) as progress:
            datasets[key] = prepare_dataset(
                root,
                config.image_size,
                fractions=config.split.fractions(),
                seed=config.seed,
                num_workers=config.num_workers,
                progress=progress,
            )
    return datasets[key]


def _train_and_record(
    config: TrainConfig, root: Path, classifier, run, datasets: dict
) -> TrainOutcome:
    from edgekit.cli.progress import ObserverGroup, TrainingProgress
    from edgekit.tracking.training import epoch_time_metrics
    from edgekit.train.metrics import Requirements
    from edgekit.train.trainer import train_classifier

    run.log_config(config, root, classifier)
    data = _prepare(config, root, datasets)
    run.log_dataset(data)

    with TrainingProgress(console) as bars:
        result = train_classifier(classifier, data, config, observer=ObserverGroup(bars, run))

    requirements = Requirements(**config.requirements.model_dump())
    size_mb = classifier.backbone_size_mb
    meets = run.log_test_scores(result.test, requirements, size_mb)
    run.log_outputs(classifier, data, result)
    return TrainOutcome(
        run.run_id,
        run.run_name,
        classifier.backbone_name,
        result.test.accuracy,
        result.test.min_recall,
        size_mb,
        meets,
        tuple(requirements.shortfalls(result.test.accuracy, result.test.min_recall, size_mb)),
        result.test.recall_by_class(),
        run.tracking_uri,
        epoch_time_metrics(result.epoch_times_s).get("mean_epoch_time_s"),
    )


def _host_tags() -> dict[str, str]:
    """Where the numbers come from: the machine and library versions of this run."""
    import platform

    import keras
    import tensorflow as tf

    return {
        "edgekit.stage": "train",
        "host.name": platform.node(),
        "host.machine": platform.machine(),
        "host.cpu_count": str(os.cpu_count()),
        "host.python": platform.python_version(),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
    }


def _dataset_root(config: TrainConfig) -> Path:
    if config.data is not None:
        return config.data
    from edgekit.data.sample import sample_dataset_path

    return sample_dataset_path()


def print_summary(outcomes: Sequence[TrainOutcome], failures: Sequence[TrainFailure] = ()) -> None:
    """The seed's comparison table: model, accuracy, min recall, size, meets requirements,
    and the mean epoch time (epochs 2 on; epoch 1 also traces the graph)."""
    out = Console()
    table = Table(title="edgekit train: test split")
    table.add_column("model")
    for column in ("accuracy", "min recall", "size MB", "meets req.", "epoch s"):
        table.add_column(column, justify="right")
    for o in outcomes:
        verdict = "[green]yes[/]" if o.meets_requirements else "[red]no[/]"
        epoch = "-" if o.mean_epoch_time_s is None else f"{o.mean_epoch_time_s:.1f}"
        table.add_row(
            o.model_name,
            f"{o.test_accuracy:.2%}",
            f"{o.min_recall:.2%}",
            f"{o.backbone_size_mb:.2f}",
            verdict,
            epoch,
        )
    for f in failures:
        table.add_row(f.model_name, "-", "-", "-", "[red]FAILED[/]", "-")
    print_whole(table, out)
    for o in outcomes:
        recalls = ", ".join(f"{escape(name)} {value:.2%}" for name, value in o.recall.items())
        out.print(f"{o.model_name} recall per class: {recalls}")
        if o.shortfalls:
            out.print(f"{o.model_name} misses requirements: {'; '.join(o.shortfalls)}")
        out.print(f"MLflow run {escape(o.run_name)}, id {o.run_id}")
    for f in failures:
        out.print(f"[red]{escape(f.model_name)} failed:[/] {escape(f.message)}", soft_wrap=True)
    for uri in dict.fromkeys(o.tracking_uri for o in outcomes):
        out.print(f"Store {escape(uri)}; browse it with: {escape(ui_command(uri))}")


def ui_command(uri: str) -> str:
    """The command that opens the MLflow UI on `uri` (a server already has its own UI)."""
    if uri.startswith(("http://", "https://")):
        return f"open {uri} in a browser"
    return f"edgekit ui --tracking-uri {uri}"
