"""``lakeport events``: the object event log, and the watcher that notices outside changes."""

from __future__ import annotations

import signal
import threading
from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table, to_json
from lakeport.storage import ObjectEvent

app = typer.Typer(help="Object events (created/removed) and the watcher.", no_args_is_help=True)


def _row(e: ObjectEvent) -> tuple[Any, ...]:
    return (
        e.id,
        f"{e.event_time:%Y-%m-%d %H:%M:%S}",
        e.event_name,
        f"s3://{e.bucket}/{e.key}",
        e.size,
        e.source,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    after: Annotated[int, typer.Option(help="only events with a larger id")] = 0,
    limit: Annotated[int, typer.Option(help="at most this many")] = 100,
    bucket: Annotated[str | None, typer.Option(help="only this bucket")] = None,
    prefix: Annotated[str, typer.Option(help="only keys under this prefix")] = "",
    output: OutputOption = None,
) -> None:
    """List recorded object events, oldest first, as S3 event notification records."""
    lake = state(ctx).open_lake()
    events = lake.events.read(after=after, limit=limit, bucket=bucket, prefix=prefix)
    emit(
        output_of(ctx, output),
        {"Records": [e.to_record() for e in events]},
        lambda: table(["id", "time (UTC)", "event", "object", "size", "source"], [_row(e) for e in events]),
    )


@app.command("scan")
def scan(
    ctx: typer.Context,
    bucket: Annotated[str | None, typer.Option(help="only this bucket")] = None,
    prefix: Annotated[str, typer.Option(help="only keys under this prefix")] = "",
    output: OutputOption = None,
) -> None:
    """List the store once and record every object created or removed since the last look."""
    lake = state(ctx).open_lake()
    result = lake.watcher().scan(bucket, prefix)
    emit(
        output_of(ctx, output),
        result.to_dict(),
        lambda: stdout.print(f"scanned {result.seen} objects: {result.created} created, {result.removed} removed"),
    )


@app.command("watch")
def watch(
    ctx: typer.Context,
    duration: Annotated[float | None, typer.Option(help="stop after this many seconds (default: until Ctrl-C)")] = None,
    output: OutputOption = None,
) -> None:
    """Record objects written or removed by other programs as they happen (until Ctrl-C)."""
    lake = state(ctx).open_lake()
    fmt = output_of(ctx, output)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def show(events: list[ObjectEvent]) -> None:
        for e in events:
            if fmt is OutputFormat.json:
                print(to_json(e.to_record()).replace("\n", ""), flush=True)
            else:
                stdout.print(f"{e.event_name:<40} s3://{e.bucket}/{e.key} ({e.size} bytes)")

    if duration is not None:
        threading.Timer(duration, stop.set).start()
    if fmt is OutputFormat.text:
        stdout.print(f"watching {lake.backend.location} (Ctrl-C to stop)")
    try:
        lake.watcher().run(stop, on_events=show)
    except KeyboardInterrupt:
        stop.set()
