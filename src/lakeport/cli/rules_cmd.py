"""``lakeport rules``: EventBridge rules on object events, bus events and schedules, starting a state machine or a job."""

from __future__ import annotations

from typing import Annotated

import typer

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table
from lakeport.triggers import Rule

app = typer.Typer(
    help="Rules (EventBridge): object events, bus events or a schedule start a state machine or a job.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="rule name")]
_COLOURS = {"ENABLED": "green", "DISABLED": "yellow"}


def _what(rule: Rule) -> str:
    if rule.source == "object":
        p = rule.pattern or {}
        return f"objects s3://{p.get('bucket') or '*'}/{p.get('prefix', '')}*{p.get('suffix', '')} {'|'.join(p.get('events', []))}"
    if rule.source == "event":
        return f"events {rule.to_dict()['EventPattern']}"
    return f"schedule {rule.schedule}"


def _print_rule(rule: Rule, counts: dict[str, int] | None = None) -> None:
    colour = _COLOURS.get(rule.state, "cyan")
    stdout.print(f"[bold]{rule.name}[/] [{colour}]{rule.state}[/]  {rule.arn}", highlight=False)
    if rule.description:
        stdout.print(rule.description, markup=False)
    stdout.print(f"takes: {_what(rule)}", markup=False)
    stdout.print(f"starts: {rule.target_kind} {rule.target}", markup=False)
    if rule.target_input is not None:
        stdout.print(f"input: {rule.target_input}", markup=False)
    if rule.batch_window is not None:
        stdout.print(f"batches: up to {rule.batch_size} events, or every {rule.batch_window}s", markup=False)
    if rule.next_fire is not None:
        stdout.print(f"next fire: {rule.next_fire.isoformat()}", markup=False)
    stdout.print(f"acts as: {rule.principal}", markup=False)
    if counts:
        stdout.print("deliveries: " + ", ".join(f"{k.lower()} {v}" for k, v in sorted(counts.items())), markup=False)


@app.command("put")
def put(
    ctx: typer.Context,
    name: Name,
    object_pattern: Annotated[
        str | None,
        typer.Option(
            "--object-pattern",
            help="object events: bucket=…,prefix=…,suffix=…,events=ObjectCreated:*|ObjectRemoved:* (bucket: the lake's)",
        ),
    ] = None,
    event_pattern: Annotated[
        str | None, typer.Option("--event-pattern", help="bus events: an EventBridge event pattern (JSON)")
    ] = None,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="a schedule: rate(5 minutes) or cron(0 12 * * ? *)")
    ] = None,
    target_machine: Annotated[
        str | None, typer.Option("--target-machine", help="the state machine to start (name or ARN)")
    ] = None,
    target_job: Annotated[str | None, typer.Option("--target-job", help="the job to run (name)")] = None,
    input: Annotated[
        str | None, typer.Option("--input", help="fixed input (JSON) replacing the event; a job's: its arguments")
    ] = None,
    batch_window: Annotated[
        int | None, typer.Option("--batch-window", help="batch events: seconds to gather a batch for")
    ] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="batch events: at most this many")] = None,
    description: Annotated[str, typer.Option("--description", help="what the rule is for")] = "",
    disabled: Annotated[bool, typer.Option("--disabled", help="create it DISABLED")] = False,
    output: OutputOption = None,
) -> None:
    """Create or replace a rule. It takes the events that come after it; `lakeport scheduler` (or `lakeport
    serve`) starts its targets, as you."""
    lake = state(ctx).open_lake()
    rule = lake.triggers.put_rule(
        name,
        object_pattern=object_pattern,
        event_pattern=event_pattern,
        schedule=schedule,
        target_machine=target_machine,
        target_job=target_job,
        input=input,
        batch_window=batch_window,
        batch_size=batch_size,
        description=description,
        state="DISABLED" if disabled else "ENABLED",
    )
    emit(
        output_of(ctx, output), rule.to_dict(lake.triggers.region, lake.triggers.account_id), lambda: _print_rule(rule)
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    prefix: Annotated[str, typer.Option("--prefix", help="only rules whose name starts so")] = "",
    output: OutputOption = None,
) -> None:
    """List rules."""
    lake = state(ctx).open_lake()
    found = lake.triggers.list_rules(prefix)
    emit(
        output_of(ctx, output),
        {"Rules": [r.to_dict(lake.triggers.region, lake.triggers.account_id) for r in found]},
        lambda: table(
            ["name", "state", "takes", "starts"],
            [(r.name, r.state, _what(r), f"{r.target_kind} {r.target}") for r in found],
        ),
    )


@app.command("describe")
def describe(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Show a rule and how its deliveries stand."""
    lake = state(ctx).open_lake()
    rule = lake.triggers.describe_rule(name)
    counts = lake.triggers.delivery_counts(rule.owner)
    data = {**rule.to_dict(lake.triggers.region, lake.triggers.account_id), "Deliveries": counts}
    emit(output_of(ctx, output), data, lambda: _print_rule(rule, counts))


@app.command("delete")
def delete(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Delete a rule (targets it started run on)."""
    lake = state(ctx).open_lake()
    lake.triggers.delete_rule(name)
    emit(output_of(ctx, output), {"Name": name}, lambda: stdout.print(f"deleted rule {name}", markup=False))


@app.command("enable")
def enable(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Enable a rule: it takes the events that come from now on."""
    lake = state(ctx).open_lake()
    rule = lake.triggers.enable_rule(name)
    emit(
        output_of(ctx, output), rule.to_dict(lake.triggers.region, lake.triggers.account_id), lambda: _print_rule(rule)
    )


@app.command("disable")
def disable(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Disable a rule: events that come while it is disabled are not taken."""
    lake = state(ctx).open_lake()
    rule = lake.triggers.disable_rule(name)
    emit(
        output_of(ctx, output), rule.to_dict(lake.triggers.region, lake.triggers.account_id), lambda: _print_rule(rule)
    )
