"""The MLflow record of one training run: params, live epoch curves, test scores, artifacts."""

from __future__ import annotations

import json
import logging
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from edgekit import __version__
from edgekit.config import TrainConfig
from edgekit.data.dataset import PreparedDataset
from edgekit.errors import TrackingError
from edgekit.report.confusion import plot_confusion_matrix
from edgekit.tracking.keys import metric_keys, param_value
from edgekit.tracking.store import (
    check_server_reachable,
    get_or_create_experiment,
    resolve_tracking_uri,
)
from edgekit.train.metrics import ClassificationScores, Requirements
from edgekit.train.model import Classifier, save_model
from edgekit.train.trainer import TrainResult

logger = logging.getLogger(__name__)

_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# `extra=` for records meant for the run's log file only (the console already says it).
FILE_ONLY = {"file_only": True}


def default_run_name(model_name: str, now: datetime | None = None) -> str:
    """Model name + timestamp, e.g. mobilenetv3large-20261203-184501."""
    return f"{model_name}-{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}"


class TrainingRun:
    """One MLflow run per trained model. Also a TrainingObserver: it logs every epoch live."""

    def __init__(self, client, run_id: str, run_name: str, workdir: Path, tracking_uri: str):
        self.client = client
        self.tracking_uri = tracking_uri
        self.run_id = run_id
        self.run_name = run_name
        self.workdir = workdir
        self.log_path = workdir / "train.log"

    # --- observer: each epoch is on the server as soon as it ends ---------------------------

    def on_train_begin(self, num_epochs: int, steps_per_epoch: int) -> None:
        self.log_params({"steps_per_epoch": steps_per_epoch})

    def on_batch_end(self, step: int, logs: dict[str, float]) -> None:
        pass

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        self.log_metrics(metrics, step=epoch)

    # --- record --------------------------------------------------------------------------

    def log_params(self, params: dict[str, Any]) -> None:
        from mlflow.entities import Param

        batch = [Param(key, param_value(value)) for key, value in params.items()]
        for start in range(0, len(batch), 100):
            self.client.log_batch(self.run_id, params=batch[start : start + 100])

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        from mlflow.entities import Metric

        stamp = int(datetime.now().timestamp() * 1000)
        batch = [Metric(key, float(value), stamp, step) for key, value in metrics.items()]
        self.client.log_batch(self.run_id, metrics=batch)

    # --- the training record, step by step -------------------------------------------------

    def log_config(self, config: TrainConfig, root: Path, classifier: Classifier) -> None:
        """The seed's params, the requirements used and the rest of the resolved config."""
        height, width = config.image_size
        self.log_params(
            {
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
        )
        self.log_text(
            "config/resolved_config.yaml",
            yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False),
        )

    def log_dataset(self, data: PreparedDataset) -> None:
        """Class order, split sizes, the split manifest and the files left out."""
        sizes = data.split.sizes()
        self.log_params(
            {
                "num_classes": len(data.class_names),
                "class_names": list(data.class_names),
                "num_train": sizes["train"],
                "num_val": sizes["val"],
                "num_test": sizes["test"],
                "num_undecodable": len(data.undecodable),
            }
        )
        self.log_text("data/split_manifest.csv", data.split.to_csv())
        self.log_json("data/classes.json", list(data.class_names))
        undecodable = [{"path": p, "reason": r} for p, r in data.undecodable]
        self.log_json("data/undecodable.json", undecodable)
        self.log_json("data/ignored_files.json", list(data.ignored))

    def log_outputs(
        self, classifier: Classifier, data: PreparedDataset, result: TrainResult
    ) -> None:
        """Size and timing metrics, the saved model with its metadata, the confusion matrix."""
        self.log_metrics(
            {
                "backbone_size_mb": classifier.backbone_size_mb,
                "best_epoch": result.best_epoch,
                **epoch_time_metrics(result.epoch_times_s),
            }
        )
        if result.batchnorm_momentum is not None:
            self.log_params({"batchnorm_momentum": round(result.batchnorm_momentum, 4)})

        metadata = {
            "edgekit_version": __version__,
            "model_name": classifier.backbone_name,
            "class_names": list(data.class_names),
            "preprocessing": data.preprocessing,
            "mlflow_run_id": self.run_id,
        }
        model_path = self.workdir / f"{classifier.backbone_name}.keras"
        self.log_file(save_model(result.model, model_path, metadata), "model")
        self.log_json("model/edgekit.json", metadata)

        title = f"{classifier.backbone_name}: test split"
        png = self.workdir / "confusion_matrix.png"
        confusion = [list(row) for row in result.test.confusion]
        self.log_file(plot_confusion_matrix(confusion, data.class_names, png, title), "evaluation")
        self.log_json(
            "evaluation/confusion_matrix.json",
            {"class_names": list(data.class_names), "rows_true_cols_predicted": confusion},
        )

    def log_test_scores(
        self, scores: ClassificationScores, requirements: Requirements, backbone_size_mb: float
    ) -> bool:
        """test_* metrics, recall_<class>, min_recall, meets_requirements; returns the verdict."""
        keys = metric_keys("recall_", scores.class_names)
        meets = requirements.met_by(scores.accuracy, scores.min_recall, backbone_size_mb)
        metrics = {keys[name]: recall for name, recall in scores.recall_by_class().items()}
        metrics |= {
            "test_accuracy": scores.accuracy,
            "min_recall": scores.min_recall,
            "meets_requirements": 1.0 if meets else 0.0,
        }
        if scores.loss is not None:
            metrics["test_loss"] = scores.loss
        self.log_metrics(metrics)
        self.log_json("evaluation/recall_metric_keys.json", keys)
        self.log_json("evaluation/test_scores.json", scores.to_dict())
        return meets

    def log_json(self, artifact_path: str, content: Any) -> None:
        self.log_text(artifact_path, json.dumps(content, indent=2, sort_keys=True, default=str))

    def log_text(self, artifact_path: str, text: str) -> None:
        self.client.log_text(self.run_id, text, artifact_path)

    def log_file(self, path: Path, artifact_dir: str | None = None) -> None:
        self.client.log_artifact(self.run_id, str(path), artifact_dir)


@contextmanager
def training_run(
    tracking_uri: str | None, experiment: str, run_name: str, tags: dict[str, str] | None = None
) -> Iterator[TrainingRun]:
    """Start a run; end it FINISHED, KILLED on Ctrl-C or SIGTERM, FAILED on any other error.

    The run's text log (everything edgekit logged meanwhile) is uploaded however it ends.
    """
    uri = resolve_tracking_uri(tracking_uri)
    check_server_reachable(uri)
    client = _client(uri)
    experiment_id = get_or_create_experiment(client, experiment, uri)
    run_tags = {"mlflow.runName": run_name, "edgekit.version": __version__} | (tags or {})

    with tempfile.TemporaryDirectory(prefix="edgekit-run-") as workdir:
        with _signals_ignored():
            run = client.create_run(experiment_id, run_name=run_name, tags=run_tags)
        record = TrainingRun(client, run.info.run_id, run_name, Path(workdir), uri)
        logger.info(
            "MLflow run %s (%s), experiment '%s', store %s",
            run_name,
            record.run_id,
            experiment,
            uri,
        )
        handler = _attach_log_file(record.log_path)
        status = "FAILED"
        try:
            yield record
            status = "FINISHED"
        except KeyboardInterrupt:
            status = "KILLED"
            logger.warning("interrupted: MLflow run %s ends KILLED", record.run_id)
            raise
        except Exception as exc:
            if _interrupted(exc):
                status = "KILLED"
                logger.warning("interrupted: MLflow run %s ends KILLED", record.run_id)
                raise KeyboardInterrupt from exc
            # The CLI prints the error itself; this line is for the run's own log.
            logger.error("run %s failed: %s", record.run_id, exc, extra=FILE_ONLY)
            raise
        finally:
            _detach_log_file(handler)
            _end_run(record, status)


def epoch_time_metrics(times: tuple[float, ...]) -> dict[str, float]:
    """Epoch 1 also traces and compiles the graph: its time is kept apart from the mean."""
    if not times:
        return {}
    steady = times[1:] or times
    return {"first_epoch_time_s": times[0], "mean_epoch_time_s": float(np.mean(steady))}


def _client(uri: str):
    from mlflow import MlflowClient

    try:
        return MlflowClient(tracking_uri=uri)
    except Exception as exc:
        raise TrackingError(f"cannot open MLflow store '{uri}': {exc}") from exc


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C that landed inside TensorFlow's C++ (e.g. while tracing) surfaces as another error
    (seen: SystemError) whose context is the KeyboardInterrupt."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _end_run(record: TrainingRun, status: str) -> None:
    """Upload the log and set the final status; a second Ctrl-C cannot leave the run RUNNING."""
    with _signals_ignored():
        try:
            record.log_file(record.log_path, "logs")
        except Exception as exc:  # the status matters more than the log
            logger.warning("could not upload the log of run %s: %s", record.run_id, exc)
        record.client.set_terminated(record.run_id, status=status)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM for a moment (main thread only: Python's rule)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _attach_log_file(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    handler.setLevel(logging.DEBUG)
    logging.getLogger("edgekit").addHandler(handler)
    return handler


def _detach_log_file(handler: logging.Handler) -> None:
    logging.getLogger("edgekit").removeHandler(handler)
    handler.close()
