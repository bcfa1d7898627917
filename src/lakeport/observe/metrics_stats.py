"""Statistics of a metric over period buckets, as GetMetricStatistics defines them.

Buckets are aligned to the period: a datum at time ``t`` falls in the bucket starting at
``floor(epoch(t) / period) * period``, and a bucket's datapoint is stamped with that start. A bucket with no datum
has no datapoint (CloudWatch leaves it out rather than answering zero).

- ``SampleCount`` is the number of samples (a single Value counts 1, Values count their Counts, a statistic set its
  SampleCount); ``Sum``, ``Minimum`` and ``Maximum`` combine the datums' own; ``Average`` is Sum / SampleCount.
- Percentiles are computed from the raw values of the bucket, each repeated by its count, sorted, with **linear
  interpolation between the closest ranks** (what ``numpy.percentile`` does by default, Excel's PERCENTILE.INC):
  rank ``h = (n - 1) * p / 100``; the answer is ``x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h])``.
  Datums put as statistic sets carry no raw values, so they do not take part in percentiles (CloudWatch does the
  same); a bucket with no raw values at all has no percentile.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime


def bucket_start(moment: datetime, period: int) -> datetime:
    """The start of the period bucket ``moment`` falls in (aligned to the period since the epoch)."""
    seconds = math.floor(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % period, tz=UTC)


@dataclass
class Bucket:
    """The datums of one period, combined."""

    start: datetime
    sample_count: float = 0.0
    sum: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    samples: list[tuple[float, float]] = field(default_factory=list)
    units: set[str] = field(default_factory=set)

    def add(
        self,
        sample_count: float,
        total: float,
        minimum: float,
        maximum: float,
        samples: Iterable[Sequence[float]] | None,
        unit: str,
    ) -> None:
        self.sample_count += sample_count
        self.sum += total
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        if samples is not None:
            self.samples.extend((float(v), float(c)) for v, c in samples)
        self.units.add(unit)

    def statistic(self, name: str) -> float | None:
        """One statistic: SampleCount, Average, Sum, Minimum, Maximum or a percentile (p95)."""
        if name == "SampleCount":
            return self.sample_count
        if name == "Sum":
            return self.sum
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        if name == "Average":
            return self.sum / self.sample_count if self.sample_count else None
        return percentile(self.samples, float(name[1:]))

    @property
    def unit(self) -> str:
        """The bucket's unit: the one its datums share (``None`` when they were put with different ones)."""
        return next(iter(self.units)) if len(self.units) == 1 else "None"


def percentile(samples: Sequence[tuple[float, float]], p: float) -> float | None:
    """The ``p``-th percentile of weighted values, interpolating linearly between the closest ranks.

    ``samples`` are ``(value, count)`` pairs; a value with count ``c`` occupies ``c`` ranks (fractional counts
    occupy a fractional share). None when there are no samples."""
    pairs = sorted((v, c) for v, c in samples if c > 0)
    total = sum(c for _, c in pairs)
    if not pairs:
        return None
    if total <= 1:
        return pairs[0][0] if len(pairs) == 1 else _weighted_mean_fallback(pairs, p)
    rank = (total - 1) * p / 100.0
    low_rank = math.floor(rank)
    fraction = rank - low_rank
    low = _at_rank(pairs, low_rank)
    if fraction == 0:
        return low
    high = _at_rank(pairs, low_rank + 1)
    return low + fraction * (high - low)


def _at_rank(pairs: Sequence[tuple[float, float]], rank: int) -> float:
    """The value at 0-based ``rank`` of the sorted values, each repeated by its count."""
    seen = 0.0
    for value, count in pairs:
        seen += count
        if rank < seen:
            return value
    return pairs[-1][0]


def _weighted_mean_fallback(pairs: Sequence[tuple[float, float]], p: float) -> float:
    """Fractional counts summing to at most 1: the smallest value for p < 50, the largest otherwise."""
    return pairs[0][0] if p < 50 else pairs[-1][0]
