"""`edgekit train`: train one model on an image folder and record it as one MLflow run."""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.table import Table

from edgekit.config import TrainConfig, resolve_config

logger = logging.getLogger(__name__)
console = Console(stderr=True)

_DEFAULTS = TrainConfig()


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
    recall: dict[str, float]


def train(
    data: Path | None = typer.Option(
        None, help="Image folder, one sub-folder per class. Default: the built-in corn sample."
    ),
    model: str | None = typer.Option(
        None, help=f"Backbone name (see 'edgekit models'). Default: {_DEFAULTS.model}."
    ),
    epochs: int | None = typer.Option(None, min=1, help=f"Default: {_DEFAULTS.epochs}."),
    batch_size: int | None = typer.Option(None, min=1, help=f"Default: {_DEFAULTS.batch_size}."),
    image_size: str | None = typer.Option(
        None, help="Input size: one int (square) or HxW, e.g. 160x128. Default: 224."
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
        help="Backbone weights: imagenet (Keras download), none (from scratch) or a file "
        "path. Default: imagenet.",
    ),
    seed: int | None = typer.Option(
        None, help=f"Seed of the split and training. Default: {_DEFAULTS.seed}."
    ),
    class_weight: str | None = typer.Option(
        None, help="balanced (each class weighs the same in the loss) or none. Default: balanced."
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
    run_name: str | None = typer.Option(None, help="Run name. Default: <model>-<timestamp>."),
    config: Path | None = typer.Option(
        None, "--config", exists=False, help="YAML file of these options; flags override it."
    ),
) -> None:
    """Train a classifier and log everything about it to MLflow.

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
        "class_weight": class_weight,
        "augment": augment,
        "tracking_uri": tracking_uri,
        "experiment": experiment,
        "run_name": run_name,
        "requirements": {k: v for k, v in requirements.items() if v is not None} or None,
    }
    resolved = resolve_config(config, flags)

    with _sigterm_as_interrupt():
        try:
            outcome = train_one(resolved)
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]: the MLflow run was ended as KILLED")
            raise typer.Exit(130) from None
    print_summary([outcome])


def train_one(config: TrainConfig) -> TrainOutcome:
    """Build, train, score and record one model; the MLflow run ends however this ends."""
    from edgekit.data.dataset import check_classes
    from edgekit.data.images import list_dataset
    from edgekit.tracking.training import default_run_name, training_run
    from edgekit.train.model import build_classifier

    root = _dataset_root(config)
    listing = list_dataset(root)
    check_classes(listing)
    # Built before the run starts, so a weights download that fails leaves no run behind.
    classifier = build_classifier(
        config.model,
        len(listing.class_names),
        config.image_size,
        weights=config.backbone_weights,
        dropout=config.dropout,
        fine_tune=config.fine_tune,
    )

    run_name = config.run_name or default_run_name(classifier.backbone_name)
    with training_run(
        config.tracking_uri, config.experiment, run_name, tags={"edgekit.stage": "train"}
    ) as run:
        return _train_and_record(config, root, classifier, run)


def _train_and_record(config: TrainConfig, root: Path, classifier, run) -> TrainOutcome:
    from edgekit.cli.progress import ObserverGroup, TrainingProgress, step_progress
    from edgekit.data.dataset import prepare_dataset
    from edgekit.train.metrics import Requirements
    from edgekit.train.trainer import train_classifier

    run.log_params(_config_params(config, root, classifier))
    with step_progress(console) as progress:
        data = prepare_dataset(
            root,
            config.image_size,
            fractions=config.split.fractions(),
            seed=config.seed,
            num_workers=config.num_workers,
            progress=progress,
        )
    _log_dataset(run, data)

    with TrainingProgress(console) as bars:
        result = train_classifier(classifier, data, config, observer=ObserverGroup(bars, run))

    requirements = Requirements(**config.requirements.model_dump())
    meets = run.log_test_scores(result.test, requirements, classifier.backbone_size_mb)
    _log_outputs(run, config, classifier, data, result)
    return TrainOutcome(
        run.run_id,
        config.run_name or run.client.get_run(run.run_id).info.run_name,
        classifier.backbone_name,
        result.test.accuracy,
        result.test.min_recall,
        classifier.backbone_size_mb,
        meets,
        result.test.recall_by_class(),
    )


def _dataset_root(config: TrainConfig) -> Path:
    if config.data is not None:
        return config.data
    from edgekit.data.sample import sample_dataset_path

    root = sample_dataset_path()
    logger.info("no --data given: training on the built-in corn sample at %s", root)
    return root


def _config_params(config: TrainConfig, root: Path, classifier) -> dict:
    height, width = config.image_size
    return {
        "model_name": classifier.backbone_name,
        "learning_rate": config.learning_rate,
        "dropout_rate": config.dropout,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "fine_tune": config.fine_tune,
        "image_size": f"{height}x{width}",
        "backbone_params": classifier.backbone_params,
        "backbone_size_mb": round(classifier.backbone_size_mb, 4),
        "weights": config.weights,
        "seed": config.seed,
        "class_weight": config.class_weight,
        "augment": config.augment,
        "optimizer": "AdamW(weight_decay=1e-4), cosine decay, 1 epoch warm-up",
        "data_path": str(Path(root).resolve()),
        "split_fractions": list(config.split.fractions()),
        "requirement_min_accuracy": config.requirements.min_accuracy,
        "requirement_min_recall": config.requirements.min_recall,
        "requirement_max_size_mb": config.requirements.max_size_mb,
    }


def _log_dataset(run, data) -> None:
    sizes = data.split.sizes()
    run.log_params(
        {
            "num_classes": len(data.class_names),
            "class_names": list(data.class_names),
            "num_train": sizes["train"],
            "num_val": sizes["val"],
            "num_test": sizes["test"],
            "num_undecodable": len(data.undecodable),
        }
    )
    run.log_text("data/split_manifest.csv", data.split.to_csv())
    run.log_json("data/classes.json", list(data.class_names))
    run.log_json("data/undecodable.json", [{"path": p, "reason": r} for p, r in data.undecodable])
    run.log_json("data/ignored_files.json", list(data.ignored))


def _log_outputs(run, config: TrainConfig, classifier, data, result) -> None:
    from edgekit import __version__
    from edgekit.report.confusion import plot_confusion_matrix
    from edgekit.train.model import save_model

    mean_epoch_s = sum(result.epoch_times_s) / max(len(result.epoch_times_s), 1)
    run.log_metrics(
        {
            "backbone_size_mb": classifier.backbone_size_mb,
            "best_epoch": result.best_epoch,
            "mean_epoch_time_s": mean_epoch_s,
        }
    )
    if result.batchnorm_momentum is not None:
        run.log_params({"batchnorm_momentum": round(result.batchnorm_momentum, 4)})

    metadata = {
        "edgekit_version": __version__,
        "model_name": classifier.backbone_name,
        "class_names": list(data.class_names),
        "preprocessing": data.preprocessing,
        "mlflow_run_id": run.run_id,
    }
    model_path = save_model(
        result.model, run.workdir / f"{classifier.backbone_name}.keras", metadata
    )
    run.log_file(model_path, "model")
    run.log_json("model/edgekit.json", metadata)

    png = plot_confusion_matrix(
        result.test.confusion,
        data.class_names,
        run.workdir / "confusion_matrix.png",
        f"{classifier.backbone_name}: test split",
    )
    run.log_file(png, "evaluation")
    run.log_json(
        "evaluation/confusion_matrix.json",
        {
            "class_names": list(data.class_names),
            "rows_true_cols_predicted": [list(r) for r in result.test.confusion],
        },
    )
    run.log_text(
        "config/resolved_config.yaml",
        yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False),
    )


def print_summary(outcomes: list[TrainOutcome]) -> None:
    """The seed's comparison table: model, accuracy, min recall, size, meets requirements."""
    table = Table(title="edgekit train")
    for column in ("run", "model", "test accuracy", "min recall", "size MB", "meets req."):
        table.add_column(column, justify="left" if column in ("run", "model") else "right")
    for o in outcomes:
        verdict = "[green]yes[/]" if o.meets_requirements else "[red]no[/]"
        table.add_row(
            o.run_name,
            o.model_name,
            f"{o.test_accuracy:.2%}",
            f"{o.min_recall:.2%}",
            f"{o.backbone_size_mb:.2f}",
            verdict,
        )
    Console().print(table)
    for o in outcomes:
        recalls = ", ".join(f"{name} {value:.2%}" for name, value in o.recall.items())
        Console().print(f"recall per class ({o.model_name}): {recalls}")
        Console().print(f"MLflow run id: {o.run_id}")


class _sigterm_as_interrupt:
    """Treat SIGTERM (docker stop, kill) like Ctrl-C so the run is closed as KILLED."""

    def __enter__(self):
        self.previous = signal.signal(signal.SIGTERM, self._raise)

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGTERM, self.previous)

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt
