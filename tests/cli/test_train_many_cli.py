"""`edgekit train` over several models: one run each on one split, failures reported, not fatal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

# One model of each hand-written family trains; the last cannot be built at 96x96.
COMPARE_YAML = """\
weights: none
epochs: 1
batch-size: 8
image-size: 64
requirements:
  min_accuracy: 0.3
models:
  - efficientnet-lite2
  - mobilevit-xs
  - name: pmvt
    batch-size: 4
  - name: mobilevit-xxs
    image-size: 96
"""


def _edgekit(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edgekit", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


def _runs(store: str) -> dict[str, object]:
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("edge_models_comparison")
    runs = client.search_runs([experiment.experiment_id])
    return {run.data.params["model_name"]: run for run in runs}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    from conftest import make_image_folder

    root = tmp_path_factory.mktemp("compare")
    make_image_folder(root / "corn", per_class=6)
    (root / "compare.yaml").write_text(COMPARE_YAML)
    store = f"sqlite:///{root / 'mlflow.db'}"

    result = _edgekit(
        ["train", "--data", "corn", "--config", "compare.yaml", "--tracking-uri", store], root
    )
    return result, store, root


@pytest.mark.slow
def test_each_model_gets_a_run_and_a_failure_does_not_stop_the_others(compared) -> None:
    result, store, _ = compared
    runs = _runs(store)

    assert result.returncode == 1, result.stderr[-3000:]
    assert sorted(runs) == ["efficientnet-lite2", "mobilevit-xs", "mobilevit-xxs", "pmvt"]
    assert {name: run.info.status for name, run in runs.items()} == {
        "efficientnet-lite2": "FINISHED",
        "mobilevit-xs": "FINISHED",
        "pmvt": "FINISHED",
        "mobilevit-xxs": "FAILED",
    }
    assert runs["pmvt"].data.params["batch_size"] == "4"
    assert "divisible by 64; got 96x96" in result.stderr


@pytest.mark.slow
def test_the_trained_models_share_one_split(compared) -> None:
    _, store, root = compared
    client = MlflowClient(tracking_uri=store)
    manifests = set()
    for run in _runs(store).values():
        if run.info.status == "FINISHED":
            path = client.download_artifacts(run.info.run_id, "data/split_manifest.csv", str(root))
            manifests.add(Path(path).read_text())
            Path(path).unlink()

    assert len(manifests) == 1


@pytest.mark.slow
def test_the_comparison_table_closes_the_command(compared) -> None:
    result, store, _ = compared
    table = result.stdout[: result.stdout.index("recall per class")]

    for column in ("accuracy", "min recall", "size MB", "meets req.", "epoch s"):
        assert column in table
    for name, run in _runs(store).items():
        row = next(line for line in table.splitlines() if f" {name} " in line)
        if run.info.status == "FINISHED":
            assert f"{run.data.metrics['test_accuracy']:.2%}" in row
        else:
            assert "FAILED" in row
    assert "mobilevit-xxs failed: mobilevit-xxs needs height and width" in result.stdout


@pytest.mark.slow
def test_a_comma_list_whose_models_all_fail_exits_non_zero(tmp_path: Path) -> None:
    from conftest import make_image_folder

    make_image_folder(tmp_path / "corn", per_class=3)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"

    args = ["--model", "pmvt,mobilevit-s", "--image-size", "96", "--weights", "none"]

    result = _edgekit(["train", "--data", "corn", *args, "--tracking-uri", store], tmp_path)

    assert result.returncode == 1
    assert {n: r.info.status for n, r in _runs(store).items()} == {
        "pmvt": "FAILED",
        "mobilevit-s": "FAILED",
    }
    assert "Traceback" not in result.stderr


def test_a_typo_in_one_model_name_stops_before_any_training(tmp_path: Path) -> None:
    result = _edgekit(["train", "--data", str(tmp_path), "--model", "pmvt,mobilevitxs"], tmp_path)

    assert result.returncode == 2
    assert "unknown model 'mobilevitxs'; expected one of" in result.stderr
