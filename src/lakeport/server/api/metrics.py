"""``/api/v1/metrics``: CloudWatch metrics — list them, their statistics per period, and put data points.

(Prometheus' scrape of every metric is ``GET /metrics``, outside the API.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from lakeport.errors import InvalidInput
from lakeport.server.api.deps import CallerLake, Paging, action

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])

Dimensions = Annotated[list[str] | None, Query(description="a dimension as Name=Value (repeat for more)")]


class PutData(BaseModel):
    Namespace: str = Field(description="the metrics' namespace, e.g. MyApp")
    MetricData: list[dict[str, Any]] = Field(description="PutMetricData's MetricData items")


@router.get("", openapi_extra=action("cloudwatch:ListMetrics", "*"))
def list_metrics(
    lake: CallerLake,
    page: Paging,
    namespace: Annotated[str | None, Query(description="only this namespace's")] = None,
    metric_name: Annotated[str | None, Query(description="only metrics of this name")] = None,
    dimension: Dimensions = None,
) -> dict[str, Any]:
    """Every metric with data kept: namespace, name, dimensions (ListMetrics)."""
    found = lake.metrics.list_metrics(namespace, metric_name, _dimensions(dimension))
    return page.of(found, "Metrics")


@router.get("/statistics", openapi_extra=action("cloudwatch:GetMetricStatistics", "*"))
def get_metric_statistics(
    lake: CallerLake,
    namespace: Annotated[str, Query(description="the metric's namespace")],
    metric_name: Annotated[str, Query(description="the metric's name")],
    start: Annotated[datetime, Query(description="ISO 8601: the first period starts here")],
    end: Annotated[datetime, Query(description="ISO 8601: data before this")],
    period: Annotated[int, Query(ge=1, description="seconds per datapoint")] = 300,
    statistic: Annotated[
        list[str] | None, Query(description="SampleCount, Average, Sum, Minimum, Maximum (repeat for more)")
    ] = None,
    extended: Annotated[list[str] | None, Query(description="percentiles, e.g. p99 (repeat for more)")] = None,
    dimension: Dimensions = None,
    unit: Annotated[str | None, Query(description="only data in this unit")] = None,
) -> dict[str, Any]:
    """One datapoint per period with data (GetMetricStatistics)."""
    return lake.metrics.get_metric_statistics(
        namespace, metric_name, _dimensions(dimension), start, end, period, statistic, extended, unit
    )


@router.post("/data", openapi_extra=action("cloudwatch:PutMetricData", "*"))
def put_metric_data(lake: CallerLake, body: PutData) -> dict[str, Any]:
    """Store data points (PutMetricData)."""
    return {"Stored": lake.metrics.put_metric_data(body.Namespace, body.MetricData)}


def _dimensions(values: list[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise InvalidInput(f"dimension {item!r} is not Name=Value", code="InvalidParameterValue")
        out[name] = value
    return out
