"""``lakeport functions``: registered Python functions (Lambda's role), invoked by state machines or by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from lakeport.cli.context import OutputOption, output_of, state
from lakeport.cli.output import emit, stdout, table
from lakeport.errors import InvalidInput
from lakeport.functions import Function

app = typer.Typer(
    help="Registered functions (Lambda): a name bound to a Python handler module:function.", no_args_is_help=True
)

Name = Annotated[str, typer.Argument(help="function name or ARN")]
Description = Annotated[str | None, typer.Option("--description", help="what the function does")]
Timeout = Annotated[int | None, typer.Option("--timeout", help="seconds a call may run (1-900; default 60)")]


def _print_function(function: Function) -> None:
    stdout.print(f"[bold]{function.name}[/]  {function.handler}  {function.arn}", highlight=False)
    if function.description:
        stdout.print(function.description, markup=False)
    stdout.print(f"timeout: {function.timeout} s   modified: {function.to_aws()['LastModified']}", markup=False)


def _payload(value: str | None) -> Any:
    """``--payload``: inline JSON or ``file://path.json``, as the AWS CLI takes it."""
    if value is None:
        return {}
    text = value
    if value.startswith("file://"):
        path = Path(value.removeprefix("file://")).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read the payload {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"the payload is not JSON: {exc}", hint="e.g. --payload '{\"key\": 1}'") from None


@app.command("register")
def register(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="function name (letters, digits, - and _; at most 64)")],
    handler: Annotated[str, typer.Argument(help="module:function, found in the lake's functions/ folder first")],
    description: Description = None,
    timeout: Timeout = None,
    output: OutputOption = None,
) -> None:
    """Register a Python function (the handler is imported now, to check it)."""
    functions = state(ctx).open_lake().functions
    function = functions.create_function(name, handler, description=description or "", timeout=timeout or 60)
    emit(output_of(ctx, output), function.to_aws(), lambda: _print_function(function))


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    handler: Annotated[str | None, typer.Option("--handler", help="the new module:function")] = None,
    description: Description = None,
    timeout: Timeout = None,
    output: OutputOption = None,
) -> None:
    """Change a function's handler, description or timeout."""
    functions = state(ctx).open_lake().functions
    function = functions.update_function(name, handler=handler, description=description, timeout=timeout)
    emit(output_of(ctx, output), function.to_aws(), lambda: _print_function(function))


@app.command("list")
def list_(ctx: typer.Context, output: OutputOption = None) -> None:
    """List registered functions."""
    found = state(ctx).open_lake().functions.list_functions()
    emit(
        output_of(ctx, output),
        {"Functions": [f.to_aws() for f in found]},
        lambda: table(
            ["name", "handler", "timeout", "description"],
            [(f.name, f.handler, f.timeout, f.description) for f in found],
        ),
    )


@app.command("describe")
def describe(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Show a function (GetFunction's Configuration)."""
    function = state(ctx).open_lake().functions.get_function(name)
    emit(output_of(ctx, output), {"Configuration": function.to_aws()}, lambda: _print_function(function))


@app.command("delete")
def delete(ctx: typer.Context, name: Name, output: OutputOption = None) -> None:
    """Delete a function (its module stays where it is)."""
    functions = state(ctx).open_lake().functions
    arn = functions.get_function(name).arn
    functions.delete_function(name)
    emit(output_of(ctx, output), {"FunctionArn": arn}, lambda: stdout.print(f"deleted {arn}", highlight=False))


@app.command("invoke")
def invoke(
    ctx: typer.Context,
    name: Name,
    payload: Annotated[str | None, typer.Option("--payload", help="the event: JSON or file://path.json")] = None,
    output: OutputOption = None,
) -> None:
    """Call a function with an event and print its result (exit 1 when the function fails)."""
    result = state(ctx).open_lake().functions.invoke(name, _payload(payload))

    def show() -> None:
        if result.function_error is None:
            stdout.print(json.dumps(result.payload, indent=2), markup=False, highlight=False)
            return
        error = result.payload if isinstance(result.payload, dict) else {}
        said = f"{error.get('errorType', 'error')}: {error.get('errorMessage', '')}"
        stdout.print(f"[bold red]{result.function_error}[/] {escape(said)}", highlight=False)
        for line in error.get("stackTrace") or []:
            stdout.print(str(line).rstrip(), markup=False, highlight=False)

    emit(output_of(ctx, output), result.to_aws(), show)
    if result.function_error is not None:
        raise typer.Exit(1)
