"""What every command shares: the global options and the way to open the lake they point at."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

import typer

from lakeport.lake import Lake
from lakeport.settings import parse_overrides


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@dataclass
class CLIState:
    lake_path: str | None = None
    output: OutputFormat = OutputFormat.text
    debug: bool = False
    overrides: list[str] = field(default_factory=list)

    def open_lake(self) -> Lake:
        return Lake.open(self.lake_path, overrides=parse_overrides(self.overrides))


def state(ctx: typer.Context) -> CLIState:
    root = ctx.find_root()
    if not isinstance(root.obj, CLIState):
        root.obj = CLIState()
    return root.obj


OutputOption = Annotated[
    OutputFormat | None,
    typer.Option("--output", "-o", help="text (default) or json", case_sensitive=False, show_default=False),
]


def output_of(ctx: typer.Context, override: OutputFormat | None) -> OutputFormat:
    """A command's own ``--output`` wins over the global one."""
    return override or state(ctx).output
