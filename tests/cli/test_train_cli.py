"""`edgekit train` end to end: a real tiny training into a real SQLite MLflow store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import mlflow
import pytest
from mlflow import MlflowClient

from edgekit.train.model import read_model_metadata

CLASSES = ("Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy")
SEED_PARAMS = (
    "model_name",
    "learning_rate",
    "dropout_rate",
    "epochs",
    "batch_size",
    "fine_tune",
    "image_size",
    "backbone_params",
    "backbone_size_mb",
    "weights",
    "seed",
    "num_classes",
    "class_names",
    "data_path",
    "num_train",
    "num_val",
    "num_test",
    "requirement_min_accuracy",
    "requirement_min_recall",
)
TINY_TRAIN = [
    "--model",
    "mobilenetv3small",
    "--weights",
    "none",
    "--image-size",
    "32",
    "--batch-size",
    "8",
]


@pytest.fixture(scope="module")
def trained(tiny_training, tmp_path_factory):
    """The session's tiny run (3 epochs, one undecodable file), shared by the assertions below."""
    client = MlflowClient(tracking_uri=tiny_training.store)
    run = client.get_run(tiny_training.run_id)
    return client, run, tmp_path_factory.mktemp("train"), tiny_training.output


@pytest.mark.slow
def test_run_records_every_seed_param(trained) -> None:
    _, run, _, _ = trained
    params = run.data.params

    assert set(SEED_PARAMS) <= set(params)
    assert params["model_name"] == "mobilenetv3small"
    assert params["image_size"] == "32x32"
    assert params["class_names"] == '["Blight", "Common_Rust", "Gray_Leaf_Spot", "Healthy"]'
    assert params["num_undecodable"] == "1"
    assert (
        int(params["num_train"]) + int(params["num_val"]) + int(params["num_test"]) == 60
    )  # 14 a class and 4 awkward files
    assert float(params["backbone_size_mb"]) == pytest.approx(
        int(params["backbone_params"]) * 4 / 2**20, abs=1e-4
    )
    assert run.info.run_name.startswith("mobilenetv3small-")


@pytest.mark.slow
def test_run_records_curves_test_scores_and_verdict(trained) -> None:
    client, run, _, _ = trained
    metrics = run.data.metrics

    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        history = client.get_metric_history(run.info.run_id, key)
        assert [m.step for m in history] == [1, 2, 3]
        assert all(m.value >= 0 for m in history)
    recalls = [metrics[f"recall_{c}"] for c in CLASSES]
    assert all(0 <= r <= 1 for r in recalls)
    assert metrics["min_recall"] == min(recalls)
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["test_loss"] > 0
    expected = metrics["test_accuracy"] >= 0.5 and metrics["min_recall"] >= 0.8
    assert metrics["meets_requirements"] == float(expected)
    assert metrics["backbone_size_mb"] == pytest.approx(
        float(run.data.params["backbone_size_mb"]), abs=1e-4
    )
    assert run.info.status == "FINISHED"


@pytest.mark.slow
def test_summary_names_missed_requirements_and_how_to_browse_the_store(trained) -> None:
    client, run, _, output = trained
    text = " ".join(output.split())  # rich wraps long lines

    assert f"id {run.info.run_id}" in text
    assert f"edgekit ui --tracking-uri {client.tracking_uri}" in text
    missed = run.data.metrics["min_recall"] < 0.8 or run.data.metrics["test_accuracy"] < 0.5
    assert ("misses requirements:" in text) == missed


@pytest.mark.slow
def test_size_filter_works_on_the_metric(trained) -> None:
    client, run, _, _ = trained
    mlflow.set_tracking_uri(client.tracking_uri)

    small = mlflow.search_runs(
        experiment_names=["edge_models_comparison"], filter_string="metrics.backbone_size_mb <= 30"
    )
    tiny = mlflow.search_runs(
        experiment_names=["edge_models_comparison"], filter_string="metrics.backbone_size_mb <= 0.1"
    )

    assert list(small["run_id"]) == [run.info.run_id]
    assert len(tiny) == 0


@pytest.mark.slow
def test_run_artifacts_hold_model_split_and_evaluation(trained) -> None:
    client, run, root, _ = trained
    local = Path(client.download_artifacts(run.info.run_id, "", str(root / "artifacts")))

    for name in (
        "model/mobilenetv3small.keras",
        "data/split_manifest.csv",
        "data/classes.json",
        "data/undecodable.json",
        "evaluation/confusion_matrix.png",
        "evaluation/confusion_matrix.json",
        "logs/train.log",
        "config/resolved_config.yaml",
        "evaluation/recall_metric_keys.json",
    ):
        assert (local / name).is_file(), name
    manifest = (local / "data/split_manifest.csv").read_text()
    assert "Blight/Blight (0).jpg,Blight," in manifest
    assert "Healthy/broken (copy).jpg" in (local / "data/undecodable.json").read_text()
    assert "epoch 3/3" in (local / "logs/train.log").read_text()

    model_path = local / "model/mobilenetv3small.keras"
    assert read_model_metadata(model_path)["class_names"] == list(CLASSES)
    model = keras.saving.load_model(model_path)
    kinds = {type(layer).__name__ for layer in model._flatten_layers()}
    assert "Dropout" in kinds and "Dense" in kinds
    assert not [k for k in kinds if k.startswith("Random") or k == "Sequential"], kinds


def test_cli_rejects_frozen_backbone_without_weights(tmp_path: Path) -> None:
    result = _edgekit(["train", "--data", str(tmp_path), "--weights", "none", "--no-fine-tune"])

    assert result.returncode == 2
    assert "--no-fine-tune freezes the backbone" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_rejects_a_folder_with_one_class(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()

    result = _edgekit(["train", "--data", str(tmp_path), "--weights", "none"])

    assert result.returncode == 2
    assert "training needs at least 2" in result.stderr


@pytest.mark.slow
def test_imagenet_weights_without_internet_stop_before_any_run(image_folder, tmp_path) -> None:
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    # A proxy on a closed port is what "no internet" looks like to Keras' downloader.
    offline = {
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "KERAS_HOME": str(tmp_path / "keras"),
    }

    result = _edgekit(
        [
            "train",
            "--data",
            str(image_folder),
            "--model",
            "mobilenetv3small",
            "--weights",
            "imagenet",
            "--tracking-uri",
            store,
        ],
        env=offline,
    )

    assert result.returncode == 2
    assert "could not get ImageNet weights" in result.stderr
    assert "--weights none" in result.stderr
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_ends_killed(image_folder, tmp_path, signum) -> None:
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    command = [
        sys.executable,
        "-m",
        "edgekit",
        "train",
        "--data",
        str(image_folder),
        *TINY_TRAIN,
        "--epochs",
        "500",
        "--tracking-uri",
        store,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        run_id = _wait_for_training_start(store, process)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode == 128 + signum, stderr.decode()[-2000:]
    assert MlflowClient(tracking_uri=store).get_run(run_id).info.status == "KILLED"


def _wait_for_training_start(store: str, process: subprocess.Popen, timeout_s: float = 240) -> str:
    """The run id once `fit` has begun (steps_per_epoch is logged then): the signal lands
    while TensorFlow traces or runs the first epoch, where a Ctrl-C is hardest to handle."""
    client = MlflowClient(tracking_uri=store)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1].decode()[-2000:]
        experiment = _experiment(client)
        runs = client.search_runs([experiment.experiment_id]) if experiment else []
        if runs and "steps_per_epoch" in runs[0].data.params:
            return runs[0].info.run_id
        time.sleep(0.5)
    raise AssertionError("training did not start in time")


def _experiment(client: MlflowClient):
    try:
        return client.get_experiment_by_name("edge_models_comparison")
    except Exception:  # the store may still be creating its tables
        return None


def _edgekit(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edgekit", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_run_that_fails_after_starting_ends_failed(tmp_path: Path) -> None:
    from image_folders import make_image_folder

    data = make_image_folder(tmp_path / "corn", per_class=3)
    for image in (data / "Healthy").iterdir():
        image.write_bytes(b"not an image")  # passes the listing, fails the decode
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"

    result = _edgekit(["train", "--data", str(data), *TINY_TRAIN, "--tracking-uri", store])

    assert result.returncode == 2
    assert "Healthy" in result.stderr.splitlines()[-1]
    assert "at least 3 decodable images" in result.stderr
    client = MlflowClient(tracking_uri=store)
    experiment = client.get_experiment_by_name("edge_models_comparison")
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FAILED"
    assert client.list_artifacts(run.info.run_id, "logs")
