"""`edgekit train` over several models: one run each on one split, failures reported, not fatal.

FIXME: one real epoch per new family through the CLI (efficientnet-lite2, mobilevit-xs, pmvt at
64x64) costs 3-7 minutes each on the shared 2-core machine (graph tracing dominates), far over
the suite's budget; only EfficientNet-Lite0 trains here, MobileViT and PMVT are built, run and
counted in tests/zoo. The four seed models trained through this command on the full corn
dataset (README, "Results on this project's machine").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

# Two models train; the middle one is given a weights file that is not one, so its run fails
# once started (a size or weights rule it breaks would stop the command before any training).
CONFIG = """
weights: none
image-size: 32
epochs: 1
batch-size: 8
models:
  - efficientnet-lite0
  - name: mobilenetv3large
    weights: broken.weights.h5
  - mobilenetv3small
"""


def _edgekit(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edgekit", *args],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


def _runs(store: str) -> dict:
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("edge_models_comparison")
    runs = client.search_runs([experiment.experiment_id])
    return {run.data.params["model_name"]: run for run in runs}


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    from image_folders import make_image_folder

    root = tmp_path_factory.mktemp("compare")
    make_image_folder(root / "corn", per_class=4)
    (root / "broken.weights.h5").write_bytes(b"not an HDF5 file")
    (root / "compare.yaml").write_text(CONFIG)
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
    assert {name: run.info.status for name, run in runs.items()} == {
        "efficientnet-lite0": "FINISHED",
        "mobilenetv3large": "FAILED",
        "mobilenetv3small": "FINISHED",
    }
    assert "mobilenetv3large failed:" in " ".join(result.stderr.split())
    assert "broken.weights.h5" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_trained_models_share_one_split(compared) -> None:
    _, store, root = compared
    client = MlflowClient(tracking_uri=store)
    manifests = []
    for run in _runs(store).values():
        if run.info.status == "FINISHED":
            path = client.download_artifacts(run.info.run_id, "data/split_manifest.csv", str(root))
            manifests.append(Path(path).read_text())
            Path(path).unlink()

    assert len(manifests) == 2 and manifests[0] == manifests[1]


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
    assert "mobilenetv3large failed:" in result.stdout


def test_a_size_one_model_cannot_take_stops_before_any_training(tmp_path: Path) -> None:
    from image_folders import make_image_folder

    make_image_folder(tmp_path / "corn", per_class=3)
    args = ["--model", "mobilenetv3small,pmvt", "--weights", "none", "--image-size", "100"]

    result = _edgekit(["train", "--data", "corn", *args], tmp_path)

    assert result.returncode == 2
    assert "pmvt needs height and width divisible by 64; got 100x100" in result.stderr
    assert not (tmp_path / "models").exists()  # no store, no run


def test_a_typo_in_one_model_name_stops_before_any_training(tmp_path: Path) -> None:
    result = _edgekit(["train", "--data", str(tmp_path), "--model", "pmvt,mobilevitxs"], tmp_path)

    assert result.returncode == 2
    assert "unknown model 'mobilevitxs'; did you mean 'mobilevit-xs'? expected one of" in (
        result.stderr
    )
