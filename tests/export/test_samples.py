"""Calibration and test sets are drawn from the run's split, stratified and seeded."""

from __future__ import annotations

from collections import Counter

from edgekit.data.split import Split, SplitEntry
from edgekit.export.samples import stratified_sample


def _split(counts: dict[str, int]) -> Split:
    entries = [
        SplitEntry(f"{name}/{i:03d}.jpg", name, "train", f"{name}{i}")
        for name, count in counts.items()
        for i in range(count)
    ]
    entries.append(SplitEntry("a/test.jpg", "a", "test", "t"))
    return Split(tuple(entries))


def test_sample_follows_class_proportions_and_keeps_every_class() -> None:
    split = _split({"a": 60, "b": 30, "c": 9, "d": 1})

    picked = stratified_sample(split, "train", 20, seed=1)
    counts = Counter(p.split("/")[0] for p in picked)

    assert len(picked) == 20 and len(set(picked)) == 20
    assert set(counts) == {"a", "b", "c", "d"}
    assert counts["a"] > counts["b"] > counts["c"] >= counts["d"] == 1
    assert "a/test.jpg" not in picked


def test_sample_is_seeded_and_the_whole_part_when_large_enough() -> None:
    split = _split({"a": 50, "b": 50})

    assert stratified_sample(split, "train", 10, 7) == stratified_sample(split, "train", 10, 7)
    assert stratified_sample(split, "train", 10, 7) != stratified_sample(split, "train", 10, 8)
    assert len(stratified_sample(split, "train", 1000, 7)) == 100
