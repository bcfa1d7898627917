"""``lakeport logs``: log groups, streams and events, as CloudWatch Logs (``aws logs tail`` included)."""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich.text import Text

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, human_size, stdout, table
from lakeport.errors import InvalidInput
from lakeport.metadata.times import iso, now, utc
from lakeport.observe.log_shapes import LogEvent, to_ms

app = typer.Typer(
    help="Logs (CloudWatch Logs): log groups, streams, retention, and tail with --follow and filter patterns.",
    no_args_is_help=True,
)

Group = Annotated[str, typer.Argument(help="log group name, such as /lakeport/jobs/spotify-transform")]
Prefix = Annotated[str | None, typer.Option("--prefix", help="only names that start with this")]
Limit = Annotated[int, typer.Option("--limit", help="at most this many rows")]

LEVEL_STYLES = {"DEBUG": "dim", "INFO": "", "WARN": "yellow", "ERROR": "bold red"}
_RELATIVE = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, *, reference: datetime | None = None) -> datetime:
    """``10m``, ``1h``, ``2d``, ``30s``, ``1w`` before now, or an ISO 8601 time (UTC unless it says otherwise)."""
    text = value.strip()
    found = _RELATIVE.match(text)
    if found:
        return (reference or now()) - timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise InvalidInput(
            f"--since {value!r} is neither a duration nor a time",
            hint="a duration such as 30s, 10m, 1h, 2d, 1w, or an ISO time such as 2026-01-31T08:00:00Z",
        ) from None


@app.command("groups")
def groups(ctx: typer.Context, prefix: Prefix = None, limit: Limit = 50, output: OutputOption = None) -> None:
    """List log groups with their retention and size (DescribeLogGroups)."""
    found, token = state(ctx).open_lake().cloudwatch_logs.describe_log_groups(prefix, limit=limit)
    data: dict[str, Any] = {"logGroups": [g.to_dict() for g in found]}
    if token:
        data["nextToken"] = token
    emit(
        output_of(ctx, output),
        data,
        lambda: table(
            ["name", "retention", "stored", "created"],
            [
                (
                    g.name,
                    f"{g.retention_days} days" if g.retention_days else "never expire",
                    human_size(g.stored_bytes),
                    iso(g.created_at),
                )
                for g in found
            ],
        ),
    )


@app.command("streams")
def streams(
    ctx: typer.Context,
    group: Group,
    prefix: Prefix = None,
    order_by: Annotated[
        str, typer.Option("--order-by", help="LogStreamName or LastEventTime (newest first with --descending)")
    ] = "LogStreamName",
    descending: Annotated[bool, typer.Option("--descending", help="reverse the order")] = False,
    limit: Limit = 50,
    output: OutputOption = None,
) -> None:
    """List a group's log streams (DescribeLogStreams)."""
    found, token = (
        state(ctx)
        .open_lake()
        .cloudwatch_logs.describe_log_streams(group, prefix, order_by=order_by, descending=descending, limit=limit)
    )
    data: dict[str, Any] = {"logStreams": [s.to_dict() for s in found]}
    if token:
        data["nextToken"] = token
    emit(
        output_of(ctx, output),
        data,
        lambda: table(
            ["stream", "first event", "last event", "stored"],
            [(s.name, iso(s.first_event_at), iso(s.last_event_at), human_size(s.stored_bytes)) for s in found],
        ),
    )


def _line(event: LogEvent) -> Text:
    line = Text()
    line.append(iso(event.timestamp) or "", style="cyan")
    line.append(f" {event.stream} ", style="blue")
    line.append(f"{event.level:<5}", style=LEVEL_STYLES.get(event.level, "") or "bold")
    line.append(f" {event.message}", style=LEVEL_STYLES.get(event.level, "") if event.level != "INFO" else "")
    return line


def _show(event: LogEvent, fmt: OutputFormat, follow: bool) -> None:
    if fmt is OutputFormat.json:
        if follow:  # one JSON object per line while following
            sys.stdout.write(json.dumps(event.to_cloudwatch(), ensure_ascii=False) + "\n")
        return
    stdout.print(_line(event))


@app.command("tail")
def tail(
    ctx: typer.Context,
    group: Group,
    stream: Annotated[
        list[str] | None, typer.Option("--stream", "-s", help="only this log stream (repeatable)")
    ] = None,
    stream_prefix: Annotated[str | None, typer.Option("--stream-prefix", help="only streams with this prefix")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new events until Ctrl-C")] = False,
    filter_pattern: Annotated[
        str | None,
        typer.Option("--filter", help='a filter pattern: ERROR, "a phrase", ?A ?B, -DEBUG, { $.level = "ERROR" }'),
    ] = None,
    since: Annotated[str, typer.Option("--since", help="from this long ago (10m, 1h, 2d) or an ISO time")] = "10m",
    until: Annotated[str | None, typer.Option("--until", help="up to this time (same forms as --since)")] = None,
    interval: Annotated[float, typer.Option("--interval", help="seconds between polls with --follow")] = 1.0,
    output: OutputOption = None,
) -> None:
    """Print a group's events from --since on, oldest first; with --follow, keep printing new ones (aws logs tail).

    Text: one line per event (time, stream, level, message), coloured by level. --output json: CloudWatch's
    FilterLogEvents shape ({"events": [...]}), or one event object per line with --follow."""
    logs = state(ctx).open_lake().cloudwatch_logs
    fmt = output_of(ctx, output)
    start = to_ms(parse_since(since))
    end = None if until is None else to_ms(parse_since(until))
    options: dict[str, Any] = {"stream_names": stream, "stream_prefix": stream_prefix, "filter_pattern": filter_pattern}
    mark = logs.last_event_id()  # follow from here: nothing written during the first read is missed
    collect = fmt is OutputFormat.json and not follow
    collected: list[LogEvent] = []
    shown: set[int] = set()  # events newer than the mark that the first read printed already
    for event in logs.scan(group, start_time=start, end_time=end, **options):
        if collect:
            collected.append(event)
            continue
        _show(event, fmt, follow)
        if event.id > mark:
            shown.add(event.id)
    if collect:
        emit(fmt, {"events": [e.to_cloudwatch() for e in collected], "searchedLogStreams": []})
        return
    if not follow:
        return
    try:
        while True:
            sys.stdout.flush()
            events, mark = logs.follow(group, after_id=mark, **options)
            for event in events:
                if event.id not in shown:
                    _show(event, fmt, follow)
            shown.clear()
            if not events:
                sys.stdout.flush()
                time.sleep(interval)
    except KeyboardInterrupt:
        return


@app.command("create-group")
def create_group(
    ctx: typer.Context,
    group: Group,
    retention: Annotated[int | None, typer.Option("--retention", help="retention in days")] = None,
    output: OutputOption = None,
) -> None:
    """Create a log group (CreateLogGroup); services create theirs on first write."""
    created = state(ctx).open_lake().cloudwatch_logs.create_log_group(group, retention)
    emit(output_of(ctx, output), created.to_dict(), lambda: stdout.print(f"created {created.arn}", markup=False))


@app.command("put-retention")
def put_retention(
    ctx: typer.Context,
    group: Group,
    days: Annotated[int, typer.Argument(help="1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, …")],
    output: OutputOption = None,
) -> None:
    """Keep a group's events this many days (PutRetentionPolicy); older events are deleted now and as it goes."""
    updated = state(ctx).open_lake().cloudwatch_logs.put_retention_policy(group, days)
    emit(
        output_of(ctx, output),
        updated.to_dict(),
        lambda: stdout.print(f"{group}: events are kept {days} days", markup=False),
    )


@app.command("delete-retention")
def delete_retention(ctx: typer.Context, group: Group, output: OutputOption = None) -> None:
    """Keep a group's events forever (DeleteRetentionPolicy)."""
    updated = state(ctx).open_lake().cloudwatch_logs.delete_retention_policy(group)
    emit(output_of(ctx, output), updated.to_dict(), lambda: stdout.print(f"{group}: events never expire"))


@app.command("delete-group")
def delete_group(ctx: typer.Context, group: Group, output: OutputOption = None) -> None:
    """Delete a log group with its streams and events (DeleteLogGroup)."""
    state(ctx).open_lake().cloudwatch_logs.delete_log_group(group)
    emit(output_of(ctx, output), {"logGroupName": group}, lambda: stdout.print(f"deleted {group}", markup=False))
