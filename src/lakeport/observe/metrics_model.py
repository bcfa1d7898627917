"""What a metric datum is, and CloudWatch's rules for one (PutMetricData's shapes and limits).

A datum is ``{MetricName, Dimensions: [{Name, Value}], Value | Values+Counts | StatisticValues, Unit, Timestamp}``;
:func:`parse_datum` checks it and turns it into a :class:`Datum` (its sample count, sum, minimum, maximum and, when
the raw values are known, the ``[value, count]`` pairs percentiles are computed from).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lakeport.errors import InvalidInput, NotFound
from lakeport.metadata.times import utc

UNITS = (
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
)
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
MAX_DIMENSIONS = 30
MAX_DATUMS = 1000
MAX_VALUES = 150
MAX_DATAPOINTS = 1440  # GetMetricStatistics answers at most this many buckets
PAST_LIMIT = timedelta(days=14)  # CloudWatch rejects datums older than two weeks ...
FUTURE_LIMIT = timedelta(hours=2)  # ... or more than two hours ahead
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?)$")


class InvalidParameterValue(InvalidInput):
    default_code = "InvalidParameterValue"


class InvalidParameterCombination(InvalidInput):
    default_code = "InvalidParameterCombination"


class MissingParameter(InvalidInput):
    default_code = "MissingParameter"


class ResourceNotFound(NotFound):
    default_code = "ResourceNotFound"


Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Datum:
    """One checked datum, as it is stored."""

    name: str
    dimensions: Dimensions  # sorted by name
    timestamp: datetime
    unit: str
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    samples: list[list[float]] | None  # [[value, count], ...] or None for a statistic set


def dimensions_key(dimensions: Dimensions) -> str:
    """The one string a metric's dimensions are stored and matched under."""
    return "\x1f".join(f"{name}={value}" for name, value in dimensions)


def check_namespace(namespace: str, *, internal: bool = False) -> str:
    if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255 or not namespace.isprintable():
        raise InvalidParameterValue(
            f"namespace {namespace!r} must be 1-255 printable characters", hint="for example MyApp/Pipeline"
        )
    if namespace.startswith(":"):
        raise InvalidParameterValue(f"namespace {namespace!r} must not start with ':'")
    if not internal and namespace.startswith("AWS/"):
        raise InvalidParameterValue(
            f"namespace {namespace!r}: namespaces beginning with AWS/ are reserved for the services' own metrics",
            hint="use your own namespace, for example Spotify/Pipeline",
        )
    return namespace


def check_metric_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or not name.isprintable():
        raise InvalidParameterValue(f"metric name {name!r} must be 1-255 printable characters")
    return name


def check_unit(unit: Any, metric: str) -> str:
    if unit is None:
        return "None"
    if unit not in UNITS:
        raise InvalidParameterValue(
            f"metric {metric}: unit {unit!r} is not one of CloudWatch's units",
            hint="use one of " + ", ".join(UNITS),
        )
    return str(unit)


def parse_dimensions(raw: Any, metric: str) -> Dimensions:
    """``[{Name, Value}]`` (or a ``{name: value}`` mapping), checked and sorted by name."""
    if raw is None:
        return ()
    items: list[tuple[Any, Any]]
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        items = []
        for entry in raw:
            if not isinstance(entry, Mapping) or "Name" not in entry or "Value" not in entry:
                raise InvalidParameterValue(f"metric {metric}: a dimension must be {{'Name': ..., 'Value': ...}}")
            items.append((entry["Name"], entry["Value"]))
    else:
        raise InvalidParameterValue(f"metric {metric}: Dimensions must be a list of {{Name, Value}}")
    if len(items) > MAX_DIMENSIONS:
        raise InvalidParameterValue(
            f"metric {metric}: {len(items)} dimensions; CloudWatch allows at most {MAX_DIMENSIONS}"
        )
    seen: set[str] = set()
    for name, value in items:
        if not isinstance(name, str) or not 1 <= len(name) <= 255 or not name.isprintable() or name.startswith(":"):
            raise InvalidParameterValue(f"metric {metric}: dimension name {name!r} must be 1-255 characters")
        if not isinstance(value, str) or not 1 <= len(value) <= 1024:
            raise InvalidParameterValue(f"metric {metric}: dimension {name} value {value!r} must be 1-1024 characters")
        if name in seen:
            raise InvalidParameterValue(f"metric {metric}: dimension {name} is given twice")
        seen.add(name)
    return tuple(sorted((str(n), str(v)) for n, v in items))


def _number(value: Any, what: str, metric: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterValue(f"metric {metric}: {what} {value!r} is not a number")
    number = float(value)
    if math.isnan(number) or math.isinf(number) or abs(number) > 2**360 or (number != 0 and abs(number) < 2**-260):
        raise InvalidParameterValue(
            f"metric {metric}: {what} {value!r} is out of range", hint="CloudWatch takes 2^-260 to 2^360, not NaN/inf"
        )
    return number


def parse_datum(raw: Mapping[str, Any], moment: datetime) -> Datum:
    """Check one datum of ``put_metric_data`` against CloudWatch's rules (``moment``: now)."""
    if not isinstance(raw, Mapping):
        raise InvalidParameterValue("each MetricData entry must be an object")
    name = check_metric_name(raw.get("MetricName"))
    dimensions = parse_dimensions(raw.get("Dimensions"), name)
    unit = check_unit(raw.get("Unit"), name)
    stamp = raw.get("Timestamp")
    if stamp is None:
        timestamp = moment
    elif isinstance(stamp, datetime):
        timestamp = utc(stamp)
    elif isinstance(stamp, int | float) and not isinstance(stamp, bool):
        timestamp = datetime.fromtimestamp(float(stamp), tz=moment.tzinfo)
    elif isinstance(stamp, str):
        try:
            timestamp = utc(datetime.fromisoformat(stamp.replace("Z", "+00:00")))
        except ValueError:
            raise InvalidParameterValue(f"metric {name}: Timestamp {stamp!r} is not ISO 8601") from None
    else:
        raise InvalidParameterValue(f"metric {name}: Timestamp {stamp!r} is not a time")
    if timestamp < moment - PAST_LIMIT or timestamp > moment + FUTURE_LIMIT:
        raise InvalidParameterValue(
            f"metric {name}: Timestamp {timestamp.isoformat()} is more than two weeks old or two hours ahead"
        )
    given = [k for k in ("Value", "Values", "StatisticValues") if raw.get(k) is not None]
    if len(given) != 1:
        raise InvalidParameterCombination(
            f"metric {name}: give exactly one of Value, Values (with Counts) or StatisticValues",
            hint=f"this datum has {', '.join(given) or 'none of them'}",
        )
    if given[0] == "Value":
        value = _number(raw["Value"], "Value", name)
        return Datum(name, dimensions, timestamp, unit, 1.0, value, value, value, [[value, 1.0]])
    if given[0] == "Values":
        values = [_number(v, "a value in Values", name) for v in raw["Values"]]
        counts_raw = raw.get("Counts")
        counts = [1.0] * len(values) if counts_raw is None else [_number(c, "a count", name) for c in counts_raw]
        if not values or len(values) > MAX_VALUES:
            raise InvalidParameterValue(f"metric {name}: Values must hold 1-{MAX_VALUES} numbers")
        if len(counts) != len(values):
            raise InvalidParameterCombination(f"metric {name}: Counts must be as long as Values")
        if any(c <= 0 for c in counts):
            raise InvalidParameterValue(f"metric {name}: every count must be positive")
        pairs = [[v, c] for v, c in zip(values, counts, strict=True)]
        return Datum(
            name,
            dimensions,
            timestamp,
            unit,
            sum(counts),
            sum(v * c for v, c in pairs),
            min(values),
            max(values),
            pairs,
        )
    stats = raw["StatisticValues"]
    missing = [
        k for k in ("SampleCount", "Sum", "Minimum", "Maximum") if not isinstance(stats, Mapping) or k not in stats
    ]
    if missing:
        raise MissingParameter(f"metric {name}: StatisticValues lacks {', '.join(missing)}")
    count = _number(stats["SampleCount"], "SampleCount", name)
    low, high = _number(stats["Minimum"], "Minimum", name), _number(stats["Maximum"], "Maximum", name)
    if count <= 0 or low > high:
        raise InvalidParameterValue(f"metric {name}: StatisticValues needs SampleCount > 0 and Minimum <= Maximum")
    return Datum(name, dimensions, timestamp, unit, count, _number(stats["Sum"], "Sum", name), low, high, None)


def check_statistics(statistics: Sequence[str] | None, extended: Sequence[str] | None, metric: str) -> None:
    for stat in statistics or ():
        if stat not in STATISTICS:
            raise InvalidParameterValue(
                f"metric {metric}: statistic {stat!r} is not one of {', '.join(STATISTICS)}",
                hint="percentiles go in extended statistics: p50, p95, p99.9",
            )
    for stat in extended or ():
        if not is_percentile(stat):
            raise InvalidParameterValue(
                f"metric {metric}: extended statistic {stat!r} is not a percentile pNN", hint="p0 to p100, e.g. p99.9"
            )
    if not statistics and not extended:
        raise MissingParameter(f"metric {metric}: give at least one statistic or extended statistic")


def is_percentile(stat: str) -> bool:
    return bool(_PERCENTILE.match(stat))


def check_period(period: Any, what: str) -> int:
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise InvalidParameterValue(f"{what}: period {period!r} must be a whole number of seconds")
    if period not in (1, 5, 10, 20, 30) and period % 60:
        raise InvalidParameterValue(
            f"{what}: period {period}s must be 1, 5, 10, 20, 30 or a multiple of 60 seconds",
            hint="for example 60 (1m) or 300 (5m)",
        )
    return period
