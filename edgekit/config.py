"""The training configuration: defaults, a YAML file, then command-line flags, validated once."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edgekit.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "edge_models_comparison"


def parse_image_size(value: Any) -> tuple[int, int]:
    """`224`, `"224"`, `"160x128"` (height x width) or `[160, 128]` as (height, width)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, str):
        parts = value.lower().replace(" ", "").split("x")
        if len(parts) in (1, 2) and all(p.isdigit() for p in parts):
            sizes = [int(p) for p in parts]
            return (sizes[0], sizes[-1])
    if isinstance(value, list | tuple) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    raise ValueError(f"image size '{value}' is not an int or HxW, e.g. 224 or 160x128")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitConfig(_Strict):
    """Fractions of the dataset in each part of the split."""

    train: float = Field(0.70, gt=0, le=1)
    val: float = Field(0.15, ge=0, le=1)
    test: float = Field(0.15, gt=0, le=1)

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitConfig:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split fractions sum to {total:g}; they must sum to 1")
        return self

    def fractions(self) -> tuple[float, float, float]:
        return (self.train, self.val, self.test)


class RequirementsConfig(_Strict):
    """Thresholds a model must reach on the test split to count as meeting requirements."""

    min_accuracy: float = Field(0.85, ge=0, le=1)
    min_recall: float = Field(0.80, ge=0, le=1)
    max_size_mb: float | None = Field(None, gt=0)


class TrainConfig(_Strict):
    """Everything that decides a training run. Field names match the CLI flags."""

    data: Path | None = None
    model: str = "mobilenetv3large"
    epochs: int = Field(30, ge=1)
    batch_size: int = Field(32, ge=1)
    image_size: tuple[int, int] = (224, 224)
    learning_rate: float = Field(1e-3, gt=0)
    dropout: float = Field(0.2, ge=0, lt=1)
    fine_tune: bool = True
    weights: str = "imagenet"
    seed: int = 42
    class_weight: Literal["balanced", "none"] = "balanced"
    augment: bool = True
    tracking_uri: str | None = None
    experiment: str = Field(DEFAULT_EXPERIMENT, min_length=1)
    run_name: str | None = None
    num_workers: int = Field(4, ge=1)
    split: SplitConfig = SplitConfig()
    requirements: RequirementsConfig = RequirementsConfig()

    @field_validator("image_size", mode="before")
    @classmethod
    def _image_size(cls, value: Any) -> tuple[int, int]:
        size = parse_image_size(value)
        if min(size) < 32:
            raise ValueError(f"image size {size[0]}x{size[1]} is below the minimum of 32x32")
        return size

    @field_validator("data")
    @classmethod
    def _data(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: str) -> str:
        return value.lower() if value.lower() in ("imagenet", "none") else value

    @model_validator(mode="after")
    def _frozen_backbone_needs_weights(self) -> TrainConfig:
        if not self.fine_tune and self.weights == "none":
            raise ValueError(
                "--no-fine-tune freezes the backbone, which only makes sense with pretrained "
                "weights: with --weights none it would stay random; use --fine-tune, or "
                "--weights imagenet or a weights file"
            )
        return self

    @property
    def backbone_weights(self) -> str | None:
        """What the backbone builder takes: 'imagenet', a file path, or None."""
        return None if self.weights == "none" else self.weights


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a YAML mapping; keys may be written with dashes or underscores."""
    try:
        content = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"config file '{path}' does not exist") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read config file '{path}': {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file '{path}' is not valid YAML: {exc}") from exc
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping of option: value")
    return _underscored(content)


def resolve_config(
    file: Path | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """Defaults, then the file, then the flags that were given (None means not given)."""
    values = load_config_file(file) if file else {}
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    for section in ("split", "requirements"):
        if isinstance(given.get(section), dict) and isinstance(values.get(section), dict):
            given[section] = {**values[section], **given[section]}
    try:
        return TrainConfig(**{**values, **given})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, file)) from None


def _underscored(mapping: dict) -> dict:
    return {
        str(k).replace("-", "_"): _underscored(v) if isinstance(v, dict) else v
        for k, v in mapping.items()
    }


def _section_model(loc: tuple) -> type[BaseModel]:
    """The model of the section at `loc` ('requirements' -> Requirements), for its keys."""
    model: type[BaseModel] = TrainConfig
    for name in loc:
        annotation = model.model_fields[name].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        model = annotation
    return model


def _describe(exc: ValidationError, file: Path | None) -> str:
    """One line per problem, naming the option, the value received and the rule."""
    where = f"{file}: " if file else ""
    problems = []
    for error in exc.errors():
        option = ".".join(str(p) for p in error["loc"]) or "config"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            allowed = ", ".join(_section_model(error["loc"][:-1]).model_fields)
            message = f"unknown option; expected one of {allowed}"
        received = error.get("input")
        quiet = error["type"] == "extra_forbidden" or isinstance(received, dict | type(None))
        suffix = "" if quiet else f" (got {received!r})"
        problems.append(f"{option}: {message}{suffix}")
    return where + "; ".join(problems)
