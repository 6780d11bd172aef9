"""The small corn-leaf sample dataset shipped inside the package, used when --data is not given."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from edgekit.errors import DatasetError


def sample_dataset_path() -> Path:
    """The folder of the shipped sample: one sub-folder per class, 40 small images in each."""
    folder = resources.files("edgekit.data") / "sample"
    # NOTE: editable and wheel installs give a real folder; a zipped install would not, and
    # the image loaders need real files, so say so rather than hand back a path that fails later.
    if not isinstance(folder, Path) or not folder.is_dir():
        raise DatasetError(
            f"the built-in sample dataset is not a folder on disk ('{folder}'); reinstall "
            "edgekit from a wheel or source checkout, or pass --data with your own folder"
        )
    return folder
