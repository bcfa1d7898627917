"""``lakeport sfn`` (also ``lakeport states``): state machines (Amazon States Language) and their executions."""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from lakeport.cli.context import OutputFormat, OutputOption, output_of, state
from lakeport.cli.output import emit, stderr, stdout, table
from lakeport.errors import InvalidInput
from lakeport.states.executions import Execution, StateMachine

app = typer.Typer(
    help="State machines (Step Functions): ASL definitions run against lakeport's services.", no_args_is_help=True
)
# ``lakeport states …``: the same commands under the group's first name (hidden from help and the reference).
states_alias = typer.Typer(help="The same commands as `lakeport sfn`.", no_args_is_help=True, hidden=True)
states_alias.add_typer(app)

Name = Annotated[str, typer.Argument(help="state machine name or ARN")]
ExecutionRef = Annotated[str, typer.Argument(help="execution ARN or MACHINE/EXECUTION")]
Definition = Annotated[
    str, typer.Option("--definition", help="the ASL definition: file://path.asl.json or inline JSON")
]
RoleArn = Annotated[str | None, typer.Option("--role-arn", help="the role the execution's tasks assume")]

_COLOURS = {"SUCCEEDED": "green", "FAILED": "red", "TIMED_OUT": "red", "ABORTED": "yellow", "RUNNING": "cyan"}


def _text_of(value: str, what: str) -> str:
    """``file://path`` read, or the value itself (inline JSON), as the AWS CLI takes them."""
    if value.startswith("file://"):
        path = Path(value.removeprefix("file://")).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read {what} {path}: {exc.strerror}") from None
    return value


def _print_machine(machine: StateMachine) -> None:
    stdout.print(f"[bold]{machine.name}[/] {machine.type} ACTIVE  {machine.arn}", highlight=False)
    if machine.role_arn:
        stdout.print(f"role: {machine.role_arn}", markup=False)


def _print_execution(execution: Execution) -> None:
    colour = _COLOURS.get(execution.status, "cyan")
    stdout.print(f"execution {execution.arn} [bold {colour}]{execution.status}[/]", highlight=False)
    if execution.current_state:
        stdout.print(f"current state: {execution.current_state}", markup=False)
    if execution.output is not None:
        stdout.print(f"output: {execution.output}", markup=False)
    if execution.error or execution.cause:
        stdout.print(f"error: {execution.error or ''}: {execution.cause or ''}", markup=False)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="state machine name")],
    definition: Definition,
    role_arn: RoleArn = None,
    output: OutputOption = None,
) -> None:
    """Create a state machine from a validated definition."""
    lake = state(ctx).open_lake()
    machine = lake.states.create_state_machine(name, _text_of(definition, "the definition"), role_arn=role_arn)
    emit(output_of(ctx, output), machine.to_aws(), lambda: _print_machine(machine))


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    definition: Annotated[str | None, typer.Option("--definition", help="file://path.asl.json or JSON")] = None,
    role_arn: RoleArn = None,
    output: OutputOption = None,
) -> None:
    """Replace a state machine's definition and/or role (running executions keep theirs)."""
    text = None if definition is None else _text_of(definition, "the definition")
    machine = state(ctx).open_lake().states.update_state_machine(name, definition=text, role_arn=role_arn)
    emit(output_of(ctx, output), machine.to_aws(), lambda: _print_machine(machine))


@app.command("validate")
def validate(ctx: typer.Context, definition: Definition, output: OutputOption = None) -> None:
    """Check a definition; print every problem, naming the state and the field."""
    problems = state(ctx).open_lake().states.validate(_text_of(definition, "the definition"))
    data = {
        "result": "OK" if not problems else "FAIL",
        "diagnostics": [{"location": p.where, "field": p.field, "message": str(p)} for p in problems],
    }

    def show() -> None:
        if not problems:
            stdout.print("[green]the definition is valid[/]")
        for problem in problems:
            stdout.print(str(problem), markup=False)

    emit(output_of(ctx, output), data, show)
    if problems:
        raise typer.Exit(1)


@app.command("list")
def list_(ctx: typer.Context, output: OutputOption = None) -> None:
    """List state machines."""
    found = state(ctx).open_lake().states.list_state_machines()
    emit(
        output_of(ctx, output),
        {"stateMachines": [m.to_list_item() for m in found]},
        lambda: table(["name", "type", "created", "ARN"], [(m.name, m.type, m.created_at, m.arn) for m in found]),
    )


@app.command("describe")
def describe(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Show a state machine and its definition."""
    machine = state(ctx).open_lake().states.describe_state_machine(name)

    def show() -> None:
        _print_machine(machine)
        stdout.print(machine.definition, markup=False, highlight=False)

    emit(output_of(ctx, output), machine.to_aws(), show)


@app.command("delete")
def delete(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Delete a state machine (its running executions are stopped; its executions go with it)."""
    lake = state(ctx).open_lake()
    arn = lake.states.describe_state_machine(name).arn
    lake.states.delete_state_machine(name)
    emit(output_of(ctx, output), {"stateMachineArn": arn}, lambda: stdout.print(f"deleted {arn}", highlight=False))


@app.command("start")
def start(
    ctx: typer.Context,
    name: Name,
    input: Annotated[str | None, typer.Option("--input", help="the input: JSON or file://path.json")] = None,
    execution_name: Annotated[str | None, typer.Option("--name", help="the execution's name (idempotent)")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="follow the execution to its end")] = False,
    output: OutputOption = None,
) -> None:
    """Start an execution. Without --wait it runs in a worker process of its own and the command returns at once
    (RUNNING); with --wait it runs in this process, showing the state it is in as it goes, and exits 1 when it
    does not succeed."""
    fmt = output_of(ctx, output)
    states = state(ctx).open_lake().states
    text = None if input is None else _text_of(input, "the input")
    execution = states.start_execution(name, text, name=execution_name, detach=not wait)
    if wait:
        if fmt is OutputFormat.json or not stderr.is_terminal:
            execution = states.wait(execution.arn)
        else:
            started = time.monotonic()
            with stderr.status(f"{execution.name} starting…") as status:

                def show(current: Execution) -> None:
                    where = current.current_state or ""
                    status.update(f"{current.name} {current.status} {time.monotonic() - started:.1f}s  {where}")

                execution = states.wait(execution.arn, on_update=show)
    emit(fmt, execution.to_aws(), lambda: _print_execution(execution))
    if wait and execution.status != "SUCCEEDED":
        raise typer.Exit(1)


@app.command("executions")
def executions(
    ctx: typer.Context,
    name: Name,
    status: Annotated[
        str | None, typer.Option("--status", help="RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED")
    ] = None,
    limit: Annotated[int, typer.Option(help="at most this many")] = 100,
    output: OutputOption = None,
) -> None:
    """List a state machine's executions, newest first."""
    found = state(ctx).open_lake().states.list_executions(name, status=status, limit=limit)
    emit(
        output_of(ctx, output),
        {"executions": [e.to_list_item() for e in found]},
        lambda: table(
            ["execution", "status", "started", "stopped"],
            [(e.name, e.status, e.started_at, e.stopped_at) for e in found],
        ),
    )


@app.command("describe-execution")
def describe_execution(ctx: typer.Context, execution: ExecutionRef, output: OutputOption = None) -> None:
    """Show an execution: status, input, output, error and cause."""
    found = state(ctx).open_lake().states.describe_execution(execution)
    emit(output_of(ctx, output), found.to_aws(), lambda: _print_execution(found))


def _details(event: dict[str, Any]) -> str:
    for key, value in event.items():
        if key.endswith("EventDetails") and isinstance(value, dict):
            shown = {k: v for k, v in value.items() if not k.endswith("Details")}
            return json.dumps(shown)[:160]
    return ""


@app.command("history")
def history(
    ctx: typer.Context,
    execution: ExecutionRef,
    reverse: Annotated[bool, typer.Option("--reverse", help="newest event first")] = False,
    output: OutputOption = None,
) -> None:
    """An execution's history events (GetExecutionHistory)."""
    events = state(ctx).open_lake().states.get_execution_history(execution, reverse=reverse)
    emit(
        output_of(ctx, output),
        {"events": events},
        lambda: table(
            ["id", "time", "type", "details"], [(e["id"], e["timestamp"], e["type"], _details(e)) for e in events]
        ),
    )


@app.command("stop")
def stop(
    ctx: typer.Context,
    execution: ExecutionRef,
    error: Annotated[str | None, typer.Option("--error", help="the error to record")] = None,
    cause: Annotated[str | None, typer.Option("--cause", help="the cause to record")] = None,
    output: OutputOption = None,
) -> None:
    """Stop a running execution (ABORTED)."""
    found = state(ctx).open_lake().states.stop_execution(execution, error=error, cause=cause)
    emit(output_of(ctx, output), {"stopDate": found.to_aws().get("stopDate")}, lambda: _print_execution(found))


class GraphFormat(StrEnum):
    text = "text"
    svg = "svg"


@app.command("recover")
def recover(ctx: typer.Context, output: OutputOption = None) -> None:
    """Resume every execution whose runner died (its process ended or its lease lapsed), from its journal: no
    finished task runs again. Runs them here, to their end. (`lakeport scheduler` does this by itself.)"""
    states = state(ctx).open_lake().states
    resumed = [states.describe_execution(arn) for arn in states.recover(wait=True)]

    def show() -> None:
        for execution in resumed:
            _print_execution(execution)
        if not resumed:
            stdout.print("nothing to resume")

    emit(output_of(ctx, output), {"executions": [e.to_list_item() for e in resumed]}, show)


TaskToken = Annotated[str, typer.Option("--task-token", help="the token the task was given ($$.Task.Token)")]


@app.command("send-task-success")
def send_task_success(
    ctx: typer.Context,
    task_token: TaskToken,
    task_output: Annotated[str, typer.Option("--task-output", help="the task's result: JSON or file://x.json")],
    output: OutputOption = None,
) -> None:
    """Answer a .waitForTaskToken task: it succeeds with this output."""
    text = _text_of(task_output, "the task output")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"the task output is not JSON: {exc}", code="InvalidOutput") from None
    state(ctx).open_lake().states.send_task_success(task_token, value)
    emit(output_of(ctx, output), {}, lambda: stdout.print("sent"))


@app.command("send-task-failure")
def send_task_failure(
    ctx: typer.Context,
    task_token: TaskToken,
    error: Annotated[str | None, typer.Option("--error", help="the error name")] = None,
    cause: Annotated[str | None, typer.Option("--cause", help="the cause")] = None,
    output: OutputOption = None,
) -> None:
    """Answer a .waitForTaskToken task: it fails with this error and cause (its Retry and Catch apply)."""
    state(ctx).open_lake().states.send_task_failure(task_token, error=error, cause=cause)
    emit(output_of(ctx, output), {}, lambda: stdout.print("sent"))


@app.command("send-task-heartbeat")
def send_task_heartbeat(ctx: typer.Context, task_token: TaskToken, output: OutputOption = None) -> None:
    """Tell a waiting .waitForTaskToken task that its worker is alive (its HeartbeatSeconds start again)."""
    state(ctx).open_lake().states.send_task_heartbeat(task_token)
    emit(output_of(ctx, output), {}, lambda: stdout.print("sent"))


@app.command("graph")
def graph_(
    ctx: typer.Context,
    name: Name,
    drawing: Annotated[GraphFormat, typer.Option("--format", help="text (a flow to read) or svg")] = GraphFormat.text,
    out: Annotated[Path | None, typer.Option("--out", help="write to this file instead of printing")] = None,
    execution: Annotated[
        str | None,
        typer.Option("--execution", help="colour states by this execution (name, MACHINE/NAME or ARN)"),
    ] = None,
    output: OutputOption = None,
) -> None:
    """Draw a state machine: states, Next/Choice/Catch edges, Parallel branches and Map processors; with
    --execution, each state as the execution saw it (succeeded, failed, in progress, not reached)."""
    from lakeport.states import graph

    machine, drawn, statuses = state(ctx).open_lake().states.machine_graph(name, execution=execution)
    fmt = output_of(ctx, output)
    if fmt is OutputFormat.json and out is None:
        data: dict[str, Any] = {"stateMachineArn": machine.arn, "graph": graph.to_dict(drawn)}
        if statuses is not None:
            data["statuses"] = statuses
        emit(fmt, data)
        return
    rendered = (
        graph.render_svg(drawn, statuses, title=machine.name)
        if drawing is GraphFormat.svg
        else graph.render_text(drawn, statuses)
    )
    if out is None:
        sys.stdout.write(rendered)
        return
    out.write_text(rendered, encoding="utf-8")
    emit(
        fmt,
        {"stateMachineArn": machine.arn, "file": str(out), "format": drawing.value},
        lambda: stdout.print(f"wrote {out}", markup=False, highlight=False),
    )
