"""MLflow search filters: numeric compares on params that are also metrics become metric compares.

MLflow stores params as strings and refuses `params.backbone_size_mb <= 30`; edgekit logs the
numeric params that matter for filtering (backbone_size_mb) as metrics too, so such a compare
is rewritten to `metrics.backbone_size_mb <= 30`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

FILTER_EXAMPLE = "metrics.test_accuracy >= 0.85 and metrics.backbone_size_mb <= 30"

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# String literals come first so a compare written inside one is left alone.
_TOKEN = re.compile(
    r"""(?P<string>'(?:[^']|'')*')"""
    r"""|(?P<compare>\b(?:params|param|parameters|parameter)\."""
    r"""(?P<key>`[^`]+`|"[^"]+"|[\w.\-]+?)"""
    r"""\s*(?P<op><=|>=|!=|<|>|=)\s*"""
    rf"""(?P<quote>'?)(?P<number>{_NUMBER})(?P=quote)(?![\w.]))"""
)


@dataclass(frozen=True)
class RewrittenFilter:
    """The filter sent to MLflow and the params whose compares were turned into metrics."""

    text: str
    rewritten_keys: tuple[str, ...]


def rewrite_numeric_params(expr: str, numeric_params: Collection[str]) -> RewrittenFilter:
    """`params.K <op> NUMBER` -> `metrics.K <op> NUMBER` for every K in `numeric_params`."""
    rewritten: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match["string"] is not None:
            return match[0]
        key = match["key"].strip('`"')
        # A quoted number under = or != is a valid string compare: MLflow runs it as written.
        string_equality = match["quote"] and match["op"] in ("=", "!=")
        if key not in numeric_params or string_equality:
            return match[0]
        rewritten.append(key)
        quoted = key if re.fullmatch(r"[\w]+", key) else f"`{key}`"
        return f"metrics.{quoted} {match['op']} {match['number']}"

    text = _TOKEN.sub(replace, expr)
    return RewrittenFilter(text, tuple(dict.fromkeys(rewritten)))
