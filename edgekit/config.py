"""The training configuration: defaults, a YAML file, then command-line flags, validated once."""

from __future__ import annotations

import difflib
import logging
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from edgekit.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "edge_models_comparison"
DEFAULT_MODEL = "mobilenetv3large"


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
    model: str = DEFAULT_MODEL
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
        if value is None:  # no size given and no published one known
            value = 224
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
        raise ConfigError(f"config file '{path}' is not valid YAML: {_yaml_problem(exc)}") from exc
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"config file '{path}' must hold a mapping of option: value")
    return _underscored(content)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's several-line message as one line: the problem and where it is."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def resolve_config(
    file: Path | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """Defaults, then the file, then the flags that were given (None means not given)."""
    configs = resolve_configs(file, overrides)
    if len(configs) != 1:
        raise ConfigError(f"{file}: lists {len(configs)} models where one is expected")
    return configs[0]


# Every model of one command shares the split and the store, so that the runs compare.
SHARED_OPTIONS = ("data", "seed", "split", "num_workers", "tracking_uri", "experiment")
_NOT_PER_MODEL = (*SHARED_OPTIONS, "requirements", "models")


def resolve_configs(
    file: Path | None = None, overrides: dict[str, Any] | None = None
) -> list[TrainConfig]:
    """One config per model to train, in order, all on the same data, seed and split.

    The models come from the `model` flag (a comma-separated list), else the file's `models`
    list (names, or mappings of `name` plus that model's own settings), else its `model`.
    Precedence: defaults, the file, the model's own settings in the file, the flags.
    """
    values = load_config_file(file) if file else {}
    entries = values.pop("models", None)
    given = dict(overrides or {})
    flag_models = given.pop("model", None)
    if entries is not None and "model" in values:
        raise ConfigError(f"{file}: give either 'model' or 'models', not both")

    if flag_models is not None:
        per_model = [{"model": name} for name in split_model_list(flag_models)]
    elif entries is not None:
        per_model = _model_entries(entries, file)
    else:
        per_model = [{}]
    configs = []
    for index, entry in enumerate(per_model):
        label = f"models[{index}] ({entry['model']})" if len(per_model) > 1 else None
        merged = _merged(_merged(values, entry), given)
        merged.setdefault("image_size", _published_size(merged.get("model", DEFAULT_MODEL)))
        configs.append(_validated(merged, file, label))
    return configs


def _published_size(model: str) -> int | None:
    """The model's published input size: the image size when none is given (None: unknown
    model, whose error comes later with the list of valid names)."""
    from edgekit.errors import ModelError
    from edgekit.zoo import get_backbone

    try:
        return get_backbone(str(model)).default_size
    except ModelError:
        return None


def split_model_list(value: str) -> list[str]:
    """'a, b,c' -> ['a', 'b', 'c']; an empty list is a ConfigError."""
    names = [name.strip() for name in str(value).split(",") if name.strip()]
    if not names:
        raise ConfigError(f"--model '{value}' names no model; e.g. --model pmvt,mobilevit-xs")
    return names


def _model_entries(entries: Any, file: Path | None) -> list[dict[str, Any]]:
    """The file's `models` list as one mapping of settings per model."""
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{file}: 'models' must be a non-empty list of names or mappings")
    result = []
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(
                f"{file}: models[{index}] must be a model name or a mapping with a 'name' key "
                f"(got {entry!r})"
            )
        settings = _underscored(entry)
        shared = [key for key in settings if key in _NOT_PER_MODEL]
        if shared:
            raise ConfigError(
                f"{file}: models[{index}] sets {', '.join(shared)}, which every model must "
                "share (same data, split and store, so the runs compare); set it at the top "
                "level of the file"
            )
        result.append({"model": settings.pop("name"), **settings})
    return result


def _merged(values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`values` with the given (not None) overrides on top; sections merge key by key."""
    given = {k: v for k, v in overrides.items() if v is not None}
    for section in ("split", "requirements"):
        if isinstance(given.get(section), dict) and isinstance(values.get(section), dict):
            given[section] = {**values[section], **given[section]}
    return {**values, **given}


def _validated(values: dict[str, Any], file: Path | None, label: str | None = None) -> TrainConfig:
    try:
        return TrainConfig(**values)
    except ValidationError as exc:
        message = _describe(exc, file)
        raise ConfigError(f"{label}: {message}" if label else message) from None


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
            message = _unknown_option(error["loc"])
        received = error.get("input")
        quiet = error["type"] == "extra_forbidden" or isinstance(received, dict | type(None))
        suffix = "" if quiet else f" (got {received!r})"
        problems.append(f"{option}: {message}{suffix}")
    return where + "; ".join(problems)


def _unknown_option(loc: tuple) -> str:
    """The closest valid key first (a typo is the usual cause), then every valid key."""
    allowed = list(_section_model(loc[:-1]).model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown option; {hint}expected one of {', '.join(allowed)}"
