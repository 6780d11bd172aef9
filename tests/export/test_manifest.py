"""The export manifest: a versioned JSON schema that round-trips and refuses other versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgekit.export.manifest import (
    SCHEMA_VERSION,
    ArtifactInfo,
    Calibration,
    Manifest,
    ManifestError,
    Parity,
    Quantization,
    TensorSpec,
    ToolInfo,
    manifest_path,
    read_manifest,
    write_manifest,
)


def _manifest() -> Manifest:
    return Manifest(
        artifact=ArtifactInfo("m.int8.tflite", "tflite", "int8", 1234, 0.0012, "ab" * 32),
        model_name="mobilenetv3small",
        class_names=("a", "b"),
        input=TensorSpec("x", (None, 32, 32, 3), "int8", "NHWC", Quantization(1.0, -128)),
        output=TensorSpec("y", (None, 2), "int8", None, Quantization(1 / 256, -128)),
        preprocessing={"size": [32, 32], "pixel_range": [0, 255]},
        converter=ToolInfo("tensorflow.lite.TFLiteConverter", "2.21.0", {"io": "int8"}),
        runtime=ToolInfo("litert", "2.3.0"),
        source={"run_id": "r1"},
        parity=Parity("test", 10, 0.9, {"a": 1.0, "b": 0.8}, 0.8, 0.9, None, 0.9, {}, True),
        calibration=Calibration("train", 8, {"a": 4, "b": 4}, 42, "cd" * 32),
    )


def test_manifest_round_trips_through_json(tmp_path: Path) -> None:
    path = write_manifest(_manifest(), manifest_path(tmp_path / "m.int8.tflite"))

    assert path.name == "m.int8.tflite.manifest.json"
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION
    assert read_manifest(path) == _manifest()
    assert not list(tmp_path.glob("*.partial"))


def test_manifest_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = write_manifest(_manifest(), tmp_path / "m.manifest.json")
    raw = json.loads(path.read_text())
    path.write_text(json.dumps(raw | {"schema_version": SCHEMA_VERSION + 1}))

    with pytest.raises(ManifestError, match="schema_version 2"):
        read_manifest(path)


def test_fields_added_by_a_newer_edgekit_are_ignored(tmp_path: Path) -> None:
    path = write_manifest(_manifest(), tmp_path / "m.manifest.json")
    raw = json.loads(path.read_text())
    raw["parity"]["new_measure"] = 0.5
    raw["input"]["quantization"]["axis"] = 3
    path.write_text(json.dumps(raw | {"new_section": {"a": 1}}))

    assert read_manifest(path) == _manifest()
