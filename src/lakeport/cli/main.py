"""``lakeport``: the root command, its global options, and the one place errors are rendered."""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from typing import Annotated

import typer
from rich.markup import escape
from typer.exceptions import TyperException

from lakeport import __version__
from lakeport.cli.context import CLIState, OutputFormat, OutputOption, output_of
from lakeport.cli.output import emit, stderr
from lakeport.errors import LakeportError

app = typer.Typer(
    name="lakeport",
    help="The AWS analytics pipeline (S3, Glue, Athena, Step Functions, SNS, CloudWatch, IAM, QuickSight) on one laptop.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    lake: Annotated[
        str | None,
        typer.Option("--lake", help="the lake folder (default: $LAKEPORT_LAKE, then this folder upward)"),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help="text or json", case_sensitive=False)] = (
        OutputFormat.text
    ),
    config: Annotated[
        list[str] | None,
        typer.Option("--config", "-c", help="override a setting: section.key=value (repeatable)"),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="show tracebacks for errors")] = False,
) -> None:
    ctx.obj = CLIState(lake_path=lake, output=output, debug=debug, overrides=list(config or []))


@app.command()
def version(ctx: typer.Context, output: OutputOption = None) -> None:
    """Print lakeport's version."""
    emit(output_of(ctx, output), {"version": __version__}, lambda: print(f"lakeport {__version__}"))


# Each command group's module, and the Typer app in it mounted under a name (None: its commands at the root).
# A run imports only the group it calls (every group's services cost import time); help and docs load all.
GROUPS: dict[str, tuple[str, str, str | None]] = {
    "init": ("init_cmd", "app", None),
    "config": ("config_cmd", "app", "config"),
    "s3": ("s3_cmd", "app", "s3"),
    "events": ("events_cmd", "app", "events"),
    "datasets": ("datasets_cmd", "app", "datasets"),
    "ingest": ("ingest_cmd", "app", "ingest"),
    "catalog": ("catalog_cmd", "app", "catalog"),
    "crawler": ("crawler_cmd", "app", "crawler"),
    "crawl": ("crawler_cmd", "crawl_app", None),
    "jobs": ("jobs_cmd", "app", "jobs"),
    "tables": ("tables_cmd", "app", "tables"),
    "query": ("query_cmd", "query_app", None),
    "queries": ("query_cmd", "app", "queries"),
    "workgroups": ("query_cmd", "workgroups_app", "workgroups"),
    "named-queries": ("query_cmd", "named_app", "named-queries"),
    "sql": ("sql_cmd", "app", None),
    "iam": ("iam_cmd", "app", "iam"),
    "audit": ("audit_cmd", "app", None),
    "sfn": ("states_cmd", "app", "sfn"),
    "states": ("states_cmd", "states_alias", "states"),
    "rules": ("rules_cmd", "app", "rules"),
    "schedules": ("schedules_cmd", "app", "schedules"),
    "scheduler": ("scheduler_cmd", "app", None),
    "functions": ("functions_cmd", "app", "functions"),
    "sns": ("sns_cmd", "app", "sns"),
    "metrics": ("metrics_cmd", "app", "metrics"),
    "alarms": ("alarms_cmd", "app", "alarms"),
    "logs": ("logs_cmd", "app", "logs"),
    "dashboards": ("dashboards_cmd", "app", "dashboards"),
    "data-sets": ("dashboards_cmd", "data_sets_app", "data-sets"),
    "pipeline": ("pipeline_cmd", "app", "pipeline"),
    "serve": ("serve_cmd", "app", None),
}
_mounted: set[str] = set()
_GLOBAL_OPTIONS_WITH_VALUES = ("--lake", "--output", "-o", "--config", "-c")


def mount(*names: str) -> typer.Typer:
    """Add command groups to ``app`` (all of them when no name is given); returns ``app``."""
    for name in names or tuple(GROUPS):
        if name in _mounted or name not in GROUPS:
            continue
        module, attribute, mounted_as = GROUPS[name]
        group = getattr(importlib.import_module(f"lakeport.cli.{module}"), attribute)
        if mounted_as is None:
            app.add_typer(group)
        else:
            app.add_typer(group, name=mounted_as)
        _mounted.add(name)
    return app


def _command_word(argv: list[str]) -> str | None:
    """The first word after the global options (the command group), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_OPTIONS_WITH_VALUES:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def _wants_json(argv: list[str]) -> bool:
    for i, arg in enumerate(argv):
        if arg in ("--output=json", "-ojson") or (arg in ("--output", "-o") and argv[i + 1 : i + 2] == ["json"]):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; errors become one line with a hint (``--debug``: the traceback) and a non-zero exit."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        # Outside standalone mode, click hands back typer.Exit's code and turns Ctrl-C (Abort) into 130.
        word = _command_word(argv)
        if word in GROUPS and not {"-h", "--help"} & set(argv[: argv.index(word)]):
            mount(word)  # its own group only; `init` also contributes root commands
        else:
            mount()
        code = app(args=argv, prog_name="lakeport", standalone_mode=False)
        if isinstance(code, int) and code:
            if code == 130:
                stderr.print("interrupted")
            return code
    except LakeportError as exc:
        if debug:
            traceback.print_exc()
        if _wants_json(argv):
            sys.stderr.write(json.dumps(exc.to_dict(), ensure_ascii=False) + "\n")
        else:
            stderr.print(f"[bold red]error:[/] {escape(exc.message)}", markup=True, highlight=False)
            if exc.hint:
                stderr.print(f"[dim]hint:[/] {escape(exc.hint)}", markup=True, highlight=False)
        return 1
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        stderr.print("aborted")
        return 130
    except TyperException as exc:  # usage errors: unknown option, missing argument, bad value
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            stderr.print(f"error: {exc.format_message()}", markup=False)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: say so in one line, traceback on request
        if debug:
            traceback.print_exc()
        else:
            stderr.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}",
                markup=True,
                highlight=False,
            )
            stderr.print("[dim]hint:[/] run again with --debug for the traceback, and report it", markup=True)
        return 70
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
