"""The Pareto front: small x and large y win, ties are all kept."""

from __future__ import annotations

from edgekit.report.pareto import pareto_front


def test_front_keeps_points_no_other_point_beats_ordered_by_x() -> None:
    #          0 small+ok   1 beaten by 2  2 mid+good   3 big+best   4 big+worse than 3
    points = [(8.9, 0.88), (12.0, 0.90), (11.4, 0.93), (18.5, 0.95), (21.0, 0.91)]

    assert pareto_front(points) == [0, 2, 3]


def test_equal_points_are_both_on_the_front_and_same_x_keeps_the_best() -> None:
    points = [(5.0, 0.9), (5.0, 0.9), (5.0, 0.8)]

    assert pareto_front(points) == [0, 1]


def test_empty_and_single() -> None:
    assert pareto_front([]) == []
    assert pareto_front([(1.0, 0.5)]) == [0]
