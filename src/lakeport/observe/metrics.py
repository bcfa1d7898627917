"""Metrics (CloudWatch metrics' role): PutMetricData, ListMetrics, GetMetricStatistics over the metadata DB.

Writing is cheap: one ``put_metric_data`` call is one INSERT of all its datums. Services emit their own telemetry
with :func:`emit`, which never raises (a metrics failure is logged, never a failed run) and is not authorized as
the caller: it is the service's own data, as AWS services publish to ``AWS/...`` namespaces themselves.

Retention: every datum is kept raw (no rollup) for ``retention_days`` (15 by default, CloudWatch's retention of
its finest resolution); :meth:`Metrics.purge` deletes older ones and the alarm evaluation pass calls it hourly.
Statistics: see :mod:`lakeport.observe.metrics_stats` (buckets aligned to the period, percentile interpolation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select

from lakeport.metadata.times import iso, now, utc
from lakeport.observe.metrics_model import (
    MAX_DATAPOINTS,
    MAX_DATUMS,
    Dimensions,
    InvalidParameterCombination,
    InvalidParameterValue,
    check_metric_name,
    check_namespace,
    check_period,
    check_statistics,
    check_unit,
    dimensions_key,
    parse_datum,
    parse_dimensions,
)
from lakeport.observe.metrics_schema import metric_data
from lakeport.observe.metrics_stats import Bucket, bucket_start

if TYPE_CHECKING:
    from lakeport.iam import IAM, Principal
    from lakeport.metadata.database import MetadataDB

_LOG = logging.getLogger("lakeport.observe.metrics")
RETENTION_DAYS = 15


def _insert(db: MetadataDB, namespace: str, data: Sequence[Mapping[str, Any]], *, internal: bool) -> int:
    """Check every datum, then insert them all in one statement; the number inserted."""
    check_namespace(namespace, internal=internal)
    if not data:
        raise InvalidParameterValue(f"namespace {namespace}: MetricData is empty")
    if len(data) > MAX_DATUMS:
        raise InvalidParameterValue(f"namespace {namespace}: {len(data)} datums; at most {MAX_DATUMS} per call")
    moment = now()
    rows = []
    for raw in data:
        datum = parse_datum(raw, moment)
        rows.append(
            {
                "namespace": namespace,
                "metric_name": datum.name,
                "dimensions_key": dimensions_key(datum.dimensions),
                "dimensions": [list(d) for d in datum.dimensions],
                "timestamp": datum.timestamp,
                "unit": datum.unit,
                "sample_count": datum.sample_count,
                "sum": datum.sum,
                "minimum": datum.minimum,
                "maximum": datum.maximum,
                "samples": datum.samples,
            }
        )
    db.run_write(lambda conn: conn.execute(insert(metric_data), rows))
    return len(rows)


def emit(db: MetadataDB, namespace: str, data: Sequence[Mapping[str, Any]]) -> bool:
    """A service's own telemetry: put ``data`` and never raise (errors are logged). True when stored."""
    try:
        _insert(db, namespace, data, internal=True)
        return True
    except Exception as exc:  # metrics are a convenience: they never fail the caller
        _LOG.warning("could not store %d %s metric datum(s): %s", len(data), namespace, exc)
        return False


def dims(**pairs: Any) -> list[dict[str, str]]:
    """``dims(JobName="spotify")`` → ``[{"Name": "JobName", "Value": "spotify"}]`` (None values left out)."""
    return [{"Name": k, "Value": str(v)} for k, v in pairs.items() if v is not None and str(v) != ""]


class Metrics:
    """Put, list and aggregate metric datums, as one principal."""

    def __init__(
        self,
        db: MetadataDB,
        iam: IAM,
        principal: Principal,
        *,
        region: str,
        account_id: str,
        retention_days: int = RETENTION_DAYS,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.db = db
        self.iam = iam
        self.principal = principal
        self.region = region
        self.account_id = account_id
        self.retention_days = retention_days
        self.clock = clock

    def _authorize(self, action: str) -> None:
        self.iam.authorize(self.principal, f"cloudwatch:{action}", "*")

    # ---- writing

    def put_metric_data(self, namespace: str, metric_data: Sequence[Mapping[str, Any]]) -> int:
        """Store datums (CloudWatch's PutMetricData shapes); returns how many. Raises on invalid input."""
        self._authorize("PutMetricData")
        return _insert(self.db, namespace, metric_data, internal=False)

    def purge(self, older_than: datetime | None = None) -> int:
        """Delete datums older than the retention (or ``older_than``); the number deleted."""
        cutoff = older_than or self.clock() - timedelta(days=self.retention_days)
        result = self.db.run_write(
            lambda conn: conn.execute(delete(metric_data).where(metric_data.c.timestamp < cutoff))
        )
        return int(result.rowcount or 0)

    # ---- reading

    def list_metrics(
        self,
        namespace: str | None = None,
        metric_name: str | None = None,
        dimensions: Sequence[Mapping[str, Any]] | Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every metric (namespace, name, dimensions) with a datum kept, CloudWatch's ``Metrics`` item shape.

        ``dimensions`` filter as ListMetrics does: each given dimension must be on the metric (a filter without
        ``Value`` matches any value of that dimension)."""
        self._authorize("ListMetrics")
        wanted = _dimension_filters(dimensions)
        query = select(metric_data.c.namespace, metric_data.c.metric_name, metric_data.c.dimensions_key).group_by(
            metric_data.c.namespace, metric_data.c.metric_name, metric_data.c.dimensions_key
        )
        if namespace is not None:
            query = query.where(metric_data.c.namespace == namespace)
        if metric_name is not None:
            query = query.where(metric_data.c.metric_name == metric_name)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(metric_data.c.namespace, metric_data.c.metric_name)).all()
        out = []
        for row in rows:
            pairs = _pairs_of(row.dimensions_key)
            have = dict(pairs)
            if all(name in have and (value is None or have[name] == value) for name, value in wanted):
                out.append(
                    {
                        "Namespace": row.namespace,
                        "MetricName": row.metric_name,
                        "Dimensions": [{"Name": n, "Value": v} for n, v in pairs],
                    }
                )
        return out

    def get_metric_statistics(
        self,
        namespace: str,
        metric_name: str,
        dimensions: Sequence[Mapping[str, Any]] | Mapping[str, str] | None,
        start: datetime,
        end: datetime,
        period: int,
        statistics: Sequence[str] | None = None,
        extended: Sequence[str] | None = None,
        unit: str | None = None,
    ) -> dict[str, Any]:
        """GetMetricStatistics: one datapoint per period bucket with data in ``[start, end)``.

        The metric is matched exactly (its full set of dimensions, as CloudWatch does). Answers
        ``{"Label": name, "Datapoints": [{"Timestamp", <statistic>..., "ExtendedStatistics": {...}, "Unit"}]}``,
        datapoints in time order."""
        self._authorize("GetMetricStatistics")
        check_statistics(statistics, extended, metric_name)
        buckets = self.buckets(namespace, metric_name, dimensions, start, end, period, statistics, extended, unit)
        points = []
        for bucket in buckets:
            point: dict[str, Any] = {"Timestamp": iso(bucket.start)}
            for stat in statistics or ():
                point[stat] = bucket.statistic(stat)
            if extended:
                point["ExtendedStatistics"] = {p: value for p in extended if (value := bucket.statistic(p)) is not None}
            point["Unit"] = unit or bucket.unit
            points.append(point)
        return {"Label": metric_name, "Datapoints": points}

    def buckets(
        self,
        namespace: str,
        metric_name: str,
        dimensions: Sequence[Mapping[str, Any]] | Mapping[str, str] | None,
        start: datetime,
        end: datetime,
        period: int,
        statistics: Sequence[str] | None = None,
        extended: Sequence[str] | None = None,
        unit: str | None = None,
    ) -> list[Bucket]:
        """The period buckets with data in ``[start, end)``, in time order (no authorization: for services)."""
        check_namespace(namespace, internal=True)
        check_metric_name(metric_name)
        check_period(period, f"metric {metric_name}")
        if statistics is not None or extended is not None:
            check_statistics(statistics, extended, metric_name)
        if unit is not None:
            check_unit(unit, metric_name)
        start, end = utc(start), utc(end)
        if start >= end:
            raise InvalidParameterValue(f"metric {metric_name}: the start time must be before the end time")
        first = bucket_start(start, period)
        if (end - first).total_seconds() / period > MAX_DATAPOINTS:
            raise InvalidParameterCombination(
                f"metric {metric_name}: {period}s periods from {iso(start)} to {iso(end)} would give more than "
                f"{MAX_DATAPOINTS} datapoints",
                hint="use a longer period or a shorter time range",
            )
        key = dimensions_key(_exact_dimensions(dimensions, metric_name))
        query = select(
            metric_data.c.timestamp,
            metric_data.c.unit,
            metric_data.c.sample_count,
            metric_data.c.sum,
            metric_data.c.minimum,
            metric_data.c.maximum,
            metric_data.c.samples,
        ).where(
            metric_data.c.namespace == namespace,
            metric_data.c.metric_name == metric_name,
            metric_data.c.dimensions_key == key,
            metric_data.c.timestamp >= first,
            metric_data.c.timestamp < end,
        )
        if unit is not None:
            query = query.where(metric_data.c.unit == unit)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        found: dict[datetime, Bucket] = {}
        for row in rows:
            stamp = utc(row.timestamp)
            begin = bucket_start(stamp, period)
            bucket = found.setdefault(begin, Bucket(begin))
            bucket.add(row.sample_count, row.sum, row.minimum, row.maximum, row.samples, row.unit)
        return [found[k] for k in sorted(found)]

    # ---- Prometheus

    def series(self) -> list[dict[str, Any]]:
        """Every metric with its latest datum and its totals over the retained data (for the Prometheus view)."""
        grouped = (
            select(
                metric_data.c.namespace,
                metric_data.c.metric_name,
                metric_data.c.dimensions_key,
                func.max(metric_data.c.id).label("latest"),
                func.sum(metric_data.c.sample_count).label("samples"),
                func.sum(metric_data.c.sum).label("total"),
            )
            .group_by(metric_data.c.namespace, metric_data.c.metric_name, metric_data.c.dimensions_key)
            .subquery()
        )
        query = select(
            grouped, metric_data.c.unit, metric_data.c.sum.label("last_sum"), metric_data.c.sample_count.label("n")
        ).join(metric_data, metric_data.c.id == grouped.c.latest)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(grouped.c.namespace, grouped.c.metric_name)).all()
        return [
            {
                "namespace": r.namespace,
                "name": r.metric_name,
                "dimensions": _pairs_of(r.dimensions_key),
                "unit": r.unit,
                "latest": r.last_sum / r.n if r.n else 0.0,
                "count": float(r.samples or 0),
                "sum": float(r.total or 0),
            }
            for r in rows
        ]

    def prometheus_text(self) -> str:
        """Every metric in Prometheus' text exposition format (see :mod:`lakeport.observe.metrics_prometheus`)."""
        from lakeport.observe.metrics_prometheus import render

        return render(self.series())


def _pairs_of(key: str) -> list[tuple[str, str]]:
    if not key:
        return []
    out = []
    for part in key.split("\x1f"):
        name, _, value = part.partition("=")
        out.append((name, value))
    return out


def _exact_dimensions(raw: Sequence[Mapping[str, Any]] | Mapping[str, str] | None, metric: str) -> Dimensions:
    return parse_dimensions(raw, metric)


def _dimension_filters(raw: Sequence[Mapping[str, Any]] | Mapping[str, str] | None) -> list[tuple[str, str | None]]:
    if raw is None:
        return []
    if isinstance(raw, Mapping):
        return [(str(k), None if v is None else str(v)) for k, v in raw.items()]
    return [(str(d["Name"]), None if d.get("Value") is None else str(d["Value"])) for d in raw]
