"""`edgekit report` against a real SQLite MLflow store: one real tiny training run, and runs
logged with the keys train, export and bench write."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from comparison_runs import seed_runs
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from typer.testing import CliRunner

from edgekit.cli.main import app
from edgekit.errors import TrackingError

EXPERIMENT = "edge_models_comparison"


def _log_run(client: MlflowClient, experiment_id: str, run, stage: str = "train") -> str:
    """One run with the params, final metrics and epoch curves edgekit train logs."""
    created = client.create_run(
        experiment_id, run_name=f"{run.model}-run", tags={"edgekit.stage": stage}
    )
    run_id = created.info.run_id
    metrics = [Metric(k, v, 0, 0) for k, v in run.metrics().items()]
    for key, points in run.history().items():
        metrics += [Metric(key, value, 0, step) for step, value in points]
    params = [Param(k, v) for k, v in run.params().items()]
    client.log_batch(run_id, metrics=metrics, params=params)
    return run_id


@pytest.fixture(scope="module")
def bench_store(tmp_path_factory) -> str:
    """The seed's four models with export and bench metrics, plus runs that are no rows."""
    root = tmp_path_factory.mktemp("bench-store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=(root / "a").as_uri())
    for run in seed_runs():
        client.set_terminated(_log_run(client, experiment_id, run))

    # Not rows: a nested bench run, a run still training, an older report.
    runs = seed_runs()
    client.set_terminated(_log_run(client, experiment_id, runs[0], stage="bench"))
    _log_run(client, experiment_id, runs[1])  # left RUNNING
    client.set_terminated(_log_run(client, experiment_id, runs[2], stage="report"))
    return uri


@pytest.fixture(scope="module")
def bench_report(bench_store: str, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "reports"
    result = CliRunner().invoke(
        app, ["report", "--tracking-uri", bench_store, "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result, out


def test_table_has_one_row_per_finished_training_run_sorted_by_accuracy(bench_report) -> None:
    result, out = bench_report

    with (out / "comparison.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["model"] for r in rows] == [
        "efficientnet-lite2",
        "mobilenetv3large",
        "pmvt",
        "mobilevit-xs",
    ]
    assert "efficientnet-lite2" in result.stdout and "Exports and benches" in result.stdout
    assert "left out 1 training run(s) not FINISHED" in result.stderr


def test_every_file_is_written_and_bench_metrics_add_a_latency_chart_per_device(
    bench_report,
) -> None:
    _, out = bench_report

    names = {p.name for p in out.iterdir()}
    assert {
        "comparison.csv",
        "comparison.md",
        "measurements.csv",
        "size_vs_accuracy.png",
        "latency_vs_accuracy_rpi4.png",
        "latency_vs_accuracy_jetson-orin-nano.png",
        "training_curves.png",
        "parallel_coordinates.png",
        "report.html",
    } == names
    with (out / "measurements.csv").open() as handle:
        lines = list(csv.DictReader(handle))
    assert len(lines) == 6
    assert not [n for n in names if n.endswith(".partial")]


def test_report_is_its_own_run_and_training_runs_are_untouched(
    bench_store: str, bench_report
) -> None:
    client = MlflowClient(tracking_uri=bench_store)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    reports = client.search_runs(
        [experiment.experiment_id], "tags.`edgekit.stage` = 'report' and params.num_runs = '4'"
    )

    assert len(reports) == 1 and reports[0].info.status == "FINISHED"
    files = {a.path for a in client.list_artifacts(reports[0].info.run_id, "report")}
    assert {"report/size_vs_accuracy.png", "report/report.html", "report/comparison.csv"} <= files
    trained = client.search_runs([experiment.experiment_id], "tags.`edgekit.stage` = 'train'")
    for run in trained:
        assert set(run.data.params) == set(seed_runs()[0].params())


def test_seed_param_filter_is_accepted_as_a_metric_compare_with_a_warning(
    bench_store: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--tracking-uri",
            bench_store,
            "--out",
            str(tmp_path),
            "--no-log",
            "--filter",
            "params.backbone_size_mb <= 12 and metrics.test_accuracy >= 0.85",
            "--sort",
            "backbone_size_mb",
        ],
        env={"COLUMNS": "200"},
    )

    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "compared as metrics.backbone_size_mb" in result.stderr
    with (tmp_path / "comparison.csv").open() as handle:
        assert [r["model"] for r in csv.DictReader(handle)] == ["mobilevit-xs", "mobilenetv3large"]


def test_invalid_filter_is_one_line_with_mlflows_complaint_and_an_example(
    bench_store: str, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "edgekit", "report", "--tracking-uri", bench_store]
    command += ["--out", str(tmp_path), "--filter", "metrics.test_accuracy >"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)

    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "invalid --filter 'metrics.test_accuracy >'" in lines[0]
    assert "Invalid clause" in lines[0] and "example: --filter" in lines[0]
    assert not (tmp_path / "comparison.csv").exists()


def test_a_store_that_does_not_exist_says_train_first(tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'nowhere' / 'mlflow.db'}"

    result = CliRunner().invoke(app, ["report", "--tracking-uri", missing])

    assert isinstance(result.exception, TrackingError)
    assert "train a model first" in str(result.exception)
    assert not (tmp_path / "nowhere").exists()


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory) -> Path:
    """A real tiny `edgekit train` into the default store of a project folder (in-process:
    TensorFlow is imported once per test session)."""
    from image_folders import make_image_folder

    project = tmp_path_factory.mktemp("project")
    data = make_image_folder(project / "corn", per_class=6)
    args = ["train", "--data", str(data), "--model", "mobilenetv3small", "--weights", "none"]
    args += ["--image-size", "32", "--epochs", "1", "--batch-size", "8", "--min-accuracy", "0.1"]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return project


@pytest.mark.slow
def test_real_training_run_reported_from_the_default_store_says_bench_is_missing(
    trained_store: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    command = [sys.executable, "-m", "edgekit", "report", "--no-log"]
    result = subprocess.run(command, cwd=trained_store, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert "mobilenetv3small" in result.stdout
    assert "No bench results yet" in result.stderr
    out = trained_store / "reports"
    assert (out / "size_vs_accuracy.png").stat().st_size > 10_000
    assert (out / "training_curves.png").is_file()
    assert not list(out.glob("latency_vs_accuracy_*.png"))
    client = MlflowClient(tracking_uri=f"sqlite:///{trained_store / 'models/mlruns/mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name(EXPERIMENT).experiment_id])
    assert len(runs) == 1  # --no-log added no report run


def test_a_filter_that_keeps_no_run_says_so_and_writes_nothing(
    bench_store: str, tmp_path: Path
) -> None:
    args = ["report", "--tracking-uri", bench_store, "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--filter", "metrics.test_accuracy > 0.99"])

    assert isinstance(result.exception, TrackingError)
    assert "no FINISHED training run" in str(result.exception)
    assert "matching --filter 'metrics.test_accuracy > 0.99'" in str(result.exception)
    assert not (tmp_path / "out").exists()
