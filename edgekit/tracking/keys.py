"""Keys and values MLflow stores: metric keys from user data (class names), param values."""

from __future__ import annotations

import json
import re
from typing import Any

# Stricter than MLflow's own rule (which also allows spaces, slashes and colons) so keys also
# work unquoted in search filters and as file names.
_INVALID = re.compile(r"[^A-Za-z0-9_.\-]")


def metric_keys(prefix: str, names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Map each name to `prefix + name` made valid; clashes get _2, _3 ... in order."""
    keys: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = prefix + (_INVALID.sub("_", name) or "_")
        key, n = base, 2
        while key in used:
            key, n = f"{base}_{n}", n + 1
        keys[name] = key
        used.add(key)
    return keys


def param_value(value: Any) -> str:
    """An MLflow param as stored: lists and mappings as JSON, anything else as str()."""
    return json.dumps(value) if isinstance(value, list | tuple | dict) else str(value)
