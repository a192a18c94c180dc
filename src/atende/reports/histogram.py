"""Durations kept as counts per logarithmic bucket: each bucket is 25 % wider than the one
before, so a median or p90 read from buckets is within about 12 % of the exact value,
and merging days is adding counts."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

RATIO = 1.25
_LOG = math.log(RATIO)


def bucket(seconds: float) -> int:
    """The bucket of a duration (negative durations, from clock skew, count as zero)."""
    if seconds < 1:
        return 0
    return int(math.log(seconds) / _LOG) + 1


def representative(index: int) -> float:
    """The value shown for a bucket: the geometric middle of its bounds."""
    if index <= 0:
        return 0.0
    return RATIO ** (index - 0.5)


def merge(histograms: Iterable[Mapping[str, int]]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for index, count in histogram.items():
            merged[int(index)] = merged.get(int(index), 0) + count
    return merged


def percentile(histogram: Mapping[int, int], fraction: float) -> float | None:
    """The nearest-rank percentile (the ceil(fraction * n)-th smallest), as its bucket's
    representative; None without values."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return representative(index)
    return None  # unreachable: the counts add up to total
