"""The MLflow record of a bench: one nested run per measurement under its training run."""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from edgekit.bench.harness import Measurement
from edgekit.bench.verdict import Verdict
from edgekit.data.split import Split
from edgekit.errors import TrackingError
from edgekit.tracking.keys import metric_keys, param_value
from edgekit.tracking.store import check_server_reachable, resolve_tracking_uri
from edgekit.train.metrics import Requirements

logger = logging.getLogger(__name__)

_LATENCY_KEYS = ("min_ms", "mean_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms", "std_ms")


@dataclass(frozen=True)
class ParentRun:
    """The training run a bench nests under, and what the bench needs from it."""

    run_id: str
    run_name: str
    experiment_id: str
    params: dict[str, str]
    backbone_size_mb: float | None
    requirements: Requirements

    @property
    def data_path(self) -> Path | None:
        return Path(self.params["data_path"]) if "data_path" in self.params else None


class BenchRecord:
    """Reads the training run and writes the bench's nested runs and headline metrics."""

    def __init__(self, tracking_uri: str | None, run_id: str):
        from mlflow import MlflowClient

        self.uri = resolve_tracking_uri(tracking_uri)
        check_server_reachable(self.uri)
        self.client = MlflowClient(tracking_uri=self.uri)
        self.parent = self._parent(run_id)

    def _parent(self, run_id: str) -> ParentRun:
        try:
            run = self.client.get_run(run_id)
        except Exception as exc:
            raise TrackingError(
                f"no MLflow run '{run_id}' in {self.uri}; pass the id printed by 'edgekit "
                "train' and the same --tracking-uri"
            ) from exc
        params = dict(run.data.params)
        size = run.data.metrics.get("backbone_size_mb", params.get("backbone_size_mb"))
        return ParentRun(
            run_id=run_id,
            run_name=run.info.run_name,
            experiment_id=run.info.experiment_id,
            params=params,
            backbone_size_mb=float(size) if size is not None else None,
            requirements=_requirements(params),
        )

    def split(self) -> Split:
        """The run's split manifest (artifact data/split_manifest.csv)."""
        with tempfile.TemporaryDirectory(prefix="edgekit-split-") as folder:
            try:
                path = self.client.download_artifacts(
                    self.parent.run_id, "data/split_manifest.csv", folder
                )
            except Exception as exc:
                raise TrackingError(
                    f"run {self.parent.run_id} has no data/split_manifest.csv artifact; it was "
                    "not made by 'edgekit train', or pass --no-accuracy"
                ) from exc
            return Split.from_csv(Path(path))

    def log_measurement(self, m: Measurement, verdict: Verdict, result_file: Path | None) -> str:
        """One nested run (FINISHED, or FAILED when a pass failed) with params and metrics."""
        name = f"bench-{m.device}-{m.artifact}-t{m.threads}"
        tags = {
            "mlflow.parentRunId": self.parent.run_id,
            "mlflow.runName": name,
            "edgekit.stage": "bench",
            "edgekit.device": m.device,
        }
        run = self.client.create_run(self.parent.experiment_id, run_name=name, tags=tags)
        run_id = run.info.run_id
        status = "FAILED"
        try:
            self._log(run_id, m, verdict, result_file)
            status = "FINISHED" if m.ok else "FAILED"
        finally:
            self.client.set_terminated(run_id, status=status)
        return run_id

    def _log(self, run_id: str, m: Measurement, verdict: Verdict, result_file: Path | None):
        from mlflow.entities import Metric, Param

        params = _params(m)
        stamp = int(datetime.now().timestamp() * 1000)
        metrics = _metrics(m, verdict) | {"meets_requirements": float(verdict.meets_requirements)}
        if self.parent.backbone_size_mb is not None:
            metrics["backbone_size_mb"] = self.parent.backbone_size_mb
        self.client.log_batch(
            run_id,
            params=[Param(k, param_value(v)) for k, v in params.items()],
            metrics=[Metric(k, float(v), stamp, 0) for k, v in metrics.items()],
        )
        if m.timing:
            self.client.log_text(
                run_id, json.dumps(m.timing["latencies_ms"]), "bench/latencies_ms.json"
            )
        if verdict.shortfalls:
            self.client.log_text(
                run_id, "\n".join(verdict.shortfalls) + "\n", "bench/shortfalls.txt"
            )
        if result_file is not None and result_file.exists():
            self.client.log_artifact(run_id, str(result_file), "bench")

    def log_headlines(self, best: dict[tuple[str, str, str], tuple[Measurement, Verdict]]) -> None:
        """bench.<device>.<precision>_<format>.* on the parent, for the fastest thread count."""
        from mlflow.entities import Metric

        stamp = int(datetime.now().timestamp() * 1000)
        batch = []
        for (device, precision, fmt), (m, verdict) in best.items():
            prefix = f"bench.{_key(device)}.{precision}_{fmt}."
            values = {
                "p50_ms": verdict.p50_ms,
                "p90_ms": verdict.p90_ms,
                "peak_mb": verdict.peak_mb,
                "accuracy": verdict.accuracy,
                "min_recall": verdict.min_recall,
                "threads": m.threads,
                "meets_requirements": float(verdict.meets_requirements),
            }
            batch += [
                Metric(prefix + k, float(v), stamp, 0) for k, v in values.items() if v is not None
            ]
        for start in range(0, len(batch), 500):
            self.client.log_batch(self.parent.run_id, metrics=batch[start : start + 500])


def _requirements(params: dict[str, str]) -> Requirements:
    def number(key: str, default: float | None) -> float | None:
        value = params.get(key)
        return default if value in (None, "None", "") else float(value)

    defaults = Requirements()
    return Requirements(
        min_accuracy=number("requirement_min_accuracy", defaults.min_accuracy),
        min_recall=number("requirement_min_recall", defaults.min_recall),
        max_size_mb=number("requirement_max_size_mb", None),
    )


def _params(m: Measurement) -> dict[str, Any]:
    runtime = (m.timing or m.memory or m.accuracy or {}).get("runtime", {})
    return {
        "device": m.device,
        "target": m.target,
        **{k: v for k, v in m.board.items() if v is not None},
        "runtime": runtime.get("name"),
        "runtime_version": runtime.get("version"),
        "execution_providers": runtime.get("providers") or None,
        "format": m.format,
        "precision": m.precision,
        "threads": m.threads,
        "model_name": m.model_name,
        "file": Path(m.file).name,
        "sha256": m.sha256,
        "num_runs": m.settings["runs"],
        "num_warmup": m.settings["warmup"],
        "min_seconds": m.settings["min_seconds"],
    }


def _metrics(m: Measurement, verdict: Verdict) -> dict[str, float]:
    metrics: dict[str, float] = {"model_size_mb": m.size_mb}
    if m.timing:
        latency = m.timing["latency"]
        metrics |= {f"latency_{k}": latency[k] for k in _LATENCY_KEYS}
        metrics |= {
            "latency_cv": latency["cv"],
            "throughput_ips": latency["throughput_ips"],
            "num_timed_runs": latency["num_runs"],
            "load_ms": m.timing["load_ms"],
            "first_inference_ms": m.timing["first_inference_ms"],
            "runner_overhead_ms": m.timing["overhead_per_run_ms"],
        }
    if m.memory:
        metrics |= {
            k: m.memory[k]
            for k in ("rss_before_load_mb", "rss_after_load_mb", "peak_inference_mb")
            if m.memory.get(k) is not None
        }
    if verdict.accuracy is not None:
        keys = metric_keys("recall_", list(verdict.recall_by_class))
        metrics |= {keys[n]: r for n, r in verdict.recall_by_class.items() if r == r}
        metrics |= {"accuracy": verdict.accuracy, "min_recall": verdict.min_recall}
    for when, thermal in (("before", m.thermal_before), ("after", m.thermal_after)):
        temps = (thermal or {}).get("temperature_c") or {}
        if temps:
            metrics[f"temperature_max_{when}_c"] = max(temps.values())
        throttling = (thermal or {}).get("throttling") or {}
        if throttling:
            metrics[f"throttled_{when}"] = float(bool(throttling.get("throttled")))
    return {k: v for k, v in metrics.items() if v is not None}


def _key(name: str) -> str:
    return metric_keys("", [name])[name]
