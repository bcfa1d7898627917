"""``lakeport scheduler``: run the triggers' dispatcher in the foreground (rules, schedules, the folder scan)."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, stderr, stdout
from lakeport.triggers import PassReport, scheduler_for

app = typer.Typer()


@app.command("scheduler")
def scheduler(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="run one pass (scan, take, batch, deliver) and exit")] = False,
    interval: Annotated[float, typer.Option("--interval", help="seconds between passes when idle")] = 1.0,
    no_scan: Annotated[
        bool, typer.Option("--no-scan", help="do not scan the store for objects written by other programs")
    ] = False,
    output: OutputOption = None,
) -> None:
    """Run the triggers: take object events, bus events and due schedules, and start the rules' targets (as the
    principal who put each rule). Ctrl-C stops it; a restart loses and repeats nothing (docs/triggers.md)."""
    fmt = output_of(ctx, output)
    lake = state(ctx).open_lake()
    dispatcher = scheduler_for(lake, scan=not no_scan, detach=once)  # a single pass exits: executions go on alone
    if once:
        report = dispatcher.run_once(scan=not no_scan)
        dispatcher.release()
        emit(fmt, report.to_dict(), lambda: _print(report))
        return
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    totals = PassReport()

    def on_pass(report: PassReport) -> None:
        for name in ("taken", "fired", "batched", "started", "failed", "scanned"):
            setattr(totals, name, getattr(totals, name) + getattr(report, name))
        for error in report.errors:
            stderr.print(f"[red]error:[/] {error}", highlight=False)
        if status is None:
            return
        if report.skipped:
            status.update("[yellow]waiting: another scheduler holds the lease[/]")
        else:
            status.update(
                f"[cyan]scheduler[/] taken {totals.taken} · fired {totals.fired} · batches {totals.batched} · "
                f"started {totals.started} · failed {totals.failed} · scanned {totals.scanned}"
            )

    rules = len(lake.triggers.enabled())
    if fmt is OutputFormat.text:
        stdout.print(f"scheduler on {lake.root}: {rules} enabled rules and schedules (Ctrl-C stops)", markup=False)
    live = stdout.status("[cyan]scheduler starting[/]") if fmt is OutputFormat.text else contextlib.nullcontext()
    with live as status:
        try:
            dispatcher.run(stop, interval=interval, on_pass=on_pass)
        except KeyboardInterrupt:
            stop.set()
    emit(fmt, totals.to_dict(), lambda: _print(totals))


def _print(report: PassReport) -> None:
    stdout.print(
        f"taken {report.taken}, fired {report.fired}, batches {report.batched}, started {report.started}, "
        f"failed {report.failed}, scanned {report.scanned}",
        markup=False,
    )
    for error in report.errors:
        stdout.print(f"error: {error}", markup=False)
