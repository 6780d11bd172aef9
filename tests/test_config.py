"""Training configuration: defaults, YAML file, flags on top, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.config import TrainConfig, parse_image_size, resolve_config, resolve_configs
from edgekit.errors import ConfigError


@pytest.mark.parametrize(
    ("value", "expected"),
    [(224, (224, 224)), ("160", (160, 160)), ("160x128", (160, 128)), ([96, 64], (96, 64))],
)
def test_image_size_takes_an_int_or_height_x_width(value, expected) -> None:
    assert parse_image_size(value) == expected


def test_flags_override_the_file_which_overrides_defaults(tmp_path: Path) -> None:
    file = tmp_path / "train.yaml"
    file.write_text(
        "model: mobilenetv3small\nepochs: 7\nimage-size: 96\nrequirements:\n  min_recall: 0.7\n"
    )

    config = resolve_config(file, {"epochs": 3, "requirements": {"min_accuracy": 0.9}})

    assert (config.model, config.epochs, config.image_size) == ("mobilenetv3small", 3, (96, 96))
    assert config.requirements.min_recall == 0.7
    assert config.requirements.min_accuracy == 0.9
    assert config.batch_size == TrainConfig().batch_size


def test_a_typo_in_the_file_is_named_with_the_valid_options(tmp_path: Path) -> None:
    file = tmp_path / "train.yaml"
    file.write_text("epoch: 3\n")

    with pytest.raises(
        ConfigError,
        match=r"train.yaml: epoch: unknown option; did you mean 'epochs'\? expected one",
    ):
        resolve_config(file)


def _error_of(tmp_path: Path, text: str) -> str:
    """The ConfigError message of a train.yaml holding `text`."""
    file = tmp_path / "train.yaml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        resolve_config(file)
    return str(caught.value)


def test_malformed_yaml_is_one_line_with_its_place(tmp_path: Path) -> None:
    message = _error_of(tmp_path, "epochs: 3\nmodel: [pmvt\n")

    assert "\n" not in message
    assert message.startswith(f"config file '{tmp_path / 'train.yaml'}' is not valid YAML: ")
    assert "at line 3, column 1" in message


def test_a_typo_inside_a_section_lists_that_section_keys(tmp_path: Path) -> None:
    message = _error_of(tmp_path, "requirements:\n  min_acc: 0.9\n")

    assert (
        "requirements.min_acc: unknown option; did you mean 'min_accuracy'? expected one of"
        in message
    )
    assert "epochs" not in message


def test_frozen_backbone_without_pretrained_weights_is_refused() -> None:
    with pytest.raises(ConfigError, match="--no-fine-tune freezes the backbone"):
        resolve_config(None, {"fine_tune": False, "weights": "none"})


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"image_size": "16"}, "below the minimum of 32x32"),
        ({"image_size": "big"}, "not an int or HxW"),
        ({"dropout": 1.5}, "dropout"),
        ({"learning_rate": 0}, "learning_rate"),
    ],
)
def test_bad_values_give_one_line_naming_the_option(flags, message) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        resolve_config(None, flags)

    assert "\n" not in str(caught.value)


def test_missing_or_malformed_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        resolve_config(bad)


def test_a_comma_list_of_models_gives_one_config_each_with_the_same_split() -> None:
    configs = resolve_configs(None, {"model": "pmvt, mobilevit-xs,", "epochs": 2, "seed": 7})

    assert [c.model for c in configs] == ["pmvt", "mobilevit-xs"]
    assert {(c.epochs, c.seed, c.split) for c in configs} == {(2, 7, configs[0].split)}


def test_the_models_list_takes_per_model_settings_under_the_flags(tmp_path: Path) -> None:
    file = tmp_path / "compare.yaml"
    file.write_text(
        "epochs: 5\nimage-size: 128\nmodels:\n  - mobilenetv3large\n"
        "  - name: pmvt\n    batch-size: 16\n    learning-rate: 0.002\n"
    )

    large, pmvt = resolve_configs(file, {"epochs": 3})

    assert (large.model, large.batch_size, large.epochs) == ("mobilenetv3large", 32, 3)
    assert (pmvt.model, pmvt.batch_size, pmvt.learning_rate) == ("pmvt", 16, 0.002)
    assert pmvt.image_size == (128, 128) and pmvt.epochs == 3


def test_the_model_flag_replaces_the_files_models(tmp_path: Path) -> None:
    file = tmp_path / "compare.yaml"
    file.write_text("models: [pmvt, mobilevit-xs]\n")

    assert [c.model for c in resolve_configs(file, {"model": "mobilevit-s"})] == ["mobilevit-s"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models:\n  - name: pmvt\n    seed: 3\n", r"models\[0\] sets seed, which every model"),
        ("models:\n  - name: pmvt\n    data: x\n", r"sets data"),
        ("model: pmvt\nmodels: [pmvt]\n", "either 'model' or 'models'"),
        ("models: []\n", "non-empty list"),
        ("models:\n  - batch-size: 3\n", r"models\[0\] must be a model name or a mapping"),
        ("models:\n  - pmvt\n  - name: mobilevit-xs\n    epochs: 0\n", r"models\[1\] \(mobilevit"),
    ],
)
def test_a_bad_models_list_is_one_line_naming_the_entry(tmp_path: Path, text, message) -> None:
    file = tmp_path / "compare.yaml"
    file.write_text(text)

    with pytest.raises(ConfigError, match=message) as caught:
        resolve_configs(file)

    assert "\n" not in str(caught.value)


def test_an_empty_model_list_flag_is_refused() -> None:
    with pytest.raises(ConfigError, match="names no model"):
        resolve_configs(None, {"model": " , "})


def test_without_a_size_each_model_takes_its_published_one() -> None:
    configs = resolve_configs(None, {"model": "efficientnet-lite2,pmvt,mobilenetv3small"})

    assert [c.image_size for c in configs] == [(260, 260), (256, 256), (224, 224)]
    assert resolve_configs(None, {"model": "pmvt", "image_size": "128"})[0].image_size == (128, 128)
