"""``lakeport schedules``: EventBridge Scheduler schedules (rate, cron, one-time at) starting a state machine or a job."""

from __future__ import annotations

from typing import Annotated

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table
from lakeport.triggers import Rule

app = typer.Typer(
    help="Schedules (EventBridge Scheduler): rate(…), cron(…) or at(…) start a state machine or a job.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="schedule name")]


def _print(schedule: Rule) -> None:
    colour = "green" if schedule.state == "ENABLED" else "yellow"
    stdout.print(f"[bold]{schedule.name}[/] [{colour}]{schedule.state}[/]  {schedule.arn}", highlight=False)
    stdout.print(f"expression: {schedule.schedule} (UTC)", markup=False)
    stdout.print(f"starts: {schedule.target_kind} {schedule.target}", markup=False)
    if schedule.target_input is not None:
        stdout.print(f"input: {schedule.target_input}", markup=False)
    next_fire = schedule.next_fire.isoformat() if schedule.next_fire else "never again"
    stdout.print(f"next fire: {next_fire}", markup=False)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    expression: Annotated[
        str, typer.Option("--expression", help="rate(5 minutes), cron(0 12 * * ? *) or at(2026-12-01T09:00:00)")
    ],
    target_machine: Annotated[
        str | None, typer.Option("--target-machine", help="the state machine to start (name or ARN)")
    ] = None,
    target_job: Annotated[str | None, typer.Option("--target-job", help="the job to run (name)")] = None,
    input: Annotated[
        str | None, typer.Option("--input", help="the target's input (JSON); a job's: its arguments")
    ] = None,
    description: Annotated[str, typer.Option("--description", help="what the schedule is for")] = "",
    disabled: Annotated[bool, typer.Option("--disabled", help="create it DISABLED")] = False,
    output: OutputOption = None,
) -> None:
    """Create a schedule; `lakeport scheduler` (or `lakeport serve`) starts its target when it is due, as you."""
    lake = state(ctx).open_lake()
    schedule = lake.triggers.create_schedule(
        name,
        expression,
        target_machine=target_machine,
        target_job=target_job,
        input=input,
        description=description,
        state="DISABLED" if disabled else "ENABLED",
    )
    emit(
        output_of(ctx, output),
        schedule.to_dict(lake.triggers.region, lake.triggers.account_id),
        lambda: _print(schedule),
    )


@app.command("list")
def list_(ctx: typer.Context, output: OutputOption = None) -> None:
    """List schedules."""
    lake = state(ctx).open_lake()
    found = lake.triggers.list_schedules()
    emit(
        output_of(ctx, output),
        {"Schedules": [s.to_dict(lake.triggers.region, lake.triggers.account_id) for s in found]},
        lambda: table(
            ["name", "state", "expression", "starts", "next fire"],
            [(s.name, s.state, s.schedule, f"{s.target_kind} {s.target}", s.next_fire) for s in found],
        ),
    )


@app.command("describe")
def describe(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Show a schedule."""
    lake = state(ctx).open_lake()
    schedule = lake.triggers.get_schedule(name)
    emit(
        output_of(ctx, output),
        schedule.to_dict(lake.triggers.region, lake.triggers.account_id),
        lambda: _print(schedule),
    )


@app.command("delete")
def delete(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Delete a schedule."""
    lake = state(ctx).open_lake()
    lake.triggers.delete_schedule(name)
    emit(output_of(ctx, output), {"Name": name}, lambda: stdout.print(f"deleted schedule {name}", markup=False))
