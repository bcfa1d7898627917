"""The metrics store in Prometheus' text exposition format (what ``lakeport serve`` answers on ``/metrics``).

Every CloudWatch metric (namespace, name, dimensions) becomes, with a private registry and a custom collector:

- a gauge ``lakeport_<namespace>_<name>[_<unit>]`` with the latest datum's value (its average for a set), and
- a summary ``…_aggregate`` whose ``_count`` and ``_sum`` are the sample count and sum over the retained datums.

Names are sanitised: CamelCase becomes snake_case, anything outside ``[a-zA-Z0-9_]`` becomes ``_``, a unit
suffix is added (``_ms``, ``_seconds``, ``_bytes``, ``_percent``…; none for Count/None). Dimension names become
lower-case label names (``JobName`` → ``jobname``). ``AWS/Athena`` + ``EngineExecutionTime`` (Milliseconds) →
``lakeport_aws_athena_engine_execution_time_ms``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily

_UNIT_SUFFIX = {
    "Seconds": "seconds",
    "Microseconds": "us",
    "Milliseconds": "ms",
    "Bytes": "bytes",
    "Kilobytes": "kilobytes",
    "Megabytes": "megabytes",
    "Gigabytes": "gigabytes",
    "Terabytes": "terabytes",
    "Bits": "bits",
    "Percent": "percent",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_INVALID = re.compile(r"[^a-zA-Z0-9_]+")


def snake(text: str) -> str:
    """``EngineExecutionTime`` → ``engine_execution_time``; ``AWS/Athena`` → ``aws_athena``."""
    return _INVALID.sub("_", _CAMEL.sub("_", text)).strip("_").lower() or "x"


def metric_name(namespace: str, name: str, unit: str) -> str:
    base = f"lakeport_{snake(namespace)}_{snake(name)}"
    suffix = "" if unit in ("Count", "None") else _UNIT_SUFFIX.get(unit) or snake(unit.replace("/Second", "PerSecond"))
    if suffix and not base.endswith("_" + suffix):
        base += "_" + suffix
    return re.sub(r"_+", "_", base)


def label_name(dimension: str) -> str:
    label = _INVALID.sub("_", dimension).lower().strip("_") or "dimension"
    if label[0].isdigit() or label.startswith("__"):
        label = "d_" + label
    return label


class StoreCollector:
    """A Prometheus collector over the rows of :meth:`Metrics.series` (read when collected)."""

    def __init__(self, series: Sequence[Mapping[str, Any]]) -> None:
        self._series = series

    def collect(self) -> Iterator[Metric]:
        gauges: dict[str, GaugeMetricFamily] = {}
        summaries: dict[str, SummaryMetricFamily] = {}
        label_sets: dict[str, list[str]] = {}
        for item in self._series:
            name = metric_name(item["namespace"], item["name"], item["unit"])
            labels = {label_name(k): v for k, v in item["dimensions"]}
            names = label_sets.setdefault(name, sorted(labels))
            if sorted(labels) != names:  # one family, one label set: another set gets its own name
                name = f"{name}_{'_'.join(sorted(labels)) or 'total'}"
                names = label_sets.setdefault(name, sorted(labels))
            help_text = f"{item['namespace']} {item['name']} ({item['unit']})"
            if name not in gauges:
                gauges[name] = GaugeMetricFamily(name, help_text + ": the latest value", labels=names)
                summaries[name] = SummaryMetricFamily(
                    name + "_aggregate", help_text + ": samples and sum over the kept data", labels=names
                )
            values = [labels.get(n, "") for n in names]
            gauges[name].add_metric(values, float(item["latest"]))
            summaries[name].add_metric(values, count_value=round(float(item["count"])), sum_value=float(item["sum"]))
        for name in gauges:
            yield gauges[name]
            yield summaries[name]


def render(series: Sequence[Mapping[str, Any]]) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(series))
    return generate_latest(registry).decode("utf-8")
