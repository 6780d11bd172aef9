"""The export manifest: the JSON beside every exported file, all that `edgekit bench` reads.

Schema version 1. A reader must check `schema_version` and refuse a version it does not
know; fields are only ever added within a version, never renamed or removed.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from edgekit.errors import EdgekitError

SCHEMA_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"

Format = Literal["tflite", "onnx"]
Precision = Literal["fp32", "fp16", "int8"]
Runtime = Literal["litert", "onnxruntime"]


class ManifestError(EdgekitError):
    """A manifest that is missing, unreadable or of an unknown schema version."""


@dataclass(frozen=True)
class Quantization:
    """Affine int8 mapping of a tensor: real = scale * (q - zero_point)."""

    scale: float
    zero_point: int


@dataclass(frozen=True)
class TensorSpec:
    """One input or output tensor. `shape` uses None for a dynamic dimension (the batch)."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str
    layout: str | None = None
    quantization: Quantization | None = None


@dataclass(frozen=True)
class ArtifactInfo:
    """The exported file itself; `file` is relative to the manifest's folder."""

    file: str
    format: Format
    precision: Precision
    size_bytes: int
    size_mb: float
    sha256: str


@dataclass(frozen=True)
class ToolInfo:
    """A converter or a runtime: its name, package version and the options it was given."""

    name: str
    version: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Parity:
    """How the export scored on the test split against the Keras model it came from."""

    split: str
    num_images: int
    accuracy: float
    recall_by_class: dict[str, float]
    min_recall: float
    top1_agreement: float
    max_abs_diff: float | None
    keras_accuracy: float
    keras_recall_by_class: dict[str, float]
    meets_requirements: bool
    shortfalls: tuple[str, ...] = ()
    max_abs_diff_tolerance: float | None = None


@dataclass(frozen=True)
class Calibration:
    """The representative set an int8 export was calibrated on."""

    split: str
    num_images: int
    num_by_class: dict[str, int]
    seed: int
    relpaths_sha256: str


@dataclass(frozen=True)
class Manifest:
    """Everything a board needs to run the file and trust its output."""

    artifact: ArtifactInfo
    model_name: str
    class_names: tuple[str, ...]
    input: TensorSpec
    output: TensorSpec
    preprocessing: dict[str, Any]
    converter: ToolInfo
    runtime: ToolInfo
    source: dict[str, Any]
    parity: Parity
    calibration: Calibration | None = None
    float_ops: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    created_at: str = ""
    edgekit_version: str = ""
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def manifest_path(artifact_path: Path) -> Path:
    """`model.int8.tflite` -> `model.int8.tflite.manifest.json`, in the same folder."""
    return artifact_path.with_name(artifact_path.name + MANIFEST_SUFFIX)


def write_manifest(manifest: Manifest, path: Path) -> Path:
    """Write the manifest as indented JSON, atomically (temp name, then rename)."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def read_manifest(path: Path) -> Manifest:
    """Parse a manifest written by `write_manifest`; refuse unknown schema versions."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"cannot read export manifest '{path}': {exc}") from exc
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ManifestError(
            f"export manifest '{path}' has schema_version {version!r}; this edgekit reads "
            f"version {SCHEMA_VERSION}: re-export with 'edgekit export' or upgrade edgekit"
        )
    return _manifest_from_dict(raw)


def _known(record: type, raw: dict[str, Any]) -> dict[str, Any]:
    """The fields of `raw` that `record` has: a newer edgekit may have added fields within the
    same schema version, and an older reader must still open the file."""
    names = {f.name for f in fields(record)}
    return {key: value for key, value in raw.items() if key in names}


def _manifest_from_dict(raw: dict[str, Any]) -> Manifest:
    calibration = raw.get("calibration")
    parity = _known(Parity, raw["parity"])
    parity["shortfalls"] = tuple(parity.get("shortfalls", ()))
    return Manifest(
        artifact=ArtifactInfo(**_known(ArtifactInfo, raw["artifact"])),
        model_name=raw["model_name"],
        class_names=tuple(raw["class_names"]),
        input=_tensor_from_dict(raw["input"]),
        output=_tensor_from_dict(raw["output"]),
        preprocessing=raw["preprocessing"],
        converter=ToolInfo(**_known(ToolInfo, raw["converter"])),
        runtime=ToolInfo(**_known(ToolInfo, raw["runtime"])),
        source=raw["source"],
        parity=Parity(**parity),
        calibration=Calibration(**_known(Calibration, calibration)) if calibration else None,
        float_ops=tuple(raw.get("float_ops", ())),
        notes=tuple(raw.get("notes", ())),
        created_at=raw.get("created_at", ""),
        edgekit_version=raw.get("edgekit_version", ""),
        schema_version=raw["schema_version"],
    )


def _tensor_from_dict(raw: dict[str, Any]) -> TensorSpec:
    quantization = raw.get("quantization")
    return TensorSpec(
        name=raw["name"],
        shape=tuple(raw["shape"]),
        dtype=raw["dtype"],
        layout=raw.get("layout"),
        quantization=Quantization(**_known(Quantization, quantization)) if quantization else None,
    )
