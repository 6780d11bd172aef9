"""Output paths checked before any work starts, so a typo costs seconds, not a finished job."""

from __future__ import annotations

import os
from pathlib import Path

from edgekit.errors import ConfigError


def check_output_file(path: Path, option: str) -> None:
    """`path` can be written: not a folder, in an existing writable folder."""
    folder = path.parent
    if path.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ConfigError(
            f"cannot write {option} file '{path}'; pass a file in an existing, writable folder"
        )


def check_output_dir(path: Path, option: str) -> None:
    """`path` is a writable folder, or one that can be created where its nearest parent is."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        what = "is a file" if existing == path else f"cannot be created in '{existing}'"
        raise ConfigError(f"{option} '{path}' {what}; pass a writable folder")
