"""``lakeport alarms``: metric alarms, their history and an evaluation pass, as CloudWatch alarms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.metrics_cmd import dimensions_of, seconds_of, statistic_of
from lakeport.cli.output import emit, stdout, table
from lakeport.errors import InvalidInput

app = typer.Typer(
    help="Metric alarms (CloudWatch): put, list, history, delete, evaluate; actions publish to SNS topics.",
    no_args_is_help=True,
)

AlarmName = Annotated[str, typer.Argument(help="alarm name")]
Topics = Annotated[list[str] | None, typer.Option(help="SNS topic name or ARN (repeatable)")]


@app.command("put")
def put(
    ctx: typer.Context,
    name: AlarmName,
    metric: Annotated[str, typer.Option("--metric", help="metric name")],
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="metric namespace")],
    threshold: Annotated[float, typer.Option("--threshold", help="the value compared with the statistic")],
    comparison: Annotated[
        str,
        typer.Option(
            "--comparison",
            help="GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold",
        ),
    ],
    dimension: Annotated[
        list[str] | None, typer.Option("--dimension", "-d", help="a dimension as NAME=VALUE (repeatable)")
    ] = None,
    stat: Annotated[str, typer.Option("--stat", help="avg|sum|min|max|count|p50|p95|p99")] = "avg",
    period: Annotated[str, typer.Option("--period", help="period: 60, 1m, 5m, 1h")] = "5m",
    evaluation_periods: Annotated[int, typer.Option("--evaluation-periods", help="N: periods evaluated")] = 1,
    datapoints_to_alarm: Annotated[
        int | None, typer.Option("--datapoints-to-alarm", help="M: breaching periods of N that alarm (default N)")
    ] = None,
    treat_missing_data: Annotated[
        str, typer.Option("--treat-missing-data", help="missing|notBreaching|breaching|ignore")
    ] = "missing",
    alarm_action: Topics = None,
    ok_action: Topics = None,
    insufficient_data_action: Topics = None,
    description: Annotated[str | None, typer.Option("--description", help="what the alarm means")] = None,
    output: OutputOption = None,
) -> None:
    """Create or update a metric alarm (PutMetricAlarm)."""
    alarm = (
        state(ctx)
        .open_lake()
        .alarms.put_metric_alarm(
            name,
            metric_name=metric,
            namespace=namespace,
            dimensions=dimensions_of(dimension),
            statistic=statistic_of(stat),
            period=seconds_of(period, "--period"),
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            threshold=threshold,
            comparison_operator=comparison,
            treat_missing_data=treat_missing_data,
            alarm_actions=alarm_action or [],
            ok_actions=ok_action or [],
            insufficient_data_actions=insufficient_data_action or [],
            description=description,
        )
    )
    emit(output_of(ctx, output), alarm.to_aws(), lambda: stdout.print(f"put {alarm.arn}", markup=False))


@app.command("load")
def load(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="a JSON file: one PutMetricAlarm object or a list of them")],
    output: OutputOption = None,
) -> None:
    """Create or update the alarms of a file written as PutMetricAlarm's JSON (examples/spotify/alarms.json)."""
    try:
        definitions = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    alarms = state(ctx).open_lake().alarms.put_metric_alarms_from(definitions)
    emit(
        output_of(ctx, output),
        {"MetricAlarms": [a.to_aws() for a in alarms]},
        lambda: stdout.print("\n".join(f"put {a.arn}" for a in alarms), markup=False),
    )


@app.command("list")
def list_alarms(
    ctx: typer.Context,
    state_value: Annotated[str | None, typer.Option("--state", help="OK, ALARM or INSUFFICIENT_DATA")] = None,
    output: OutputOption = None,
) -> None:
    """List alarms and their states (DescribeAlarms)."""
    alarms = state(ctx).open_lake().alarms.describe_alarms(state_value=state_value)
    emit(
        output_of(ctx, output),
        {"MetricAlarms": [a.to_aws() for a in alarms]},
        lambda: table(
            ["name", "state", "metric", "condition", "since"],
            [
                (
                    a.name,
                    a.state,
                    f"{a.namespace} {a.metric_name}",
                    f"{a.statistic} {a.comparison_operator} {a.threshold:g} "
                    f"({a.datapoints_to_alarm} of {a.evaluation_periods} x {a.period}s)",
                    a.state_updated_at.isoformat(timespec="seconds"),
                )
                for a in alarms
            ],
        ),
    )


@app.command("history")
def history(
    ctx: typer.Context,
    name: AlarmName,
    item_type: Annotated[str | None, typer.Option("--type", help="ConfigurationUpdate, StateUpdate or Action")] = None,
    limit: Annotated[int, typer.Option("--limit", help="at most this many items")] = 100,
    output: OutputOption = None,
) -> None:
    """An alarm's history, newest first (DescribeAlarmHistory)."""
    items = state(ctx).open_lake().alarms.describe_alarm_history(name, item_type=item_type, limit=limit)
    emit(
        output_of(ctx, output),
        {"AlarmHistoryItems": items},
        lambda: table(
            ["time", "type", "summary"], [(i["Timestamp"], i["HistoryItemType"], i["HistorySummary"]) for i in items]
        ),
    )


@app.command("delete")
def delete(
    ctx: typer.Context, names: Annotated[list[str], typer.Argument(help="alarm names")], output: OutputOption = None
) -> None:
    """Delete alarms (DeleteAlarms)."""
    state(ctx).open_lake().alarms.delete_alarms(names)
    emit(output_of(ctx, output), {"Deleted": names}, lambda: stdout.print(f"deleted {', '.join(names)}", markup=False))


@app.command("set-state")
def set_state(
    ctx: typer.Context,
    name: AlarmName,
    value: Annotated[str, typer.Option("--state", help="OK, ALARM or INSUFFICIENT_DATA")],
    reason: Annotated[str, typer.Option("--reason", help="why")] = "set by hand",
    output: OutputOption = None,
) -> None:
    """Force an alarm's state, running its actions (SetAlarmState); the next evaluation may change it back."""
    change = state(ctx).open_lake().alarms.set_alarm_state(name, value, reason)
    data = change.to_dict() if change else {"AlarmName": name, "NewStateValue": value, "Changed": False}
    emit(output_of(ctx, output), data, lambda: stdout.print(f"{name}: {value}", markup=False))


@app.command("evaluate")
def evaluate(ctx: typer.Context, output: OutputOption = None) -> None:
    """Evaluate every alarm now (one pass, as the scheduler does); prints the state changes."""
    lake = state(ctx).open_lake()
    changes = lake.alarms.evaluate_alarms()
    lake.notify.drain(30)
    emit(
        output_of(ctx, output),
        {"StateChanges": [c.to_dict() for c in changes]},
        lambda: (
            table(["alarm", "from", "to", "reason"], [(c.alarm, c.old_state, c.new_state, c.reason) for c in changes])
            if changes
            else stdout.print("no alarm changed state", markup=False)
        ),
    )
