"""``lakeport metrics``: list, read and put metric datapoints, as CloudWatch metrics."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table
from lakeport.errors import InvalidInput
from lakeport.metadata.times import now

app = typer.Typer(
    help="Metrics (CloudWatch): list metrics, statistics per period, put datapoints.", no_args_is_help=True
)

STATS = {
    "avg": "Average",
    "sum": "Sum",
    "min": "Minimum",
    "max": "Maximum",
    "count": "SampleCount",
}
_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

Namespace = Annotated[str, typer.Option("--namespace", "-n", help="the metric's namespace, e.g. Glue or AWS/Athena")]
DimensionOption = Annotated[
    list[str] | None, typer.Option("--dimension", "-d", help="a dimension as NAME=VALUE (repeatable)")
]


def seconds_of(text: str, what: str) -> int:
    """``30s``, ``5m``, ``1h``, ``2d`` or plain seconds."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) <= 0:
        raise InvalidInput(f"{what} {text!r} is not a duration", hint="for example 60, 30s, 5m, 1h or 1d")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def dimensions_of(values: list[str] | None) -> list[dict[str, str]]:
    out = []
    for pair in values or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"dimension {pair!r} is not NAME=VALUE")
        out.append({"Name": name.strip(), "Value": value})
    return out


def statistic_of(text: str) -> str:
    """``avg`` … ``count`` or a percentile ``p95``; CloudWatch's own names pass through."""
    lowered = text.strip().lower()
    if lowered in STATS:
        return STATS[lowered]
    if re.match(r"^p\d{1,3}(\.\d+)?$", lowered):
        return lowered
    if text in STATS.values():
        return text
    raise InvalidInput(
        f"statistic {text!r} is not one of avg, sum, min, max, count or a percentile like p95",
        hint="for example --stat p99",
    )


@app.command("list")
def list_metrics(
    ctx: typer.Context,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="only this namespace")] = None,
    name: Annotated[str | None, typer.Option("--name", help="only this metric name")] = None,
    dimension: DimensionOption = None,
    output: OutputOption = None,
) -> None:
    """List metrics (namespace, name, dimensions) that have datapoints."""
    filters = dimensions_of(dimension) or None
    metrics = state(ctx).open_lake().metrics.list_metrics(namespace, name, filters)
    emit(
        output_of(ctx, output),
        {"Metrics": metrics},
        lambda: table(
            ["namespace", "metric", "dimensions"],
            [
                (m["Namespace"], m["MetricName"], ", ".join(f"{d['Name']}={d['Value']}" for d in m["Dimensions"]))
                for m in metrics
            ],
        ),
    )


@app.command("get")
def get(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="metric name")],
    namespace: Namespace,
    dimension: DimensionOption = None,
    stat: Annotated[
        list[str] | None, typer.Option("--stat", "-s", help="avg|sum|min|max|count|p50|p95|p99 (repeatable)")
    ] = None,
    period: Annotated[str, typer.Option("--period", help="bucket length: 60, 1m, 5m, 1h")] = "5m",
    since: Annotated[str, typer.Option("--since", help="how far back: 15m, 1h, 1d")] = "1h",
    output: OutputOption = None,
) -> None:
    """Statistics of one metric per period bucket (buckets aligned to the period; empty buckets left out)."""
    chosen = [statistic_of(s) for s in (stat or ["avg"])]
    statistics = [s for s in chosen if not s.startswith("p")]
    extended = [s for s in chosen if s.startswith("p")]
    end = now()
    start = end - timedelta(seconds=seconds_of(since, "--since"))
    result = (
        state(ctx)
        .open_lake()
        .metrics.get_metric_statistics(
            namespace,
            name,
            dimensions_of(dimension),
            start,
            end + timedelta(seconds=1),
            seconds_of(period, "--period"),
            statistics or None,
            extended or None,
        )
    )

    def text() -> None:
        rows = []
        for point in result["Datapoints"]:
            row: list[Any] = [point["Timestamp"]]
            for s in chosen:
                value = point.get("ExtendedStatistics", {}).get(s) if s.startswith("p") else point.get(s)
                row.append("" if value is None else f"{value:g}")
            row.append(point.get("Unit"))
            rows.append(row)
        if not rows:
            stdout.print(f"no datapoints for {namespace} {name} in the last {since}", markup=False)
            return
        table(["timestamp", *chosen, "unit"], rows, title=f"{namespace} {name}")

    emit(output_of(ctx, output), result, text)


@app.command("put")
def put(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="metric name")],
    namespace: Namespace,
    value: Annotated[float, typer.Option("--value", help="the value")],
    dimension: DimensionOption = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Count, Seconds, Milliseconds, Bytes, Percent…")] = None,
    timestamp: Annotated[
        str | None, typer.Option("--timestamp", help="ISO 8601 time of the datapoint (default: now)")
    ] = None,
    output: OutputOption = None,
) -> None:
    """Put one datapoint (PutMetricData)."""
    datum: dict[str, Any] = {"MetricName": name, "Dimensions": dimensions_of(dimension), "Value": value}
    if unit:
        datum["Unit"] = unit
    if timestamp:
        try:
            datum["Timestamp"] = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"--timestamp {timestamp!r} is not ISO 8601") from None
    state(ctx).open_lake().metrics.put_metric_data(namespace, [datum])
    emit(
        output_of(ctx, output),
        {"Namespace": namespace, "MetricData": [{**datum, "Timestamp": str(datum.get("Timestamp") or "")}]},
        lambda: stdout.print(f"put {namespace} {name} = {value:g}", markup=False),
    )
