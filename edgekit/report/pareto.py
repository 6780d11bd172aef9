"""The Pareto front of a trade-off where smaller x (size, latency) and larger y are better."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats, ordered by x.

    A point is beaten when another is at most as large in x and at least as good in y, and
    strictly better in one of them; equal points are all kept.
    """
    front = [
        i
        for i, (x, y) in enumerate(points)
        if not any(
            (ox <= x and oy >= y) and (ox < x or oy > y)
            for j, (ox, oy) in enumerate(points)
            if j != i
        )
    ]
    return sorted(front, key=lambda i: (points[i][0], -points[i][1]))
