"""The MLflow side of `edgekit export`: find the training run, fetch its model and split, and
record each export on that same run.

NOTE: MLflow refuses to change a param once logged, so an export logs no params. Each export
session is numbered (tag `edgekit.export.count`); its metrics use that number as their step
and its files go under `export/<NNN>-<timestamp>/`, so re-exporting with other flags adds history
instead of colliding with the previous export.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from edgekit.config import DEFAULT_EXPERIMENT, parse_image_size
from edgekit.data.split import Split
from edgekit.errors import TrackingError
from edgekit.export.exporter import ExportResult, ExportSource
from edgekit.tracking.keys import metric_keys
from edgekit.tracking.store import _first_line, check_server_reachable, existing_store_uri
from edgekit.train.metrics import Requirements
from edgekit.train.model import read_model_metadata

logger = logging.getLogger(__name__)

COUNT_TAG = "edgekit.export.count"


@dataclass(frozen=True)
class RunQuery:
    """Which training run to export: exactly one of the three ways is set."""

    run_id: str | None = None
    run_name: str | None = None
    latest_model: str | None = None
    experiment: str = DEFAULT_EXPERIMENT


def open_client(tracking_uri: str | None):
    """An MlflowClient on the resolved store (flag, $MLFLOW_TRACKING_URI, default)."""
    from mlflow import MlflowClient

    uri = existing_store_uri(tracking_uri)
    check_server_reachable(uri)
    return MlflowClient(tracking_uri=uri), uri


def find_run(client, query: RunQuery, uri: str):
    """The run a query names; a missing or unfinished run is a TrackingError."""
    if query.run_id:
        try:
            run = client.get_run(query.run_id)
        except Exception as exc:
            raise TrackingError(
                f"no MLflow run with id '{query.run_id}' in {uri}; check --run-id and "
                "--tracking-uri"
            ) from exc
    else:
        run = _search_one(client, query, uri)
    if run.info.status != "FINISHED":
        what_to_do = "wait for it to finish" if run.info.status == "RUNNING" else "train it again"
        raise TrackingError(
            f"run {run.info.run_name} ({run.info.run_id}) is {run.info.status}; only a "
            f"FINISHED training run has a model to export: {what_to_do}, or pick another run"
        )
    return run


# Only runs of `edgekit train` hold a model: bench and report runs share the experiment and
# may share the model name.
_TRAINING = "tags.`edgekit.stage` = 'train'"


def _search_one(client, query: RunQuery, uri: str):
    experiment = client.get_experiment_by_name(query.experiment)
    if experiment is None:
        raise TrackingError(
            f"no experiment '{query.experiment}' in {uri}; pass --experiment or --run-id"
        )
    if query.run_name:
        what = f"named '{query.run_name}'"
        filters = f"attributes.run_name = '{_quoted(query.run_name)}' and {_TRAINING}"
    else:
        what = f"of model '{query.latest_model}'"
        filters = (
            f"params.model_name = '{_quoted(query.latest_model)}' "
            f"and attributes.status = 'FINISHED' and {_TRAINING}"
        )
    runs = client.search_runs(
        [experiment.experiment_id], filters, max_results=1, order_by=["attributes.start_time DESC"]
    )
    if not runs:
        raise TrackingError(
            f"no training run {what} in experiment '{query.experiment}' of {uri}; list runs "
            "with 'edgekit report' or 'edgekit ui', or pass --run-id"
        )
    return runs[0]


def _quoted(value: str) -> str:
    return value.replace("'", "\\'")


def fetch_source(client, run, workdir: Path, data_root: Path | None, uri: str) -> ExportSource:
    """Download the run's model and split manifest and describe them as an ExportSource."""
    run_id = run.info.run_id
    params = run.data.params
    model_name = params.get("model_name", "")
    # MLflow's tqdm bar for two small files would interleave with the CLI's rich bars.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        model_dir = Path(client.download_artifacts(run_id, "model", str(workdir)))
        split_csv = Path(client.download_artifacts(run_id, "data/split_manifest.csv", str(workdir)))
    except Exception as exc:
        raise TrackingError(
            f"run {run.info.run_name} ({run_id}) has no model/ or data/split_manifest.csv "
            f"artifact: was it trained by 'edgekit train'? ({_first_line(exc)})"
        ) from exc
    keras_path = model_dir / f"{model_name}.keras"
    if not keras_path.is_file():
        found = sorted(model_dir.glob("*.keras"))
        if not found:
            raise TrackingError(f"run {run_id} has no .keras file under model/")
        keras_path = found[0]

    metadata = read_model_metadata(keras_path)
    root = Path(data_root or params.get("data_path", ""))
    info = {
        "run_id": run_id,
        "run_name": run.info.run_name,
        "tracking_uri": uri,
        "keras_artifact": f"model/{keras_path.name}",
        "data_path": str(root),
    }
    return source_from_metadata(
        keras_path,
        run.info.run_name,
        metadata,
        Split.from_csv(split_csv),
        root,
        requirements_from_params(params),
        info,
    )


def source_from_metadata(
    keras_path: Path,
    name: str,
    metadata: dict[str, Any],
    split: Split,
    data_root: Path,
    requirements: Requirements,
    info: dict[str, Any],
) -> ExportSource:
    """An ExportSource from the edgekit.json inside a .keras file."""
    preprocessing = metadata["preprocessing"]
    return ExportSource(
        keras_path=keras_path,
        name=name,
        class_names=tuple(metadata["class_names"]),
        image_size=parse_image_size(list(preprocessing["size"])),
        preprocessing=preprocessing,
        model_name=metadata.get("model_name") or keras_path.stem,
        split=split,
        data_root=data_root,
        requirements=requirements,
        info=info,
    )


def requirements_from_params(params: dict[str, str]) -> Requirements:
    """The requirements the run was trained against (params are strings)."""
    defaults = Requirements()
    cap = params.get("requirement_max_size_mb", "None")
    return Requirements(
        min_accuracy=float(params.get("requirement_min_accuracy", defaults.min_accuracy)),
        min_recall=float(params.get("requirement_min_recall", defaults.min_recall)),
        max_size_mb=None if cap in ("None", "") else float(cap),
    )


class ExportRecord:
    """Logs one export session's metrics and files to the training run."""

    def __init__(self, client, run, session: str | None = None):
        self.client = client
        self.run_id = run.info.run_id
        self.step = int(run.data.tags.get(COUNT_TAG, "0")) + 1
        # Numbered first: two exports within the same second still get their own folders.
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.session = session or f"{self.step:03d}-{stamp}"
        self.artifact_dir = f"export/{self.session}"
        self._numbered = False

    def log_result(self, result: ExportResult) -> None:
        """`export.<precision>_<format>.*` metrics at this session's step, file and manifest."""
        from mlflow.entities import Metric

        if not self._numbered:  # a session that exported nothing leaves the run untouched
            self.client.set_tag(self.run_id, COUNT_TAG, str(self.step))
            self.client.set_tag(self.run_id, "edgekit.export.last_session", self.session)
            self._numbered = True
        stamp = int(datetime.now().timestamp() * 1000)
        metrics = export_metrics(result)
        batch = [Metric(key, value, stamp, self.step) for key, value in metrics.items()]
        self.client.log_batch(self.run_id, metrics=batch)
        self.client.log_artifact(self.run_id, str(result.path), self.artifact_dir)
        self.client.log_artifact(self.run_id, str(result.manifest_path), self.artifact_dir)
        latest = f"{self.artifact_dir}/{result.path.name}"
        self.client.set_tag(self.run_id, f"edgekit.export.{result.target.key}", latest)


def export_metrics(result: ExportResult) -> dict[str, float]:
    """The numbers of one export under the prefix `export.<precision>_<format>.`."""
    parity = result.parity
    prefix = f"export.{result.target.key}."
    keys = metric_keys(prefix + "recall_", list(parity.recall_by_class))
    metrics = {keys[name]: value for name, value in parity.recall_by_class.items()}
    metrics |= {
        prefix + "accuracy": parity.accuracy,
        prefix + "min_recall": parity.min_recall,
        prefix + "top1_agreement": parity.top1_agreement,
        prefix + "size_mb": result.size_mb,
        prefix + "conversion_time_s": result.conversion_time_s,
        prefix + "meets_requirements": 1.0 if parity.meets_requirements else 0.0,
    }
    if parity.max_abs_diff is not None:
        metrics[prefix + "max_abs_diff"] = parity.max_abs_diff
    return {key: float(value) for key, value in metrics.items()}
