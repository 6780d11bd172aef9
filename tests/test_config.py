"""Training configuration: defaults, YAML file, flags on top, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgekit.config import TrainConfig, parse_image_size, resolve_config
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

    with pytest.raises(ConfigError, match=r"train.yaml: epoch: unknown option; expected one of"):
        resolve_config(file)


def test_a_typo_inside_a_section_lists_that_section_keys(tmp_path: Path) -> None:
    file = tmp_path / "train.yaml"
    file.write_text("requirements:\n  min_acc: 0.9\n")

    with pytest.raises(ConfigError) as caught:
        resolve_config(file)

    message = str(caught.value)
    assert "requirements.min_acc: unknown option; expected one of min_accuracy" in message
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
