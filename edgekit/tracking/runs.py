"""Reading training runs back from MLflow for the report, and recording the report as a run."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from edgekit import __version__
from edgekit.errors import TrackingError
from edgekit.tracking.filters import FILTER_EXAMPLE, rewrite_numeric_params
from edgekit.tracking.store import _first_line, check_server_reachable

logger = logging.getLogger(__name__)

STAGE_TAG = "edgekit.stage"
CURVE_KEYS = ("train_accuracy", "val_accuracy", "train_loss", "val_loss")

_TRAINING_RUNS = f"tags.`{STAGE_TAG}` = 'train'"
_PAGE_SIZE = 1000


@dataclass(frozen=True)
class RunRecord:
    """What the report needs of one MLflow run: latest metric values, params and tags."""

    run_id: str
    run_name: str
    status: str
    start_time_ms: int
    params: Mapping[str, str]
    metrics: Mapping[str, float]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class FoundRuns:
    """The finished training runs a filter selected, and what was left out or changed."""

    experiment_id: str
    runs: tuple[RunRecord, ...]
    num_unfinished: int
    filter_used: str
    rewritten_keys: tuple[str, ...]


def find_training_runs(uri: str, experiment: str, user_filter: str | None = None) -> FoundRuns:
    """FINISHED runs tagged edgekit.stage=train in `experiment` that match `user_filter`."""
    check_server_reachable(uri)
    client = _client(uri)
    experiment_id = _experiment_id(client, experiment, uri)

    numeric = numeric_params(_search(client, experiment_id, _TRAINING_RUNS, uri))
    rewrite = rewrite_numeric_params(user_filter or "", numeric)
    for key in rewrite.rewritten_keys:
        logger.warning(
            "--filter: params.%s is a string in MLflow; compared as metrics.%s instead",
            key,
            key,
        )
    full = f"{_TRAINING_RUNS} and {rewrite.text}" if rewrite.text.strip() else _TRAINING_RUNS
    records = _search(client, experiment_id, full, uri, user_filter=user_filter)

    finished = tuple(r for r in records if r.status == "FINISHED")
    return FoundRuns(
        experiment_id, finished, len(records) - len(finished), rewrite.text, rewrite.rewritten_keys
    )


def numeric_params(runs: Sequence[RunRecord]) -> set[str]:
    """Params also logged as metrics (backbone_size_mb): those compare as numbers."""
    return {key for run in runs for key in run.params if key in run.metrics}


def metric_histories(
    uri: str, run_ids: Sequence[str], keys: Sequence[str] = CURVE_KEYS
) -> dict[str, dict[str, tuple[tuple[int, float], ...]]]:
    """Per run, per key, the (step, value) pairs in step order: the epoch curves."""
    client = _client(uri)
    histories: dict[str, dict[str, tuple[tuple[int, float], ...]]] = {}
    for run_id in run_ids:
        per_key = {}
        for key in keys:
            points = sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))
            if points:
                per_key[key] = tuple(points)
        histories[run_id] = per_key
    return histories


@contextmanager
def report_run(uri: str, experiment_id: str, params: Mapping[str, str]) -> Iterator[str]:
    """A small run tagged edgekit.stage=report that holds the report's files as artifacts.

    Kept apart from the training runs so a report never adds params to them (MLflow refuses
    to change a param, and a second report would collide with the first).
    """
    client = _client(uri)
    name = f"report-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    tags = {STAGE_TAG: "report", "edgekit.version": __version__}
    run_id = client.create_run(experiment_id, run_name=name, tags=tags).info.run_id
    status = "FAILED"
    try:
        for key, value in params.items():
            client.log_param(run_id, key, value)
        yield run_id
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        client.set_terminated(run_id, status=status)


def log_report_files(uri: str, run_id: str, files: Sequence[Path], run_ids: Sequence[str]) -> None:
    """The files of this report (not older ones in the same folder) under `report/`."""
    client = _client(uri)
    for path in files:
        client.log_artifact(run_id, str(path), "report")
    client.log_text(run_id, json.dumps(list(run_ids), indent=2), "report/compared_runs.json")


def _search(
    client, experiment_id: str, filter_string: str, uri: str, user_filter: str | None = None
) -> list[RunRecord]:
    from mlflow.exceptions import MlflowException

    records: list[RunRecord] = []
    token = None
    while True:
        try:
            page = client.search_runs(
                [experiment_id], filter_string, max_results=_PAGE_SIZE, page_token=token
            )
        except MlflowException as exc:
            if user_filter is None:
                raise TrackingError(
                    f"cannot search MLflow store '{uri}': {_first_line(exc)}"
                ) from exc
            raise TrackingError(
                f"invalid --filter '{user_filter}': MLflow says: {_first_line(exc)}; "
                f'example: --filter "{FILTER_EXAMPLE}"'
            ) from exc
        records.extend(_record(run) for run in page)
        token = page.token
        if not token:
            return records


def _record(run) -> RunRecord:
    return RunRecord(
        run_id=run.info.run_id,
        run_name=run.info.run_name or run.info.run_id,
        status=run.info.status,
        start_time_ms=run.info.start_time or 0,
        params=dict(run.data.params),
        metrics=dict(run.data.metrics),
        tags=dict(run.data.tags),
    )


def _experiment_id(client, name: str, uri: str) -> str:
    try:
        experiment = client.get_experiment_by_name(name)
        known = [e.name for e in client.search_experiments()] if experiment is None else []
    except Exception as exc:
        raise TrackingError(f"cannot read MLflow store '{uri}': {_first_line(exc)}") from exc
    if experiment is None or experiment.lifecycle_stage == "deleted":
        listed = ", ".join(known) or "none"
        raise TrackingError(
            f"no experiment '{name}' in MLflow store '{uri}' (experiments: {listed}); pass "
            "--experiment with one of them, or train first (edgekit train)"
        )
    return experiment.experiment_id


def _client(uri: str):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)
